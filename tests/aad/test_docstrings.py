"""The docstring examples of the AAD modules run and give the documented output."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "cogattn.brain.aad.features",
    "cogattn.brain.aad.lags",
    "cogattn.brain.aad.decoders",
    "cogattn.brain.aad.evaluation",
    "cogattn.brain.aad.simulate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
