"""Where operators read phone lists from: a list (or XCom), or a file (local or ObjectStoragePath, gz too)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union

from airflow_provider_fptsms.gateways.errors import InvalidInputError

PhoneSource = Union[Sequence[str], str, os.PathLike, Any]  # noqa: UP007 - also an ObjectStoragePath


@contextmanager
def phone_values(source: PhoneSource, column: str | int | None = None) -> Iterator[Iterator[str]]:
    """Yield an iterator of raw phone values; files are streamed, remote files copied to a temp file first."""
    from airflow_provider_fptsms.sms.phones import read_phones

    if source is None or (isinstance(source, (list, tuple)) and not source):
        raise InvalidInputError("phones", source, "is empty", "pass a list of phones or a file path")
    if isinstance(source, (list, tuple)):
        if column is not None:
            raise InvalidInputError("phone_column", column, "only applies to CSV files", "drop phone_column")
        yield iter(source)
        return
    protocol = getattr(source, "protocol", "")
    if protocol not in ("", "file", "local", None):
        # Remote object (s3://, gs://...): copy it down in a streaming way, keep the suffix for gz/csv detection.
        suffix = "".join(Path(str(source)).suffixes[-2:])
        with tempfile.TemporaryDirectory(prefix="fptsms-") as folder:
            local = Path(folder) / f"phones{suffix}"
            remote_path: Any = source
            with remote_path.open("rb") as remote, local.open("wb") as out:
                shutil.copyfileobj(remote, out, 1 << 20)
            yield read_phones(local, column=column)
        return
    path = getattr(source, "path", None) if protocol else None
    yield read_phones(str(path or source), column=column)


def count_rows(source: PhoneSource) -> int | None:
    """Rows in a list or a local file (for progress and ETA); None when counting would cost a download."""
    if isinstance(source, (list, tuple)):
        return len(source)
    protocol = getattr(source, "protocol", "")
    if protocol not in ("", "file", "local", None):
        return None
    path = Path(str(getattr(source, "path", None) or source))
    if not path.is_file():
        return None
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return sum(1 for _ in handle)
