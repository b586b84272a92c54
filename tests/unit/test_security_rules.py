"""Security rules that hold by construction, checked over the code: XML is parsed only through
defusedxml, and no hook or connection-settings ``repr()`` carries a secret."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest

import airflow_provider_fptsms
from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.hooks.fpt_async import FptSmsAsyncHook
from airflow_provider_fptsms.sandbox.server import fibo_connection, fpt_connection

PACKAGE = Path(airflow_provider_fptsms.__file__).parent
#: names from the standard XML modules that parse nothing (types and escaping)
INERT_XML_NAMES = {"Element", "ParseError", "escape", "quoteattr"}  # build or escape, never parse
SECRET = "s3cret-Value-42"


def _xml_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in ("xml", "lxml")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("xml", "lxml"):
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name not in INERT_XML_NAMES]
    return found


def test_xml_is_parsed_only_with_defusedxml() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): names for path in PACKAGE.rglob("*.py") if (names := _xml_imports(path))
    }
    assert offenders == {}, "parse XML with defusedxml.ElementTree (entity expansion, external entities)"


def test_the_rule_sees_a_plain_parser(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import xml.dom.minidom\nfrom xml.etree.ElementTree import fromstring, Element\n")
    assert _xml_imports(module) == ["xml.dom.minidom", "xml.etree.ElementTree.fromstring"]


def test_no_secret_in_the_repr_of_hooks_or_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    fpt = {**fpt_connection("http://127.0.0.1:9"), "password": SECRET}
    fibo = {**fibo_connection("http://127.0.0.1:9"), "password": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(fpt))
    monkeypatch.setenv("AIRFLOW_CONN_FIBOSMS_DEFAULT", json.dumps(fibo))
    sync, fibo_hook, async_hook = FptSmsHook(), FiboSmsHook(), FptSmsAsyncHook()
    settings = [sync.settings, fibo_hook.settings, asyncio.run(async_hook.settings())]
    assert all(s.password == SECRET for s in settings)  # the secret was read...
    texts = [repr(x) for x in (sync, fibo_hook, async_hook, *settings)] + [str(s) for s in settings]
    assert not [text for text in texts if SECRET in text]  # ...and shows in no repr
