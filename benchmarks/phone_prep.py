"""Phone list preparation: normalise + validate + dedupe 1,000,000 VN numbers, against phonenumbers per row.

The numbers are generated deterministically (seeded) into a temporary text file, never held as a list.
Our side (:func:`~airflow_provider_fptsms.sms.phones.clean` over
:func:`~airflow_provider_fptsms.sms.phones.read_phones`) runs on the full file in a fresh child process, so
its peak RSS (``VmHWM``) is that of the cleaner alone.  The baseline (``phonenumbers.parse(raw, "VN")`` +
``is_valid_number`` per row, nothing else) is timed on the first rows of the same file and its rate
extrapolated: at ~15,000 rows/s a full baseline run would take over a minute for no extra information.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from airflow_provider_fptsms.sandbox.worker import peak_rss_mb

GOALS = {
    "phone_prep_speedup_vs_phonenumbers": ">= 20",
    "phone_prep_peak_rss_mb": "<= 150",
    "phone_prep_rows_per_s": "(info)",
}
_PREFIXES = [*range(32, 40), 56, 58, 59, 70, *range(76, 80), *range(81, 89), *range(90, 95), 96, 97, 98]
_BLOCKS = tuple(str(prefix) for prefix in _PREFIXES)  # whole 2-digit prefixes: every block in them is mobile
_INVALID = ("0951234567", "02438123456", "091234567", "09123456789", "01621234567", "0912abc678", "0301234567")


def generate(n: int, seed: int = 20240501) -> Iterator[str]:
    """Mixed spellings of VN mobiles, ~2% invalid, ~5% drawn from a small pool (duplicates), deterministic."""
    rng = random.Random(seed)
    for _ in range(n):
        roll = rng.random()
        if roll < 0.02:
            yield rng.choice(_INVALID)
            continue
        prefix = rng.choice(_BLOCKS)
        subscriber = rng.randrange(10_000) if roll < 0.07 else rng.randrange(10_000_000)
        yield _spell(rng.randrange(20), f"{prefix}{subscriber:07d}")


def _spell(style: int, national: str) -> str:
    """One of the spellings seen in customer files; the last two take the slow path on purpose."""
    if style < 6:
        return "0" + national
    if style < 9:
        return "84" + national
    if style < 12:
        return "+84" + national
    if style < 13:
        return "0084" + national
    if style < 15:
        return f"0{national[:2]} {national[2:5]} {national[5:]}"
    if style < 16:
        return f"0{national[:3]}.{national[3:6]}.{national[6:]}"
    if style < 18:
        return f"(+84) {national[:2]}-{national[2:5]}-{national[5:]}"
    if style < 19:
        return f"+84 (0) {national[:2]} {national[2:5]} {national[5:]}"
    return national  # a spreadsheet dropped the leading 0


def write_numbers(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for value in generate(n):
            handle.write(value + "\n")


def baseline_rate(path: Path, sample: int) -> float:
    """Rows/s of ``phonenumbers.parse(raw, "VN")`` + ``is_valid_number`` on the first ``sample`` rows."""
    import phonenumbers

    with path.open(encoding="utf-8") as handle:
        rows = [line.strip() for _, line in zip(range(sample), handle, strict=False)]
    phonenumbers.is_valid_number(phonenumbers.parse("0912345678", "VN"))  # metadata loaded before the clock
    started = time.perf_counter()
    for raw in rows:
        try:
            phonenumbers.is_valid_number(phonenumbers.parse(raw, "VN"))
        except phonenumbers.NumberParseException:
            continue
    return len(rows) / (time.perf_counter() - started)


def child(path: str) -> dict[str, float]:
    """Our side, run in a fresh interpreter: full file, stats on, dedupe on."""
    from airflow_provider_fptsms.sms.phones import PhoneStats, clean, read_phones

    stats = PhoneStats()
    started = time.perf_counter()
    for _ in clean(read_phones(path), stats=stats):
        pass
    elapsed = time.perf_counter() - started
    return {
        "rows": stats.total,
        "valid": stats.valid,
        "invalid": stats.invalid,
        "duplicates": stats.duplicates,
        "seconds": elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "phonenumbers_imported": float("phonenumbers" in sys.modules),
    }


def measure(n: int = 1_000_000, sample: int = 50_000) -> dict[str, float]:
    """The three figures (see the module docstring for how each is taken)."""
    return _run(n, sample)[0]


def _run(n: int, sample: int) -> tuple[dict[str, float], str]:
    with tempfile.TemporaryDirectory(prefix="phone-prep-") as folder:
        path = Path(folder) / "numbers.txt"
        write_numbers(path, n)
        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        reply = subprocess.run(
            [sys.executable, "-m", "benchmarks.phone_prep", "--child", str(path)],
            check=True,
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
        )
        ours = json.loads(reply.stdout)
        base = baseline_rate(path, min(sample, n))
    rate = ours["rows"] / ours["seconds"]
    note = (
        f"{int(ours['rows']):,} rows ({int(ours['valid']):,} valid, {int(ours['invalid']):,} invalid, "
        f"{int(ours['duplicates']):,} duplicates) cleaned in {ours['seconds']:.2f} s in a child process "
        f"(phonenumbers imported there: {bool(ours['phonenumbers_imported'])}); baseline = phonenumbers "
        f"parse + is_valid_number timed on the first {min(sample, n):,} rows ({base:,.0f} rows/s), extrapolated."
    )
    figures = {
        "phone_prep_speedup_vs_phonenumbers": round(rate / base, 1),
        "phone_prep_peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "phone_prep_rows_per_s": round(rate),
    }
    return figures, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000, help="rows timed for the phonenumbers baseline")
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    figures, note = _run(args.rows, args.sample)
    for name, value in figures.items():
        print(f"| {name} | {value:,} | goal {GOALS[name]} |")
    print(f"\n{note}")


if __name__ == "__main__":
    main()
