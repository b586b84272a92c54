"""The per-row report's hot-path helpers agree with the slow, obvious ones they stand in for."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways.errors import mask_phone, mask_phones
from airflow_provider_fptsms.operators._rows import csv_line, duplicate_reason, invalid_reason


@given(st.lists(st.text(alphabet="0123456789+", max_size=16)))
def test_mask_phones_is_mask_phone_of_each(phones: list[str]) -> None:
    assert mask_phones(phones) == [mask_phone(p) for p in phones]


@given(st.lists(st.one_of(st.text(), st.integers()), min_size=2, max_size=6))  # a report row has 6+ cells
def test_csv_line_is_what_csv_writer_writes_and_reads_back(values: list[object]) -> None:
    cells = [str(v).replace("\x00", "") for v in values]  # NUL: Python 3.10's csv can neither write nor read it
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    assert csv_line(*values) == out.getvalue()
    assert next(csv.reader(io.StringIO(csv_line(*values), newline=""))) == cells


def test_reasons_say_what_to_do() -> None:
    assert invalid_reason("landline") == (
        "landline. Next step: brandname SMS reaches mobiles only; ask the customer for a mobile number"
    )
    assert invalid_reason("something new") == "something new"
    assert duplicate_reason(3) == "same phone as row 3: it gets one message, not two"
