// xlplan's Office.js client: read the workbook, send it to the xlplan server, apply
// the actions it answers with. Written for xlplan (xlwings ships no Office.js client);
// it speaks xlwings' remote-book JSON, so the server runs plain xlwings scripts.
//
// Runs in the add-in's shared runtime: the task pane, the ribbon commands and the
// custom functions share this page and so share the unit's token.
/* global Office, Excel, OfficeRuntime */
"use strict";

const xlplan = (function () {
  const TOKEN_KEY = "xlplan.token";
  const XLWINGS_VERSION = "{{XLWINGS_VERSION}}";
  const ISO_DATE_CATEGORIES = ["Date", "Time"];

  function origin() {
    return window.location.origin;
  }

  function token() {
    return window.localStorage.getItem(TOKEN_KEY) || "";
  }

  function setToken(value) {
    window.localStorage.setItem(TOKEN_KEY, (value || "").trim());
  }

  function authHeaders() {
    return { "Content-Type": "application/json", Authorization: "Bearer " + token() };
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
      const parts = sheets.items.map((ws) => {
        const used = ws.getUsedRangeOrNullObject(true);
        used.load("rowIndex,columnIndex,rowCount,columnCount");
        const tables = ws.tables;
        tables.load("items/name");
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
        }
        part.tableInfo = part.tables.items.map((t) => {
          const r = t.getRange();
          r.load("address");
          const h = t.getHeaderRowRange();
          h.load("address");
          return { t, r, h };
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
      found.forEach(({ r }) => r.worksheet.load("position"));
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
        return {
          name: part.ws.name,
          values: values,
          pictures: [],
          tables: part.tableInfo.map(({ t, r, h }) => ({
            name: t.name,
            range_address: localAddress(r.address),
            header_row_range_address: localAddress(h.address),
            show_headers: true,
            show_totals: false,
          })),
        };
      });
      const namesJson = found
        .map(({ n, r }) => ({
          name: n.name,
          sheet_index: r.worksheet.position,
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
    return sheets.items[a.sheet_position].getRangeByIndexes(a.start_row, a.start_column, a.row_count, a.column_count);
  }

  const ACTIONS = {
    setValues: (ctx, sheets, a) => { rangeOf(sheets, a).values = a.values; },
    rangeClear: (ctx, sheets, a) => { rangeOf(sheets, a).clear(); },
    rangeClearContents: (ctx, sheets, a) => { rangeOf(sheets, a).clear("Contents"); },
    rangeClearFormats: (ctx, sheets, a) => { rangeOf(sheets, a).clear("Formats"); },
    setRangeColor: (ctx, sheets, a) => { rangeOf(sheets, a).format.fill.color = a.args[0]; },
    setNumberFormat: (ctx, sheets, a) => { rangeOf(sheets, a).numberFormat = [[a.args[0]]]; },
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
    alert: (ctx, sheets, a) => { showMessage(a.args[0], a.args[1]); },
    // xlplan's own: mark a cell with a finding without touching its fill, and unmark it
    xlplanMark: (ctx, sheets, a) => {
      const range = rangeOf(sheets, a);
      const cf = range.conditionalFormats.add(Excel.ConditionalFormatType.custom);
      cf.custom.rule.formula = "=TRUE";
      cf.custom.format.fill.color = a.args[0];
      if (Office.context.requirements.isSetSupported("ExcelApi", "1.18")) {
        try {
          sheets.items[a.sheet_position].notes.add(range, a.args[1]);
        } catch (e) { /* the cell has a note of the user's own: it stays */ }
      }
    },
    xlplanUnmark: async (ctx, sheets, a) => {
      const cfs = rangeOf(sheets, a).conditionalFormats;
      cfs.load("items/type");
      await ctx.sync();
      const custom = cfs.items.filter((cf) => cf.type === "Custom").map((cf) => {
        cf.custom.rule.load("formula");
        return cf;
      });
      await ctx.sync();
      custom.filter((cf) => cf.custom.rule.formula === "=TRUE").forEach((cf) => cf.delete());
    },
  };

  async function applyActions(actions) {
    await Excel.run(async (context) => {
      const sheets = context.workbook.worksheets;
      sheets.load("items/name,items/position");
      await context.sync();
      // Generated plan sheets are protected (no password) so that formulas stay put:
      // lift the protection while the actions apply, then restore it as it was.
      const touched = [...new Set(actions.map((a) => a.sheet_position).filter((p) => p !== null && p !== undefined))];
      const protections = touched.map((p) => {
        const prot = sheets.items[p].protection;
        prot.load("protected,options");
        return { p, prot };
      });
      await context.sync();
      const relock = protections.filter(({ prot }) => prot.protected);
      relock.forEach(({ prot }) => prot.unprotect());
      for (const a of actions) {
        const apply = ACTIONS[a.func];
        if (!apply) {
          console.warn("xlplan: action not supported by this client:", a.func);
          continue;
        }
        await apply(context, sheets, a);
      }
      relock.forEach(({ prot }) => prot.protect(prot.options));
      await context.sync();
    });
  }

  // -- talking to the server ---------------------------------------------------------------
  async function runScript(name) {
    showMessage("…", name);
    try {
      const book = await readBook();
      const response = await fetch(origin() + "/xlwings/custom-scripts-call/" + encodeURIComponent(name), {
        method: "POST",
        headers: authHeaders(),
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

  Office.onReady(() => {
    for (const name of ["recalculate", "check", "submit"]) {
      Office.actions.associate(name, async (event) => {
        await runScript(name);
        event.completed();
      });
    }
  });

  return { runScript, readBook, applyActions, token, setToken, authHeaders, showMessage };
})();
