"""The examples in the training engine's and the CLI helpers' docstrings run and hold."""

import doctest

import pytest

import lstmkit.commands._common
import lstmkit.train.module
import lstmkit.train.tbptt


@pytest.mark.parametrize("module", [lstmkit.train.module, lstmkit.train.tbptt, lstmkit.commands._common])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
