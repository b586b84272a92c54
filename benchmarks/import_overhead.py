"""Cost of importing the provider's operators and sensors in a fresh interpreter, over ``import airflow.sdk``.

DAG files are parsed again and again: heavy imports (aiohttp, phonenumbers, FastAPI) must stay lazy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

BASE = "import airflow.sdk"
OURS = (
    "import airflow.sdk; "
    "import airflow_provider_fptsms.operators.send, airflow_provider_fptsms.operators.campaign, "
    "airflow_provider_fptsms.operators.balance, airflow_provider_fptsms.sensors.campaign, "
    "airflow_provider_fptsms.notifications.sms, airflow_provider_fptsms.spec"
)


def _time(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def measure(runs: int = 7) -> dict[str, float]:
    _time(BASE), _time(OURS)  # warm the file cache
    base, ours = [], []
    for _ in range(runs):  # interleaved, so machine noise hits both sides alike
        base.append(_time(BASE))
        ours.append(_time(OURS))
    b, o = statistics.median(base), statistics.median(ours)
    return {
        "import_airflow_sdk_s": round(b, 3),
        "import_provider_s": round(o, 3),
        "import_overhead_ratio": round(o / b, 3),
    }


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"| {key} | {value} |")
