"""Operator extra link: open the campaign on the FPT SMS partner portal.

In Airflow 3 the worker computes the URL when the task ends (and stores it in XCom), so the
link reads the campaign code from the finished operator. The portal has no documented deep
link per campaign: the link opens the portal's QC campaign list with the code as a search
term. Set ``FPTSMS_PORTAL_URL`` to point it elsewhere (e.g. a reseller's portal).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

from airflow.sdk import BaseOperatorLink

DEFAULT_PORTAL_URL = "https://partner.sms.fpt.net"


class FptCampaignLink(BaseOperatorLink):
    name = "FPT SMS portal"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        code = getattr(operator, "link_campaign_code", None) or getattr(operator, "campaign_code", None)
        if not isinstance(code, str) or not code:
            return ""
        base = os.environ.get("FPTSMS_PORTAL_URL", DEFAULT_PORTAL_URL).rstrip("/")
        return f"{base}/?{urlencode({'search': code})}"
