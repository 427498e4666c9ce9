"""Regenerate the golden workbooks in tests/golden/ from the current templates and generator.

Run it after a deliberate change to a template or to how workbooks look, then review
`git diff --stat tests/golden` and what tests/test_golden.py reported before committing:
the golden files are the reviewed picture of what the generator makes.

    .venv/bin/python scripts/update_golden.py
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import golden  # noqa: E402  (tests/golden.py: the cases and the cycle they use)


def main() -> int:
    golden.GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    wanted = {golden.golden_path(t, lang) for t, lang in golden.cases()}
    with tempfile.TemporaryDirectory() as tmp:
        for template_id, lang in golden.cases():
            path = golden.golden_path(template_id, lang)
            fresh = golden.write_case(template_id, lang, Path(tmp) / path.name)
            # an unchanged workbook is left alone: every save differs in its timestamps
            if path.is_file() and not golden.compare_workbooks(path, fresh):
                print(f"unchanged {path.name}")
                continue
            shutil.copyfile(fresh, path)
            print(f"wrote {path.name}")
    for stale in sorted(set(golden.GOLDEN_DIR.glob("*.xlsx")) - wanted):
        stale.unlink()
        print(f"removed {stale.name} (no such template any more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
