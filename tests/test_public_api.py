from __future__ import annotations

import inspect

import pytest

import bybit_leverage


def test_all_matches_the_public_names() -> None:
    homes = bybit_leverage._HOMES
    assert set(bybit_leverage.__all__) == set(homes) | {"__version__"}
    assert len(bybit_leverage.__all__) == len(set(bybit_leverage.__all__))
    for name in bybit_leverage.__all__:
        assert getattr(bybit_leverage, name) is not None
    assert set(bybit_leverage.__all__) <= set(dir(bybit_leverage))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        bybit_leverage.nope  # noqa: B018 - the lookup is the test


def test_every_public_name_is_documented() -> None:
    for name in bybit_leverage.__all__:
        obj = getattr(bybit_leverage, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_version_comes_from_the_package_metadata() -> None:
    assert bybit_leverage.__version__[0].isdigit()
