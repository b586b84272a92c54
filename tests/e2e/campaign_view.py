"""The campaign view in the real deployment: served by the api-server behind Airflow's login, its figures equal to
what the sandbox holds, and (when a Chromium is on the machine) a screenshot of it inside the Airflow UI."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Protocol

import requests

from airflow_provider_fptsms.plugins import CAMPAIGNS_PREFIX, CAMPAIGNS_ROUTE
from airflow_provider_fptsms.sandbox.client import SandboxClient
from tests.e2e.api import AirflowApi

#: a browser for the screenshot: $FPTSMS_E2E_CHROMIUM, else Debian's chromium package
CHROMIUM = os.environ.get("FPTSMS_E2E_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: where the README's screenshot lives; `make e2e` refreshes it when FPTSMS_E2E_SCREENSHOT=docs
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "campaign-view.png"
#: flags that keep a headless Chromium off this closed network (and quiet)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Report(Protocol):
    def add(self, name: str, ok: bool, detail: str, started: float) -> bool: ...


def check_campaign_view(report: Report, api: AirflowApi, admin: SandboxClient, work: Path) -> None:
    started = time.perf_counter()
    base = f"{api.url}{CAMPAIGNS_PREFIX}"
    anonymous = requests.get(f"{base}/api/campaigns", timeout=30).status_code
    listed = api.session.get(f"{base}/api/campaigns", timeout=30).json()["campaigns"]
    lifecycle = [c for c in listed if c["dag_id"] == "qc_campaign_lifecycle"]
    checked = []
    for item in lifecycle:
        detail = api.session.get(f"{base}/api/campaign", params={"code": item["campaign_code"]}, timeout=30).json()
        funnel = {stage["stage"]: stage["phones"] for stage in detail["funnel"]}
        pushed = len({e["phone"] for e in admin.ledger(campaign_code=item["campaign_code"])})
        [held] = [c for c in admin.campaigns() if c["CampaignCode"] == item["campaign_code"]]
        report_rows = (detail["report"] or {}).get("rows")
        checked.append(
            detail["state"] == "reported"
            and funnel["pushed"] == funnel["sent"] == pushed == held["Total"] == report_rows
            and funnel["delivered"] == detail["report"]["delivered"]
            and bool(item["run_url"])
        )
    sends = api.session.get(f"{base}/api/sends", timeout=30).json()["sends"]
    rated = [s for s in sends if s["dag_id"] == "e2e_cskh_delivery" and s["delivery_rate"] is not None]
    ok = anonymous == 401 and len(lifecycle) >= 2 and all(checked) and bool(rated)
    shown = [(c["name"], c["state"]) for c in lifecycle]
    detail_text = (
        f"anonymous {anonymous}; {len(listed)} campaign(s), lifecycle {shown} match the sandbox: {checked}; "
        f"{len(rated)} CSKH send(s) with a delivery rate ({[s['delivery_rate'] for s in rated]})"
    )
    report.add("campaign view API behind Airflow's login", ok, detail_text, started)
    screenshot(report, api, work, lifecycle[0]["campaign_code"] if lifecycle else None)


def screenshot(report: Report, api: AirflowApi, work: Path, code: str | None) -> None:
    """The view inside the Airflow UI (``/plugin/<route>``), logged in through the ``_token`` cookie as a
    browser is after the UI's login; a missing browser is a skipped check, said so."""
    started = time.perf_counter()
    if not Path(CHROMIUM).exists():
        report.add(
            "campaign view screenshot", True, f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)", started
        )
        return
    from playwright.sync_api import sync_playwright

    target = work / "campaign-view.png"
    token = str(api.session.headers["Authorization"]).removeprefix("Bearer ")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = _logged_in_page(browser, api.url, token)
            page.goto(f"{api.url}/plugin/{CAMPAIGNS_ROUTE}")
            frame = page.frame_locator("iframe").first
            frame.locator("body[data-ready]").wait_for(timeout=60_000)
            state = frame.locator("body").get_attribute("data-ready")
            if code and state == "true":  # show a lifecycle campaign, as a user clicking its row
                frame.locator(f'tr[data-code="{code}"]').click()
                frame.locator(f'body[data-shown="{code}"]').wait_for(timeout=30_000)
            funnel_drawn = frame.locator("#funnel").bounding_box() is not None
            page.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()
    ok = state == "true" and funnel_drawn and target.stat().st_size > 10_000
    if ok and os.environ.get("FPTSMS_E2E_SCREENSHOT") == "docs":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, DOCS_SCREENSHOT)
    detail = f"{target} ({target.stat().st_size:,} bytes), page state {state!r}, funnel drawn {funnel_drawn}"
    report.add("campaign view screenshot in the Airflow UI", ok, detail, started)


def _logged_in_page(browser: Any, url: str, token: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, device_scale_factor=1)
    context.add_cookies([{"name": "_token", "value": token, "url": url}])
    return context.new_page()
