"""`make dist`'s last check: what the sdist and the wheel in a folder contain.

twine checks the metadata and check-wheel-contents the wheel's layout; this checks what neither knows about:
the files a user or a packager needs are in (license files, README, CHANGELOG, py.typed, the provider's
entry point) and nothing from a working tree is (a venv, caches, the demo's and the e2e runs' folders,
tests, byte code). Exit 1 with one line per problem. Usage: python scripts/check_dist.py dist
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

PACKAGE = "airflow_provider_fptsms"
# sdist paths relative to its top folder (name-version/)
SDIST_REQUIRED = ["LICENSE", "NOTICE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO", f"{PACKAGE}/py.typed"]
# any path part that is one of these, in either archive, is junk from a working tree
JUNK_PARTS = {
    ".venv",
    ".git",
    ".demo",
    ".e2e",
    ".e2e-celery",
    ".matrix",
    ".first-dag",
    ".ci",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "site",
    "dist",
    "build",
    "tests",
    "benchmarks",
    "scripts",
    "dags_examples",
}
JUNK_SUFFIXES = (".pyc", ".pyo", ".log", ".sqlite", ".db")


def junk(path: PurePosixPath) -> str | None:
    hit = next((part for part in path.parts if part in JUNK_PARTS), None)
    if hit is not None:
        return f"{hit}/"
    return path.suffix if path.name.endswith(JUNK_SUFFIXES) else None


def check_sdist(path: Path) -> list[str]:
    problems = []
    with tarfile.open(path) as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) != 1:
        return [f"{path.name}: expected one top folder, found {sorted(tops)}"]
    inside = {str(PurePosixPath(*PurePosixPath(name).parts[1:])) for name in names}
    problems += [f"{path.name}: missing {name}" for name in SDIST_REQUIRED if name not in inside]
    for name in sorted(inside):
        what = junk(PurePosixPath(name))
        if what is not None:
            problems.append(f"{path.name}: junk ({what}): {name}")
    return problems


def check_wheel(path: Path) -> list[str]:
    problems = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        dist_info = next((PurePosixPath(n).parts[0] for n in names if ".dist-info/" in n), "")
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode() if dist_info else ""
    required = [
        f"{dist_info}/licenses/LICENSE",
        f"{dist_info}/licenses/NOTICE",
        f"{dist_info}/METADATA",
        f"{PACKAGE}/py.typed",
        f"{PACKAGE}/__init__.py",
        f"{PACKAGE}/get_provider_info.py",
        f"{PACKAGE}/ui/static/index.html",  # the campaign view's page, script and vendored chart library
        f"{PACKAGE}/ui/static/campaigns.js",
        f"{PACKAGE}/ui/static/vendor/chartjs/chart.umd.min.js",
        f"{PACKAGE}/ui/static/vendor/chartjs/LICENSE.md",
    ]
    problems += [f"{path.name}: missing {name}" for name in required if name not in names]
    if not re.search(r"^\[apache_airflow_provider\]\s*\nprovider_info\s*=", entry_points, re.MULTILINE):
        problems.append(f"{path.name}: no apache_airflow_provider entry point (Airflow would not find the provider)")
    for name in names:
        if name.startswith(f"{dist_info}/"):
            continue
        if PurePosixPath(name).parts[0] != PACKAGE:
            problems.append(f"{path.name}: outside the package: {name}")
        what = junk(PurePosixPath(name))
        if what is not None:
            problems.append(f"{path.name}: junk ({what}): {name}")
    return problems


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "dist")
    sdists, wheels = sorted(folder.glob("*.tar.gz")), sorted(folder.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        print(f"check_dist: expected one sdist and one wheel in {folder}/, found {len(sdists)} and {len(wheels)}")
        return 1
    problems = check_sdist(sdists[0]) + check_wheel(wheels[0])
    for problem in problems:
        print(f"check_dist: {problem}")
    if problems:
        return 1
    for archive in (sdists[0], wheels[0]):
        print(f"check_dist: {archive.name} ({archive.stat().st_size / 1024:.0f} KiB): OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
