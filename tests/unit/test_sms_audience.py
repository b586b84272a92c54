"""One audience reader: the send (recipient_rows) and the push (numbered_phones) read every file alike.

The parity tests import only ``operators._sources``, so they also run against the code before
``sms/audience.py`` existed (where the send split every CSV on commas and missed ``phone;name``).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.operators._sources import numbered_phones, recipient_rows

PHONES = ["0912345678", "+84 987 654 321", "0901234567"]
NAMES = ["An", "Bình", "Chi"]


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix.lower() == ".gz" else data)
    return path


def _table(delimiter: str, header: bool = True) -> str:
    lines = [f"phone{delimiter}name"] if header else []
    return "\n".join([*lines, *(f"{p}{delimiter}{n}" for p, n in zip(PHONES, NAMES, strict=True))]) + "\n"


def _send(source: Any, column: str | int | None = None) -> list[tuple[int, Any, dict[str, str]]]:
    with recipient_rows(source, column) as rows:
        return list(rows)


def _push(source: Any, column: str | int | None = None) -> list[Any]:
    """The push's phone values; its row numbers must be the send's (both per-row reports name the same rows)."""
    with numbered_phones(source, column) as numbered:
        pairs = list(numbered)
    assert [row for row, _ in pairs] == [row for row, _, _ in _send(source, column)]
    return [value for _, value in pairs]


FILES = {
    "semicolon.csv": _table(";"),
    "comma.csv": _table(","),
    "tab.tsv": _table("\t"),
    "tab.csv": _table("\t"),
    "tab.txt": _table("\t"),  # Excel's "Unicode text" export: tab-separated, named .txt
    "semicolon.csv.gz": _table(";"),
    "bom.csv": "\ufeff" + _table(","),
    "bom-semicolon.CSV.GZ": "\ufeff" + _table(";"),
    "crlf.csv": _table(";").replace("\n", "\r\n"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_send_and_push_read_the_same_phones_and_the_send_sees_name(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, FILES[name])
    rows = _send(path)
    assert [raw for _, raw, _ in rows] == _push(path) == PHONES
    assert [variables["name"] for _, _, variables in rows] == NAMES
    assert [row for row, _, _ in rows] == [1, 2, 3]
    assert _send(str(path)) == rows  # a str path (as templated) reads the same


def test_semicolon_csv_is_split_by_the_send(tmp_path: Path) -> None:
    """The bug: the send read ``phone;name`` as one column (raw phone "0912345678;An", no ``name``)."""
    path = _write(tmp_path / "customers.csv", "phone;name\n0912345678;An\n")
    assert _send(path) == [(1, "0912345678", {"phone": "0912345678", "name": "An"})]
    assert _push(path) == ["0912345678"]


@pytest.mark.parametrize("name", ["headerless.csv", "headerless.csv.gz", "headerless.tsv"])
def test_headerless_table_first_row_is_data(tmp_path: Path, name: str) -> None:
    delimiter = "\t" if ".tsv" in name else ";"
    path = _write(tmp_path / name, _table(delimiter, header=False))
    rows = _send(path)
    assert [raw for _, raw, _ in rows] == _push(path) == PHONES
    assert [row for row, _, _ in rows] == [1, 2, 3]
    assert rows[0][2] == {"col0": PHONES[0], "col1": NAMES[0]}


@pytest.mark.parametrize("name", ["list.txt", "list.txt.gz", "bom.txt"])
def test_plain_list_one_phone_per_line(tmp_path: Path, name: str) -> None:
    text = ("\ufeff" if name.startswith("bom") else "") + "\n".join(PHONES) + "\n"
    path = _write(tmp_path / name, text)
    rows = _send(path)
    assert [raw for _, raw, _ in rows] == _push(path) == PHONES
    assert all(variables == {} for _, _, variables in rows)


def test_phone_column_is_found_by_header_wherever_it_is(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "Họ tên;Số điện thoại;Ghi chú\nAn;0912345678;x\nBình;0987654321;y\n")
    assert [raw for _, raw, _ in _send(path)] == _push(path) == ["0912345678", "0987654321"]
    by_name = _send(path, "số điện thoại")
    assert [raw for _, raw, _ in by_name] == _push(path, "số điện thoại") == ["0912345678", "0987654321"]
    assert by_name[0][2] == {"Họ tên": "An", "Số điện thoại": "0912345678", "Ghi chú": "x"}
    assert _push(path, 0) == [raw for _, raw, _ in _send(path, 0)] == ["An", "Bình"]


def test_blank_rows_are_skipped_but_keep_their_row_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "\n\nphone;name\n0912345678;An\n\n;;\n  ;\n0987654321;Bình\n;Chi\n\n")
    rows = _send(path)
    assert [raw for _, raw, _ in rows] == _push(path) == ["0912345678", "0987654321", ""]  # Chi: "empty"
    assert [row for row, _, _ in rows] == [1, 5, 6]
    listing = _write(tmp_path / "list.txt", "\n0912345678\n\n0987654321\n")
    assert [(row, raw) for row, raw, _ in _send(listing)] == [(1, "0912345678"), (3, "0987654321")]
    assert _push(listing) == ["0912345678", "0987654321"]


def test_a_delimiter_inside_quotes_does_not_count(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", '"Họ, tên";SĐT\n"Nguyễn, An";0912345678\n')
    rows = _send(path)
    assert [raw for _, raw, _ in rows] == _push(path) == ["0912345678"]
    assert rows[0][2] == {"Họ, tên": "Nguyễn, An", "SĐT": "0912345678"}


def test_a_tie_in_the_header_is_settled_by_the_next_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", "ten, ho;sdt\nAn;0912345678\n")  # one "," and one ";" in the header
    assert [raw for _, raw, _ in _send(path)] == _push(path) == ["0912345678"]


def test_lists_give_the_same_phones_to_both(tmp_path: Path) -> None:
    assert [raw for _, raw, _ in _send(PHONES)] == _push(PHONES) == PHONES
    people = [{"phone": p, "name": n} for p, n in zip(PHONES, NAMES, strict=True)]
    rows = _send(people)
    assert [raw for _, raw, _ in rows] == _push(people) == PHONES
    assert [variables["name"] for _, _, variables in rows] == NAMES
    assert _push([{"tel": "0912345678"}], "tel") == ["0912345678"]
    assert _send(str(PHONES)) == _send(PHONES)  # a list rendered as text by Jinja


@pytest.mark.parametrize("read", [_send, _push])
def test_errors_surface_at_the_call(tmp_path: Path, read: Any) -> None:
    table = _write(tmp_path / "list.csv", _table(";"))
    with pytest.raises(InvalidInputError, match="not in header"):
        read(table, "email")
    listing = _write(tmp_path / "list.txt", "0912345678\n")
    with pytest.raises(InvalidInputError, match="no columns"):
        read(listing, 0)
    with pytest.raises(InvalidInputError, match="file not found"):
        read(tmp_path / "nope.csv")
    assert list(read([])) == []  # no rows: the operators' on_empty decides what that means
    with pytest.raises(InvalidInputError, match="is missing from item 2"):
        read([{"phone": "0912345678"}, {"tel": "0987654321"}])
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("SĐT;ten\n0912345678;An\n".encode("utf-16"))
    with pytest.raises(InvalidInputError, match="encoding"):
        read(utf16)


def test_read_audience_streams_in_flat_memory(tmp_path: Path) -> None:
    from airflow_provider_fptsms.sms.audience import read_audience

    rows = 60_000
    path = _write(tmp_path / "big.csv", "sdt;ten\n" + "".join(f"09{i % 10}{i:07d};Khach {i}\n" for i in range(rows)))
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_audience(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert peak < 512 * 1024, f"peak {peak:,} bytes: the file was materialised"


def test_layout_is_decided_once_and_shared(tmp_path: Path) -> None:
    from airflow_provider_fptsms.sms.audience import layout, read_audience, read_phones

    path = _write(tmp_path / "list.csv", _table(";"))
    plan = layout(path)
    assert (plan.delimiter, plan.index, plan.has_header, plan.names) == (";", 0, True, ("phone", "name"))
    assert list(read_phones(plan)) == [raw for _, raw, _ in read_audience(plan)] == PHONES


def test_audience_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_provider_fptsms.sms.audience\n"
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.') or m == 'phonenumbers']\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
