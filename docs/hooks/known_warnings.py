"""MkDocs hook: docstring warnings the package is known to have, listed in mkdocs.yml, do not fail ``--strict``.

griffe (mkdocstrings) warns when a docstring documents a ``:param x:`` the signature does not have: an
operator whose ``__init__`` takes only ``**kwargs``, or one that inherits its ``__init__`` and documents the
parameters it forwards. mkdocs.yml's ``extra.known_docstring_warnings`` lists the source files allowed to
have those two warnings, and only those two, for now (each with the reason); any other warning, or these
in any other file, still fails the build. A listed file that no longer warns is reported (a warning, so
``--strict`` fails), to take it off the list: the list can only shrink.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

log = logging.getLogger("mkdocs.hooks.known_warnings")  # under "mkdocs": --strict counts its warnings
GRIFFE = logging.getLogger("mkdocs.plugins.griffe")  # where mkdocstrings sends griffe's messages
PARAMETER_WARNING = re.compile(
    r"^(?:griffe: )?(?P<path>[^:]+):\d+: "
    r"(?:Parameter '[^']+' does not appear in the function signature|No matching parameter for '[^']+')"
)


class _Allowance(logging.Filter):
    def __init__(self, files: set[str]) -> None:
        super().__init__()
        self.files = files
        self.seen: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        match = PARAMETER_WARNING.match(record.getMessage())
        if match is None or match["path"] not in self.files:
            return True
        self.seen[match["path"]] += 1
        return False


_allowance: _Allowance | None = None


def on_config(config: Any) -> Any:
    global _allowance
    if _allowance is not None:
        GRIFFE.removeFilter(_allowance)
    files = {str(entry).split(" ", 1)[0] for entry in config.extra.get("known_docstring_warnings") or []}
    _allowance = _Allowance(files)
    GRIFFE.addFilter(_allowance)
    return config


def on_post_build(config: Any) -> None:
    if _allowance is None:
        return
    for path in sorted(_allowance.files):
        count = _allowance.seen[path]
        if count:
            log.info(f"known_warnings: {count} known docstring warnings in {path} (mkdocs.yml extra)")
        else:
            log.warning(
                f"known_warnings: {path} no longer has docstring parameter warnings: "
                "remove it from extra.known_docstring_warnings in mkdocs.yml"
            )
