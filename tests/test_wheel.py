"""Install as users do: build the wheel, install it in a clean virtual environment outside
the repository, and run the README's tour from an empty folder with that `xlplan`.

Nothing of the checkout is on the path there: the templates and samples must come from
the wheel itself (xlplan/shipped/), as they do for anyone who runs `pip install`.
"""
from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import readme_tour as tour

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd: Path, timeout: float = 900) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=tour.environment(Path(sys.executable).parent))
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installed_in_a_clean_environment_runs_the_readme_tour(tmp_path):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("xlplan-*.whl")

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)

    home = tmp_path / "somewhere"  # far from the checkout: nothing of it can be found from here
    home.mkdir()
    where = run(python, "-c", "import xlplan, xlplan.shipped as s; print(xlplan.__file__); "
                "print(s.folder('templates')); print(s.folder('samples'))", cwd=home).split()
    assert all(Path(p).is_relative_to(env_dir) for p in where), where
    assert {p.name for p in Path(where[1]).glob("*.yaml")} >= {"annual_plan.yaml", "kpi_scorecard.yaml",
                                                               "support_plan.yaml", "_cover.yaml"}

    commands = tour.run_tour(python.parent, home)
    problems = tour.differences(commands) + tour.run_pycon(python, home)
    assert not problems, "\n\n".join(problems)
