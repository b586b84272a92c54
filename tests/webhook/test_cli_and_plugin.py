"""``fptsms-dlr-receiver`` as users run it, and the Airflow 3 API-server plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from fastapi import FastAPI

from airflow_provider_fptsms.webhook.cli import main, parser, read_key
from airflow_provider_fptsms.webhook.store import DlrStore
from tests.compat import discovered_plugins, fastapi_apps, forget_plugins
from tests.webhook.conftest import KEY

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev extra's tomli
    import tomli as tomllib

READY = re.compile(r"fptsms-dlr-receiver listening on (\S+)")
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = {"smsid": "270148016", "status": 1, "telco": "viettel", "error": None, "mt_count": 1}


def _start(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_fptsms.webhook.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    assert process.stdout is not None
    seen = []
    for _ in range(50):  # Airflow's own imports may log a line or two first (3.1: alembic's plugin setup)
        line = process.stdout.readline()
        seen.append(line)
        if match := READY.search(line):
            return process, match.group(1)
        if not line:
            break
    process.kill()
    raise AssertionError(f"no ready line: {seen!r} {process.communicate()[0]!r}")


def test_cli_serves_on_a_free_port_with_the_key_from_env(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    process, url = _start("--path", "/fpt/dlr", "--db", db, env={"FPTSMS_DLR_KEY": KEY})
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/fpt/dlr") and not url.endswith(":0/fpt/dlr")
        assert requests.post(url, json=SAMPLE, headers={"Authorization": f"Basic {KEY}"}, timeout=10).json() == {
            "status": 1
        }
        assert requests.post(url, json=SAMPLE, timeout=10).status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert KEY not in output
    store = DlrStore(db)
    assert store.summary(["270148016"])["delivered"] == 1
    store.dispose()


def test_cli_key_file_and_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(f"{KEY}\n", encoding="utf-8")
    monkeypatch.setenv("FPTSMS_DLR_KEY", "from-env")
    assert read_key(key_file) == KEY  # the file wins over the environment
    assert read_key(None) == "from-env"
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    monkeypatch.delenv("FPTSMS_DLR_KEY")
    assert main(["--port", "0"]) == 2 and "FPTSMS_DLR_KEY" in capsys.readouterr().err
    assert main(["--port", "0", "--key-file", str(tmp_path / "empty")]) == 2 and "empty" in capsys.readouterr().err
    for db in ("postgresql://u:pw-s3cret@:::bad", "postgresql://u:pw-s3cret@localhost/x", "nonsense:pw-s3cret"):
        assert main(["--port", "0", "--key-file", str(key_file), "--db", db]) == 2
        captured = capsys.readouterr()
        assert "--db" in captured.err and "pw-s3cret" not in captured.err + captured.out
    with pytest.raises(SystemExit):  # no --key flag (nor an abbreviation of --key-file): ps would show it
        parser().parse_args(["--key", KEY])
    capsys.readouterr()


def test_pyproject_declares_the_script_and_the_plugin_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["fptsms-dlr-receiver"] == "airflow_provider_fptsms.webhook.cli:main"
    assert project["entry-points"]["airflow.plugins"] == {"fptsms": "airflow_provider_fptsms.plugins:FptSmsPlugin"}


def test_importing_the_plugin_is_cheap() -> None:
    """Airflow imports plugins in every component: the receiver must be built only on first request."""
    saved = {name: module for name, module in sys.modules.items() if name.startswith("airflow_provider_fptsms")}
    for name in saved:
        if name.startswith(("airflow_provider_fptsms.plugins", "airflow_provider_fptsms.webhook")):
            del sys.modules[name]
    try:
        import airflow_provider_fptsms.plugins as plugins

        assert plugins.FptSmsPlugin.fastapi_apps[0]["url_prefix"] == "/fptsms"
        assert "airflow_provider_fptsms.webhook.app" not in sys.modules
        assert "airflow_provider_fptsms.webhook.store" not in sys.modules
    finally:
        for name in [n for n in sys.modules if n.startswith("airflow_provider_fptsms")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture
def plugin_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fresh plugin discovery, as a real API-server process sees it.

    Under pytest the repository root is on ``sys.path``, so the source tree's ``*.egg-info`` (left by
    the editable install) would list our entry point a second time; an installed Airflow never sees it.
    """
    from airflow_provider_fptsms.plugins import dlr_app

    def clear() -> None:
        forget_plugins()
        dlr_app.reset()

    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    clear()
    yield
    monkeypatch.undo()
    clear()


@pytest.mark.usefixtures("plugin_caches")
@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")  # imported by Airflow's svcs
async def test_airflow_mounts_the_plugin_and_it_refuses_without_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow.api_fastapi.app import init_plugins

    from airflow_provider_fptsms.plugins import FptSmsPlugin, dlr_app

    plugins, errors = discovered_plugins()
    assert "fptsms" in [p.name for p in plugins] and not [e for e in errors if "fptsms" in e.lower()]
    entry = next(a for a in fastapi_apps() if a["name"] == "FPT SMS DLR receiver")
    assert entry == FptSmsPlugin.fastapi_apps[0] and entry["app"] is dlr_app

    monkeypatch.delenv("FPTSMS_DLR_KEY", raising=False)
    monkeypatch.setenv("FPTSMS_DLR_DB", f"sqlite:///{tmp_path / 'plugin.db'}")
    api = FastAPI()
    init_plugins(api)  # what Airflow's API server does with fastapi_apps
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://airflow") as client:
        refused = await client.post("/fptsms/dlr", json=SAMPLE, headers={"Authorization": "Basic "})
        assert refused.status_code == 401 and refused.json()["status"] == 0
        monkeypatch.setenv("FPTSMS_DLR_KEY", KEY)
        dlr_app.reset()
        accepted = await client.post("/fptsms/dlr", json=SAMPLE, headers={"Authorization": f"Basic {KEY}"})
        assert accepted.status_code == 200 and accepted.json() == {"status": 1}
    store = DlrStore(f"sqlite:///{tmp_path / 'plugin.db'}")
    assert store.summary(["270148016"])["delivered"] == 1
    store.dispose()
