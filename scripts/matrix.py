"""``make matrix``: the built wheel on every supported Airflow line and Python, each cell in its own venv.

The dev venv pins one Airflow (``requirements/lock.txt``); users install any 3.x on Python 3.10-3.13.
So the wheel is built once, and each cell installs it (not the source tree) into a venv synced to the
cell's pinned set ``requirements/matrix/airflow-<line>-py<python>.txt``: an unpinned install breaks on
upstream releases (Airflow 3.2.2 resolves fastapi 0.165, which fails every task). The suites run from a
copy of ``tests/`` and ``dags_examples/``, where no ``airflow_provider_fptsms`` folder can shadow the
installed package; each cell checks that before its tests.

``python scripts/matrix.py --lock`` re-pins every cell from ``requirements/matrix/airflow-<line>.in``
plus ``pyproject.toml`` (the package, its dev and sandbox extras); uv keeps the existing pins.
A Python that is not installed is a skipped cell; ``MATRIX_PYTHON_3_12=/path/to/python`` points at one.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev extra's tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".matrix"
PINS = ROOT / "requirements" / "matrix"
SUITES = (
    "tests/unit",
    "tests/hooks",
    "tests/operators",
    "tests/lifecycle",
    "tests/sandbox",
    "tests/webhook",
    "tests/compliance",
    "tests/lineage",  # the cells have no openlineage extra: its facet tests skip, saying so; the rest runs
    "tests/ui",  # the campaign view (3.1+; on 3.0 its test that only the webhook is registered)
)
DAG_SUITE = "tests/dags"  # runs every DAG in dags_examples/ with `airflow dags test`
COPIED = ("tests", "dags_examples", "benchmarks", "requirements", "pyproject.toml")  # what the suites read


@dataclass(frozen=True)
class Cell:
    airflow: str
    python: str

    @property
    def line(self) -> str:
        return self.airflow.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return f"airflow-{self.line}-py{self.python}"

    @property
    def source(self) -> Path:
        return PINS / f"airflow-{self.line}.in"

    @property
    def pins(self) -> Path:
        return PINS / f"{self.name}.txt"

    @property
    def work(self) -> Path:
        return WORK / self.name


CELLS = (
    Cell("3.0.6", "3.11"),
    Cell("3.1.8", "3.11"),
    Cell("3.2.2", "3.11"),
    Cell("3.3.2", "3.11"),
    Cell("3.3.2", "3.10"),
    Cell("3.3.2", "3.12"),
    Cell("3.3.2", "3.13"),
)


@dataclass
class Outcome:
    cell: Cell
    status: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0


class CellError(Exception):
    """A step of a cell failed; the message is its status in the table."""


def uv() -> str:
    """The dev venv's pinned uv (next to this interpreter), else one on PATH."""
    local = Path(sys.executable).parent / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise SystemExit("matrix: uv not found; run it with `make matrix` or `pip install uv`")
    return found


def find_python(version: str) -> str | None:
    """An interpreter that really is ``version``: pyenv shims on PATH may exist and still fail."""
    override = os.environ.get(f"MATRIX_PYTHON_{version.replace('.', '_')}")
    candidates = [override] if override else []
    candidates += [p for p in (shutil.which(f"python{version}"),) if p]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def run(
    args: list[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step, appending its output to the cell's log."""
    result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    return result


def build_wheel() -> Path:
    """The sdist, then the wheel from it (as from PyPI; a wheel built in the tree may pick up a stale build/)."""
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([uv(), "build", "--quiet", "--out-dir", str(dist), str(ROOT)], check=True)
    [wheel] = dist.glob("*.whl")
    return wheel


def clean_env(venv: Path) -> dict[str, str]:
    """The user's environment without anything that points at another Python or Airflow home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "UV_"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        FPTSMS_SANDBOX_DEDUPE="content",
    )
    return env


def install(cell: Cell, python: str, wheel: Path, log: Path) -> Path:
    """Sync the cell's venv to its pins exactly, then the wheel without dependencies, then check them."""
    venv = cell.work / "venv"
    marker = venv / ".python"
    if not marker.exists() or marker.read_text() != python:
        shutil.rmtree(venv, ignore_errors=True)
        if run([uv(), "venv", "--quiet", "--python", python, str(venv)], log).returncode:
            raise CellError("venv failed")
        marker.write_text(python)
    target = ["--python", str(venv / "bin" / "python")]
    if run([uv(), "pip", "sync", "--quiet", "--compile-bytecode", *target, str(cell.pins)], log).returncode:
        raise CellError("pins failed")
    install_wheel = [uv(), "pip", "install", "--quiet", "--compile-bytecode", "--no-deps", "--reinstall", *target]
    if run([*install_wheel, str(wheel)], log).returncode:
        raise CellError("wheel failed")
    if run([uv(), "pip", "check", *target], log).returncode:  # the wheel's dependencies are all in the pins
        raise CellError("deps unmet")
    return venv


def copy_tree(cell: Cell) -> Path:
    tree = cell.work / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=skip)
        else:
            tree.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    return tree


def check_imports(cell: Cell, venv: Path, tree: Path, log: Path) -> None:
    """The tests must import the installed wheel and the cell's Airflow, nothing else."""
    code = "import airflow, airflow_provider_fptsms as p; print(airflow.__version__); print(p.__file__)"
    result = run([str(venv / "bin" / "python"), "-c", code], log, cwd=tree, env=clean_env(venv))
    lines = result.stdout.split()
    if result.returncode or len(lines) != 2:
        raise CellError("import failed")
    version, package = lines
    if version != cell.airflow:
        raise CellError(f"airflow {version}")
    if not Path(package).resolve().is_relative_to(venv.resolve()):
        raise CellError("not the wheel")


def pytest(cell: Cell, venv: Path, tree: Path, log: Path) -> Outcome:
    report = cell.work / "junit.xml"
    report.unlink(missing_ok=True)
    args = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    result = run([*args, *SUITES, DAG_SUITE], log, cwd=tree, env=clean_env(venv))
    if not report.exists():
        raise CellError(f"pytest exit {result.returncode}")
    suites = ET.parse(report).getroot()  # noqa: S314 - written by pytest just now
    keys = ("tests", "failures", "errors", "skipped")
    totals = {key: sum(int(suite.get(key, 0)) for suite in suites.iter("testsuite")) for key in keys}
    failed = totals["failures"] + totals["errors"]
    passed = totals["tests"] - failed - totals["skipped"]
    ok = result.returncode == 0 and failed == 0 and passed > 0
    return Outcome(cell, "ok" if ok else "FAILED", passed, failed, totals["skipped"])


def run_cell(cell: Cell, wheel: Path) -> Outcome:
    started = time.monotonic()
    python = find_python(cell.python)
    if python is None:
        return Outcome(cell, f"skipped: no Python {cell.python} (set MATRIX_PYTHON_{cell.python.replace('.', '_')})")
    cell.work.mkdir(parents=True, exist_ok=True)
    log = cell.work / "log.txt"
    log.write_text(f"{cell.name} with {python}\n", encoding="utf-8")
    try:
        if inputs(cell) not in cell.pins.read_text(encoding="utf-8").splitlines():
            raise CellError("pins stale: run python scripts/matrix.py --lock")
        venv = install(cell, python, wheel, log)
        tree = copy_tree(cell)
        check_imports(cell, venv, tree, log)
        outcome = pytest(cell, venv, tree, log)
    except CellError as error:
        outcome = Outcome(cell, str(error))
    outcome.seconds = time.monotonic() - started
    if outcome.status != "ok":
        outcome.status += f" (see {log.relative_to(ROOT)})"
    return outcome


def inputs(cell: Cell) -> str:
    """A digest of what the cell's pins are compiled from, written under them: stale pins fail the cell early."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    parts = [*project["dependencies"], *extras.get("dev", []), *extras.get("sandbox", []), cell.source.read_text()]
    return f"# inputs: {hashlib.sha256(chr(10).join(parts).encode()).hexdigest()[:16]}"


def lock(cells: list[Cell]) -> None:
    for cell in cells:
        command = [uv(), "pip", "compile", "--quiet", "pyproject.toml", str(cell.source.relative_to(ROOT))]
        command += ["--extra", "dev", "--extra", "sandbox", "--python-version", cell.python]
        command += ["--custom-compile-command", "python scripts/matrix.py --lock"]
        subprocess.run([*command, "-o", str(cell.pins.relative_to(ROOT))], cwd=ROOT, check=True)
        with cell.pins.open("a", encoding="utf-8") as pins:
            pins.write(inputs(cell) + "\n")
        print(f"pinned {cell.pins.relative_to(ROOT)}")


def table(outcomes: list[Outcome]) -> str:
    rows = [("cell", "Airflow", "Python", "passed", "failed", "skipped", "time", "status")]
    for o in outcomes:
        counts = (str(o.passed), str(o.failed), str(o.skipped)) if o.passed + o.failed else ("-", "-", "-")
        rows.append((o.cell.name, o.cell.airflow, o.cell.python, *counts, f"{o.seconds:.0f}s", o.status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cell", action="append", choices=[c.name for c in CELLS], help="only these cells")
    parser.add_argument("--lock", action="store_true", help="re-pin the cells' requirements instead")
    args = parser.parse_args(argv)
    cells = [c for c in CELLS if not args.cell or c.name in args.cell]
    if args.lock:
        lock(cells)
        return 0
    started = time.monotonic()
    wheel = build_wheel()
    print(f"matrix: {wheel.name}, {len(cells)} cell(s); logs in {WORK.relative_to(ROOT)}/<cell>/log.txt", flush=True)
    outcomes = []
    for cell in cells:
        outcomes.append(run_cell(cell, wheel))
        print(f"  {cell.name}: {outcomes[-1].status} ({outcomes[-1].seconds:.0f}s)", flush=True)
    print(f"\n{table(outcomes)}\n\nmatrix: {time.monotonic() - started:.0f}s wall")
    return 0 if all(o.status == "ok" or o.status.startswith("skipped") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
