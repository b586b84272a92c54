"""The documentation's API reference (docs/api/, rendered by mkdocstrings) lists every public operator, sensor,
trigger, notifier, hook and extra link the provider registers, and nothing that does not exist."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from airflow_provider_fptsms.get_provider_info import get_provider_info

API_DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
# Airflow's base classes by name: their import paths differ between Airflow 3 lines, their names do not.
AIRFLOW_BASES = {"BaseOperator", "BaseSensorOperator", "BaseHook", "BaseTrigger", "BaseNotifier", "BaseOperatorLink"}

pytestmark = pytest.mark.skipif(not API_DOCS.is_dir(), reason="no docs/api next to the tests")


def _documented() -> dict[str, str]:
    """``::: identifier`` line -> the page it is on."""
    return {
        match.group(1): page.name
        for page in sorted(API_DOCS.glob("*.md"))
        for match in re.finditer(r"^::: (\S+)", page.read_text(encoding="utf-8"), re.MULTILINE)
    }


def _registered_classes() -> set[str]:
    """Public classes, derived from an Airflow base, defined in the modules and paths of the provider info."""
    info = get_provider_info()
    modules = {
        module
        for kind in ("operators", "sensors", "triggers", "hooks")
        for entry in info[kind]
        for module in entry["python-modules"]
    }
    modules |= {path.rsplit(".", 1)[0] for path in info["notifications"] + info["extra-links"]}
    found = set()
    for name in sorted(modules):
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            bases = {base.__name__ for base in cls.__mro__[1:]}
            if cls.__module__ == name and not cls_name.startswith("_") and bases & AIRFLOW_BASES:
                found.add(f"{name}.{cls_name}")
    return found


def test_every_registered_class_is_in_the_api_reference() -> None:
    registered = _registered_classes()
    assert len(registered) >= 15  # the scan found the provider's classes at all
    missing = sorted(registered - set(_documented()))
    assert not missing, f"add a '::: <path>' line for each to a page under docs/api/: {missing}"


def test_every_api_reference_entry_exists() -> None:
    for identifier, page in _documented().items():
        module_name, _, attribute = identifier.rpartition(".")
        module = importlib.import_module(module_name)
        assert hasattr(module, attribute), f"docs/api/{page}: {identifier} does not exist"
