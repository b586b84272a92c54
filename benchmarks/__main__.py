"""Run every benchmark, print the table with goals beside the figures, save ``benchmarks/results.json``."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from benchmarks import sandbox_throughput


def main() -> None:
    results: dict[str, float] = {}
    rows = []
    rate = sandbox_throughput.measure()
    results["sandbox_cskh_sends_per_s"] = round(rate, 1)
    rows.append(("sandbox_cskh_sends_per_s", f"{rate:,.0f}", ">= 2,000"))
    print(f"\n{'benchmark':<30} {'result':>12}  goal")
    for name, value, goal in rows:
        print(f"{name:<30} {value:>12}  {goal}")
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps({"machine": platform.platform(), "results": results}, indent=2) + "\n")
    print(f"\nsaved {out}")


if __name__ == "__main__":
    main()
