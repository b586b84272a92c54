"""The README's sandbox settings table lists every setting PATCH /_sandbox/config takes, with its real default."""

from __future__ import annotations

import json
import re
from pathlib import Path

from airflow_provider_fptsms.sandbox.config import SandboxConfig

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_settings() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("**Settings** (`PATCH /_sandbox/config`") : text.index("**Fault plan**")]
    return dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", table, flags=re.MULTILINE))


def shown(value: object) -> str:
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, tuple):
        return f"`{json.dumps(list(value), ensure_ascii=False)}`"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def test_every_tunable_setting_is_documented_with_its_default() -> None:
    defaults = SandboxConfig(dedupe="content")
    documented = readme_settings()
    assert sorted(documented) == sorted(SandboxConfig.TUNABLE)
    for key, default in documented.items():
        assert default == shown(getattr(defaults, key)), key
