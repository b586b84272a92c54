"""The version is written once, in ``airflow_provider_fptsms/__init__.py``; the package metadata (setuptools'
``dynamic = ["version"]``) and the provider info Airflow shows (``airflow providers list``) both read it."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest
from packaging.version import Version

import airflow_provider_fptsms
from airflow_provider_fptsms.get_provider_info import get_provider_info

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev extra's tomli
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
REINSTALL = "the installed metadata is stale: reinstall the package (.venv/bin/uv pip install --no-deps -e .)"


def test_provider_info_version_is_the_package_metadata_version() -> None:
    installed = importlib.metadata.version("airflow-provider-fptsms")
    assert get_provider_info()["versions"] == [installed], REINSTALL
    assert airflow_provider_fptsms.__version__ == installed, REINSTALL


def test_version_is_a_release_version() -> None:
    version = Version(airflow_provider_fptsms.__version__)
    assert str(version) == airflow_provider_fptsms.__version__  # normalised: what PyPI would show
    assert not version.is_devrelease and not version.is_postrelease and not version.local


def test_pyproject_reads_the_version_from_the_package() -> None:
    if not PYPROJECT.exists():
        pytest.skip("no pyproject.toml next to the tests")
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert "version" not in data["project"], "write the version only in airflow_provider_fptsms/__init__.py"
    assert "version" in data["project"]["dynamic"]
    assert data["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "airflow_provider_fptsms.__version__"}
