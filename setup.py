"""Build hook: the wheel carries the repository's templates/ and workbooks/samples/.

They stay at the top of the repository, where HQ edits them; building copies them into
the package as xlplan/shipped/templates and xlplan/shipped/samples (xlplan/shipped.py
finds either place). Everything else is declared in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"templates": ROOT / "templates", "samples": ROOT / "workbooks" / "samples"}


class build_py_with_shipped_files(build_py):
    def run(self):
        super().run()
        for name, source in SHIPPED.items():
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; build from a full checkout or sdist")
            target = Path(self.build_lib) / "xlplan" / "shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_shipped_files})
