"""Shared test setup: LibreOffice tests skip only on a developer's machine without it.

In CI (env CI set) a missing LibreOffice is a broken machine, not a reason to skip: the
tests run and fail with the install hint. Hypothesis runs derandomized in CI so a red
build is reproducible; locally it explores new examples every run.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from xlplan import libreoffice

IN_CI = bool(os.environ.get("CI"))

# Drawing a whole plan is slow next to a typical property test, and LibreOffice makes
# every example take seconds: no deadline, no "too slow" health check.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def pytest_collection_modifyitems(config, items):
    if libreoffice.available() or IN_CI:
        return
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed; scripts/setup.sh installs it")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)
