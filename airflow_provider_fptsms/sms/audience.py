"""The audience reader: one way to read a recipient file or list, for the personalised send and the push alike.

Why one module: the send and the campaign push used to parse the same file each in their own way (the send
split every CSV on commas, the push sniffed ``;`` and tabs), so a ``phone;name`` export from Excel was one
column to one and two columns to the other.  Here every decision is taken once per file, by :func:`layout`,
from its first non-blank line(s), and both readers below follow it:

* format: ``.csv`` / ``.tsv`` are tables.  Any other file (``.txt``) is a list of one value per line, no
  header; unless its first line holds a delimiter (a phone number never does): then it is a table too.
  ``.gz`` is read through gzip; UTF-8 with or without BOM by default.
* delimiter: tab for ``.tsv``; else the most frequent of ``,`` ``;`` tab outside quotes in the first line
  (a tie goes to the one the second line agrees with), else ``,``.
* header and phone column: :func:`phone_column` (the column named or
  indexed, else the first phone-looking header, else the first column; a first row whose phone cell is
  already a number is data, not a header).
* blank rows (every cell blank) are skipped.  Rows are numbered as the file's data rows: 1-based, the
  header excluded, a skipped blank row keeping its number.

:func:`read_audience` yields ``(row, raw phone, variables)`` (a personalised send needs every column);
:func:`read_phones` yields the phone cells only, and :func:`read_numbered_phones` them with their row numbers,
on a fast path without dicts, because the push streams millions of rows through it.  All three stream: memory
stays flat whatever the file's size.

Pure Python: no Airflow, no network (``sms/`` stays importable without Airflow; operators copy a remote
file to a local one before calling in here).
"""

from __future__ import annotations

import csv
import gzip
import os
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

from airflow_provider_fptsms.gateways.errors import InvalidInputError, mask_phone

__all__ = ["DELIMITERS", "AudienceRow", "Layout", "layout", "read_audience", "read_numbered_phones", "read_phones"]

#: The delimiters a table may use: Excel writes ``;`` in locales with a decimal comma, tabs as "Unicode text".
DELIMITERS = (",", ";", "\t")

#: ``(row, raw phone, variables)``: the raw phone is a str for files, whatever the caller put in a list.
AudienceRow = tuple[int, Any, dict[str, str]]

_TABLE_SUFFIXES = (".csv", ".tsv")
_BLANK = ' \t\r\n,;"'  # a line made only of these holds no data (",,," is an empty spreadsheet row)
_BLOCK_CHARS = 8192  # read_phones' read size, as TextIOWrapper's own chunks: ~700 numbers


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file is read, decided once from its first lines: shared by every reader of the file."""

    path: Path
    encoding: str
    #: None: a plain list, one value per line; else the table's delimiter.
    delimiter: str | None
    #: the phone column (0 for a plain list)
    index: int
    #: whether the first non-blank row is a header (never for a plain list)
    has_header: bool
    #: variable names: the header's cells stripped, or ``col0, col1...`` for a headerless table; () for a list
    names: tuple[str, ...]


def layout(path: str | os.PathLike[str], column: str | int | None = None, encoding: str = "utf-8-sig") -> Layout:
    """Decide format, delimiter, header and phone column of a local file (errors surface here, at the call)."""

    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(
            "path", str(path), "file not found", "check the path (relative paths resolve from the worker's cwd)"
        )
    first, second = _first_lines(file, encoding)
    if not first:  # 0 bytes or blank lines only: nothing to read, and no header to check a column against
        return Layout(file, encoding, None, 0, False, ())
    suffix = _suffix(file)
    if suffix == ".tsv":
        delimiter: str | None = "\t"
    else:
        delimiter = _sniff(first, second)
        if delimiter is None and suffix == ".csv":
            delimiter = ","  # a one-column table: still a table (its header, if any, is skipped)
    if delimiter is None:
        if column is not None:
            raise InvalidInputError(
                "column", column, "plain-text files have no columns", "drop column= or use a .csv / .tsv file"
            )
        return Layout(file, encoding, None, 0, False, ())
    header = next(csv.reader([first], delimiter=delimiter), []) if first else []
    index, has_header = phone_column(header, column)
    names = tuple(cell.strip() for cell in header) if has_header else tuple(f"col{i}" for i in range(len(header)))
    return Layout(file, encoding, delimiter, index, has_header, names)


def read_phones(
    source: str | os.PathLike[str] | Layout | list[Any] | tuple[Any, ...],
    column: str | int | None = None,
    encoding: str = "utf-8-sig",
) -> Iterator[Any]:
    """The phone values only, in order (the push's hot path): a file's phone cells stripped, a list of phones
    as is, a list of dicts' phone values.

    The phones :func:`read_audience` gives for the same source, without building row numbers or dicts.
    """
    if isinstance(source, (list, tuple)):
        if source and isinstance(source[0], dict):
            key = _phone_key(source, column)
            return (item[key] for item in source)
        _no_column_for_a_list(column)
        return iter(source)
    plan = source if isinstance(source, Layout) else layout(source, column, encoding)
    if plan.delimiter is None:
        return _list_only(plan)
    return (value for _, value in _table_values(plan))


def read_numbered_phones(
    source: str | os.PathLike[str] | Layout | list[Any] | tuple[Any, ...],
    column: str | int | None = None,
    encoding: str = "utf-8-sig",
) -> Iterator[tuple[int, Any]]:
    """``(row, phone value)``, numbered as :func:`read_audience` numbers rows, without building dicts: what
    a per-row report of the push needs to name the same rows the send names."""
    if isinstance(source, (list, tuple)):
        return enumerate(read_phones(source, column), 1)
    plan = source if isinstance(source, Layout) else layout(source, column, encoding)
    if plan.delimiter is None:
        return _list_values(plan)
    return _table_values(plan)


def read_audience(
    source: str | os.PathLike[str] | Layout | list[Any] | tuple[Any, ...],
    column: str | int | None = None,
    encoding: str = "utf-8-sig",
) -> Iterator[AudienceRow]:
    """Stream ``(row, raw phone, variables)`` of a file or a list, validated now and read lazily.

    * a file (see the module docstring): a table's variables are its columns by header name (``col0``...
      without a header); a plain list has none;
    * a list of dicts: the phone under ``column`` (or ``"phone"``), every key a variable (``None`` -> ``""``);
    * a list of phones: no variables (``column`` is refused: there are no columns to pick from).
    """
    if isinstance(source, (list, tuple)):
        if source and isinstance(source[0], dict):
            return _dict_rows(source, column)
        _no_column_for_a_list(column)
        return ((i, value, {}) for i, value in enumerate(source, 1))
    plan = source if isinstance(source, Layout) else layout(source, column, encoding)
    if plan.delimiter is None:
        return _list_rows(plan)
    return _table_rows(plan)


# --------------------------------------------------------------------------------------------- lists


def _no_column_for_a_list(column: str | int | None) -> None:
    if column is not None:
        raise InvalidInputError("phone_column", column, "only applies to CSV files", "drop phone_column")


def _phone_key(items: Sequence[dict[str, Any]], column: str | int | None) -> str:
    """The key that holds the phone in every item (checked now: a missing key fails before any send)."""
    key = column if isinstance(column, str) else "phone"
    missing = next((i for i, item in enumerate(items, 1) if key not in item), None)
    if missing is not None:
        raise InvalidInputError("phone_column", key, f"is missing from item {missing}", "name the phone key")
    return key


def _dict_rows(items: Sequence[dict[str, Any]], column: str | int | None) -> Iterator[AudienceRow]:
    key = _phone_key(items, column)
    return (
        (i, item[key], {k: "" if v is None else str(v) for k, v in item.items()}) for i, item in enumerate(items, 1)
    )


# --------------------------------------------------------------------------------------------- files


def _suffix(file: Path) -> str:
    """``.csv`` / ``.tsv`` (also under ``.gz``, any case), else ""."""
    suffixes = [suffix.lower() for suffix in file.suffixes[-2:]]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes[-1:] and suffixes[-1] in _TABLE_SUFFIXES else ""


def _open_text(file: Path, encoding: str, newline: str | None = None) -> IO[str]:
    """Open plain or ``.gz`` files alike, as text."""
    if file.suffix.lower() == ".gz":
        return gzip.open(file, "rt", encoding=encoding, newline=newline)
    return open(file, encoding=encoding, newline=newline)


def _encoding_error(encoding: str) -> InvalidInputError:
    """Say which encodings to try instead of a bare UnicodeDecodeError (Vietnamese Excel exports vary)."""
    return InvalidInputError(
        "encoding", encoding, "the file is not in this encoding", "pass encoding='cp1258' or encoding='utf-16'"
    )


def _first_lines(file: Path, encoding: str) -> tuple[str, str]:
    """The first two non-blank lines ("" when absent): enough to sniff the delimiter and read the header."""
    found: list[str] = []
    with _open_text(file, encoding, newline="") as handle:
        try:
            for line in handle:
                if line.strip(_BLANK):
                    found.append(line)
                    if len(found) == 2:
                        break
        except UnicodeDecodeError:
            raise _encoding_error(encoding) from None
    found += ["", ""]
    return found[0], found[1]


def _count(line: str, char: str) -> int:
    """Occurrences of ``char`` outside double quotes (``"Nguyễn, An";0912...`` has one ``;`` and no ``,``)."""
    if '"' not in line:
        return line.count(char)
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def _sniff(first: str, second: str) -> str | None:
    """The most frequent delimiter of the first line; a tie goes to the one the second line agrees with.

    None when the first line has none: one value per line (or a one-column table).
    """
    counts = {d: _count(first, d) for d in DELIMITERS}
    best = max(counts.values())
    if not best:
        return None
    tied = [d for d in DELIMITERS if counts[d] == best]
    if len(tied) > 1 and second:
        agreeing = [d for d in tied if _count(second, d) == best]
        tied = agreeing or tied
    return tied[0]


def _filled(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _list_values(plan: Layout) -> Iterator[tuple[int, str]]:
    number = 0  # line numbers from the first non-blank line
    with _open_text(plan.path, plan.encoding) as handle:
        try:
            for line in handle:
                value = line.strip()
                if value:
                    number += 1
                    yield number, value
                elif number:
                    number += 1
        except UnicodeDecodeError:
            raise _encoding_error(plan.encoding) from None


def _list_only(plan: Layout) -> Iterator[str]:
    """:func:`_list_values`' values without the row numbers, for :func:`read_phones`: the file is read in
    blocks, each split on ``"\\n"`` (newlines are translated already) and stripped by ``map`` into a list that
    ``chain`` hands out, so that no Python code runs per row: about a third cheaper than line by line."""
    return chain.from_iterable(_list_blocks(plan))


def _list_blocks(plan: Layout) -> Iterator[list[str]]:
    """The non-blank lines of a plain list, stripped, a block at a time.  A byte that does not decode fails
    the block that holds it: the lines before it in that block are not yielded first, as they would be line
    by line (the error is the same)."""
    with _open_text(plan.path, plan.encoding) as handle:
        try:
            rest = ""
            while block := handle.read(_BLOCK_CHARS):
                lines = (rest + block).split("\n")
                rest = lines.pop()  # the block's last line may go on in the next block
                yield list(filter(None, map(str.strip, lines)))
        except UnicodeDecodeError:
            raise _encoding_error(plan.encoding) from None
        rest = rest.strip()
        if rest:
            yield [rest]


def _list_rows(plan: Layout) -> Iterator[AudienceRow]:
    return ((number, value, {}) for number, value in _list_values(plan))


def _first_row(rows: Iterator[list[str]]) -> list[str] | None:
    """Skip leading blank rows: the first non-blank row (the header, or the first data row), None if none."""
    for cells in rows:
        if _filled(cells):
            return cells
    return None


def _table_values(plan: Layout) -> Iterator[tuple[int, str]]:
    index = plan.index
    with _open_text(plan.path, plan.encoding, newline="") as handle:
        try:
            rows = csv.reader(handle, delimiter=plan.delimiter or ",")
            first = _first_row(rows)
            if first is None:
                return
            if not plan.has_header:
                yield 1, first[index].strip() if index < len(first) else ""
            # the hot loop: one strip per row, the blank check only on an empty phone cell
            for number, cells in enumerate(rows, 1 if plan.has_header else 2):
                if index < len(cells):
                    value = cells[index].strip()
                    if value or _filled(cells):
                        yield number, value  # an empty phone cell on a filled row is yielded ("" is reported "empty")
                elif _filled(cells):
                    yield number, ""
        except UnicodeDecodeError:
            raise _encoding_error(plan.encoding) from None


def _table_rows(plan: Layout) -> Iterator[AudienceRow]:
    index, names = plan.index, plan.names
    with _open_text(plan.path, plan.encoding, newline="") as handle:
        try:
            rows = csv.reader(handle, delimiter=plan.delimiter or ",")
            first = _first_row(rows)
            if first is None:
                return
            if not plan.has_header:
                yield 1, first[index].strip() if index < len(first) else "", dict(zip(names, first, strict=False))
            for number, cells in enumerate(rows, 1 if plan.has_header else 2):
                value = cells[index].strip() if index < len(cells) else ""
                if value or _filled(cells):
                    yield number, value, dict(zip(names, cells, strict=False))
        except UnicodeDecodeError:
            raise _encoding_error(plan.encoding) from None


# --------------------------------------------------------------------------------------------- columns

_HEADER_WORDS = ("phone", "msisdn", "sdt", "sodienthoai", "dienthoai", "mobile")
_SEPARATORS = str.maketrans("", "", " .-()\t\u00a0")


def phone_column(header: list[str], column: str | int | None = None) -> tuple[int, bool]:
    """Which column of a CSV holds the phones: ``(index, first row is a header)``.

    ``column`` by name (case-insensitive) or index; None picks the first phone-looking header
    (phone, msisdn, sdt, so_dien_thoai, mobile...), else the first column.
    """
    return _pick_column(header, column)


def _pick_column(header: list[str], column: str | int | None) -> tuple[int, bool]:
    """(column index, whether the first row is a header) for ``column`` given by name, index or None."""
    if isinstance(column, str):
        wanted = column.strip().casefold()
        for index, name in enumerate(header):
            if name.strip().casefold() == wanted:
                return index, True
        raise InvalidInputError("column", column, f"not in header {_shown(header)}", "pass a header name or an index")
    if isinstance(column, int) and not isinstance(column, bool):
        if not 0 <= column < max(len(header), 1):
            raise InvalidInputError("column", column, f"not in header {_shown(header)}", "indexes start at 0")
        return column, not _looks_like_number(header[column] if header else "")
    if column is not None:
        raise InvalidInputError("column", repr(column), "must be a header name, an index or None")
    for index, name in enumerate(header):
        if _looks_like_phone_header(name):
            return index, True
    return 0, not _looks_like_number(header[0] if header else "")


def _looks_like_phone_header(name: str) -> bool:
    """``Phone``, ``MSISDN``, ``SĐT``, ``Số điện thoại``, ``so_dien_thoai``, ``mobile_no``... -> True."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D")).casefold()
    key = "".join(char for char in folded if char.isascii() and char.isalnum())
    return any(word in key for word in _HEADER_WORDS)


def _looks_like_number(cell: str) -> bool:
    """A first row that already holds a number means the file has no header."""
    digits = cell.strip().translate(_SEPARATORS).lstrip("+")
    return len(digits) >= 6 and digits.isdigit()


def _shown(header: list[str]) -> str:
    """The header for an error message, with number-like cells masked (a headerless file's first row is data)."""
    return "[" + ", ".join(mask_phone(cell) if _looks_like_number(cell) else repr(cell) for cell in header) + "]"
