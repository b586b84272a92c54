"""Every public operator, sensor, trigger, notifier and hook documents every parameter of its constructor
(``:param x:``, the Airflow providers' style), and shows its real parameters to ``inspect.signature``."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.unit.test_docs_api_reference import _registered_classes

CLASSES = sorted(_registered_classes())


def _load(path: str) -> type:
    module, _, name = path.rpartition(".")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _own_parameters(cls: type) -> list[str]:
    """The constructor's named parameters (``**kwargs`` goes to Airflow's base class and is documented there)."""
    return [
        name
        for name, parameter in inspect.signature(cls).parameters.items()
        if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
    ]


@pytest.mark.parametrize("path", CLASSES)
def test_every_constructor_parameter_is_documented(path: str) -> None:
    cls = _load(path)
    text = (cls.__doc__ or "") + (getattr(cls, "__init__").__doc__ or "")  # noqa: B009 - the class attribute
    missing = [name for name in _own_parameters(cls) if f":param {name}:" not in text]
    assert not missing, f"{path} does not document {missing}: add ':param <name>: ...' to its docstring"


def test_the_scan_sees_the_send_operators_real_parameters() -> None:
    parameters = _own_parameters(_load("airflow_provider_fptsms.operators.send.FptSendSmsOperator"))
    assert {"phones", "message", "fail_on", "output_path", "brandname", "fpt_conn_id", "suppress"} <= set(parameters)
    assert len(parameters) == 20
