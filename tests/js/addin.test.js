// Recalculate, Check and Submit as Excel runs them: the real client in the fake Office.js,
// the real server, generated plans; the add-in must leave the book as `xlplan recalc`
// leaves the file (values, Checks rows, marked cells) and every sheet protected as before.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness.js");

let server;
before(async () => { server = await h.startServer(); });
after(async () => { if (server) await server.stop(); });

async function opened(name, options = {}) {
  const addin = h.openAddin(server, server.cases[name].book, options);
  await addin.xlplan.setToken(server.token);
  return addin;
}

function assertLikeFileRecalc(addin, expected) {
  const { book } = addin;
  let compared = 0;
  for (const [sheet, cells] of Object.entries(expected.computed)) {
    for (const [address, value] of Object.entries(cells)) {
      const shown = h.cellValue(book, sheet, address);
      assert.ok(h.sameValue(shown, value), `${sheet}!${address}: the add-in shows ${JSON.stringify(shown)}, ` +
                `xlplan recalc ${JSON.stringify(value)}`);
      compared += 1;
    }
  }
  assert.ok(compared > 100, `only ${compared} computed cells compared`);
  const rows = h.checksRows(book, expected.checks_title, expected.checks[0].length);
  assert.deepEqual(rows, expected.checks.filter((row) => row.some((v) => v !== "")));
  // the Checks rows wrapped and as high as in the file: a long message is read whole
  const heights = h.rowHeights(book);
  const sheet = book.sheet(expected.checks_title);
  expected.checks_heights.forEach((points, i) => {
    assert.equal(heights[`${expected.checks_title}!${5 + i}`], points, `Checks row ${5 + i}`);
    assert.equal(sheet.cell(4 + i, 0).wrapText, true, `Checks row ${5 + i}'s message wraps`);
  });
  assert.deepEqual(h.markedCells(book), expected.marks.map(([s, a]) => [s, a]).sort());
}

function assertClean(addin, protectedBefore) {
  assert.deepEqual(addin.excel.failures.map(String), [], "an Excel batch failed");
  assert.equal(addin.excel.dropped, 0, "commands were queued but never synced");
  assert.deepEqual(h.protectedSheets(addin.book), protectedBefore, "the sheets' protection was not restored");
}

function lastMessage(addin) {
  return addin.messages[addin.messages.length - 1] || { title: "", text: "" };
}

test("Recalculate gives the values, Checks rows and marks of xlplan recalc, and re-protects every sheet", async () => {
  const addin = await opened("slips");
  const protectedBefore = h.protectedSheets(addin.book);
  assert.ok(protectedBefore.length >= 6);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, server.cases.slips.expected);
  assert.match(lastMessage(addin).text, /3 个错误|个错误/);
  const notes = h.notesOf(addin.book);
  for (const [sheet, address] of server.cases.slips.expected.marks) {
    const note = notes[`${sheet}!${address}`];
    assert.ok(note, `no note at ${sheet}!${address}`);
    assert.match(note.content, /^xlplan › [A-Z_]+: /);
  }
});

test("Recalculate on a plan whose Checks sheet was deleted adds the sheet and fills it", async () => {
  const addin = await opened("no_checks");
  const protectedBefore = h.protectedSheets(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, server.cases.no_checks.expected);
  assert.ok(addin.book.sheets.some((s) => s.name === "检查"));
});

test("an Excel table with its Total Row on: the total row is no budget line", async () => {
  const expected = server.cases.total_row.expected;
  assert.deepEqual(expected.codes, [], "xlplan recalc finds nothing in this plan");
  const addin = await opened("total_row");
  const protectedBefore = h.protectedSheets(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, expected);
  assert.match(lastMessage(addin).text, /^0 个错误，0 个警告/);
});

test("marks from an earlier run: the fixed cell loses its mark and note, the clerk's own note stays", async () => {
  const marked = server.cases.marked;
  const addin = await opened("marked");
  const notesBefore = h.notesOf(addin.book);
  const own = Object.entries(notesBefore).filter(([, n]) => n.authorName !== "xlplan");
  assert.ok(Object.values(notesBefore).some((n) => n.authorName === "xlplan"), "xlplan recalc left notes");
  assert.equal(own.length, 1, "the plan carries one note of the clerk's own");
  const [ownCell, ownNote] = own[0];
  const protectedBefore = h.protectedSheets(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, marked.expected);
  const notesAfter = h.notesOf(addin.book);
  assert.deepEqual(notesAfter[ownCell], ownNote, "the clerk's note was changed");
  const markedNow = new Set(marked.expected.marks.map(([s, a]) => `${s}!${a}`));
  for (const cell of Object.keys(notesBefore)) {
    if (cell !== ownCell && !markedNow.has(cell)) assert.ok(!(cell in notesAfter), `the old note at ${cell} stayed`);
  }
  for (const cell of markedNow) {
    if (cell !== ownCell) assert.match(notesAfter[cell].content, /^xlplan › /, cell);
  }
});

test("error values in input cells: the add-in agrees with xlplan recalc", async () => {
  const addin = await opened("errors");
  const protectedBefore = h.protectedSheets(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, server.cases.errors.expected);
});

test("English plans: the same as xlplan recalc", async () => {
  const addin = await opened("clean_en");
  const protectedBefore = h.protectedSheets(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, server.cases.clean_en.expected);
});

test("Check lists and marks the findings without writing a computed cell", async () => {
  const addin = await opened("slips");
  const expected = server.cases.slips.expected;
  const before = Object.fromEntries(Object.keys(expected.computed).map((s) => [s, addin.book.grid(s)]));
  await addin.office.press("check");
  assertClean(addin, h.protectedSheets(h.openAddin(server, server.cases.slips.book).book));
  for (const [sheet, grid] of Object.entries(before)) assert.deepEqual(addin.book.grid(sheet), grid, sheet);
  assert.deepEqual(h.checksRows(addin.book, expected.checks_title, expected.checks[0].length),
                   expected.checks.filter((row) => row.some((v) => v !== "")));
  assert.deepEqual(h.markedCells(addin.book), expected.marks.map(([s, a]) => [s, a]).sort());
});

test("a second Recalculate writes nothing new and keeps one note per marked cell", async () => {
  const addin = await opened("slips");
  await addin.office.press("recalculate");
  const notes = h.notesOf(addin.book);
  const grids = addin.book.sheets.map((s) => addin.book.grid(s.name));
  await addin.office.press("recalculate");
  assertClean(addin, h.protectedSheets(h.openAddin(server, server.cases.slips.book).book));
  assert.deepEqual(h.notesOf(addin.book), notes);
  assert.deepEqual(addin.book.sheets.map((s) => addin.book.grid(s.name)), grids);
  assert.match(lastMessage(addin).text, /已更新 0 个计算格/);
});

function grownRows(before, after, checksTitle) { // [[sheet, row, points]] of the rows made higher
  return Object.keys(after).filter((k) => k in before && after[k] !== before[k] && !k.startsWith(checksTitle + "!"))
    .map((k) => { const i = k.lastIndexOf("!"); return [k.slice(0, i), Number(k.slice(i + 1)), after[k]]; }).sort();
}

test("Recalculate grows the rows of a long action name as xlplan recalc grows them, with the writes", async () => {
  const expected = server.cases.long_action.expected;
  assert.ok(expected.grown.some(([sheet]) => sheet === "行事历"), "the calendar's copy of the name grows");
  const addin = await opened("long_action");
  const protectedBefore = h.protectedSheets(addin.book);
  assert.ok(expected.grown.every(([sheet]) => protectedBefore.includes(sheet)));
  for (const s of addin.book.sheets) s.options.allowFormatRows = false; // only the lifted protection lets it write
  const before = h.rowHeights(addin.book);
  const syncs = addin.excel.syncs;
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, expected);
  assert.deepEqual(grownRows(before, h.rowHeights(addin.book), expected.checks_title), expected.grown.sort());

  // no round trip of its own: the same number of syncs as a book whose rows need nothing
  const plain = await opened("slips");
  const plainSyncs = plain.excel.syncs;
  await plain.office.press("recalculate");
  assert.equal(addin.excel.syncs - syncs, plain.excel.syncs - plainSyncs);

  // a second run grows nothing more
  const after = h.rowHeights(addin.book);
  await addin.office.press("recalculate");
  assert.deepEqual(h.rowHeights(addin.book), after);
});

// Recalculate in the add-in grows exactly the rows `xlplan recalc` grows in the file, to the same points.
async function growsRowsLikeFileRecalc(name) {
  const expected = server.cases[name].expected;
  const addin = await opened(name);
  const protectedBefore = h.protectedSheets(addin.book);
  const before = h.rowHeights(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assertLikeFileRecalc(addin, expected);
  assert.deepEqual(grownRows(before, h.rowHeights(addin.book), expected.checks_title), expected.grown.sort());
}

test("a name longer than the highest row grows its rows to 409 points, as xlplan recalc does", async () => {
  const expected = server.cases.very_long_action.expected;
  assert.deepEqual([...new Set(expected.grown.map(([, , points]) => points))], [409]);
  await growsRowsLikeFileRecalc("very_long_action");
});

test("a long name typed in a hidden column grows no row of its own, as xlplan recalc does", async () => {
  const expected = server.cases.hidden_column.expected;
  assert.deepEqual(expected.grown.map(([sheet]) => sheet), ["行事历"], "only the calendar's copy grows");
  await growsRowsLikeFileRecalc("hidden_column");
});

test("Excel without ExcelApi 1.9 sends no sizes: the rows stay, the rest is as xlplan recalc leaves it", async () => {
  const addin = await opened("long_action", { requirements: { ExcelApi: "1.8" } });
  const protectedBefore = h.protectedSheets(addin.book);
  const before = h.rowHeights(addin.book);
  await addin.office.press("recalculate");
  assertClean(addin, protectedBefore);
  assert.deepEqual(grownRows(before, h.rowHeights(addin.book), server.cases.long_action.expected.checks_title), []);
  assert.ok(h.cellValue(addin.book, "行事历", "D6").length > 20);
});

test("unmarking takes the same number of round trips for 3 marked cells as for 12", async () => {
  async function secondRunSyncs(name) {
    const addin = await opened(name);
    await addin.office.press("check");
    const marks = h.markedCells(addin.book).length;
    const before = addin.excel.syncs;
    await addin.office.press("check");
    assertClean(addin, h.protectedSheets(h.openAddin(server, server.cases[name].book).book));
    return { marks, syncs: addin.excel.syncs - before };
  }
  const few = await secondRunSyncs("slips");
  const many = await secondRunSyncs("many_slips");
  assert.ok(many.marks >= few.marks + 9, `${few.marks} and ${many.marks} marks`);
  assert.equal(many.syncs, few.syncs);
});

test("Submit sends the plan to HQ and shows the receipt", async () => {
  const addin = await opened("marked");
  await addin.office.press("submit");
  assert.match(lastMessage(addin).text, /已提交：北区营业部/);
  const response = await fetch(server.url + "/api/submissions", { headers: { Authorization: `Bearer ${server.token}` } });
  const listed = await response.json();
  assert.ok(listed.some((r) => r.unit === server.unit && r.template === "annual_plan"));
  assert.deepEqual(addin.excel.failures.map(String), []);
});

test("a button pressed before Office is ready runs once it is, instead of failing", async () => {
  const addin = h.openAddin(server, server.cases.slips.book, { ready: false });
  const pressed = addin.xlplan.runScript("check"); // the task pane's button, loaded before Office.js is ready
  await new Promise((resolve) => setTimeout(resolve, 20));
  addin.office.initialize();
  await addin.xlplan.setToken(server.token);
  await pressed;
  assert.deepEqual(addin.excel.failures.map(String), []);
  assert.match(lastMessage(addin).text, /个错误/);
});

test("the token is kept under Office.context.partitionKey: two partitions never share it", async () => {
  const storage = new h.FakeStorage();
  const a = h.openAddin(server, server.cases.slips.book, { storage, partitionKey: "contoso-site-a:" });
  const b = h.openAddin(server, server.cases.slips.book, { storage, partitionKey: "contoso-site-b:" });
  await a.xlplan.setToken(server.token);
  assert.deepEqual([...storage.data.keys()], ["contoso-site-a:xlplan.token"]);
  assert.equal(await a.xlplan.token(), server.token);
  assert.equal(await b.xlplan.token(), "");
  assert.deepEqual(await a.office.callFunction("BUDGET_AMOUNT", [200, 80, 4]), [[64000]]);
  assert.equal(await b.office.callFunction("BUDGET_AMOUNT", [200, 80, 4]), "#N/A"); // not signed in there
  const plain = h.openAddin(server, server.cases.slips.book, { storage: new h.FakeStorage() });
  await plain.xlplan.setToken(server.token);
  assert.deepEqual([...plain.storage.data.keys()], ["xlplan.token"]); // desktop Excel has no partition key
});

test("a batch Excel refuses still leaves every sheet protected as it was", async () => {
  const addin = await opened("slips");
  const protectedBefore = h.protectedSheets(addin.book);
  const position = addin.book.sheets.findIndex((s) => s.name === "检查");
  const actions = [
    { func: "setValues", values: [["x"]], sheet_position: position, start_row: 4, start_column: 0,
      row_count: 1, column_count: 1, args: [] },
    { func: "setValues", values: [["too", "wide"]], sheet_position: position, start_row: 5, start_column: 0,
      row_count: 1, column_count: 1, args: [] }, // Excel refuses this one at sync
  ];
  await assert.rejects(addin.xlplan.applyActions(actions), /doesn't match/);
  assert.deepEqual(h.protectedSheets(addin.book), protectedBefore);
});
