"""How cells look: inputs yellow, HQ's given figures grey, computed cells white and locked."""
from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
GIVEN_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
FINDING_FILL = {"error": PatternFill("solid", fgColor="FFC7CE"),
                "warning": PatternFill("solid", fgColor="FFEB9C"),
                "info": PatternFill("solid", fgColor="DDEBF7")}
GAP_FILL = PatternFill("solid", fgColor="FFC7CE")

INPUT_FONT = Font(color="1F3FBF")
COMPUTED_FONT = Font(color="000000")
HEADER_FONT = Font(color="FFFFFF", bold=True)
TITLE_FONT = Font(size=14, bold=True, color="1F4E78")
SECTION_FONT = Font(bold=True, color="1F4E78")
NOTE_FONT = Font(italic=True, color="595959", size=9)
LINK_FONT = Font(color="0563C1", underline="single")

THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

NUMBER_FORMATS = {
    "yuan": "#,##0",
    "wan": "#,##0.00",
    "percent": "0.0%",
    "count": "#,##0",
    "number": "General",
    "score": "0.0",
    "seconds": "0.0",
    "month": "0",
    "text": "@",
    "choice": "@",
}
