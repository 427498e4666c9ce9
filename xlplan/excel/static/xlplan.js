// xlplan's Office.js client: read the workbook, send it to the xlplan server, apply
// the actions it answers with. Written for xlplan (xlwings ships no Office.js client);
// it speaks xlwings' remote-book JSON, so the server runs plain xlwings scripts.
//
// Runs in the add-in's shared runtime: the task pane, the ribbon commands and the
// custom functions share this page and so share the unit's token.
//
// How Office.js runs it, and what that asks of this code (tests/js drives it against a
// fake of Office.js that behaves so):
// - nothing of Office is usable before Office.onReady: every entry point awaits `ready`;
// - calls are queued and run at context.sync(), and an error surfaces only there, dropping
//   the rest of the batch: the protection lifted for the writes is restored in `finally`,
//   in a fresh batch, whatever failed;
// - a collection's items are a snapshot: after a sheet is added the sheet list is loaded
//   again before the next action addresses a sheet by position;
// - a cell holds one note: a note is added only where none is or xlplan's was, and only
//   xlplan's notes are removed (the server says how to know them: livebook.mark_remote);
// - the marks of a run (sweep the last run's, mark this run's) take a fixed number of
//   round trips, however many cells are marked;
// - the book is read with its rows' heights and columns' widths (ExcelApi 1.9, in the same
//   round trip as the values), so that the server can grow a row whose text needs more room
//   (setRowHeight: format.rowHeight, queued with the other writes, on a sheet whose
//   protection is lifted like that of the cells written).
// HQ's review (GET /api/review with the unit's token) is shown in the task pane: the latest
// decision on each of the unit's plans, each cell comment a link that selects its cell.
/* global Office, Excel */
"use strict";

const xlplan = (function () {
  const TOKEN_KEY = "xlplan.token";
  const XLWINGS_VERSION = "{{XLWINGS_VERSION}}";
  const ISO_DATE_CATEGORIES = ["Date", "Time"];
  const SHEET_ACTIONS = new Set(["addSheet", "sheetDelete", "setSheetName"]);

  const ready = new Promise((resolve) => Office.onReady(resolve));

  function origin() {
    return window.location.origin;
  }

  // Excel on the web and new Outlook partition storage per add-in: Microsoft asks add-ins
  // to prefix their keys with Office.context.partitionKey where it is set.
  function storageKey() {
    const partition = Office.context && Office.context.partitionKey;
    return partition ? partition + TOKEN_KEY : TOKEN_KEY;
  }

  async function token() {
    await ready;
    return window.localStorage.getItem(storageKey()) || "";
  }

  async function setToken(value) {
    await ready;
    window.localStorage.setItem(storageKey(), (value || "").trim());
  }

  async function authHeaders() {
    return { "Content-Type": "application/json", Authorization: "Bearer " + (await token()) };
  }

  // Excel's serial date → the ISO text xlwings reads as a datetime.
  function serialToIso(serial) {
    const ms = Math.round((serial - 25569) * 86400000);
    return new Date(ms).toISOString().slice(0, 19);
  }

  function localAddress(address) {
    const i = address.lastIndexOf("!");
    return i >= 0 ? address.slice(i + 1) : address;
  }

  // -- reading the book ----------------------------------------------------------------
  async function readBook() {
    return Excel.run(async (context) => {
      const wb = context.workbook;
      wb.load("name");
      const sheets = wb.worksheets;
      sheets.load("items/name,items/position");
      const names = wb.names;
      names.load("items/name,items/type");
      const active = wb.worksheets.getActiveWorksheet();
      active.load("position");
      const selection = wb.getSelectedRange();
      selection.load("address");
      await context.sync();

      const withCategories = Office.context.requirements.isSetSupported("ExcelApi", "1.12");
      const withSizes = Office.context.requirements.isSetSupported("ExcelApi", "1.9");
      const parts = sheets.items.map((ws) => {
        const used = ws.getUsedRangeOrNullObject(true);
        used.load("rowIndex,columnIndex,rowCount,columnCount");
        const tables = ws.tables;
        tables.load("items/name,items/showTotals");
        return { ws, used, tables };
      });
      await context.sync();

      for (const part of parts) {
        if (part.used.isNullObject) {
          part.values = [[""]];
        } else {
          // a rectangle anchored at A1, as xlwings expects
          const rows = part.used.rowIndex + part.used.rowCount;
          const cols = part.used.columnIndex + part.used.columnCount;
          part.range = part.ws.getRangeByIndexes(0, 0, rows, cols);
          part.range.load(withCategories ? "values,numberFormatCategories" : "values");
          if (withSizes) {
            part.rowSizes = part.range.getRowProperties({ rowHidden: true, format: { rowHeight: true } });
            part.columnSizes = part.range.getColumnProperties({ format: { columnWidth: true } });
          }
        }
        part.tableInfo = part.tables.items.map((t) => {
          const r = t.getRange();
          r.load("address");
          const h = t.getHeaderRowRange();
          h.load("address");
          // a table's Total Row is part of its range but holds no line: the server leaves it out
          const total = t.showTotals ? t.getTotalRowRange() : null;
          if (total) total.load("address");
          return { t, r, h, total };
        });
      }
      const nameRanges = names.items
        .filter((n) => n.type === "Range")
        .map((n) => {
          const r = n.getRangeOrNullObject();
          r.load("address");
          return { n, r };
        });
      await context.sync();
      // a name whose cells were deleted (#REF!) has no range: the server reports it missing
      const found = nameRanges.filter(({ r }) => !r.isNullObject);
      const positions = found.map(({ r }) => {
        const ws = r.worksheet;
        ws.load("position");
        return ws;
      });
      await context.sync();

      const sheetsJson = parts.map((part) => {
        let values = part.values;
        if (part.range) {
          values = part.range.values;
          if (withCategories) {
            const cats = part.range.numberFormatCategories;
            values = values.map((row, i) =>
              row.map((v, j) =>
                typeof v === "number" && ISO_DATE_CATEGORIES.includes(cats[i][j]) ? serialToIso(v) : v));
          }
        }
        // points; a hidden row is 0 high (the server never grows it)
        const sizes = part.rowSizes ? {
          row_heights: part.rowSizes.value.map((p) => (p.rowHidden ? 0 : p.format.rowHeight)),
          column_widths: part.columnSizes.value.map((p) => p.format.columnWidth),
        } : {};
        return {
          name: part.ws.name,
          values: values,
          ...sizes,
          pictures: [],
          tables: part.tableInfo.map(({ t, r, h, total }) => ({
            name: t.name,
            range_address: localAddress(r.address),
            header_row_range_address: localAddress(h.address),
            total_row_range_address: total ? localAddress(total.address) : null,
            show_headers: true,
            show_totals: !!t.showTotals,
          })),
        };
      });
      const namesJson = found.map(({ n, r }, i) => ({
        name: n.name,
        sheet_index: positions[i].position,
        address: localAddress(r.address),
        scope_sheet_name: null,
        scope_sheet_index: null,
        book_scope: true,
      }));
      return {
        client: "Office.js",
        version: XLWINGS_VERSION,
        book: { name: wb.name, active_sheet_index: active.position, selection: localAddress(selection.address) },
        names: namesJson,
        sheets: sheetsJson,
      };
    });
  }

  // -- applying actions --------------------------------------------------------------------
  function rangeOf(sheets, a) {
    const ws = sheets.items[a.sheet_position];
    if (!ws) throw new Error(`xlplan: the server addressed sheet ${a.sheet_position}, which this book does not have`);
    return ws.getRangeByIndexes(a.start_row, a.start_column, a.row_count, a.column_count);
  }

  // Actions that only queue commands; marks are collected and applied together (applyMarks).
  const ACTIONS = {
    setValues: (ctx, sheets, a) => { rangeOf(sheets, a).values = a.values; },
    rangeClear: (ctx, sheets, a) => { rangeOf(sheets, a).clear(); },
    rangeClearContents: (ctx, sheets, a) => { rangeOf(sheets, a).clear("Contents"); },
    rangeClearFormats: (ctx, sheets, a) => { rangeOf(sheets, a).clear("Formats"); },
    setRangeColor: (ctx, sheets, a) => { rangeOf(sheets, a).format.fill.color = a.args[0]; },
    setNumberFormat: (ctx, sheets, a) => { rangeOf(sheets, a).numberFormat = [[a.args[0]]]; },
    setRowHeight: (ctx, sheets, a) => { rangeOf(sheets, a).format.rowHeight = a.args[0]; },
    setWrapText: (ctx, sheets, a) => { rangeOf(sheets, a).format.wrapText = a.args[0]; },
    addHyperlink: (ctx, sheets, a) => {
      const [address, text, tip] = a.args;
      const link = address.startsWith("#")
        ? { documentReference: address.slice(1), textToDisplay: text, screenTip: tip }
        : { address: address, textToDisplay: text, screenTip: tip };
      rangeOf(sheets, a).hyperlink = link;
    },
    addSheet: (ctx, sheets, a) => {
      const ws = ctx.workbook.worksheets.add(a.args[1] || undefined);
      ws.position = a.args[0];
    },
    alert: (ctx, sheets, a, after) => { after.push(() => showMessage(a.args[0], a.args[1])); },
  };

  async function loadSheets(context) {
    const sheets = context.workbook.worksheets;
    sheets.load("items/name,items/position");
    await context.sync();
    return sheets;
  }

  // The marks of a run, as one xlplanMarks action (livebook.mark_remote): sweep xlplan's
  // marks off every sheet (rules whose formula holds mark_text, notes that start with
  // note_prefix or are by note_author), the legacy "=TRUE" rules off the cells recorded
  // last time, then mark this run's cells. Three round trips, however many cells.
  async function applyMarks(context, m, withNotes) {
    const isOurs = (note) => !note.isNullObject && (note.authorName === m.note_author ||
      String(note.content).trimStart().startsWith(m.note_prefix));
    const sheets = m.sheets.map((name) => {
      const ws = context.workbook.worksheets.getItem(name);
      const rules = ws.getRange().conditionalFormats;
      rules.load("items/type");
      if (withNotes) ws.notes.load("items/content,items/authorName");
      return { ws, rules };
    });
    const legacy = m.unmark.map(([sheet, address]) => {
      const rules = context.workbook.worksheets.getItem(sheet).getRange(address).conditionalFormats;
      rules.load("items/type");
      return rules;
    });
    const fresh = m.mark.map((mark) => {
      const ws = context.workbook.worksheets.getItem(mark.sheet);
      const note = withNotes ? ws.notes.getItemOrNullObject(mark.address) : null;
      if (note) note.load("content,authorName");
      return { mark, ws, note };
    });
    await context.sync();
    const custom = (rules) => rules.items.filter((cf) => cf.type === "Custom").map((cf) => {
      cf.custom.rule.load("formula");
      return cf;
    });
    const swept = sheets.map(({ rules }) => custom(rules));
    const old = legacy.map(custom);
    await context.sync();
    const text = m.mark_text.toLowerCase();
    swept.flat().filter((cf) => cf.custom.rule.formula.toLowerCase().includes(text)).forEach((cf) => cf.delete());
    old.flat().filter((cf) => cf.custom.rule.formula.replace(/ /g, "").toUpperCase() === m.legacy_formula)
      .forEach((cf) => cf.delete());
    if (withNotes) sheets.forEach(({ ws }) => ws.notes.items.filter(isOurs).forEach((note) => note.delete()));
    for (const { mark, ws, note } of fresh) {
      const cf = ws.getRange(mark.address).conditionalFormats.add(Excel.ConditionalFormatType.custom);
      cf.custom.rule.formula = m.formula;
      cf.custom.format.fill.color = mark.colour;
      // a cell holds one note: ours was deleted above; someone else's stays, and the cell gets none
      if (note && (note.isNullObject || isOurs(note))) ws.notes.add(ws.getRange(mark.address), mark.note);
    }
  }

  // Generated plan sheets are protected (no password) so that formulas stay put: lift
  // the protection of the sheets the actions touch while they apply, then restore it.
  async function unprotect(context, names) {
    const protections = names.map((name) => {
      const prot = context.workbook.worksheets.getItem(name).protection;
      prot.load("protected,options");
      return { name, prot };
    });
    await context.sync();
    const lifted = protections.filter(({ prot }) => prot.protected)
      .map(({ name, prot }) => ({ name, options: prot.options }));
    protections.filter(({ prot }) => prot.protected).forEach(({ prot }) => prot.unprotect());
    await context.sync();
    return lifted;
  }

  async function protectAgain(lifted) {
    if (!lifted.length) return;
    await Excel.run(async (context) => {
      const states = lifted.map(({ name, options }) => {
        const prot = context.workbook.worksheets.getItem(name).protection;
        prot.load("protected");
        return { prot, options };
      });
      await context.sync();
      states.filter(({ prot }) => !prot.protected).forEach(({ prot, options }) => prot.protect(options));
      await context.sync();
    });
  }

  async function applyActions(actions) {
    await ready;
    const after = []; // messages shown once the book is written
    let lifted = [];
    try {
      await Excel.run(async (context) => {
        let sheets = await loadSheets(context);
        const marks = actions.filter((a) => a.func === "xlplanMarks").map((a) => a.args[0]);
        const touched = new Set(actions.map((a) => a.sheet_position)
          .filter((p) => p !== null && p !== undefined && sheets.items[p]).map((p) => sheets.items[p].name));
        marks.forEach((m) => m.sheets.forEach((name) => touched.add(name)));
        lifted = await unprotect(context, [...touched]);
        for (const a of actions) {
          if (a.func === "xlplanMarks") continue;
          const apply = ACTIONS[a.func];
          if (!apply) {
            console.warn("xlplan: action not supported by this client:", a.func);
            continue;
          }
          apply(context, sheets, a, after);
          if (SHEET_ACTIONS.has(a.func)) {
            await context.sync();
            sheets = await loadSheets(context); // the old list does not know the new sheet
          }
        }
        await context.sync();
        const withNotes = Office.context.requirements.isSetSupported("ExcelApi", "1.18");
        for (const m of marks) {
          await applyMarks(context, m, withNotes);
          await context.sync();
        }
      });
    } finally {
      await protectAgain(lifted);
    }
    after.forEach((show) => show());
  }

  // -- talking to the server ---------------------------------------------------------------
  async function runScript(name) {
    await ready;
    showMessage("…", name);
    try {
      const book = await readBook();
      const response = await fetch(origin() + "/xlwings/custom-scripts-call/" + encodeURIComponent(name), {
        method: "POST",
        headers: await authHeaders(),
        body: JSON.stringify(book),
      });
      if (response.status === 401) {
        throw new Error("Sign in first: paste your unit's token in the xlplan task pane.");
      }
      const data = await response.json();
      if (!response.ok) {
        throw new Error(data.detail || response.statusText);
      }
      await applyActions(data.actions);
    } catch (e) {
      showMessage(String(e.message || e), "xlplan · " + name);
    }
  }

  // -- HQ's review ------------------------------------------------------------------------------
  // The latest decision on each of the unit's plans (one per template and period), newest first.
  function latestDecisions(reviews) {
    const byPlan = new Map();
    for (const r of reviews) {
      const plan = `${r.template}\u0000${r.period}`;
      const seen = byPlan.get(plan);
      if (!seen || r.version > seen.version || (r.version === seen.version && r.at > seen.at)) byPlan.set(plan, r);
    }
    return [...byPlan.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }

  async function fetchReview() {
    await ready;
    const key = await token();
    if (!key) throw new Error("Sign in first: paste your unit's token in the xlplan task pane.");
    let response;
    try {
      response = await fetch(origin() + "/api/review", { headers: { Authorization: "Bearer " + key } });
    } catch (e) {
      throw new Error(`Cannot reach the xlplan server at ${origin()}: check the network connection and try again.`);
    }
    if (response.status === 401) {
      throw new Error("The server did not accept this token: paste the token HQ gave your unit again (Sign in).");
    }
    if (response.status === 404) {
      throw new Error("This xlplan server keeps no review: HQ's comments are on the server that holds HQ's database.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok || !data) {
      throw new Error((data && data.detail) || `The server answered ${response.status} ${response.statusText}.`);
    }
    return latestDecisions(data.reviews || []);
  }

  // Show a commented cell: its sheet activated, the cell selected. False (and a message) if it cannot be.
  async function selectCell(sheet, cell) {
    await ready;
    try {
      await Excel.run(async (context) => {
        const ws = context.workbook.worksheets.getItemOrNullObject(sheet);
        ws.load("visibility");
        await context.sync();
        if (ws.isNullObject) throw new Error(`This workbook has no sheet ${sheet}: was it renamed or deleted?`);
        if (ws.visibility !== "Visible") throw new Error(`The sheet ${sheet} is hidden: unhide it to see ${cell}.`);
        ws.activate();
        ws.getRange(cell).select();
        await context.sync();
      });
      return true;
    } catch (e) {
      showMessage(String(e.message || e), `xlplan · ${sheet}!${cell}`);
      return false;
    }
  }

  const STATES = { returned: "Returned 退回", approved: "Approved 已批准" };

  function element(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function decisionElement(d) {
    const box = element("div", undefined, "xlplan-decision");
    box.dataset.state = d.state;
    box.appendChild(element("strong", `${STATES[d.state] || d.state} · ${d.template} ${d.period || ""}`.trim() +
                                      ` · v${d.version}`));
    box.appendChild(element("p", `${d.reviewer} · ${String(d.at).replace("T", " ").slice(0, 16)} UTC`, "note"));
    if (d.note) box.appendChild(element("p", d.note, "xlplan-overall"));
    if (d.comments.length) {
      const list = element("ol");
      for (const c of d.comments) {
        const item = element("li");
        const link = element("a", `${c.sheet}!${c.cell}`);
        link.href = "#";
        link.dataset.sheet = c.sheet;
        link.dataset.cell = c.cell;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          selectCell(c.sheet, c.cell);
        });
        item.appendChild(link);
        item.appendChild(element("span", " " + c.text));
        list.appendChild(item);
      }
      box.appendChild(list);
    }
    return box;
  }

  async function showReview() {
    const box = document.getElementById("xlplan-review");
    if (!box) return;
    box.textContent = "…";
    try {
      const plans = await fetchReview();
      box.textContent = "";
      if (!plans.length) box.appendChild(element("p", "HQ has not decided on your plans yet. 总部尚未审核。", "note"));
      plans.forEach((d) => box.appendChild(decisionElement(d)));
    } catch (e) {
      box.textContent = "";
      box.appendChild(element("p", String(e.message || e), "xlplan-error"));
    }
  }

  function showMessage(text, title) {
    const box = document.getElementById("xlplan-message");
    if (box) {
      box.textContent = "";
      const head = document.createElement("strong");
      head.textContent = title || "xlplan";
      const body = document.createElement("p");
      body.textContent = text;
      box.appendChild(head);
      box.appendChild(body);
    }
    if (Office.addin && Office.addin.showAsTaskpane) {
      Office.addin.showAsTaskpane();
    }
  }

  ready.then(() => {
    for (const name of ["recalculate", "check", "submit"]) {
      Office.actions.associate(name, async (event) => {
        await runScript(name);
        event.completed();
      });
    }
  });

  return { ready, runScript, readBook, applyActions, token, setToken, authHeaders, showMessage, fetchReview,
           selectCell, showReview };
})();
