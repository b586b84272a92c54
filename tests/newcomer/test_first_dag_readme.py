"""The README's "Your first DAG" section, run as written: its DAG file and its commands, against a sandbox.

Only what a second user's machine would differ in is changed: the sandbox's port (a free one, for
``8765``) and the folder (a temporary one, for ``$PWD/.first-dag``).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from airflow_provider_fptsms.sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def block(marker: str) -> str:
    """The fenced code block that follows ``<!-- first-dag:<marker> -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(f"<!-- first-dag:{marker} -->") :]
    match = re.search(r"```\w*\n(.*?)```", after, flags=re.DOTALL)
    assert match, marker
    return match.group(1)


def run_commands(commands: str, port: int, home: Path, *, stop_on_error: bool = True) -> tuple[str, str]:
    """The commands in bash (``-e`` unless told: a failing run's ``dags test`` exits non-zero); stdout, stderr."""
    script = commands.replace("8765", str(port)).replace("$PWD/.first-dag", str(home))
    flags = "-euo" if stop_on_error else "-uo"
    done = subprocess.run(  # the README's own commands
        ["/bin/bash", flags, "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    if stop_on_error:
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout, done.stderr


def ledger(stdout: str) -> dict[str, int]:
    """The curl line's JSON: the last line of the commands' standard output."""
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {"total": summary["total"], "duplicates": summary["duplicates"]}


def test_the_first_dag_section_works_by_copy_and_paste(tmp_path: Path) -> None:
    home = tmp_path / "first-dag"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "my_first_sms.py").write_text(block("dag"), encoding="utf-8")
    commands = block("commands")
    with SandboxProcess("--approval-delay", "3", "--send-delay", "3", "--dlr-delay", "3") as sandbox:
        port = int(sandbox.url.rsplit(":", 1)[1])
        stdout, stderr = run_commands(commands, port, home)
        assert re.search(r"DagRun Finished: .*state=success", stdout + stderr), (stdout + stderr)[-3000:]
        assert ledger(stdout) == {"total": 2, "duplicates": 0}

        # "Run dags test again within 5 minutes": the same text is held back, and the task says why
        again = "\n".join(line for line in commands.splitlines() if "db migrate" not in line)
        stdout, stderr = run_commands(again, port, home, stop_on_error=False)
        output = stdout + stderr
        assert re.search(r"DagRun Finished: .*state=failed", output), output[-3000:]
        assert "duplicate_content" in output and "nobody receives the text twice" in output
        assert ledger(stdout) == {"total": 2, "duplicates": 0}
