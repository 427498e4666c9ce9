// HQ's review in the task pane: the real client fetches GET /api/review from the real server
// on HQ's database (a plan returned twice), and a comment's link selects its cell in the
// fake Excel. 401, 404 and an unreachable server each give the clerk a message that says what to do.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");

const h = require("./harness.js");

let server;
before(async () => { server = await h.startServer({ cases: ["slips"], review: true }); });
after(async () => { if (server) await server.stop(); });

async function opened({ origin, token = server.token } = {}) {
  const addin = h.openAddin(server, server.cases.slips.book, { origin: origin || server.review_url });
  if (token) await addin.xlplan.setToken(token);
  return addin;
}

function lastMessage(addin) {
  return addin.messages[addin.messages.length - 1] || { title: "", text: "" };
}

test("the pane gets the latest decision: state, reviewer, time, overall note and every cell comment", async () => {
  const { xlplan } = await opened();
  const plans = await xlplan.fetchReview();
  assert.equal(plans.length, 1, "one plan (template and period): only its latest decision");
  const [latest] = plans;
  const stored = server.review.filter((r) => r.version === 2);
  assert.equal(stored.length, 1);
  assert.deepEqual(latest, stored[0]);
  assert.equal(latest.state, "returned");
  assert.equal(latest.reviewer, "张经理");
  assert.match(latest.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(latest.note, "请改正后再交。\n预算与计划进度各一处。");
  assert.ok(latest.comments.length >= 2, "a comment on each error's cell");
  assert.ok(server.review.some((r) => r.version === 1 && r.reviewer === "李主任"), "version 1 was decided too");
});

test("a comment's link selects its cell: the sheet is activated, the cell selected, nothing left unsynced", async () => {
  const addin = await opened();
  const [latest] = await addin.xlplan.fetchReview();
  for (const c of latest.comments) {
    assert.equal(await addin.xlplan.selectCell(c.sheet, c.cell), true);
    assert.equal(addin.book.active.name, c.sheet);
    assert.equal(addin.book.selection.sheet.name, c.sheet);
    assert.deepEqual(addin.book.selection.area, (({ r, c: col }) => ({ r0: r, c0: col, r1: r, c1: col }))(
      require("./fake_office.js").parseCell(c.cell)));
  }
  assert.deepEqual(addin.excel.failures.map(String), []);
  assert.equal(addin.excel.dropped, 0);
});

test("a comment on a sheet the book no longer has, or on a hidden sheet, says so", async () => {
  const addin = await opened();
  const before = addin.book.active.name;
  assert.equal(await addin.xlplan.selectCell("计划进度（旧）", "C10"), false);
  assert.match(lastMessage(addin).text, /no sheet 计划进度（旧）: was it renamed or deleted\?/);
  assert.equal(await addin.xlplan.selectCell("_xlplan", "A1"), false);
  assert.match(lastMessage(addin).text, /The sheet _xlplan is hidden: unhide it to see A1/);
  assert.equal(addin.book.active.name, before);
  assert.equal(addin.excel.dropped, 0);
});

test("a token the server does not know: 401 becomes 'sign in again'", async () => {
  const { xlplan } = await opened({ token: "xlp_not-a-token" });
  await assert.rejects(xlplan.fetchReview(), /did not accept this token: paste the token HQ gave your unit again/);
});

test("no token: the pane asks to sign in and asks the server nothing", async () => {
  const { xlplan } = await opened({ token: "" });
  await assert.rejects(xlplan.fetchReview(), /Sign in first/);
});

test("a server without HQ's database: 404 becomes 'this server keeps no review'", async () => {
  const { xlplan } = await opened({ origin: server.url });
  await assert.rejects(xlplan.fetchReview(), /This xlplan server keeps no review/);
});

test("an unreachable server: the message names it and says to check the connection", async () => {
  const port = await new Promise((resolve) => { // a port nobody listens on any more
    const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const origin = `http://127.0.0.1:${port}`;
  const { xlplan } = await opened({ origin });
  await assert.rejects(xlplan.fetchReview(), new RegExp(`Cannot reach the xlplan server at ${origin}: check the network`));
});
