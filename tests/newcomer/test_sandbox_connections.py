"""Issue 14, item 1, as a newcomer meets it: start ``fptsms-sandbox``, paste the lines it prints, use a hook."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

EXPORT = re.compile(r"^export (AIRFLOW_CONN_\w+)=(.+)$")


def _exports(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = EXPORT.match(line)
        if match:
            found[match.group(1)] = shlex.split(match.group(2))[0]  # as the shell would read it
    return found


def test_the_sandbox_prints_connections_that_work_when_pasted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_fptsms.sandbox.cli", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = ""
        while "AIRFLOW_CONN_FIBOSMS_DEFAULT" not in printed:  # the lines right after "listening on"
            line = process.stdout.readline()
            assert line, printed
            printed += line
        assert "Connections for Airflow: paste these into the shell that runs Airflow" in printed
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
        env.update(_exports(printed))
        script = (
            "from airflow_provider_fptsms.hooks.fpt import FptSmsHook\n"
            "from airflow_provider_fptsms.hooks.fibo import FiboSmsHook\n"
            "print(FptSmsHook().send_cskh('0912345678', 'Xin chao').status.value, FiboSmsHook().get_balance())\n"
        )
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["sent", "1000000"]


def test_print_env_for_scripts_and_placeholders_for_accounts_of_your_own() -> None:
    cli = [sys.executable, "-m", "airflow_provider_fptsms.sandbox.cli", "--print-env", "--port", "8765"]
    demo = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=True).stdout
    assert set(_exports(demo)) == {"AIRFLOW_CONN_FPTSMS_DEFAULT", "AIRFLOW_CONN_FIBOSMS_DEFAULT"}
    assert '"host": "http://127.0.0.1:8765"' in demo and '"password": "sandbox-secret"' in demo
    own = subprocess.run(
        [*cli, "--fpt-client", "my-app:my-real-secret:MYBRAND"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert '"login": "my-app"' in own and '"password": "<client_secret>"' in own and '"brandname": "MYBRAND"' in own
    assert "my-real-secret" not in own
    no_port = subprocess.run([*cli[:-2], "--port", "0"], capture_output=True, text=True, timeout=60)
    assert no_port.returncode == 2 and "--print-env needs a fixed --port" in no_port.stderr
