"""Honest dependencies: every third-party import of the package is declared, and every floor is a tested version.

A floor above what ``make matrix`` tests refuses installs that work; one below it promises what nobody ran.
"""

from __future__ import annotations

import ast
import sys
from importlib.metadata import distribution as distribution_of
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import airflow_provider_fptsms

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev extra's tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(airflow_provider_fptsms.__file__).parent  # the installed wheel in a matrix cell
PINS = sorted((ROOT / "requirements" / "matrix").glob("*.txt"))
#: Imported only where their host loads the module: pytest loads the sandbox's pytest plugin.
HOSTED = {"pytest": "sandbox/pytest_plugin.py"}
#: Imported only by the one module an optional extra is for (inside its functions): the extra declares them.
EXTRAS = {"airflow.providers.openlineage": ("openlineage", "lineage.py")}


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (Requirement(line) for line in project["dependencies"])
    return {canonicalize_name(r.name): r for r in requirements}


def in_its_extra(module: str, files: set[str]) -> bool:
    """``module`` is imported only by the module its optional extra is for, and that extra declares it."""
    if module not in EXTRAS:
        return False
    extra, host = EXTRAS[module]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {canonicalize_name(Requirement(line).name) for line in project["optional-dependencies"].get(extra, [])}
    return files == {host} and distribution(module) in names


def imports() -> dict[str, set[str]]:
    """Top-level names of absolute imports (``airflow.providers.http`` counts as its provider) -> files."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(_top(name), set()).add(str(path.relative_to(PACKAGE)))
    return found


def _top(module: str) -> str:
    """``yaml.constructor`` -> ``yaml``; ``airflow.providers.common.compat.connection`` -> its provider's package."""
    parts = module.split(".")
    if parts[:2] != ["airflow", "providers"]:
        return parts[0]
    return ".".join(parts[: 4 if parts[2:3] == ["common"] else 3])


def distribution(module: str) -> str:
    if module.startswith("airflow.providers."):
        return canonicalize_name("apache-airflow-providers-" + module.removeprefix("airflow.providers."))
    if module == "airflow":
        return "apache-airflow"
    names = packages_distributions().get(module)  # Python 3.10 sees only distributions with a top_level.txt
    return canonicalize_name(names[0] if names else distribution_of(module).metadata["Name"])


def pinned(name: str) -> list[Version]:
    versions = []
    for pins in PINS:
        for line in pins.read_text(encoding="utf-8").splitlines():
            package, _, version = line.partition("==")
            if version and canonicalize_name(package) == name:
                versions.append(Version(version.split(";")[0].strip()))
    return versions


def test_every_third_party_import_is_declared() -> None:
    ours = {"airflow_provider_fptsms", *sys.stdlib_module_names}
    wanted = {module: files for module, files in imports().items() if module not in ours}
    missing = {
        module: sorted(files)
        for module, files in wanted.items()
        if distribution(module) not in declared() and files != {HOSTED.get(module)} and not in_its_extra(module, files)
    }
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_every_floor_is_the_lowest_version_the_matrix_tests() -> None:
    assert len(PINS) >= 7, PINS
    floors = {}
    for name, requirement in declared().items():
        [floor] = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        floors[name] = floor
    lowest = {name: min(pinned(name)) for name in floors}
    assert floors == lowest
