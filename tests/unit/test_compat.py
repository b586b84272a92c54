"""``_compat``: one set of Airflow names per line, and a clear refusal where a line lacks a feature."""

from __future__ import annotations

import importlib.util
import io
import warnings

import airflow
import pytest

from airflow_provider_fptsms import _compat


def test_the_task_exceptions_are_one_family_and_not_deprecated() -> None:
    """The runner tells fail / skip / timeout apart by class: all must come from the same module."""
    for error in (_compat.AirflowFailException, _compat.AirflowSensorTimeout, _compat.AirflowSkipException):
        assert issubclass(error, _compat.AirflowException)
        assert error.__module__ == _compat.AirflowException.__module__
    assert issubclass(_compat.TaskDeferred, BaseException)
    # From 3.2 on ``airflow.exceptions`` still has them, with a deprecation warning: not the path taken there.
    spec = importlib.util.spec_from_file_location("fresh_compat", _compat.__file__)
    assert spec is not None and spec.loader is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    deprecated = [str(w.message) for w in caught if issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert not deprecated  # Airflow's DeprecatedImportWarning is a FutureWarning


def test_release_numbers_compare_lines() -> None:
    assert _compat._release("3.1.8rc1") == (3, 1, 8)
    assert _compat._release("3.0.6") < _compat._release("3.1") < _compat._release("3.10.0")
    assert _compat._release(airflow.__version__) == _compat.AIRFLOW_VERSION
    assert _compat.airflow_at_least("3.0") and not _compat.airflow_at_least("4.0")


def test_a_feature_of_a_newer_line_names_the_version_it_needs() -> None:
    _compat.require_airflow("3.0", "Anything")
    with pytest.raises(_compat.AirflowOptionalProviderFeatureException) as caught:
        _compat.require_airflow("9.1", "Telepathic approval")
    message = str(caught.value)
    assert message.startswith("Telepathic approval needs Airflow 9.1 or newer; this is Airflow ")
    assert airflow.__version__ in message and "apache-airflow>=9.1" in message


class _NotIterable:
    """Like Airflow 3.0's ObjectStoragePath file wrapper: methods proxied, no ``__iter__``."""

    def __init__(self, text: str) -> None:
        self._file = io.StringIO(text)

    def readline(self) -> str:
        return self._file.readline()

    def __getitem__(self, key: int) -> str:
        raise TypeError("'_io.TextIOWrapper' object is not subscriptable")


def test_lines_read_a_file_wrapper_without_iter() -> None:
    import csv

    handle = _NotIterable("message_id,status\n1,sent\n2,failed\n")
    with pytest.raises(TypeError):
        next(csv.reader(handle))  # type: ignore[arg-type]
    handle = _NotIterable("message_id,status\n1,sent\n2,failed\n")
    assert [row["message_id"] for row in csv.DictReader(_compat.lines(handle))] == ["1", "2"]
