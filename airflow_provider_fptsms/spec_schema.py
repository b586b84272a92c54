"""The campaign spec's schema: one JSON Schema (draft 2020-12) that checks specs and writes the README table.

Everything a user can put in a campaign YAML is declared once, here: its type, its default and what it
means.  :func:`schema_errors` checks a parsed spec against it and words each problem the repo's way
(the key, the value, what to do); :func:`markdown_table` renders the README's table of keys, and a test
asserts the README holds exactly that table, so the two cannot drift.

``python -m airflow_provider_fptsms.spec_schema`` prints the schema as JSON (for an editor's YAML
plugin, e.g. ``# yaml-language-server: $schema=campaign-spec.schema.json``);
``--markdown`` prints the README table.

Keywords that start with ``x-`` are ours (JSON Schema ignores unknown keywords):

* ``x-default``: the default when it is computed, not a literal (``default`` holds literal ones);
* ``x-example``: what to write, quoted in the "Next step" of an error;
* ``x-hint``: a next step that says more than the example (used for every error of that key);
* ``x-pattern``: the problem to state when ``pattern`` does not match;
* ``x-private``: the value never appears in an error (phone numbers).
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SCHEMA", "SCHEMA_ID", "SCHEMA_VERSION", "SchemaProblem", "markdown_table", "schema_errors"]

#: 1: the first spec (``schedule:`` for FPT's ScheduleTime); 2: ``send_at:``, ``dag_schedule:``, task defaults.
SCHEMA_VERSION = "2"
SCHEMA_ID = f"urn:airflow-provider-fptsms:campaign-spec:{SCHEMA_VERSION}"

_SEND_AT = r"^(next_valid|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})$"
_WINDOWS = "08:00-11:30 / 13:30-20:00"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "version": SCHEMA_VERSION,
    "title": "FPT SMS QC campaign spec",
    "description": "A YAML file that campaign_dag() turns into the QC lifecycle DAG "
    "(create -> push -> approval -> sent -> report).",
    "type": "object",
    "required": ["message", "send_at", "audience"],
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "maxLength": 29,
            "description": "FPT CampaignName (single-use at FPT). A fixed name with a recurring dag_schedule is "
            "refused when the DAG is parsed: leave it out, or template it with the run's date "
            "('tet-{{ ds_nodash }}').",
            "x-default": "slug of dag_id + -yymmddHHMM of the logical date",
            "x-example": "tet-2027",
            "x-hint": "at most 29 characters: FPT allows 32 and 3 are kept for a retry suffix",
        },
        "dag_id": {
            "type": "string",
            "minLength": 1,
            "description": "The Airflow DAG id.",
            "x-default": "qc_ + the file name",
            "x-example": "qc_tet_2027",
        },
        "dag_schedule": {
            "type": ["string", "null"],
            "default": None,
            "description": "The DAG's own Airflow schedule: a cron expression or a preset such as @daily; "
            "none: the DAG runs only when triggered. Not the send time (that is send_at).",
            "x-example": "'@daily'",
        },
        "message": {
            "type": "string",
            "pattern": r"\S",
            "description": "The advertising text, plain text (without accents a message holds 160 characters).",
            "x-example": '"FPT Shop: ... Tu choi QC soan TC gui 9xxx"',
            "x-pattern": "is blank",
        },
        "send_at": {
            "type": "string",
            "pattern": _SEND_AT,
            "description": "FPT's ScheduleTime: next_valid (the first slot FPT accepts when the run creates the "
            f"campaign) or 'YYYY-MM-DD HH:mm' Vietnam time inside {_WINDOWS}.",
            "x-example": "next_valid",
            "x-hint": "write next_valid or a Vietnam time such as '2027-01-20 09:00'",
            "x-pattern": "is not 'YYYY-MM-DD HH:mm' or next_valid",
        },
        "schedule": {
            "type": ["string", "null"],
            "deprecated": True,
            "description": "Old name of send_at (spec version 1); still read, with a warning: rename it to send_at.",
            "x-example": "next_valid",
        },
        "brandname": {
            "type": "string",
            "description": "The registered brandname to send under.",
            "x-default": "the connection's brandname",
            "x-example": "FTI",
        },
        "audience": {
            "type": ["object", "string"],
            "description": "The phone list: a mapping with path (and column), or the path alone.",
            "x-example": "{path: data/audience.csv, column: so_dien_thoai}",
            "required": ["path"],
            "additionalProperties": False,
            "properties": {
                "path": {
                    "type": "string",
                    "minLength": 1,
                    "description": "txt / csv / tsv, optionally .gz; local (relative to the spec, checked at "
                    "parse time) or s3://... gs://...",
                    "x-example": "data/audience.csv",
                },
                "column": {
                    "type": ["string", "integer"],
                    "description": "The CSV column of the phones, by header name or 0-based index; a local "
                    "file's header is checked at parse time.",
                    "x-default": "the first phone-looking header, else the first column",
                    "x-example": "so_dien_thoai",
                },
            },
        },
        "auto_label": {
            "type": ["boolean", "string"],
            "enum": [True, False, "[QC]", "[AD]"],
            "default": False,
            "description": "Add the advertising label when the message lacks it: true for [QC], or the label. "
            "Without it a message that does not start with [QC] or [AD] is refused when the DAG is parsed "
            "(Decree 91/2020/ND-CP). The label counts in the message's parts and quota.",
            "x-example": "true",
        },
        "suppress": {
            "type": ["array", "object", "string"],
            "items": {"type": "string", "minLength": 1},
            "additionalProperties": {"type": "string", "minLength": 1},
            "default": [],
            "description": "Do-not-contact lists checked before the push: a path, a list of paths, or "
            "{name: path}; txt / csv / .gz, local (relative to the spec, checked at parse time) or s3://... "
            "A phone on any of them is never pushed.",
            "x-example": "{dnc: data/dnc-2026-11.csv, opt_outs: data/opt_outs.txt}",
        },
        "max_per_24h": {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": 3,
            "description": "Advertising messages one phone may get from this brandname in any 24 hours, counting "
            "every campaign in the contact history (Decree 91/2020/ND-CP: 3); null switches the cap off.",
            "x-example": "3",
        },
        "prices": {
            "type": "object",
            "additionalProperties": {"type": "number", "minimum": 0},
            "description": "VND per message part by telco (viettel, vina, mobi, vietnamobile, gmobile, itel, reddi, "
            "default), for the cost estimates.",
            "x-default": "the connection's prices extra",
            "x-example": "{viettel: 850, vina: 850, mobi: 850, default: 900}",
        },
        "sign_off": {
            "type": "object",
            "description": "A human approval before the campaign is created (Airflow 3.1+ Human-in-the-loop): the "
            "respondents see a preview (audience, exclusions, cost, the message) and approve or reject; a "
            "rejection, or no answer in time, creates nothing.",
            "x-example": "{respondents: [marketing_lead], timeout_hours: 4}",
            "required": ["respondents"],
            "additionalProperties": False,
            "properties": {
                "respondents": {
                    "type": ["array", "string"],
                    "items": {"type": "string", "minLength": 1},
                    "minItems": 1,
                    "description": "Who may answer: Airflow user ids (the username with the simple auth manager).",
                    "x-example": "[marketing_lead]",
                },
                "timeout_hours": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": 24,
                    "description": "No answer within this time counts as a rejection.",
                    "x-example": "4",
                },
                "notify": {
                    "type": "boolean",
                    "default": False,
                    "description": "Send the alerts phones an SMS when a sign-off waits (needs alerts.phones).",
                    "x-example": "true",
                },
            },
        },
        "quota_margin": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "Extra messages of quota on top of phones x messages per phone.",
            "x-example": "5",
        },
        "chunk_size": {
            "type": "integer",
            "minimum": 1,
            "default": 1000,
            "description": "Phones per push call.",
            "x-example": "1000",
        },
        "report": {
            "type": "object",
            "description": "Where and how long to wait for the delivery report (dlr-ads CSV).",
            "x-example": "{path: s3://bucket/reports/tet-2027.csv, wait_days: 7}",
            "additionalProperties": False,
            "properties": {
                "path": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Where the report CSV goes: local (relative to the spec) or s3://... gs://...",
                    "x-default": "$AIRFLOW_HOME/fptsms/reports/",
                    "x-example": "s3://bucket/reports/tet-2027.csv",
                },
                "wait_days": {
                    "type": "number",
                    "minimum": 0,
                    "default": 7,
                    "description": "How long to wait for every phone to have a final status.",
                    "x-example": "7",
                },
            },
        },
        "alerts": {
            "type": "object",
            "description": "An SMS when a task fails and when the report is in.",
            "x-example": '{phones: ["09xxxxxxxx"], via: fpt}',
            "additionalProperties": False,
            "properties": {
                "phones": {
                    "type": ["array", "string"],
                    "items": {"type": ["string", "integer"]},
                    "default": [],
                    "description": "Who gets the alerts: a list, or one text with commas.",
                    "x-private": True,
                    "x-example": '["09xxxxxxxx"]',
                },
                "via": {
                    "enum": ["fpt", "fibo"],
                    "default": "fpt",
                    "description": "The gateway the alerts go through.",
                    "x-example": "fpt",
                },
            },
        },
        "poll_minutes": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 5,
            "description": "How often the sensors and the report ask FPT; campaign_dag(poll_interval=) (seconds) wins.",
            "x-example": "5",
        },
        "fpt_conn_id": {
            "type": "string",
            "minLength": 1,
            "default": "fptsms_default",
            "description": "The Airflow connection to FPT.",
            "x-example": "fptsms_default",
        },
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "DAG tags, added to fptsms and qc.",
            "x-example": "[marketing]",
        },
        "pool": {
            "type": "string",
            "minLength": 1,
            "description": "Airflow pool of every task, sized for the gateway's rate limit (create it first: "
            "airflow pools set NAME SLOTS DESCRIPTION); default_args['pool'] wins.",
            "x-default": "default_pool",
            "x-example": "fptsms_gateway",
        },
        "pool_slots": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "Pool slots each task takes; default_args['pool_slots'] wins.",
            "x-example": "1",
        },
        "retries": {
            "type": "integer",
            "minimum": 0,
            "description": "Retries of every task, push_phones too; default_args['retries'] wins.",
            "x-default": "Airflow's default_task_retries (push_phones: 3)",
            "x-example": "2",
        },
        "retry_delay_minutes": {
            "type": "number",
            "minimum": 0,
            "description": "Wait between retries; default_args['retry_delay'] wins.",
            "x-default": "Airflow's (5 minutes)",
            "x-example": "10",
        },
    },
}


@dataclass(frozen=True)
class SchemaProblem:
    """One way a spec breaks the schema, worded for a person: ``key`` ``value`` ``problem``; ``hint``."""

    key: str
    value: object
    problem: str
    hint: str


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
    "boolean": "true or false",
}


def _property(path: list[str | int]) -> dict[str, Any]:
    """The schema of the key at ``path`` (list items: the list's schema), {} when unknown."""
    node: dict[str, Any] = SCHEMA
    for part in path:
        if isinstance(part, int):
            continue
        node = node.get("properties", {}).get(part, {})
    return node


def _key(path: list[str | int]) -> str:
    return ".".join(part for part in path if isinstance(part, str)) or "spec"


def _hint(key: str, node: dict[str, Any]) -> str:
    if "x-hint" in node:
        return str(node["x-hint"])
    example = node.get("x-example")
    return f"e.g. {key.rsplit('.', 1)[-1]}: {example}" if example is not None else "see the campaign spec table"


def _problems(error: Any) -> Iterator[SchemaProblem]:
    path = [part for part in error.absolute_path]
    kind = error.validator
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        for unknown in sorted(set(error.instance) - set(known)):
            key = ".".join([*(p for p in path if isinstance(p, str)), str(unknown)])
            close = difflib.get_close_matches(str(unknown), known, n=1)
            hint = f"did you mean '{close[0]}:'? known: {', '.join(known)}" if close else f"known: {', '.join(known)}"
            yield SchemaProblem(key, error.instance[unknown], "is not a known setting", hint)
        return
    if kind == "required":
        for missing in error.validator_value:
            if missing not in error.instance:
                node = error.schema["properties"][missing]
                key = ".".join([*(p for p in path if isinstance(p, str)), missing])
                yield SchemaProblem(key, None, "is required", f"add '{missing}: {node.get('x-example', '...')}'")
        return
    node = _property(path)
    key = _key(path)
    value = error.instance
    if node.get("x-private"):  # phones never reach an error text
        value = "<hidden>"
    if kind == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        problem = "must be " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
    elif kind == "minimum":
        problem = f"must be a number >= {error.validator_value:g}"
    elif kind == "exclusiveMinimum":
        problem = f"must be a number > {error.validator_value:g}"
    elif kind == "maxLength":
        problem = f"is longer than {error.validator_value} characters"
    elif kind == "minLength":
        problem = "is empty"
    elif kind == "enum":
        problem = "must be " + " or ".join(str(v) for v in error.validator_value)
    elif kind == "pattern":
        problem = str(node.get("x-pattern", f"does not match {error.validator_value}"))
    else:  # a keyword this module does not word yet: still name the key
        problem = error.message
    yield SchemaProblem(key, value, problem, _hint(key, node))


def schema_errors(data: dict[str, Any]) -> list[SchemaProblem]:
    """Every way ``data`` breaks :data:`SCHEMA`, in the file's key order (the first is the one to report)."""
    from jsonschema import Draft202012Validator

    order = {key: index for index, key in enumerate(data)}
    errors = sorted(
        Draft202012Validator(SCHEMA).iter_errors(data),
        key=lambda e: (order.get(e.absolute_path[0], len(order)) if e.absolute_path else -1, list(e.absolute_path)),
    )
    return [problem for error in errors for problem in _problems(error)]


# --------------------------------------------------------------------------------------------- the README table


def _rows(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any], bool]]:
    required = set(schema.get("required", ()))
    for name, node in schema.get("properties", {}).items():
        yield prefix + name, node, name in required
        if "properties" in node:
            yield from _rows(node, f"{prefix}{name}.")


def _type_text(node: dict[str, Any]) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    types = node.get("type", [])
    types = types if isinstance(types, list) else [types]
    words = {"string": "text", "integer": "integer", "number": "number", "array": "list", "object": "mapping"}
    text = " or ".join(words.get(str(t), str(t)) for t in types if t != "null")
    bounds = [
        f">= {node['minimum']}" if "minimum" in node else "",
        f"> {node['exclusiveMinimum']}" if "exclusiveMinimum" in node else "",
        f"<= {node['maxLength']} chars" if "maxLength" in node else "",
    ]
    return " ".join([text, *(b for b in bounds if b)])


def _default_text(node: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "x-default" in node:
        return str(node["x-default"]).replace("|", "\\|")
    if "default" not in node:
        return "—"
    default = node["default"]
    return "none" if default is None else f"`{json.dumps(default)}`" if not isinstance(default, str) else f"`{default}`"


def markdown_table() -> str:
    """The README's table of spec keys: key, type, default, meaning (from :data:`SCHEMA`, nothing else)."""
    lines = [
        f"Campaign spec schema version {SCHEMA_VERSION} (`{SCHEMA_ID}`):",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for key, node, required in _rows(SCHEMA):
        meaning = str(node["description"]).replace("|", "\\|")
        if node.get("deprecated"):
            meaning = f"*Deprecated.* {meaning}"
        lines.append(f"| `{key}` | {_type_text(node)} | {_default_text(node, required)} | {meaning} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.write(markdown_table() if "--markdown" in args else json.dumps(SCHEMA, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
