"""OpenLineage: what the send, create, push and report operators read and wrote (the ``openlineage`` extra).

With ``apache-airflow-providers-openlineage`` installed and configured, Airflow asks each operator's
``get_openlineage_facets_on_complete`` for its inputs and outputs; the operators answer from here, with the
values the task used (after templating). The lineage a QC campaign draws is audience file -> campaign ->
delivery report; a CSKH send's is recipients file -> send -> per-row results file.

Dataset names follow OpenLineage's naming spec; the gateway's own objects reuse the URIs of
:mod:`airflow_provider_fptsms.assets` (namespace = scheme and authority, name = path):

* a local file: namespace ``file``, name its absolute path;
* ``s3://bucket/key``: namespace ``s3://bucket``, name ``key`` (``gs://`` likewise; another object store
  ``<scheme>://<authority>`` and its key);
* a QC campaign: namespace ``fptsms://fpt``, name ``campaigns/<campaign_code>``;
* a CSKH send: namespace ``fptsms://<fpt|fibo>``, name ``sends/<dag_id>/<task_id>`` (its asset's URI).

Which operator reads and writes what:

* ``FptSendSmsOperator`` / ``FiboSendSmsOperator``: inputs the ``phones`` file and the ``suppress`` files;
  outputs the send and its per-row report (``output_path`` or the default one). A dry run has no output.
* ``FptCreateCampaignOperator``: inputs the audience (``phones``) and ``suppress`` files; output the campaign
  it created (none for a dry run).
* ``FptPushCampaignOperator``: inputs the ``phones`` and ``suppress`` files; outputs the campaign and the push
  report it wrote.
* ``FptCampaignReportOperator``: input the campaign; output the report file it wrote.

A literal list of phones (or a list from an XCom) is no dataset: it adds no input, so no phone number ever
reaches a lineage event; neither does a message text. Nothing here imports OpenLineage at module
level: the package works without the extra, and only the ``*_lineage`` functions need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

#: namespace and name of a dataset
Name = tuple[str, str]

#: the namespace of the gateways' own datasets, as in :mod:`airflow_provider_fptsms.assets`
SCHEME = "fptsms"
#: how a path that is not a URL must end to be taken as a file (as the sources read them)
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".gz")
#: OpenLineage's scheme for object stores that fsspec knows under several names
SCHEME_ALIASES = {"gcs": "gs", "s3a": "s3", "s3n": "s3"}


def source_name(source: Any) -> Name | None:
    """The dataset of a phones source: a file path, a ``file://`` / ``s3://`` / ``gs://`` URL or an
    ObjectStoragePath; ``None`` for anything else (a literal list, a list from an XCom, ``None``), so a
    phone number never becomes a dataset name."""
    if source is None or isinstance(source, (list, tuple, dict, set, frozenset, bytes)):
        return None
    if isinstance(source, os.PathLike) or hasattr(source, "protocol"):  # a Path, an ObjectStoragePath
        return path_name(str(source))
    if not isinstance(source, str):
        return None
    text = source.strip()
    looks_like_path = "/" in text or text.lower().endswith(FILE_SUFFIXES)
    return path_name(text) if looks_like_path and not text.startswith("[") else None


def path_name(path: str) -> Name:
    """The dataset of a file: ``("file", "/abs/path")`` for a local one (a relative path is resolved as the
    task read it), ``("s3://bucket", "key")`` for an object; credentials in a URL are left out."""
    if "://" not in path:
        return "file", os.path.abspath(path)
    scheme, rest = path.split("://", 1)
    scheme = SCHEME_ALIASES.get(scheme.lower(), scheme.lower())
    authority, _, key = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:  # user:password@host: a secret, never a name
        authority = host
    if scheme in ("file", "local"):
        return ("file", f"/{key}") if not authority else (f"file://{authority}", f"/{key}")
    return f"{scheme}://{authority}", key or "/"


def suppress_names(suppress: Any) -> list[Name]:
    """The datasets of the do-not-contact files of ``suppress`` (literal lists are none)."""
    from airflow_provider_fptsms.operators._sources import _named_sources

    try:
        sources = [source for _name, source in _named_sources(suppress)]
    except Exception:  # a value the task itself would have refused: it names nothing
        return []
    return [name for name in map(source_name, sources) if name is not None]


def campaign_name(campaign_code: str) -> Name:
    """A QC campaign: ``("fptsms://fpt", "campaigns/<campaign_code>")``."""
    return f"{SCHEME}://fpt", f"campaigns/{campaign_code}"


def send_name(gateway: str, dag_id: str, task_id: str) -> Name:
    """A CSKH send, as :func:`airflow_provider_fptsms.assets.send_asset` names it:
    ``("fptsms://fpt", "sends/<dag_id>/<task_id>")``."""
    return f"{SCHEME}://{gateway.lower()}", f"sends/{dag_id}/{task_id}"


def audience_names(operator: Any) -> list[Name]:
    """The files an operator reads phones from: its ``phones`` (or audience) and its ``suppress`` lists."""
    names = [source_name(getattr(operator, "phones", None)), *suppress_names(getattr(operator, "suppress", None))]
    return _unique(name for name in names if name is not None)


def send_names(operator: Any, task_instance: Any) -> tuple[list[Name], list[Name]]:
    """Inputs and outputs of a CSKH / Fibo send that completed: the send and its per-row report."""
    if operator._dry_run:
        return audience_names(operator), []
    from airflow_provider_fptsms.operators._rows import default_path

    dag_id, task_id = _ids(operator, task_instance)
    report = operator.output_path or default_path(cast("Context", {"ti": task_instance}), "sends")
    return audience_names(operator), [send_name(operator.gateway, dag_id, task_id), path_name(str(report))]


def create_names(operator: Any) -> tuple[list[Name], list[Name]]:
    """Inputs and outputs of a campaign creation: the audience, and the campaign (none for a dry run)."""
    code = None if operator._dry_run else operator.link_campaign_code
    return audience_names(operator), [campaign_name(code)] if code else []


def push_names(operator: Any) -> tuple[list[Name], list[Name]]:
    """Inputs and outputs of a push: the audience, then the campaign and the push report written."""
    written = getattr(operator, "_written_path", None)
    outputs = [campaign_name(operator.campaign_code), *([path_name(str(written))] if written else [])]
    return audience_names(operator), outputs


def report_names(operator: Any) -> tuple[list[Name], list[Name]]:
    """Inputs and outputs of a delivery report fetch: the campaign, and the report file written."""
    written = getattr(operator, "_written_path", None)
    return [campaign_name(operator.campaign_code)], [path_name(str(written))] if written else []


def send_lineage(operator: Any, task_instance: Any) -> OperatorLineage:
    """``get_openlineage_facets_on_complete`` of the send operators."""
    return operator_lineage(*send_names(operator, task_instance))


def create_lineage(operator: Any, task_instance: Any) -> OperatorLineage:
    """``get_openlineage_facets_on_complete`` of ``FptCreateCampaignOperator``."""
    return operator_lineage(*create_names(operator))


def push_lineage(operator: Any, task_instance: Any) -> OperatorLineage:
    """``get_openlineage_facets_on_complete`` of ``FptPushCampaignOperator``."""
    return operator_lineage(*push_names(operator))


def report_lineage(operator: Any, task_instance: Any) -> OperatorLineage:
    """``get_openlineage_facets_on_complete`` of ``FptCampaignReportOperator``."""
    return operator_lineage(*report_names(operator))


def operator_lineage(inputs: Iterable[Name], outputs: Iterable[Name]) -> OperatorLineage:
    """The OpenLineage provider's ``OperatorLineage`` of these datasets (needs the ``openlineage`` extra)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(
        inputs=[Dataset(namespace=namespace, name=name) for namespace, name in inputs],
        outputs=[Dataset(namespace=namespace, name=name) for namespace, name in outputs],
    )


def _ids(operator: Any, task_instance: Any) -> tuple[str, str]:
    dag_id = getattr(task_instance, "dag_id", None) or operator.dag_id
    return str(dag_id), str(getattr(task_instance, "task_id", None) or operator.task_id)


def _unique(names: Iterable[Name]) -> list[Name]:
    return list(dict.fromkeys(names))


__all__ = [
    "campaign_name",
    "create_lineage",
    "operator_lineage",
    "path_name",
    "push_lineage",
    "report_lineage",
    "send_lineage",
    "send_name",
    "source_name",
]
