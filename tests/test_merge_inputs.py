"""What the merge takes as input: files, folders and globs; files that are too big or gone."""
from __future__ import annotations

import dataclasses

import pytest

from xlplan.hq import merge
from xlplan.hq.store import Store
from xlplan.workbook import safety


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_files_folders_and_globs(tmp_path):
    a = touch(tmp_path / "in" / "b" / "north.xlsx")
    b = touch(tmp_path / "in" / "a" / "south.XLSM")
    touch(tmp_path / "in" / "a" / "~$south.xlsm")  # Excel's lock file while south is open
    touch(tmp_path / "in" / "notes.txt")
    named = touch(tmp_path / "odd.bin")  # named on the command line: taken, then rejected
    found = list(merge.expand([tmp_path / "in", named, str(tmp_path / "in" / "**" / "north.*")]))
    assert found == [b, a, named, a]
    with pytest.raises(FileNotFoundError, match="no such file"):
        list(merge.expand([str(tmp_path / "missing" / "*.xlsx")]))


def test_a_file_over_the_size_limit_is_rejected_without_loading_it_whole(tmp_path, monkeypatch):
    small = dataclasses.replace(safety.DEFAULT_LIMITS, file_bytes=1000)
    monkeypatch.setattr(safety, "DEFAULT_LIMITS", small)
    big = touch(tmp_path / "in" / "huge.xlsx", b"PK" + b"\0" * 5000)
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    summary = merge.merge([big], store, workers=0)
    assert summary.rejected == 1
    (sub,) = store.submissions()
    assert sub["status"] == "rejected" and sub["unit"] is None
    assert len(store.blob(sub["sha256"])) == 1001  # only the first bytes were read
    (finding,) = store.findings_of(sub["id"])
    assert finding["message"].startswith("huge.xlsx")
    assert store.by_sha256(sub["sha256"])["id"] == sub["id"]
