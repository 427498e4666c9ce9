"""How cells look: one font family per script, and colours that mean one thing each.

Colours (the legend on the Instructions sheet says the same):
- input: light yellow, blue figures, unlocked — the unit fills it in;
- given: grey, locked — set by HQ;
- computed: white, locked;
- total: light blue, bold, locked — a computed total or summary;
- error: red, warning: amber — only where the engine reports a finding (recalc marks the
  cell; a gap's conditional format uses the check's own tolerance), never the input yellow.

Fonts: every style names the Latin font (Arial: on every Windows and Mac, and metric-equal
to Liberation Sans where LibreOffice runs) with scheme "minor", and the workbook's theme
puts the language's East Asian font in the minor font's eastAsia slot (`<a:ea>` and the
Hans/Hant script entries): Microsoft JhengHei for zh-Hant, Microsoft YaHei for zh-Hans,
the fonts every Windows in Taiwan and the mainland has (Mac Excel substitutes PingFang).
openpyxl's Font has no East Asian attribute — in SpreadsheetML a cell font has only one
name — so the theme is the one place the East Asian font can be named; Excel draws Latin
text in Arial and Chinese in the theme's East Asian font. One family per script, used by
every style: no serif next to sans.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.writer.theme import theme_xml

LATIN_FONT = "Arial"
EAST_ASIAN_FONT = {"zh-Hans": "Microsoft YaHei", "zh-Hant": "Microsoft JhengHei", "en": "Microsoft JhengHei"}
SIZE = 10

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
GIVEN_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")
FINDING_FILL = {"error": PatternFill("solid", fgColor="FFC7CE"),
                "warning": PatternFill("solid", fgColor="F8CBAD"),
                "info": PatternFill("solid", fgColor="E4DFEC")}
FINDING_COLOURS = {"error": "#FFC7CE", "warning": "#F8CBAD", "info": "#E4DFEC"}


def _font(**kw) -> Font:
    return Font(name=LATIN_FONT, scheme="minor", size=kw.pop("size", SIZE), **kw)


BODY_FONT = _font(color="000000")
INPUT_FONT = _font(color="1F3FBF")
COMPUTED_FONT = _font(color="000000")
TOTAL_FONT = _font(color="000000", bold=True)
HEADER_FONT = _font(color="FFFFFF", bold=True)
TITLE_FONT = _font(size=14, bold=True, color="1F4E78")
SECTION_FONT = _font(bold=True, color="1F4E78")
NOTE_FONT = _font(italic=True, color="595959")
LINK_FONT = _font(color="0563C1", underline="single")
FINDING_FONT = {"error": _font(color="9C0006", bold=True), "warning": _font(color="833C0B", bold=True),
                "info": _font(color="3F3151")}

THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
WRAP = Alignment(wrap_text=True, vertical="top")
LABEL = Alignment(wrap_text=True, vertical="center")
NUMBER = Alignment(horizontal="right", vertical="center", indent=1)  # a figure never touches the text beside it
TEXT_UNITS = ("text", "choice", "measure")  # the units written as text, wrapped (TEXT_VALUE)
TEXT_VALUE = Alignment(horizontal="left", vertical="center", wrap_text=True, indent=1)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

# Computed figures leave zero blank (an empty month shows nothing, not 0 or 0.00); what a
# unit types shows as typed, 0 included.
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
    "measure": "@",
}
COMPUTED_FORMATS = {
    "yuan": "#,##0;-#,##0;;@",
    "wan": "#,##0.00;-#,##0.00;;@",
    "percent": "0.0%;-0.0%;;@",
    "count": "#,##0;-#,##0;;@",
    "number": "General;-General;;@",
    "score": "0.0;-0.0;;@",
    "seconds": "0.0;-0.0;;@",
    "month": "0;-0;;@",
    "text": "@",
    "choice": "@",
    "measure": "@",
}
# A conditional format's number format carries an id of its own: one per format code, clear of the
# ids the cells' formats get (164 up, one per custom format in the workbook)
DXF_FORMAT_IDS = {code: 300 + k for k, code in
                  enumerate(dict.fromkeys([*NUMBER_FORMATS.values(), *COMPUTED_FORMATS.values()]))}


def measured_format(own: str, chosen: str, formats: dict[str, str] = NUMBER_FORMATS) -> str | None:
    """The number format of a figure whose row chose `chosen` as its unit of measure (a share
    84.0%, an amount 12,000), or None where that is its block's own unit's format `own`. A count
    shows as a plain number (half a trainer per team is 0.5, not 1; 3 people never 300.0%)."""
    shown_as = "number" if chosen == "count" else chosen
    if formats[shown_as] == formats[own]:
        return None
    return formats[shown_as]


LARGEST = {"yuan": 9_999_999, "wan": 99_999.99, "count": 99_999, "number": 99_999, "score": 100.0,
           "seconds": 999.9, "month": 12, "percent": 1.0}


WIDE = Context(prec=400)  # room for every finite float's digits and a format's places


def shown(value, number_format: str = "General") -> str:
    """A value as a cell in `number_format` shows it, for pages and lists beside the workbooks
    (HQ's web page, `xlplan diff`): 64,000 in #,##0; 11.0% in 0.0%; 1.5 in #,##0.## (without
    the point Excel leaves after a whole number); General as Excel shows it (`general`: 64000,
    2027, 1.2345, 4E-05; not grouped). Halves round away from zero, as Excel does. Text shows
    as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    code = number_format.split(";")[0]
    if code in ("General", "@"):
        return _unsigned_zero(general(value))
    percent = "%" in code
    whole, _, decimals = code.replace("%", "").partition(".")
    places = decimals.count("0") + decimals.count("#")
    number = Decimal(repr(value)) * (100 if percent else 1)
    # the default context's 28 digits cannot hold a float as large as 1e30 with its places
    # (InvalidOperation); the largest float has 309 digits
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=WIDE)
    out = f"{number:{',' if ',' in whole else ''}.{places}f}"
    optional = decimals.count("#")
    if optional:
        out = out[:len(out) - optional] + out[len(out) - optional:].rstrip("0")
        out = out.rstrip(".")
    return _unsigned_zero(out) + ("%" if percent else "")


def _unsigned_zero(out: str) -> str:
    """A value shown as zero shows no sign: -0.4 in #,##0 shows 0."""
    if out.lstrip("-").replace(",", "").replace(".", "").strip("0") == "":
        return out.lstrip("-")
    return out


GENERAL_WIDTH = 11  # the characters (besides a minus) Excel's General fits in a cell of the standard width
FIXED_FROM, FIXED_BELOW = -4, 11  # the powers of ten Excel's General writes out; others in scientific


def general(value: float) -> str:
    """A number as Excel's General shows it in a cell of the standard width: written out from
    0.0001 up to 99,999,999,999 in at most 11 characters, rounded to fit (0.00015, 0.123456789,
    1234567.891); otherwise scientific with up to five decimals and a two-digit exponent (4E-05,
    1.23457E+11, 1E+15). Halves round away from zero."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    number = abs(Decimal(repr(float(value))))
    if FIXED_FROM <= number.adjusted() < FIXED_BELOW:
        whole = max(number.adjusted() + 1, 1)
        places = max(GENERAL_WIDTH - whole - 1, 0)
        fixed = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=WIDE)
        if fixed.adjusted() < FIXED_BELOW:  # 99,999,999,999.6 rounds up to twelve digits: scientific
            return sign + _without_trailing_zeros(f"{fixed:f}")
    exponent = number.adjusted()
    mantissa = number.scaleb(-exponent).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
    if mantissa >= 10:  # 9.999999 rounds to 10.00000
        mantissa, exponent = mantissa.scaleb(-1).quantize(Decimal("0.00001")), exponent + 1
    return f"{sign}{_without_trailing_zeros(f'{mantissa:f}')}E{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _without_trailing_zeros(digits: str) -> str:
    return digits.rstrip("0").rstrip(".") if "." in digits else digits


def theme(lang: str) -> bytes:
    """openpyxl's default theme with Arial as the Latin and the language's East Asian font in
    the eastAsia slot (and the Hans / Hant script entries) of both theme fonts."""
    xml = theme_xml
    east = EAST_ASIAN_FONT.get(lang, EAST_ASIAN_FONT["zh-Hant"])
    for role in ("majorFont", "minorFont"):
        start = xml.index(f"<a:{role}>")
        end = xml.index(f"</a:{role}>", start)
        part = xml[start:end]
        latin_start = part.index("<a:latin ")
        latin_end = part.index("/>", latin_start) + 2
        ea_start = part.index("<a:ea ")
        ea_end = part.index("/>", ea_start) + 2
        new = (part[:latin_start] + f'<a:latin typeface="{LATIN_FONT}"/>' + part[latin_end:ea_start]
               + f'<a:ea typeface="{east}"/>' + part[ea_end:])
        new = _script(new, "Hans", EAST_ASIAN_FONT["zh-Hans"])
        new = _script(new, "Hant", EAST_ASIAN_FONT["zh-Hant"])
        xml = xml[:start] + new + xml[end:]
    return xml.encode("utf-8")


def _script(part: str, script: str, typeface: str) -> str:
    marker = f'<a:font script="{script}" typeface="'
    if marker not in part:
        return part
    start = part.index(marker) + len(marker)
    end = part.index('"', start)
    return part[:start] + typeface + part[end:]
