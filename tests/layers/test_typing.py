"""The public layers are typed: forward overloads on return_gates, return annotations."""

from __future__ import annotations

import inspect
import typing

from torch import Tensor

import lstmkit
from lstmkit.layers import recurrent


def _hints(f):
    return typing.get_type_hints(f, globalns=vars(recurrent))


def test_forward_overloads_follow_return_gates():
    hints = [_hints(f) for f in typing.get_overloads(recurrent.RecurrentBase.forward)]
    assert sorted(str(h["return_gates"]) for h in hints) == [
        "typing.Literal[False]", "typing.Literal[True]", "typing.Literal[True]"]
    for h in hints:  # three results exactly when the gates are asked for
        assert len(typing.get_args(h["return"])) == (3 if "True" in str(h["return_gates"]) else 2)


def test_each_layer_names_its_state_type():
    assert typing.get_args(lstmkit.LSTM.__orig_bases__[0]) == (tuple[Tensor, Tensor],)
    assert typing.get_args(lstmkit.GRU.__orig_bases__[0]) == (Tensor,)
    assert typing.get_args(lstmkit.RNN.__orig_bases__[0]) == (Tensor,)


def test_public_api_has_return_annotations():
    missing = []
    for name in lstmkit.__all__:
        obj = getattr(lstmkit, name)
        if not inspect.isclass(obj):
            continue
        for attr, fn in vars(obj).items():
            if inspect.isfunction(fn) and (not attr.startswith("_") or attr == "__init__"):
                if inspect.signature(fn).return_annotation is inspect.Signature.empty:
                    missing.append(f"{name}.{attr}")
    assert not missing, missing
