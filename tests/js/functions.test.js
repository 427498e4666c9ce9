// The custom functions as Excel calls them: error cells arrive as Excel's error objects,
// results go back through the same server the add-in uses.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness.js");

let server, addin;
before(async () => {
  server = await h.startServer();
  addin = h.openAddin(server, server.cases.slips.book);
  await addin.xlplan.setToken(server.token);
});
after(async () => { if (server) await server.stop(); });

const call = (id, ...args) => addin.office.callFunction(id, args);

test("the brief's worked example", async () => {
  assert.deepEqual(await call("PRODUCTIVITY", 900, 2400, null), [[3750]]);
  assert.deepEqual(await call("BUDGET_AMOUNT", 200, 80, 4), [[64000]]);
  assert.deepEqual(await call("HEADCOUNT_ROLLFORWARD", [[2410]], [[120, 100]], [[130, 90]]), [[2400, 2410]]);
});

test("an error in an argument cell is the function's result, as in Excel's own functions", async () => {
  assert.deepEqual(await call("BUDGET_AMOUNT", 200, "#N/A", 4), [["#N/A"]]);
  assert.deepEqual(await call("PRODUCTIVITY", "#DIV/0!", 2400, null), [["#DIV/0!"]]);
  assert.deepEqual(await call("PRODUCTIVITY", [[900, "#NUM!"]], [[2400, 2400]], null), [[3750, "#NUM!"]]);
  assert.deepEqual(await call("CHECK_TOTAL", [[500, "#VALUE!", 150]], 900, null), [["#VALUE!"]]);
  assert.deepEqual(addin.office.violations, []);
});

test("#REF! and #NAME? come in but never go out: the result is #VALUE!", async () => {
  for (const code of ["#REF!", "#NAME?"]) {
    assert.deepEqual(await call("BUDGET_AMOUNT", code, 80, 4), [["#VALUE!"]], code);
    assert.deepEqual(await call("PRODUCTIVITY", [[900, code]], [[2400, 2400]], null), [[3750, "#VALUE!"]], code);
  }
  assert.deepEqual(addin.office.violations, [], "a function returned an error Excel accepts only as input");
});

test("every function, every error code, every argument: only errors Excel accepts come back", async () => {
  const codes = ["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"];
  const arity = { HEADCOUNT_ROLLFORWARD: 3, PRODUCTIVITY: 3, BUDGET_AMOUNT: 3, BUDGET_SPREAD: 4, KPI_POINTS: 6,
                  ROLLUP: 3, CHECK_TOTAL: 3, CHECK_STATED: 5 };
  const sample = { HEADCOUNT_ROLLFORWARD: [10, [[1]], [[1]]], PRODUCTIVITY: [900, 2400, 10000],
                   BUDGET_AMOUNT: [200, 80, 4], BUDGET_SPREAD: [64000, 1, 4, 2], KPI_POINTS: [0.3, 30, 0.4, 0.2, "higher", "linear"],
                   ROLLUP: [[["a"]], [[1]], "a"], CHECK_TOTAL: [[[1, 2]], 3, "en"], CHECK_STATED: [6400, 200, 80, 4, "en"] };
  let calls = 0;
  for (const [id, n] of Object.entries(arity)) {
    for (let i = 0; i < n; i++) {
      for (const code of codes) {
        const args = sample[id].slice();
        args[i] = Array.isArray(args[i]) ? [[code]] : code;
        const shown = JSON.stringify(await call(id, ...args));
        assert.ok(!shown.includes("#REF!") && !shown.includes("#NAME?"), `${id} arg ${i} = ${code}: ${shown}`);
        calls += 1;
      }
    }
  }
  assert.equal(calls, 7 * 30);
  assert.deepEqual(addin.office.violations, []);
});

test("a function called before the task pane signed in asks to sign in (#N/A), never a traceback", async () => {
  const other = h.openAddin(server, server.cases.slips.book);
  assert.equal(await other.office.callFunction("BUDGET_AMOUNT", [200, 80, 4]), "#N/A");
});
