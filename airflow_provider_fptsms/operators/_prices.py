"""Which price list an operator's cost estimates use: its own ``prices``, else its connection's extra."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


def operator_prices(explicit: Mapping[str, object] | None, hook: Any, *, dry_run: bool = False) -> dict[str, float]:
    """``explicit`` if given, else the connection's ``prices`` extra. A dry run also works where the connection
    does not exist yet (on a laptop, before the deployment has it): it then prices nothing and says so."""
    from airflow_provider_fptsms.sms.cost import price_list

    if explicit:
        return price_list(explicit, {})
    try:
        extra = hook.settings.extra
    except Exception as error:  # the connection is missing: fatal for a real run, not for a preview
        if not dry_run:
            raise
        log.info("No price list: the connection could not be read (%s); pass prices= for a cost estimate", error)
        return {}
    return price_list(None, extra)
