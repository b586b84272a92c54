"""Where operators read phone lists from: a list (or XCom), or a file (local or ObjectStoragePath, gz too)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from airflow_provider_fptsms.gateways.errors import InvalidInputError

if TYPE_CHECKING:
    from airflow_provider_fptsms.sms.suppression import Suppression

PhoneSource = Union[Sequence[str], str, os.PathLike, Any]  # noqa: UP007 - also an ObjectStoragePath


#: literal phone lists up to this size are registered with Airflow's secrets masker when rendered,
#: so they show as *** in the Rendered tab and in logs (longer lists belong in files)
MASK_LITERAL_PHONES = 500


def mask_literal_phones(source: Any, column: str | int | None = None, extra_keys: Iterable[str] = ()) -> None:
    """Register the phones of a literal list (and, for dicts, the values under ``extra_keys``) as secrets."""
    if not isinstance(source, (list, tuple)) or len(source) > MASK_LITERAL_PHONES:
        return
    from airflow_provider_fptsms.hooks._http import mask

    key = column if isinstance(column, str) else "phone"
    keys = [key, *extra_keys]
    for item in source:
        values = [item.get(k) for k in keys] if isinstance(item, dict) else [item]
        for value in values:
            if isinstance(value, (str, int)) and str(value).strip():
                mask(str(value).strip())


def mask_literal_lists(suppress: Any) -> None:
    """Register the phones of literal do-not-contact lists (``suppress=[...]`` or ``{name: [...]}``) as secrets."""
    for _name, source in _named_sources(suppress):
        mask_literal_phones(source)


#: what a send or push does when its source has no data row at all (a day with nobody to message)
ON_EMPTY = ("fail", "skip", "succeed")


def check_on_empty(on_empty: str) -> None:
    if on_empty not in ON_EMPTY:
        raise InvalidInputError("on_empty", on_empty, f"must be one of {list(ON_EMPTY)}", "e.g. on_empty='skip'")


def when_empty(on_empty: str, source: Any) -> None:
    """A source with no data row: fail (the default), skip the task, or let it succeed having sent nothing."""
    if on_empty == "fail":
        raise InvalidInputError(
            "phones",
            _shown(source),
            "is empty: no data rows",
            "check the export; for days with nobody to message pass on_empty='skip' or on_empty='succeed'",
        )
    if on_empty == "skip":
        from airflow_provider_fptsms._compat import AirflowSkipException

        raise AirflowSkipException(f"phones {_shown(source)} is empty: no data rows, nothing to send (on_empty='skip')")


def as_source(source: Any) -> Any:
    """A list that Jinja rendered as text (``"['0912...', ...]"``, an XCom without native rendering)
    becomes the list again; ``s3://...`` / ``gs://...`` text an ObjectStoragePath; anything else is
    returned as is."""
    if isinstance(source, str) and "://" in source and not source.startswith("file://"):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(source.strip())
    if isinstance(source, str) and source.lstrip().startswith("["):
        import ast

        try:
            value = ast.literal_eval(source.strip())
        except (ValueError, SyntaxError):
            value = None
        if not isinstance(value, list):
            raise InvalidInputError(
                "phones", _shown(source), "looks like a list but is not one", "pass a Python list, or a file path"
            )
        return value
    return source


def _shown(source: Any) -> str:
    """What an error may echo of a source: a path, but never text that may hold phone numbers."""
    text = str(source)
    looks_like_path = ("/" in text or text.endswith((".csv", ".gz", ".txt"))) and not text.lstrip().startswith("[")
    return text if looks_like_path else f"<{type(source).__name__} of {len(text)} characters>"


@contextmanager
def numbered_phones(
    source: PhoneSource, column: str | int | None = None, *, field: str = "phones"
) -> Iterator[Iterator[tuple[int, Any]]]:
    """Yield an iterator of ``(row, raw phone value)``; files are streamed, remote files copied to a temp file first.

    The same rows, numbers and phones, in the same order, as :func:`recipient_rows` gives for the same source:
    both read through :mod:`airflow_provider_fptsms.sms.audience` (this one on its phones-only fast path).
    """
    from airflow_provider_fptsms.sms.audience import read_numbered_phones

    source = _non_empty(as_source(source), field)
    if isinstance(source, (list, tuple)):
        yield read_numbered_phones(source, column)
        return
    with _local_file(source, field) as path:
        yield read_numbered_phones(path, column)


def _non_empty(source: Any, field: str = "phones") -> Any:
    """A source must be given; an empty list is a source with no rows (the operators' ``on_empty`` decides)."""
    if source is None:
        raise InvalidInputError(field, source, "is not set", "pass a list of phones or a file path")
    return source


def count_rows(source: PhoneSource) -> int | None:
    """Rows in a list or a local file (for progress and ETA); None when counting would cost a download."""
    source = as_source(source)
    if isinstance(source, (list, tuple)):
        return len(source)
    if _is_remote(source):
        return None
    path = Path(str(getattr(source, "path", None) or source))
    if not path.is_file():
        return None
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        return sum(1 for _ in handle)


@contextmanager
def recipient_rows(
    source: PhoneSource | Sequence[dict[str, Any]], phone_column: str | int | None = None
) -> Iterator[Iterator[tuple[int, Any, dict[str, str]]]]:
    """Yield ``(row, raw phone, variables)`` for a personalised send.

    ``source`` is a list of phones, a list of dicts (the phone under ``phone_column`` or ``"phone"``,
    every key a template variable), or a file: a CSV/TSV (every column a variable; ``;`` and tabs
    detected) or a list of one phone per line; ``.gz`` too.  Parsing is
    :func:`airflow_provider_fptsms.sms.audience.read_audience`'s, the rules the push reads files by.
    """
    from airflow_provider_fptsms.sms.audience import read_audience

    source = _non_empty(as_source(source))
    if isinstance(source, (list, tuple)):
        yield read_audience(source, phone_column)
        return
    with _local_file(source) as path:
        yield read_audience(path, phone_column)


def _is_remote(source: Any) -> bool:
    return getattr(source, "protocol", "") not in ("", "file", "local", None)


@contextmanager
def _local_file(source: Any, field: str = "phones") -> Iterator[Path]:
    """A local path for ``source``; a remote object (s3://, gs://...) is streamed to a temp file first,
    keeping its suffixes so ``.csv`` / ``.gz`` are still recognised."""
    if _is_remote(source):
        suffix = "".join(Path(str(source)).suffixes[-2:])
        with tempfile.TemporaryDirectory(prefix="fptsms-") as folder:
            local = Path(folder) / f"source{suffix}"
            with source.open("rb") as remote, local.open("wb") as out:
                shutil.copyfileobj(remote, out, 1 << 20)
            yield local
        return
    path = Path(str(getattr(source, "path", None) or source))
    if not path.is_file():
        raise InvalidInputError(
            field, _shown(source), "file not found", "check the path on the worker (or pass a list of phones)"
        )
    yield path


#: ``suppress=``: one source, several, or ``{name: source}`` (the name is what reports and summaries show)
SuppressSource = Union[PhoneSource, Sequence[PhoneSource], dict[str, PhoneSource]]  # noqa: UP007


def read_suppression(suppress: SuppressSource | None, *, international: bool = False) -> Suppression:
    """Read every do-not-contact list of ``suppress`` before the first send (each streamed, a few MB per
    million numbers); a list's numbers are cleaned exactly like the audience's."""
    from airflow_provider_fptsms.sms.suppression import Suppression, build_list

    lists = []
    for name, source in _named_sources(suppress):
        with numbered_phones(source, field=f"suppress[{name}]") as rows:
            listed = build_list(name, rows, international=international)
        if listed.numbers == 0:  # an empty export, or a column that holds no phone: it would protect nobody
            raise InvalidInputError(
                f"suppress[{name}]",
                _shown(source),
                f"holds no phone number ({listed.unreadable} unreadable rows)",
                "check the export; a CSV's phone column is found by its header (phone, sdt, so_dien_thoai...)",
            )
        lists.append(listed)
    return Suppression(lists)


def _named_sources(suppress: Any) -> list[tuple[str, Any]]:
    """``(name, source)`` for each list: a file is named by its file name, a literal list ``list <n>``."""
    suppress = as_source(suppress)
    if suppress is None or (isinstance(suppress, (list, tuple)) and not suppress):
        return []
    if isinstance(suppress, dict):
        return [(str(name), source) for name, source in suppress.items()]
    several = isinstance(suppress, (list, tuple)) and all(_is_list_or_file(item) for item in suppress)
    sources = list(suppress) if several else [suppress]
    named = []
    for number, source in enumerate(sources, 1):
        if isinstance(source, (list, tuple)):
            named.append((f"list {number}", source))
        else:
            named.append((Path(str(getattr(source, "path", None) or source)).name, source))
    return named


def _is_list_or_file(item: Any) -> bool:
    """A whole list, or a path, as opposed to one phone number (no number holds a '/' or a file suffix)."""
    if isinstance(item, (list, tuple, os.PathLike)) or hasattr(item, "protocol"):
        return True
    text = str(item)
    return "/" in text or text.lower().endswith((".csv", ".txt", ".gz", ".tsv"))
