// A fake of the parts of Office.js that xlplan's client and custom functions use: the
// Excel JavaScript API (Excel.run, RequestContext, worksheets, ranges, protection, notes,
// conditional formats, tables, names), Office (onReady, context, actions) and the custom
// functions runtime (CustomFunctions.Error, ErrorCode, associate).
//
// Faithful to Office.js where the add-in can go wrong:
// - every call is queued on its RequestContext and runs only at context.sync();
// - a property is readable only after load() and a sync; a collection's `items` is the
//   snapshot taken at that sync (a sheet added later is not in it until it is reloaded);
// - an error surfaces at sync: the failing operation and everything queued after it in
//   that batch are dropped, what ran before it stays done;
// - a protected sheet refuses writes to its locked cells, formats (unless allowed; a row's
//   height needs allowFormatRows), conditional formats, notes and hyperlinks; protecting a
//   protected sheet is an error;
// - a row is 0 to 409 points high; setting a height shows a hidden row; rows' heights and
//   columns' widths are read through getRowProperties / getColumnProperties (ExcelApi 1.9),
//   whose result is a ClientResult, readable after the sync; a hidden column is 0 wide;
// - one note per cell: adding a note where one exists is an error;
// - a hidden sheet cannot be activated; getItemOrNullObject gives a null object for a
//   missing sheet, getItem an error at sync;
// - before Office.onReady has fired, Office.context is undefined and Excel.run fails;
// - custom functions get error cells as error objects (not instances of the add-in's
//   CustomFunctions.Error) and may return only the errors Excel accepts as output.
// Stricter than Excel in two ways: commands still queued when Excel.run's function ends
// are counted as dropped (`excel.dropped`), so tests can insist that the client syncs; and
// Range.select() fails on a sheet that is not the active one (the client activates it first).
"use strict";

// node has setImmediate; a browser (the task-pane test in Chromium) has setTimeout
const tick = (f) => (typeof setImmediate === "function" ? setImmediate(f) : setTimeout(f, 0));

class OfficeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "RichApi.Error";
    this.code = code;
  }
}

// -- addresses ---------------------------------------------------------------------------
function letters(col) { // 0-based column → "A"
  let s = "";
  for (let n = col + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function parseCell(a1) { // "$B$3" → {r: 2, c: 1}
  const m = /^\$?([A-Z]+)\$?(\d+)$/.exec(a1.trim().toUpperCase());
  if (!m) throw new OfficeError("InvalidArgument", `The argument is invalid or missing: ${a1}`);
  let c = 0;
  for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64;
  return { r: Number(m[2]) - 1, c: c - 1 };
}

function parseArea(address) { // "Sheet!A1:B2" or "A1" → {r0, c0, r1, c1}
  const local = address.includes("!") ? address.slice(address.lastIndexOf("!") + 1) : address;
  const [a, b] = local.split(":");
  const p = parseCell(a), q = parseCell(b || a);
  return { r0: Math.min(p.r, q.r), c0: Math.min(p.c, q.c), r1: Math.max(p.r, q.r), c1: Math.max(p.c, q.c) };
}

function areaAddress(area) {
  const a = letters(area.c0) + (area.r0 + 1), b = letters(area.c1) + (area.r1 + 1);
  return a === b ? a : `${a}:${b}`;
}

function quoteSheet(name) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

const key = (r, c) => `${r},${c}`;
const overlaps = (x, y) => x.r0 <= y.r1 && y.r0 <= x.r1 && x.c0 <= y.c1 && y.c0 <= x.c1;

// -- the workbook as Excel holds it ----------------------------------------------------------
class SheetState {
  constructor(name, spec = {}) {
    this.name = name;
    this.cells = new Map(); // "r,c" → {value, fill, hyperlink, numberFormat}
    this.unlocked = new Set(); // "r,c" of unlocked cells (all others are locked, as in Excel)
    this.protected = !!spec.protected;
    this.visibility = spec.visibility || "Visible"; // "Visible" | "Hidden" | "VeryHidden"
    this.options = { allowFormatCells: false, allowFormatRows: false, allowFormatColumns: false, allowInsertRows: true,
                     allowDeleteRows: true, allowEditObjects: false, ...(spec.options || {}) };
    // rows and columns in points, 1-based in the spec: {"7": 29}, hidden rows [12], {"3": 120}
    this.rowHeights = new Map(Object.entries(spec.rowHeights || {}).map(([r, h]) => [Number(r) - 1, h]));
    this.hiddenRows = new Set((spec.hiddenRows || []).map((r) => r - 1));
    this.defaultRowHeight = spec.defaultRowHeight || 15;
    this.columnWidths = new Map(Object.entries(spec.columnWidths || {}).map(([c, w]) => [Number(c) - 1, w]));
    this.defaultColumnWidth = spec.defaultColumnWidth || 48;
    this.hiddenColumns = new Set((spec.hiddenColumns || []).map((c) => c - 1));
    this.notes = new Map(); // "r,c" → {content, authorName}
    this.cfs = []; // {area, type, formula, fill}
    this.tables = []; // {name, area, showHeaders, showTotals}
    this.categories = new Map(); // "r,c" → "Date" ...
    (spec.values || []).forEach((row, r) => row.forEach((v, c) => {
      if (v !== "" && v !== null && v !== undefined) this.cells.set(key(r, c), { value: v });
    }));
    for (const [r, c] of spec.unlocked || []) this.unlocked.add(key(r - 1, c - 1));
    for (const [a1, note] of Object.entries(spec.notes || {})) {
      const p = parseCell(a1);
      this.notes.set(key(p.r, p.c), { content: note.content, authorName: note.author || "" });
    }
    for (const m of spec.marks || []) {
      this.cfs.push({ area: parseArea(m.address), type: "Custom", formula: m.formula, fill: m.fill });
    }
    for (const t of spec.tables || []) {
      this.tables.push({ name: t.name, area: parseArea(t.ref), showHeaders: true, showTotals: !!t.showTotals });
    }
    for (const [a1, cat] of Object.entries(spec.categories || {})) {
      const p = parseCell(a1);
      this.categories.set(key(p.r, p.c), cat);
    }
  }

  cell(r, c) {
    const k = key(r, c);
    if (!this.cells.has(k)) this.cells.set(k, { value: "" });
    return this.cells.get(k);
  }

  value(r, c) {
    const cell = this.cells.get(key(r, c));
    return cell ? cell.value : "";
  }

  used() { // the used range of values, or null
    let area = null;
    for (const [k, cell] of this.cells) {
      if (cell.value === "" || cell.value === null) continue;
      const [r, c] = k.split(",").map(Number);
      area = area ? { r0: Math.min(area.r0, r), c0: Math.min(area.c0, c), r1: Math.max(area.r1, r),
                      c1: Math.max(area.c1, c) } : { r0: r, c0: c, r1: r, c1: c };
    }
    return area;
  }

  locked(r, c) { return !this.unlocked.has(key(r, c)); }

  rowHeight(r) { // 0-based row; what Excel answers for it
    return this.rowHeights.has(r) ? this.rowHeights.get(r) : this.defaultRowHeight;
  }

  columnWidth(c) { // 0-based column; a hidden one is 0 wide, as Excel answers for it
    if (this.hiddenColumns.has(c)) return 0;
    return this.columnWidths.has(c) ? this.columnWidths.get(c) : this.defaultColumnWidth;
  }

  refuseIfProtected(what, area, lockedOnly) {
    if (!this.protected) return;
    if (lockedOnly) {
      for (let r = area.r0; r <= area.r1; r++) {
        for (let c = area.c0; c <= area.c1; c++) {
          if (this.locked(r, c)) {
            throw new OfficeError("AccessDenied", `${what}: the cell ${quoteSheet(this.name)}!${letters(c)}${r + 1} ` +
                                  "is on a protected sheet. To make a change, unprotect the sheet.");
          }
        }
      }
      return;
    }
    throw new OfficeError("AccessDenied", `${what} on ${quoteSheet(this.name)}: the sheet is protected.`);
  }
}

class BookState {
  constructor(spec) {
    this.name = spec.name || "Book1.xlsx";
    this.sheets = spec.sheets.map((s) => new SheetState(s.name, s));
    this.names = (spec.names || []).map((n) => ({ name: n.name, sheet: n.sheet, area: parseArea(n.ref) }));
    this.active = this.sheets.find((s) => s.visibility === "Visible") || this.sheets[0];
    this.selection = { sheet: this.active, area: { r0: 0, c0: 0, r1: 0, c1: 0 } };
  }

  sheet(name) {
    const found = this.sheets.find((s) => s.name === name);
    if (!found) throw new OfficeError("ItemNotFound", `The requested resource doesn't exist: worksheet '${name}'.`);
    return found;
  }

  // for tests: what a sheet shows
  grid(name) {
    const s = this.sheet(name);
    const used = s.used();
    if (!used) return [];
    const out = [];
    for (let r = 0; r <= used.r1; r++) {
      const row = [];
      for (let c = 0; c <= used.c1; c++) row.push(s.value(r, c));
      out.push(row);
    }
    return out;
  }
}

// -- proxies: what the add-in's code holds -------------------------------------------------------
function parseLoad(spec) {
  if (spec === undefined) return [];
  if (Array.isArray(spec)) return spec;
  if (typeof spec === "object") return Object.keys(spec);
  return String(spec).split(",").map((s) => s.trim()).filter(Boolean);
}

class ClientObject {
  constructor(context) {
    this.context = context;
    this._loaded = {};
    this._null = undefined;
  }

  _get(name) {
    if (!(name in this._loaded)) {
      throw new OfficeError("PropertyNotLoaded", `The property '${name}' is not available. Before reading the ` +
                            "property's value, call the load method on the containing object and call " +
                            "\"context.sync()\" on the associated request context.");
    }
    return this._loaded[name];
  }

  _queue(op) {
    this.context._enqueue(op);
  }

  get isNullObject() {
    if (this._null === undefined) {
      throw new OfficeError("PropertyNotLoaded", "isNullObject is known only after the object is loaded and synced.");
    }
    return this._null;
  }

  load(spec) {
    const props = parseLoad(spec);
    this._queue(() => this._load(props));
    return this;
  }

  _load(props) {
    const target = this._resolve();
    this._null = target === null;
    for (const p of props) this._loaded[p] = target === null ? undefined : this._read(target, p);
  }
}

function loadable(cls, names) {
  for (const n of names) {
    if (Object.getOwnPropertyDescriptor(cls.prototype, n)) continue;
    Object.defineProperty(cls.prototype, n, { get() { return this._get(n); }, configurable: true });
  }
}

class ClientResult { // what a method returns that Excel computes: its value is there after the sync
  constructor() { this._done = false; }

  _set(value) {
    this._value = value;
    this._done = true;
  }

  get value() {
    if (!this._done) {
      throw new OfficeError("PropertyNotLoaded", "The value of the result object has not been loaded yet. " +
                            "Before reading the value property, call \"context.sync()\" on the associated request context.");
    }
    return this._value;
  }
}

class Collection extends ClientObject {
  // load("items/name,items/position") snapshots the collection at sync time
  _load(props) {
    const states = this._states();
    this._null = false;
    const sub = props.map((p) => p.replace(/^items\//, "")).filter((p) => p !== "items");
    this._loaded.items = states.map((s) => {
      const item = this._item(s);
      item._load(sub);
      return item;
    });
  }

  get items() { return this._get("items"); }
}

class Workbook extends ClientObject {
  constructor(context) {
    super(context);
    this.worksheets = new WorksheetCollection(context);
    this.names = new NamedItemCollection(context);
  }

  _resolve() { return this.context._book; }
  _read(book, p) { return { name: book.name }[p]; }

  getSelectedRange() {
    return new Range(this.context, () => {
      const book = this.context._book;
      return book.selection.sheet === book.active ? book.selection
        : { sheet: book.active, area: { r0: 0, c0: 0, r1: 0, c1: 0 } };
    });
  }
}
loadable(Workbook, ["name"]);

class WorksheetCollection extends Collection {
  _states() { return this.context._book.sheets; }
  _item(state) { return new Worksheet(this.context, () => state); }

  add(name) {
    let added = null;
    this._queue(() => {
      const book = this.context._book;
      const title = name || `Sheet${book.sheets.length + 1}`;
      if (book.sheets.some((s) => s.name === title)) {
        throw new OfficeError("ItemAlreadyExists", `A sheet named '${title}' already exists.`);
      }
      added = new SheetState(title);
      book.sheets.push(added);
    });
    return new Worksheet(this.context, () => added);
  }

  getItem(name) {
    return new Worksheet(this.context, () => this.context._book.sheet(name));
  }

  getItemOrNullObject(name) {
    return new Worksheet(this.context, () => this.context._book.sheets.find((s) => s.name === name) || null, true);
  }

  getActiveWorksheet() {
    return new Worksheet(this.context, () => this.context._book.active);
  }
}

class Worksheet extends ClientObject {
  constructor(context, resolve, orNullObject = false) {
    super(context);
    this._resolve = () => {
      const s = resolve();
      if (!s && orNullObject) return null;
      if (!s) throw new OfficeError("ItemNotFound", "The worksheet does not exist (yet).");
      return s;
    };
    this.protection = new WorksheetProtection(context, this._resolve);
    this.tables = new TableCollection(context, this._resolve);
    this.notes = new NoteCollection(context, this._resolve);
  }

  _read(s, p) {
    if (p === "name") return s.name;
    if (p === "position") return this.context._book.sheets.indexOf(s);
    if (p === "visibility") return s.visibility;
    throw new OfficeError("InvalidArgument", `Worksheet has no property '${p}' in this fake`);
  }

  get name() { return this._get("name"); }
  get position() { return this._get("position"); }
  get visibility() { return this._get("visibility"); }

  activate() {
    this._queue(() => {
      const s = this._resolve();
      if (s === null) throw new OfficeError("InvalidOperation", "The worksheet is a null object.");
      if (s.visibility !== "Visible") {
        throw new OfficeError("InvalidOperation", `The sheet ${quoteSheet(s.name)} is hidden and cannot be activated.`);
      }
      this.context._book.active = s;
    });
  }

  set position(value) {
    this._queue(() => {
      const sheets = this.context._book.sheets;
      const s = this._resolve();
      sheets.splice(sheets.indexOf(s), 1);
      sheets.splice(Math.min(value, sheets.length), 0, s);
    });
  }

  getRangeByIndexes(row, col, rows, cols) {
    if (rows < 1 || cols < 1) throw new OfficeError("InvalidArgument", "a range needs at least one row and column");
    return new Range(this.context, () => ({ sheet: this._resolve(),
                                            area: { r0: row, c0: col, r1: row + rows - 1, c1: col + cols - 1 } }));
  }

  getRange(address) { // no address: the whole sheet
    const area = address === undefined ? { r0: 0, c0: 0, r1: 1048575, c1: 16383 } : parseArea(address);
    return new Range(this.context, () => ({ sheet: this._resolve(), area }));
  }

  getUsedRangeOrNullObject() {
    return new Range(this.context, () => {
      const s = this._resolve();
      const used = s.used();
      return used ? { sheet: s, area: used } : null;
    });
  }
}

class WorksheetProtection extends ClientObject {
  constructor(context, sheet) {
    super(context);
    this._resolve = sheet;
  }

  _read(s, p) {
    if (p === "protected") return s.protected;
    if (p === "options") return { ...s.options };
    throw new OfficeError("InvalidArgument", `no property ${p}`);
  }

  protect(options) {
    this._queue(() => {
      const s = this._resolve();
      if (s.protected) throw new OfficeError("InvalidOperation", `${s.name} is already protected.`);
      s.protected = true;
      if (options) s.options = { ...s.options, ...options };
    });
  }

  unprotect() {
    this._queue(() => { this._resolve().protected = false; });
  }
}
loadable(WorksheetProtection, ["protected", "options"]);

class Range extends ClientObject {
  constructor(context, resolve) {
    super(context);
    this._where = resolve; // () → {sheet, area} or null
    this.format = { fill: {} };
    const self = this;
    Object.defineProperty(this.format.fill, "color", {
      set(colour) {
        self._queue(() => {
          const { sheet, area } = self._target();
          if (sheet.protected && !sheet.options.allowFormatCells) sheet.refuseIfProtected("Format cells", area, false);
          self._each(area, (r, c) => { sheet.cell(r, c).fill = colour; });
        });
      },
    });
    Object.defineProperty(this.format, "rowHeight", {
      get() {
        throw new OfficeError("PropertyNotLoaded", "format.rowHeight is not loaded (this fake reads heights " +
                              "through getRowProperties only).");
      },
      set(points) {
        self._queue(() => {
          const { sheet, area } = self._target();
          if (sheet.protected && !sheet.options.allowFormatRows) sheet.refuseIfProtected("Row height", area, false);
          if (typeof points !== "number" || !(points >= 0 && points <= 409)) {
            throw new OfficeError("InvalidArgument", `The argument is invalid or missing: rowHeight ${points}.`);
          }
          for (let r = area.r0; r <= area.r1; r++) {
            sheet.rowHeights.set(r, points);
            sheet.hiddenRows.delete(r);
          }
        });
      },
    });
    Object.defineProperty(this.format, "wrapText", {
      set(wrap) {
        self._queue(() => {
          const { sheet, area } = self._target();
          if (sheet.protected && !sheet.options.allowFormatCells) sheet.refuseIfProtected("Wrap text", area, false);
          self._each(area, (r, c) => { sheet.cell(r, c).wrapText = !!wrap; });
        });
      },
    });
    this.conditionalFormats = new ConditionalFormatCollection(context, () => this._target());
  }

  _resolve() { return this._where(); }

  // Range.getRowProperties({rowIndex, rowHidden, format: {rowHeight}}): one entry per row, with
  // what was asked for; getColumnProperties likewise (columnIndex, format: {columnWidth}).
  getRowProperties(options) {
    const result = new ClientResult();
    this._queue(() => {
      const { sheet, area } = this._target();
      const rows = [];
      for (let r = area.r0; r <= area.r1; r++) {
        const p = {};
        if (options.rowIndex) p.rowIndex = r;
        if (options.rowHidden) p.rowHidden = sheet.hiddenRows.has(r);
        if (options.format && options.format.rowHeight) p.format = { rowHeight: sheet.rowHeight(r) };
        rows.push(p);
      }
      result._set(rows);
    });
    return result;
  }

  getColumnProperties(options) {
    const result = new ClientResult();
    this._queue(() => {
      const { sheet, area } = this._target();
      const cols = [];
      for (let c = area.c0; c <= area.c1; c++) {
        const p = {};
        if (options.columnIndex) p.columnIndex = c;
        if (options.format && options.format.columnWidth) p.format = { columnWidth: sheet.columnWidth(c) };
        cols.push(p);
      }
      result._set(cols);
    });
    return result;
  }

  _target() {
    const t = this._where();
    if (!t) throw new OfficeError("InvalidOperation", "The range is a null object.");
    return t;
  }

  _each(area, f) {
    for (let r = area.r0; r <= area.r1; r++) for (let c = area.c0; c <= area.c1; c++) f(r, c);
  }

  _grid(area, f) {
    const out = [];
    for (let r = area.r0; r <= area.r1; r++) {
      const row = [];
      for (let c = area.c0; c <= area.c1; c++) row.push(f(r, c));
      out.push(row);
    }
    return out;
  }

  _read({ sheet, area }, p) {
    switch (p) {
      case "values": return this._grid(area, (r, c) => sheet.value(r, c));
      case "numberFormatCategories": return this._grid(area, (r, c) => sheet.categories.get(key(r, c)) || "General");
      case "rowIndex": return area.r0;
      case "columnIndex": return area.c0;
      case "rowCount": return area.r1 - area.r0 + 1;
      case "columnCount": return area.c1 - area.c0 + 1;
      case "address": return `${quoteSheet(sheet.name)}!${areaAddress(area)}`;
      default: throw new OfficeError("InvalidArgument", `Range has no property '${p}' in this fake`);
    }
  }

  get values() { return this._get("values"); }

  set values(values) {
    this._queue(() => {
      const { sheet, area } = this._target();
      const rows = area.r1 - area.r0 + 1, cols = area.c1 - area.c0 + 1;
      if (!Array.isArray(values) || values.length !== rows || values.some((row) => row.length !== cols)) {
        throw new OfficeError("InvalidArgument", "The number of rows or columns in the input array doesn't match " +
                              "the size or dimensions of the range.");
      }
      sheet.refuseIfProtected("Set values", area, true);
      this._each(area, (r, c) => { sheet.cell(r, c).value = values[r - area.r0][c - area.c0]; });
    });
  }

  get worksheet() { // a navigation property: the same proxy each time, as in Office.js
    if (!this._worksheet) this._worksheet = new Worksheet(this.context, () => this._target().sheet);
    return this._worksheet;
  }

  select() {
    this._queue(() => {
      const { sheet, area } = this._target();
      if (sheet !== this.context._book.active) {
        throw new OfficeError("InvalidSelection", `${quoteSheet(sheet.name)} is not the active sheet.`);
      }
      this.context._book.selection = { sheet, area };
    });
  }

  set hyperlink(link) {
    this._queue(() => {
      const { sheet, area } = this._target();
      sheet.refuseIfProtected("Insert hyperlink", area, true);
      this._each(area, (r, c) => {
        const cell = sheet.cell(r, c);
        cell.hyperlink = { ...link };
        if (link.textToDisplay !== undefined) cell.value = link.textToDisplay;
      });
    });
  }

  set numberFormat(formats) {
    this._queue(() => {
      const { sheet, area } = this._target();
      if (sheet.protected && !sheet.options.allowFormatCells) sheet.refuseIfProtected("Number format", area, false);
      this._each(area, (r, c) => { sheet.cell(r, c).numberFormat = formats[0][0]; });
    });
  }

  clear(applyTo) {
    this._queue(() => {
      const { sheet, area } = this._target();
      sheet.refuseIfProtected("Clear", area, true);
      this._each(area, (r, c) => {
        const cell = sheet.cells.get(key(r, c));
        if (!cell) return;
        if (applyTo !== "Formats") cell.value = "";
        if (applyTo !== "Contents") {
          delete cell.fill;
          delete cell.hyperlink;
          delete cell.numberFormat;
          delete cell.wrapText;
        }
        if (applyTo === undefined || applyTo === "All" || applyTo === "Contents") delete cell.hyperlink;
      });
    });
  }
}
loadable(Range, ["numberFormatCategories", "rowIndex", "columnIndex", "rowCount", "columnCount", "address"]);

class ConditionalFormatCollection extends Collection {
  constructor(context, target) {
    super(context);
    this._target = target;
  }

  _states() {
    const { sheet, area } = this._target();
    return sheet.cfs.filter((cf) => overlaps(cf.area, area)).map((cf) => ({ sheet, cf }));
  }

  _item(state) { return new ConditionalFormat(this.context, () => state); }

  add(type) {
    const holder = {};
    this._queue(() => {
      const { sheet, area } = this._target();
      sheet.refuseIfProtected("Add a conditional format", area, false);
      holder.state = { sheet, cf: { area, type: type === "Custom" ? "Custom" : type, formula: "", fill: null } };
      sheet.cfs.push(holder.state.cf);
    });
    return new ConditionalFormat(this.context, () => holder.state);
  }
}

class ConditionalFormat extends ClientObject {
  constructor(context, resolve) {
    super(context);
    this._resolve = () => {
      const s = resolve();
      if (!s) throw new OfficeError("ItemNotFound", "The conditional format does not exist.");
      return s;
    };
    const self = this;
    const rule = new ClientObject(context);
    rule._resolve = () => self._resolve();
    rule._read = (s, p) => {
      if (p !== "formula") throw new OfficeError("InvalidArgument", p);
      return s.cf.formula;
    };
    Object.defineProperty(rule, "formula", {
      get() { return this._get("formula"); },
      set(value) { self._queue(() => { self._resolve().cf.formula = value; }); },
    });
    const fill = {};
    Object.defineProperty(fill, "color", { set(value) { self._queue(() => { self._resolve().cf.fill = value; }); } });
    this.custom = { rule, format: { fill } };
  }

  _read(s, p) {
    if (p === "type") return s.cf.type;
    throw new OfficeError("InvalidArgument", `ConditionalFormat has no property '${p}' in this fake`);
  }

  delete() {
    this._queue(() => {
      const { sheet, cf } = this._resolve();
      sheet.refuseIfProtected("Delete a conditional format", cf.area, false);
      if (!sheet.cfs.includes(cf)) throw new OfficeError("ItemNotFound", "The conditional format does not exist.");
      sheet.cfs.splice(sheet.cfs.indexOf(cf), 1);
    });
  }
}
loadable(ConditionalFormat, ["type"]);

class TableCollection extends Collection {
  constructor(context, sheet) {
    super(context);
    this._sheet = sheet;
  }

  _states() {
    const sheet = this._sheet();
    return sheet.tables.map((t) => ({ sheet, t }));
  }

  _item(state) { return new Table(this.context, () => state); }
}

class Table extends ClientObject {
  constructor(context, resolve) {
    super(context);
    this._resolve = resolve;
  }

  _read({ t }, p) {
    if (p === "name") return t.name;
    if (p === "showTotals") return t.showTotals;
    if (p === "showHeaders") return t.showHeaders;
    throw new OfficeError("InvalidArgument", `Table has no property '${p}' in this fake`);
  }

  getRange() {
    return new Range(this.context, () => ({ sheet: this._resolve().sheet, area: this._resolve().t.area }));
  }

  getHeaderRowRange() {
    return new Range(this.context, () => {
      const { sheet, t } = this._resolve();
      return { sheet, area: { ...t.area, r1: t.area.r0 } };
    });
  }

  getTotalRowRange() {
    return new Range(this.context, () => {
      const { sheet, t } = this._resolve();
      if (!t.showTotals) throw new OfficeError("InvalidOperation", `Table ${t.name} has no total row.`);
      return { sheet, area: { ...t.area, r0: t.area.r1 } };
    });
  }
}
loadable(Table, ["name", "showTotals", "showHeaders"]);

class NoteCollection extends Collection {
  constructor(context, sheet) {
    super(context);
    this._sheet = sheet;
  }

  _cellOf(address) { // a Range proxy or an address "A1" / "Sheet!A1"
    if (address instanceof Range) {
      const { sheet, area } = address._target();
      if (area.r0 !== area.r1 || area.c0 !== area.c1) {
        throw new OfficeError("InvalidArgument", "A note belongs to one cell, not a range of several.");
      }
      return { sheet, r: area.r0, c: area.c0 };
    }
    const area = parseArea(String(address));
    return { sheet: this._sheet(), r: area.r0, c: area.c0 };
  }

  _states() {
    const sheet = this._sheet();
    return [...sheet.notes.keys()].map((k) => ({ sheet, k }));
  }

  _item(state) { return new Note(this.context, () => state); }

  add(cellAddress, content) {
    let added = null;
    this._queue(() => {
      const { sheet, r, c } = this._cellOf(cellAddress);
      if (sheet.protected && !sheet.options.allowEditObjects) {
        sheet.refuseIfProtected("Add a note", { r0: r, c0: c, r1: r, c1: c }, false);
      }
      if (sheet.notes.has(key(r, c))) {
        throw new OfficeError("InvalidArgument", `The cell ${letters(c)}${r + 1} already has a note.`);
      }
      sheet.notes.set(key(r, c), { content: String(content), authorName: "Office User" });
      added = { sheet, k: key(r, c) };
    });
    return new Note(this.context, () => added);
  }

  getItemOrNullObject(address) {
    return new Note(this.context, () => {
      const { sheet, r, c } = this._cellOf(address);
      return sheet.notes.has(key(r, c)) ? { sheet, k: key(r, c) } : null;
    });
  }

  getItem(address) {
    return new Note(this.context, () => {
      const { sheet, r, c } = this._cellOf(address);
      if (!sheet.notes.has(key(r, c))) throw new OfficeError("ItemNotFound", `No note at ${letters(c)}${r + 1}.`);
      return { sheet, k: key(r, c) };
    });
  }
}

class Note extends ClientObject {
  constructor(context, resolve) {
    super(context);
    this._resolve = resolve;
  }

  _read({ sheet, k }, p) {
    const note = sheet.notes.get(k);
    if (p === "content") return note.content;
    if (p === "authorName") return note.authorName;
    throw new OfficeError("InvalidArgument", `Note has no property '${p}' in this fake`);
  }

  _live() {
    const s = this._resolve();
    if (!s || !s.sheet.notes.has(s.k)) throw new OfficeError("ItemNotFound", "The note does not exist.");
    return s;
  }

  set content(value) {
    this._queue(() => {
      const { sheet, k } = this._live();
      if (sheet.protected && !sheet.options.allowEditObjects) sheet.refuseIfProtected("Edit a note", null, false);
      sheet.notes.get(k).content = String(value);
    });
  }

  get content() { return this._get("content"); }

  delete() {
    this._queue(() => {
      const { sheet, k } = this._live();
      if (sheet.protected && !sheet.options.allowEditObjects) sheet.refuseIfProtected("Delete a note", null, false);
      sheet.notes.delete(k);
    });
  }
}
loadable(Note, ["authorName"]);

class NamedItemCollection extends Collection {
  _states() { return this.context._book.names; }
  _item(state) { return new NamedItem(this.context, () => state); }
}

class NamedItem extends ClientObject {
  constructor(context, resolve) {
    super(context);
    this._resolve = resolve;
  }

  _read(n, p) {
    if (p === "name") return n.name;
    if (p === "type") return "Range";
    throw new OfficeError("InvalidArgument", `NamedItem has no property '${p}' in this fake`);
  }

  getRangeOrNullObject() {
    return new Range(this.context, () => {
      const n = this._resolve();
      const sheet = this.context._book.sheets.find((s) => s.name === n.sheet);
      return sheet ? { sheet, area: n.area } : null;
    });
  }
}
loadable(NamedItem, ["name", "type"]);

class RequestContext {
  constructor(excel) {
    this._excel = excel;
    this._book = excel.book;
    this._queueOps = [];
    this.workbook = new Workbook(this);
  }

  _enqueue(op) { this._queueOps.push(op); }

  async sync() {
    const ops = this._queueOps;
    this._queueOps = [];
    this._excel.syncs += 1;
    await new Promise((resolve) => tick(resolve)); // a round trip to Excel
    for (const op of ops) op(); // the first failure rejects the sync; the rest of the batch is dropped
  }
}

// -- the globals an add-in sees -------------------------------------------------------------------
const ERROR_CODES = { invalidValue: "#VALUE!", notAvailable: "#N/A", divisionByZero: "#DIV/0!",
                      invalidNumber: "#NUM!", nullReference: "#NULL!", invalidName: "#NAME?",
                      invalidReference: "#REF!" };
const INPUT_ONLY = new Set(["#NAME?", "#REF!"]); // Excel accepts these as inputs, never as outputs

function createOffice(bookSpec, { partitionKey = undefined, requirements = { ExcelApi: "1.18" } } = {}) {
  const excel = {
    book: new BookState(bookSpec),
    syncs: 0,
    dropped: 0,
    runs: 0,
    failures: [], // errors that reached Excel.run's caller
  };
  let ready = false;
  const readyWaiters = [];
  const handlers = {};
  const functions = {};
  const violations = []; // outputs Excel would refuse

  function isSetSupported(name, version) {
    const have = requirements[name];
    if (!have) return name === "CustomFunctionsRuntime" && version === "1.1";
    // "1.9" comes before "1.18": versions compare part by part, as numbers
    const [want, got] = [version, have].map((v) => String(v).split(".").map(Number));
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      if ((want[i] || 0) !== (got[i] || 0)) return (want[i] || 0) < (got[i] || 0);
    }
    return true;
  }

  const Office = {
    context: undefined,
    onReady(callback) {
      const info = { host: "Excel", platform: "OfficeOnline" };
      return new Promise((resolve) => {
        const fire = () => { if (callback) callback(info); resolve(info); };
        if (ready) tick(fire); else readyWaiters.push(fire);
      });
    },
    actions: { associate(name, f) { handlers[name] = f; } },
    addin: { showAsTaskpane() { return Promise.resolve(); } },
  };

  const Excel = {
    ConditionalFormatType: { custom: "Custom" },
    async run(batch) {
      if (!ready) {
        throw new OfficeError("GeneralException", "Office.js has not been initialized: wait for Office.onReady.");
      }
      excel.runs += 1;
      const context = new RequestContext(excel);
      try {
        return await batch(context);
      } catch (e) {
        excel.failures.push(e);
        throw e;
      } finally {
        excel.dropped += context._queueOps.length;
      }
    },
  };

  class CFError {
    constructor(code, message) {
      this.code = code;
      if (message !== undefined) this.message = message;
    }
  }

  const CustomFunctions = {
    Error: CFError,
    ErrorCode: { ...ERROR_CODES },
    associate(id, f) { functions[id] = f; },
  };

  // Excel calling a custom function: error cells ("#DIV/0!" in the arguments given here)
  // arrive as error objects made by Excel, not by the add-in's own CustomFunctions.Error.
  function asExcelPasses(v) {
    if (Array.isArray(v)) return v.map((row) => row.map(asExcelPasses));
    if (typeof v === "string" && Object.values(ERROR_CODES).includes(v)) {
      return Object.freeze({ code: v, message: "" });
    }
    return v;
  }

  function shown(v) { // a returned element as the cell shows it
    if (v instanceof CFError) {
      if (INPUT_ONLY.has(v.code)) {
        violations.push(v.code);
        return "#VALUE!";
      }
      return v.code;
    }
    if (v !== null && typeof v === "object") {
      violations.push("object");
      return "#VALUE!";
    }
    return v === null || v === undefined ? 0 : v;
  }

  async function callFunction(id, args, address = "Sheet1!A1") {
    if (!ready) throw new Error("Excel calls custom functions only once the runtime is ready");
    const f = functions[id];
    if (!f) return "#NAME?";
    try {
      const result = await f(...args.map(asExcelPasses), { address, functionName: id });
      return Array.isArray(result) ? result.map((row) => row.map(shown)) : shown(result);
    } catch (e) {
      if (e instanceof CFError) return shown(e);
      return "#VALUE!"; // an unhandled exception shows #VALUE!
    }
  }

  async function press(name) { // a ribbon button: Office runs the associated function once loaded
    await loaded;
    await new Promise((resolve) => tick(resolve));
    if (!handlers[name]) throw new Error(`no function is associated with the button ${name}`);
    let completed;
    const done = new Promise((resolve) => { completed = resolve; });
    handlers[name]({ completed });
    await done;
  }

  let loadedNow;
  const loaded = new Promise((resolve) => { loadedNow = resolve; });

  function initialize() { // Office finishes loading: onReady fires
    ready = true;
    tick(loadedNow);
    Office.context = {
      contentLanguage: "zh-CN",
      partitionKey,
      requirements: { isSetSupported },
    };
    readyWaiters.splice(0).forEach((fire) => tick(fire));
  }

  return { Office, Excel, CustomFunctions, excel, initialize, press, callFunction, violations, handlers,
           functions, OfficeError };
}

if (typeof module !== "undefined") {
  module.exports = { createOffice, OfficeError, parseArea, parseCell, letters, areaAddress };
} else {
  globalThis.fakeOffice = { createOffice, OfficeError, parseArea, parseCell, letters, areaAddress };
}
