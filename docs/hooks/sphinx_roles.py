"""Griffe extension for the API reference: the docstrings' Sphinx roles as Markdown code.

The package's docstrings follow the Airflow providers' Sphinx style (``:param x:``, parsed by mkdocstrings'
``sphinx`` docstring style) and cross-reference with roles such as ``:class:`SendResult``` or
``:meth:`delivery_report```, which Markdown would print as they are. They become inline code
(``SendResult``); ``~pkg.mod.Name`` becomes ``Name``, as Sphinx shows it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _code(match: re.Match[str]) -> str:
    target = match["target"]
    return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"


class SphinxRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)
