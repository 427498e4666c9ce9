"""Who was expected, who submitted, when, which version, with how many errors; who is missing or late.

`status(store)` builds the table once; the consolidated workbook's status sheet and the
static HTML page (`write_html`, jinja2 template `status.html.j2` beside this module)
both show it.

A roster entry's status, worst first:
- missing: nothing received from the unit;
- rejected: files received, none accepted (the latest one's errors are shown);
- late: accepted, but the accepted version arrived after the due date;
- accepted: accepted on time (or no due date).
A unit that submitted without being on the roster is listed as "unexpected" (when there
is a roster at all).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .. import texts
from ..model import XlplanError
from .store import ACCEPTED, REJECTED, RosterEntry, Store, utcnow

HERE = Path(__file__).resolve().parent
STATUSES = ("missing", "rejected", "late", "accepted", "unexpected")


def review_label(state: str, lang: str = texts.DEFAULT) -> str:
    return texts.t(f"rv_{state}", lang)


@dataclass
class StatusRow:
    unit: str
    template: str
    period: str
    due: dt.date | None
    status: str
    versions: int = 0  # files received for this unit, template and period
    used: dict | None = None  # the accepted submission consolidation uses
    latest: dict | None = None  # the latest submission, accepted or not
    findings: list[dict] = field(default_factory=list)  # of the latest submission, errors first
    files: list[str] = field(default_factory=list)  # the names the unit's files arrived as, in order received
    review: str | None = None  # the latest submission's state in HQ's review: checked, approved, returned
    approved: dict | None = None  # the latest approved submission

    @property
    def duplicate_files(self) -> list[str]:
        """Differently named files claiming this unit (a copied workbook, or a resubmission under a new
        name): HQ should look which one is meant. The latest accepted one is used."""
        return self.files if len(self.files) > 1 else []

    @property
    def received_at(self) -> dt.datetime | None:
        return (self.latest or {}).get("received_at")

    @property
    def errors(self) -> int:
        return (self.latest or {}).get("errors", 0)

    @property
    def warnings(self) -> int:
        return (self.latest or {}).get("warnings", 0)


@dataclass
class Status:
    rows: list[StatusRow]
    unreadable: list[dict]  # files that are not xlplan workbooks at all
    made_at: dt.datetime
    zone: dt.tzinfo | None = None  # the zone its times are shown in (None: the machine's)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def expected(self) -> int:
        return sum(1 for r in self.rows if r.status != "unexpected")


def _late(sub: dict, due: dt.date | None, zone: dt.tzinfo | None = None) -> bool:
    """Received after its due date, judged on the date HQ's clock shows (in `zone`; None: the machine's)."""
    if due is None:
        return False
    received = sub["received_at"]
    if received.tzinfo is None:  # stored as naive UTC
        received = received.replace(tzinfo=dt.timezone.utc)
    return received.astimezone(zone).date() > due


def status(store: Store, max_findings: int = 5, basis: str = "approved", zone: dt.tzinfo | None = None) -> Status:
    """The status table; `basis` says which plan consolidation uses (approved or latest accepted);
    `zone` the time zone its times are shown in and lateness is judged in (`time_zone("Asia/Taipei")`;
    None: the machine's)."""
    subs = store.submissions()
    states = {sid: e["state"] for sid, e in store.states().items()}
    by_key: dict[tuple, list[dict]] = {}
    unreadable = []
    for s in subs:
        if s["unit"] is None:
            unreadable.append(s)
        else:
            by_key.setdefault((s["unit"], s["template"]), []).append(s)
    findings = store.findings_by_submission()
    rows: list[StatusRow] = []
    matched: set[int] = set()
    entries = store.roster()
    for entry in entries:
        mine = [s for s in by_key.get((entry.unit, entry.template), ())
                if not entry.period or s["period"] == entry.period]
        matched.update(s["id"] for s in mine)
        rows.append(_row(entry, mine, findings, max_findings, states, basis, zone))
    rest: dict[tuple, list[dict]] = {}
    for s in subs:
        if s["unit"] is not None and s["id"] not in matched:
            rest.setdefault((s["unit"], s["template"], s["period"]), []).append(s)
    for (unit, template, period), mine in rest.items():
        row = _row(RosterEntry(unit, template, period), mine, findings, max_findings, states, basis, zone)
        if entries:  # without a roster nobody is expected, so nobody is unexpected either
            row.status = "unexpected"
        rows.append(row)
    order = {s: i for i, s in enumerate(STATUSES)}
    rows.sort(key=lambda r: (order[r.status], r.template, r.period, r.unit))
    for s in unreadable:
        s["findings"] = findings.get(s["id"], [])[:max_findings]
    return Status(rows, unreadable, utcnow(), zone)


def _row(entry: RosterEntry, mine: list[dict], findings: dict, max_findings: int, states: dict | None = None,
         basis: str = "accepted", zone: dt.tzinfo | None = None) -> StatusRow:
    mine = sorted(mine, key=lambda s: (s["received_at"], s["id"]))
    period = entry.period or (mine[-1]["period"] if mine else "")
    row = StatusRow(entry.unit, entry.template, period, entry.due, "missing", versions=len(mine),
                    files=list(dict.fromkeys(s["source"] for s in mine)))
    if not mine:
        return row
    row.latest = mine[-1]
    row.findings = findings.get(row.latest["id"], [])[:max_findings]
    states = states or {}
    row.review = states.get(row.latest["id"])
    approved = [s for s in mine if states.get(s["id"]) == "approved"]
    row.approved = approved[-1] if approved else None
    accepted = [s for s in mine if s["status"] == ACCEPTED]
    if not accepted:
        row.status = REJECTED
        return row
    row.used = row.approved if basis == "approved" else accepted[-1]
    row.status = "late" if _late(row.used or accepted[-1], entry.due, zone) else "accepted"
    return row


def label(status_name: str, lang: str = texts.DEFAULT) -> str:
    return texts.t(f"st_{status_name}", lang)


class UnknownTimeZone(XlplanError, ValueError):
    """A time zone name that is not in the IANA database (the caller names the option it came from)."""


def time_zone(name: str | None) -> dt.tzinfo | None:
    """The zone of an IANA name ("Asia/Taipei", "UTC"); None for no name (the machine's zone)."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone's name at all ("../x", "/etc")
        raise UnknownTimeZone(f"unknown time zone {name!r}: give an IANA name such as Asia/Taipei, "
                              f"Asia/Shanghai, Europe/London or UTC") from None


def local_time(moment: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """A stored (UTC) time as HQ's clock shows it: in `zone`, or the machine's zone when none is given."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def zone_name(zone: dt.tzinfo | None = None) -> str:
    """The zone as a reader recognises it: "Asia/Taipei (UTC+08:00)", "UTC"."""
    now = dt.datetime.now(dt.timezone.utc).astimezone(zone)
    offset = now.strftime("%z")
    name = getattr(zone, "key", None) or now.tzname()
    return f"{name} (UTC{offset[:3]}:{offset[3:]})" if name != "UTC" else "UTC"


def template_name(template_id: str, lang: str) -> str:
    """A template's title in `lang` ("年度經營計劃"), or its id where no such template is installed."""
    from ..model import XlplanError, text
    from ..template import spec

    try:
        return text(spec.load(template_id, {"lang": lang}).title, lang)
    except XlplanError:
        return template_id


def render_html(st: Status, title: str | None = None, lang: str = texts.DEFAULT) -> str:
    lang = texts.language(lang)
    zone = st.zone
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    template = env.get_template("status.html.j2")
    names = {r.template: template_name(r.template, lang) for r in st.rows}
    return template.render(st=st, title=title or f"xlplan · {texts.t('status_title', lang)}", lang=lang,
                           label=label, statuses=STATUSES, t=lambda key: texts.t(key, lang),
                           when=lambda moment: local_time(moment, zone), zone=zone_name(zone),
                           template_name=lambda tid: names.get(tid) or tid)


def write_html(st: Status, path: str | Path, **options) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(st, **options), encoding="utf-8")
    return path
