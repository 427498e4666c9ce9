"""What a reader sees on a page printed by the browser: each character's size and place, read from
the PDF (pdfminer.six), and the problems a reader meets, compared with what the HTML says.

- `pages(pdf)`: per page, its size, its visual lines (words at one height, left to right) and
  its characters' sizes.
- `problems(pdf, shown)`: `shown` is what the page shows, as the browser laid it out for print
  (`SHOWN` below, run in the page): the text of every heading, header row and body row. Then:
  a page not A4 landscape; a character under 8 pt; a word outside the printable area (across: the margins);
  a word broken across lines (a Latin word, or a CJK word of up to 8 characters between
  punctuation: each must appear as many times whole on the printed lines as the page shows it);
  a page after the first that begins with a table's body row (its header row not repeated
  above it); a page that ends with a heading (cut from what it heads).
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

A4_LANDSCAPE = (841.89, 595.28)
MARGIN = 12 / 25.4 * 72  # @page margin: 12 mm
MIN_PT = 8.0
CJK = r"\u3400-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[A-Za-z][A-Za-z0-9'’.-]*[A-Za-z0-9]|[{CJK}]{{2,8}}(?![{CJK}])")

# run in the page (print media emulated): the texts a reader is shown
SHOWN = """() => {
  const visible = e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed';
  const text = e => e.innerText.replace(/\\s+/g, ' ').trim();
  const rows = sel => [...document.querySelectorAll(sel)].filter(visible).map(text).filter(Boolean);
  // the innermost boxes of text, each once: cells, headings, paragraphs, list items, tiles
  const boxes = [...document.querySelectorAll('th, td, h1, h2, p, li, .tile')]
    .filter(e => !e.querySelector('th, td, p, li, .tile'));
  return {headings: rows('h1, h2'), head_rows: rows('thead tr'), body_rows: rows('tbody tr'),
          cells: boxes.filter(visible).map(text).filter(Boolean)};
}"""


@dataclass
class Line:
    y: float  # top, from the top of the page
    text: str
    x0: float
    x1: float


@dataclass
class Page:
    size: tuple[float, float]
    lines: list[Line]
    sizes: list[float]  # every character's size, pt


def pages(pdf: Path) -> list[Page]:
    """The words and their places as poppler reads them (pdftotext -bbox: it maps the CJK fonts'
    glyphs to the characters typed), the characters' sizes as pdfminer reads them."""
    import html

    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for raw, layout in zip(re.findall(r"<page (.*?)</page>", bbox, re.S), extract_pages(str(pdf))):
        sizes = [c.size for c in _chars(layout, LTChar) if c.get_text().strip()]
        words = [(float(a), float(b), float(c), html.unescape(w)) for a, b, c, w in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', raw)]
        by_line: dict[float, list] = {}
        for word in sorted(words, key=lambda w: (w[1], w[0])):
            key = next((k for k in by_line if abs(k - word[1]) <= 2), word[1])
            by_line.setdefault(key, []).append(word)
        lines = [Line(top, " ".join(w[3] for w in sorted(ws)), min(w[0] for w in ws), max(w[2] for w in ws))
                 for top, ws in sorted(by_line.items())]
        found.append(Page((layout.width, layout.height), lines, sizes))
    return found


def _chars(o, kind) -> list:
    if isinstance(o, kind):
        return [o]
    return [c for x in o for c in _chars(x, kind)] if hasattr(o, "__iter__") else []


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def problems(pdf: Path, shown: dict, where: str) -> list[str]:
    printed = pages(pdf)
    found = []
    for k, page in enumerate(printed, 1):
        w, h = page.size
        if abs(w - A4_LANDSCAPE[0]) > 1 or abs(h - A4_LANDSCAPE[1]) > 1:
            found.append(f"{where} p{k}: {w:.0f} × {h:.0f} pt, not A4 landscape")
        small = [s for s in page.sizes if s < MIN_PT - 0.05]
        if small:
            found.append(f"{where} p{k}: {len(small)} characters at {min(small):.1f} pt (under {MIN_PT})")
        for line in page.lines:
            # across: within the margins; down (poppler's boxes of these fonts reach above the line): on the page
            if line.x0 < MARGIN - 2 or line.x1 > w - MARGIN + 2 or not 0 <= line.y <= h - MARGIN:
                found.append(f"{where} p{k}: {line.text[:40]!r} outside the printable area")
    text = "\n".join(line.text for page in printed for line in page.lines)
    words: dict[str, int] = {}
    for cell in shown["cells"]:
        for word in WORD.findall(cell):
            words.setdefault(word, 0)
    for word in words:
        want = sum(cell.count(word) for cell in shown["cells"])
        have = text.count(word)
        if have < want:
            found.append(f"{where}: {word!r} is shown {want} times, printed whole {have} times (broken across lines)")
    body = {squeezed(r) for r in shown["body_rows"]}
    headings = {squeezed(r) for r in shown["headings"]}
    for k, page in enumerate(printed[1:], 2):
        top = squeezed(page.lines[0].text) if page.lines else ""
        if top in body or any(len(b) > 6 and b.startswith(top) and len(top) > 6 for b in body):
            found.append(f"{where} p{k}: begins with a table row {page.lines[0].text[:40]!r}, no header above it")
    for k, page in enumerate(printed[:-1], 1):
        bottom = squeezed(page.lines[-1].text) if page.lines else ""
        if bottom in headings:
            found.append(f"{where} p{k}: ends with the heading {page.lines[-1].text!r}")
    return found
