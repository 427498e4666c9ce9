"""Numbers typed as text: what xlplan accepts, and what it refuses.

People paste figures from documents and chat: "1,000", "１２０" (full-width), "15%",
" 2 400 ", "12萬". Excel keeps such entries as text, and every formula that uses them
fails. xlplan reads a text entry as a number only when there is exactly one sensible
reading, and always says so in a finding so that the clerk retypes it:

- thousands separators, spaces and full-width digits: "1,000" → 1000, "１２０" → 120;
- a percent sign in a share cell: "15%" → 0.15 (and nowhere else);
- a leading currency sign: "¥64,000" → 64000.

Refused, with an error finding, because the reading depends on what the writer meant:
unit words ("12萬", "3千", "5k": is "12萬" 12 in a 万元 cell, or 120,000 yuan?),
ranges ("10-12"), dates in a number cell, and anything else that is not a number.
"""
from __future__ import annotations

import re
import unicodedata

PLAIN = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
CURRENCY = "¥￥$元"


def read_number(text: str, unit: str) -> float | int | None:
    """The number a text entry stands for, or None when it is not unambiguous."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = s.replace(" ", "").replace("\u00a0", "")
    percent = s.endswith("%")
    if percent:
        if unit != "percent":
            return None
        s = s[:-1]
    if s[:1] in CURRENCY and unit in ("yuan", "wan"):
        s = s[1:]
    if s[-1:] == "元" and unit == "yuan":
        s = s[:-1]
    if not PLAIN.match(s):
        return None
    value = float(s.replace(",", ""))
    if percent:
        value = value / 100
    return int(value) if value.is_integer() and not percent and "." not in s else value
