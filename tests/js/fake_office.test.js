// The fake Office.js itself: it must fail where Excel fails, or the add-in's tests prove nothing.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");

const { createOffice } = require("./fake_office.js");

function book() {
  return {
    name: "t.xlsx",
    sheets: [
      { name: "Plan", protected: true, values: [["label", 1], ["x", 2]], unlocked: [[2, 2]] },
      { name: "Open", values: [["a"]] },
    ],
  };
}

function ready(spec = book()) {
  const office = createOffice(spec);
  office.initialize();
  return office;
}

test("commands run only at sync; properties are readable only once loaded and synced", async () => {
  const { Excel, excel } = ready();
  await Excel.run(async (context) => {
    const ws = context.workbook.worksheets.getItem("Open");
    ws.getRange("B1").values = [[5]];
    assert.equal(excel.book.sheet("Open").value(0, 1), "");
    const r = ws.getRange("A1:B1");
    r.load("values");
    assert.throws(() => r.values, /PropertyNotLoaded|not available/);
    await context.sync();
    assert.deepEqual(r.values, [["a", 5]]);
  });
});

test("a protected sheet refuses writes to locked cells at sync, and the rest of the batch is dropped", async () => {
  const { Excel, excel } = ready();
  await assert.rejects(Excel.run(async (context) => {
    const sheets = context.workbook.worksheets;
    sheets.getItem("Plan").getRange("B2").values = [[3]]; // unlocked: allowed
    sheets.getItem("Plan").getRange("B1").values = [[9]]; // locked: refused
    sheets.getItem("Open").getRange("A1").values = [["never"]];
    await context.sync();
  }), (e) => e.code === "AccessDenied");
  assert.equal(excel.book.sheet("Plan").value(1, 1), 3);
  assert.equal(excel.book.sheet("Plan").value(0, 1), 1);
  assert.equal(excel.book.sheet("Open").value(0, 0), "a");
});

test("protecting a protected sheet, a second note on a cell, notes and formats on protected sheets fail", async () => {
  const { Excel } = ready();
  const run = (f) => Excel.run(async (context) => { f(context.workbook.worksheets); await context.sync(); });
  await assert.rejects(run((s) => s.getItem("Plan").protection.protect()), /already protected/);
  await assert.rejects(run((s) => s.getItem("Plan").notes.add("B2", "n")), /protected/);
  await assert.rejects(run((s) => s.getItem("Plan").getRange("B2").conditionalFormats.add("Custom")), /protected/);
  await run((s) => s.getItem("Open").notes.add("A1", "first"));
  await assert.rejects(run((s) => s.getItem("Open").notes.add("A1", "second")), /already has a note/);
});

test("a collection's items are a snapshot: a sheet added after the load is not in it", async () => {
  const { Excel } = ready();
  await Excel.run(async (context) => {
    const sheets = context.workbook.worksheets;
    sheets.load("items/name");
    await context.sync();
    sheets.add("New");
    await context.sync();
    assert.deepEqual(sheets.items.map((s) => s.name), ["Plan", "Open"]);
    assert.equal(sheets.items[2], undefined);
    sheets.load("items/name");
    await context.sync();
    assert.deepEqual(sheets.items.map((s) => s.name), ["Plan", "Open", "New"]);
  });
});

test("before Office.onReady nothing runs; commands left unsynced are counted", async () => {
  const office = createOffice(book());
  assert.equal(office.Office.context, undefined);
  await assert.rejects(office.Excel.run(async () => {}), /not been initialized/);
  office.initialize();
  await office.Excel.run(async (context) => { context.workbook.worksheets.getItem("Open").getRange("A1").values = [[1]]; });
  assert.equal(office.excel.dropped, 1);
});

test("custom functions get error cells as Excel's error objects and may not return #REF! or #NAME?", async () => {
  const office = ready();
  const { CustomFunctions } = office;
  let seen;
  CustomFunctions.associate("ECHO", (v) => { seen = v; return [[new CustomFunctions.Error(CustomFunctions.ErrorCode.invalidReference)]]; });
  assert.deepEqual(await office.callFunction("ECHO", ["#DIV/0!"]), [["#VALUE!"]]);
  assert.equal(seen.code, "#DIV/0!");
  assert.ok(!(seen instanceof CustomFunctions.Error));
  assert.deepEqual(office.violations, ["#REF!"]);
});

test("a hidden sheet cannot be activated, select() needs the active sheet, a missing sheet is a null object", async () => {
  const spec = book();
  spec.sheets.push({ name: "_meta", visibility: "Hidden", values: [["k", "v"]] });
  const { Excel, excel } = ready(spec);
  await assert.rejects(Excel.run(async (context) => {
    context.workbook.worksheets.getItem("Open").getRange("A1").select(); // "Plan" is active
    await context.sync();
  }), (e) => e.code === "InvalidSelection");
  await assert.rejects(Excel.run(async (context) => {
    context.workbook.worksheets.getItem("_meta").activate();
    await context.sync();
  }), (e) => e.code === "InvalidOperation");
  await Excel.run(async (context) => {
    const missing = context.workbook.worksheets.getItemOrNullObject("Gone");
    const open = context.workbook.worksheets.getItemOrNullObject("Open");
    missing.load("visibility");
    open.load("visibility");
    await context.sync();
    assert.equal(missing.isNullObject, true);
    assert.equal(open.isNullObject, false);
    assert.equal(open.visibility, "Visible");
    open.activate();
    open.getRange("B2").select();
    const selected = context.workbook.getSelectedRange();
    selected.load("address");
    await context.sync();
    assert.equal(selected.address, "Open!B2");
  });
  assert.equal(excel.book.active.name, "Open");
});

test("a row's height is set at sync, needs allowFormatRows on a protected sheet, and is read after the sync", async () => {
  const spec = book();
  spec.sheets[0].rowHeights = { 2: 29 };
  spec.sheets[0].hiddenRows = [1];
  const { Excel, excel } = ready(spec);
  await assert.rejects(Excel.run(async (context) => {
    context.workbook.worksheets.getItem("Plan").getRange("A2").format.rowHeight = 60;
    await context.sync();
  }), /AccessDenied|protected/);
  assert.equal(excel.book.sheet("Plan").rowHeight(1), 29);
  excel.book.sheet("Plan").options.allowFormatRows = true;
  await Excel.run(async (context) => {
    const range = context.workbook.worksheets.getItem("Plan").getRange("A1:B2");
    const rows = range.getRowProperties({ rowHidden: true, format: { rowHeight: true } });
    const cols = range.getColumnProperties({ format: { columnWidth: true } });
    assert.throws(() => rows.value, /PropertyNotLoaded|not been loaded/);
    context.workbook.worksheets.getItem("Plan").getRange("A2").format.rowHeight = 60;
    assert.equal(excel.book.sheet("Plan").rowHeight(1), 29, "applied before the sync");
    await context.sync();
    assert.deepEqual(rows.value, [{ rowHidden: true, format: { rowHeight: 15 } }, { rowHidden: false, format: { rowHeight: 29 } }]);
    assert.deepEqual(cols.value.map((p) => p.format.columnWidth), [48, 48]);
  });
  assert.equal(excel.book.sheet("Plan").rowHeight(1), 60);
  await assert.rejects(Excel.run(async (context) => {
    context.workbook.worksheets.getItem("Open").getRange("A1").format.rowHeight = 500;
    await context.sync();
  }), /invalid or missing/);
});
