"""The public API: one import line, every name documented."""

from __future__ import annotations

import inspect

import statebot


def test_every_exported_name_exists_once() -> None:
    assert len(statebot.__all__) == len(set(statebot.__all__))
    assert [n for n in statebot.__all__ if not hasattr(statebot, n)] == []


def test_every_exported_class_and_function_has_a_docstring() -> None:
    undocumented = [
        name for name in statebot.__all__
        if (inspect.isclass(getattr(statebot, name)) or inspect.isfunction(getattr(statebot, name)))
        and not inspect.getdoc(getattr(statebot, name))
    ]
    assert undocumented == []
