"""What the advertising-SMS law says about a QC message's content and hours, checked before any call.

Decree 91/2020/ND-CP (see ``COMPLIANCE_VN.md`` in the design notes): every advertising message carries an
identification label, ``[QC]`` or ``[AD]``, at the *first position* of its content, and advertising goes
out only between 07:00 and 22:00 Vietnam time. FPT's own send windows (:mod:`.schedule`) are stricter
than the hours, but they are FPT's rule and may change; the law's is checked on its own so that a
refusal says which rule it broke.

Pure functions: the operators decide when to apply them (the QC campaign operators always do).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import pendulum

from airflow_provider_fptsms.gateways.errors import InvalidInputError

__all__ = [
    "ADVERTISING_HOURS",
    "QC_LABELS",
    "advertising_hours_problem",
    "check_label",
    "in_advertising_hours",
    "label_problem",
    "labelled",
    "qc_message",
]

#: The labels the decree names; the first is what ``auto_label=True`` adds.
QC_LABELS: tuple[str, ...] = ("[QC]", "[AD]")
#: Advertising may be sent from 07:00 to 22:00 Vietnam time, both bounds included.
ADVERTISING_HOURS: tuple[time, time] = (time(7, 0), time(22, 0))

_HOURS_TEXT = f"{ADVERTISING_HOURS[0]:%H:%M}-{ADVERTISING_HOURS[1]:%H:%M}"


def _labels(labels: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(labels)
    if not chosen or not all(isinstance(label, str) and label.strip() == label and label for label in chosen):
        raise InvalidInputError(
            "qc_labels",
            list(chosen),
            "must be one or more non-empty labels without spaces around them",
            "e.g. ['[QC]']",
        )
    return chosen


def label_problem(text: str, labels: Sequence[str] = QC_LABELS) -> str | None:
    """Why ``text`` lacks the label at its first position (None when it has one). Never quotes the text."""
    chosen = _labels(labels)
    if text.startswith(chosen):
        return None
    stripped = text.lstrip()
    if stripped.startswith(chosen):
        return f"has {len(text) - len(stripped)} character(s) before its label: the label must come first"
    lowered = stripped[:8].casefold()
    near = next((label for label in chosen if lowered.startswith(label.casefold())), None)
    if near is not None:
        return f"starts with {stripped[: len(near)]!r}; the label is written exactly {near!r}"
    return f"does not start with an advertising label ({' or '.join(chosen)})"


def check_label(text: str, labels: Sequence[str] = QC_LABELS, *, field: str = "message") -> None:
    """Refuse an advertising message without its label (the decree's first-position rule)."""
    problem = label_problem(text, labels)
    if problem is not None:
        first = _labels(labels)[0]
        raise InvalidInputError(
            field,
            f"<text of {len(text)} characters>",
            f"{problem} (Decree 91/2020/ND-CP: every advertising message starts with its label)",
            f"start the message with '{first} ', or pass auto_label=True to have it added (it counts in the "
            "message's length, parts and quota)",
        )


def labelled(text: str, label: str = QC_LABELS[0], labels: Sequence[str] = QC_LABELS) -> str:
    """``text`` starting with a label: as is if it does; a label written after spaces or in another case
    (``"  [qc] x"``) moved first and written exactly (``"[QC] x"``), never doubled; else ``label`` + a space."""
    chosen = _labels(labels)
    if text.startswith(chosen):
        return text
    stripped = text.lstrip()
    for known in chosen:
        if stripped[: len(known)].casefold() == known.casefold():
            return known + stripped[len(known) :]
    return f"{label} {stripped}"


def in_advertising_hours(moment: datetime) -> bool:
    """Whether ``moment`` (any timezone; naive means Vietnam time) is inside 07:00-22:00 Vietnam time."""
    local = pendulum.instance(moment, tz="Asia/Ho_Chi_Minh").in_timezone("Asia/Ho_Chi_Minh")
    clock = local.time().replace(tzinfo=None)
    return ADVERTISING_HOURS[0] <= clock <= ADVERTISING_HOURS[1]


def advertising_hours_problem(moment: datetime) -> str | None:
    """Why ``moment`` breaks the decree's hours, for :func:`..schedule.validate_schedule` (None if it does not)."""
    if in_advertising_hours(moment):
        return None
    local = pendulum.instance(moment, tz="Asia/Ho_Chi_Minh").in_timezone("Asia/Ho_Chi_Minh")
    return f"{local:%Y-%m-%d %H:%M} is outside the advertising hours {_HOURS_TEXT} Vietnam time (Decree 91/2020/ND-CP)"


def qc_message(text: str, auto_label: bool | str = False, labels: Sequence[str] = QC_LABELS) -> str:
    """The advertising text as it will be sent: labelled by ``auto_label`` (``True``: the first of ``labels``;
    a str: that label, which must be one of ``labels``), else refused without its label."""
    chosen = _labels(labels)
    if auto_label:
        label = chosen[0] if auto_label is True else auto_label
        if label not in chosen:
            raise InvalidInputError(
                "auto_label",
                label,
                f"is not one of the accepted labels {list(chosen)}",
                f"pass auto_label='{chosen[0]}'",
            )
        return labelled(text, label, chosen)
    check_label(text, chosen)
    return text
