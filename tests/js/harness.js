// The add-in's real JavaScript in a fake Excel, talking to the real xlplan server.
//
// startServer() runs tests/js/serve.py (the FastAPI app under uvicorn on 127.0.0.1, and the
// generated plans with what `xlplan recalc` makes of them); openAddin() loads the client
// (/static/xlplan.js) and the custom-functions code (/xlwings/custom-functions-code) as the
// server serves them into one page-like context, with the Office of fake_office.js.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const vm = require("node:vm");

const { createOffice } = require("./fake_office.js");

const ROOT = path.resolve(__dirname, "..", "..");

function python() {
  if (process.env.XLPLAN_PYTHON) return process.env.XLPLAN_PYTHON;
  const venv = path.join(ROOT, ".venv", "bin", "python");
  return fs.existsSync(venv) ? venv : "python3";
}

// options: {cases: ["slips", ...]} makes only those plans; {review: true} also serves HQ's
// database holding a returned plan (info.review_url, info.review).
async function startServer({ cases, review } = {}) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "xlplan-js-"));
  const args = [path.join(__dirname, "serve.py"), folder];
  if (cases) args.push("--cases", cases.join(","));
  if (review) args.push("--review");
  const child = spawn(python(), args, {
    cwd: ROOT, stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = readline.createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once("line", resolve)),
    exited.then((code) => { throw new Error(`tests/js/serve.py exited with ${code} before serving`); }),
  ]);
  const info = JSON.parse(first);
  info.cases = JSON.parse(fs.readFileSync(info.cases, "utf8"));
  const get = async (p) => {
    const response = await fetch(info.url + p);
    if (!response.ok) throw new Error(`GET ${p}: ${response.status}`);
    return response.text();
  };
  info.clientJs = await get("/static/xlplan.js");
  info.functionsJs = await get("/xlwings/custom-functions-code");
  info.stop = async () => {
    child.stdin.end();
    await exited;
    fs.rmSync(folder, { recursive: true, force: true });
  };
  return info;
}

class FakeStorage { // window.localStorage
  constructor() { this.data = new Map(); }
  getItem(k) { return this.data.has(k) ? this.data.get(k) : null; }
  setItem(k, v) { this.data.set(k, String(v)); }
  removeItem(k) { this.data.delete(k); }
}

function fakeDocument(messages) {
  const box = {
    children: [],
    set textContent(v) { this.children = []; },
    appendChild(el) {
      this.children.push(el);
      if (this.children.length === 2) messages.push({ title: this.children[0].textContent, text: el.textContent });
    },
  };
  return {
    getElementById: (id) => (id === "xlplan-message" ? box : null),
    createElement: () => ({ textContent: "" }),
  };
}

// A page of the add-in: the book of `caseName` (or a book spec) open in the fake Excel.
// `origin`: the server the page was loaded from (default server.url).
function openAddin(server, book, { storage = new FakeStorage(), partitionKey, ready = true, requirements,
                                   origin } = {}) {
  const office = createOffice(JSON.parse(JSON.stringify(book)), { partitionKey, requirements });
  const messages = [];
  const page = {
    location: { origin: origin || server.url },
    localStorage: storage,
    document: fakeDocument(messages),
    Office: office.Office,
    Excel: office.Excel,
    CustomFunctions: office.CustomFunctions,
    fetch, console, setTimeout, clearTimeout, setImmediate, URL,
  };
  page.window = page;
  vm.createContext(page);
  vm.runInContext(server.clientJs, page, { filename: "xlplan.js" });
  vm.runInContext(server.functionsJs, page, { filename: "custom-functions-code.js" });
  const xlplan = vm.runInContext("xlplan", page);
  if (ready) office.initialize();
  return { office, excel: office.excel, book: office.excel.book, xlplan, messages, storage, page };
}

// -- reading the fake book back -------------------------------------------------------------------
function cellValue(book, sheet, address) {
  const { parseCell } = require("./fake_office.js");
  const { r, c } = parseCell(address);
  return book.sheet(sheet).value(r, c);
}

function sameValue(shown, expected) {
  const blank = (v) => v === "" || v === null || v === undefined;
  if (blank(shown) && blank(expected)) return true;
  if (typeof shown === "number" && typeof expected === "number") {
    return shown === expected || Math.abs(shown - expected) <= 1e-9 * Math.max(Math.abs(shown), Math.abs(expected));
  }
  return shown === expected;
}

function checksRows(book, title, width) { // width: layout.CHECK_COLUMNS's, as the expected rows have it
  const grid = book.grid(title);
  return grid.slice(4).map((row) => [...Array(width).keys()].map((i) => (row[i] === undefined ? "" : row[i])))
    .filter((row) => row.some((v) => v !== ""));
}

function markedCells(book) { // [sheet, A1] of every mark: a rule holding "xlplan-mark" (or an old "=TRUE")
  const { areaAddress } = require("./fake_office.js");
  const out = [];
  for (const s of book.sheets) {
    for (const cf of s.cfs) {
      if (/xlplan-mark/i.test(cf.formula) || cf.formula === "=TRUE") out.push([s.name, areaAddress(cf.area)]);
    }
  }
  return out.sort();
}

function notesOf(book) { // {"sheet!A1": {content, authorName}}
  const { letters } = require("./fake_office.js");
  const out = {};
  for (const s of book.sheets) {
    for (const [k, note] of s.notes) {
      const [r, c] = k.split(",").map(Number);
      out[`${s.name}!${letters(c)}${r + 1}`] = note;
    }
  }
  return out;
}

function rowHeights(book) { // {"sheet!row": points} of every row up to the last one used (1-based rows)
  const out = {};
  for (const s of book.sheets) {
    const used = s.used();
    for (let r = 0; r <= (used ? used.r1 : 0); r++) out[`${s.name}!${r + 1}`] = s.hiddenRows.has(r) ? 0 : s.rowHeight(r);
  }
  return out;
}

function protectedSheets(book) {
  return book.sheets.filter((s) => s.protected).map((s) => s.name).sort();
}

module.exports = { startServer, openAddin, FakeStorage, cellValue, sameValue, checksRows, markedCells, notesOf,
                   protectedSheets, rowHeights, ROOT };
