"""Late or on time is judged on the date HQ's clock shows, in the zone the status page shows times in."""
from __future__ import annotations

import datetime as dt

from xlplan.hq import report
from xlplan.hq.store import ACCEPTED, RosterEntry

DUE = dt.date(2027, 3, 31)


def row_for(received_at: dt.datetime, zone_name: str):
    sub = {"id": 1, "received_at": received_at, "period": "2027", "source": "north.xlsx", "status": ACCEPTED}
    entry = RosterEntry("north", "annual_plan", "2027", DUE)
    return report._row(entry, [sub], {}, 5, {}, "accepted", report.time_zone(zone_name))


def test_received_late_evening_utc_on_the_due_date_is_late_in_taipei():
    # 2027-03-31 23:30 UTC is 2027-04-01 07:30 in Taipei: a day after the due date there
    received = dt.datetime(2027, 3, 31, 23, 30)  # stored naive UTC
    assert report.local_time(received, report.time_zone("Asia/Taipei")) == "2027-04-01 07:30"
    assert row_for(received, "Asia/Taipei").status == "late"


def test_the_same_moment_is_on_time_in_utc():
    assert row_for(dt.datetime(2027, 3, 31, 23, 30), "UTC").status == "accepted"


def test_the_next_day_is_late_in_utc_too():
    assert row_for(dt.datetime(2027, 4, 1, 0, 30), "UTC").status == "late"
