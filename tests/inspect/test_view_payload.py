"""The data the interactive view embeds: saturation fractions, pattern search, the page's self-containment."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.inspect import View, trace
from lstmkit.inspect.adapters import ADAPTERS, Limits, Sample, adapter_for, register_adapter
from lstmkit.inspect.payload import (
    build_payload,
    find_units,
    pack_matrix,
    pooled_saturation,
    unpack_matrix,
)
from lstmkit.inspect.traces import GateTrace


def planted(steps: int = 12, units: int = 6, unit: int = 4, span=(3, 6), seed: int = 0) -> torch.Tensor:
    """Random activations in [0, 0.45] with ``unit`` at 0.9 exactly over ``span`` (a perfect pattern)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.rand(steps, units, generator=g) * 0.45
    v[span[0]:span[1] + 1, unit] = 0.9
    return v


def sample_with(values: dict[str, torch.Tensor], title: str = "s", tokens=None, **kw) -> Sample:
    n = next(iter(values.values())).shape[0]
    tokens = tokens or [f"t{k}" for k in range(n)]
    return Sample(title, tokens, {"l0": GateTrace("l0", values, n)}, **kw)


def test_saturation_fractions_match_a_hand_count_over_all_sequences():
    f1 = torch.tensor([[0.05, 0.5], [0.95, 0.95], [0.02, 0.08]])        # 3 steps, 2 units
    f2 = torch.tensor([[0.99, 0.5], [0.5, 0.91]])                        # 2 more steps
    a = sample_with({"f": f1, "c": torch.zeros(3, 2), "h": torch.zeros(3, 2)})
    b = sample_with({"f": f2, "c": torch.zeros(2, 2), "h": torch.zeros(2, 2)})
    # unit 0: left at 0.05, 0.02 (2 of 5); right at 0.95, 0.99 (2 of 5)
    # unit 1: left at 0.08 (1 of 5); right at 0.95, 0.91 (2 of 5)
    pooled = pooled_saturation([a.traces["l0"], b.traces["l0"]])
    assert pooled["f"]["left"].tolist() == [2 / 5, 1 / 5]
    assert pooled["f"]["right"].tolist() == [2 / 5, 2 / 5]
    payload = build_payload([a, b], task="t", model="m")
    assert payload["saturation"]["l0"]["f"] == {"left": [0.4, 0.2], "right": [0.4, 0.4]}
    assert set(payload["saturation"]["l0"]) == {"f"}  # c and h are states, not gates


def test_pattern_search_ranks_the_planted_unit_first():
    v = planted()
    ranked = find_units(v, 3, 6, threshold=0.5)
    assert ranked[0] == (4, 1.0)
    assert all(score < 1.0 for _, score in ranked[1:])
    # a unit that is also on outside the span scores less than one that is on only inside
    v[0, 2], v[3:7, 2] = 0.9, 0.9
    ranked = find_units(v, 3, 6, threshold=0.5)
    assert [u for u, _ in ranked[:2]] == [4, 2]
    assert ranked[1][1] == pytest.approx(1 - 1 / 8)
    with pytest.raises(ValueError, match="span"):
        find_units(v, 5, 20, 0.5)


def test_pattern_search_breaks_ties_by_mean_over_the_span_then_unit():
    v = torch.zeros(4, 3)
    v[1:3, 0], v[1:3, 1], v[1:3, 2] = 0.6, 0.8, 0.6
    assert [u for u, _ in find_units(v, 1, 2, 0.5)] == [1, 0, 2]


def test_the_page_is_self_contained_and_escapes_its_data(tmp_path):
    v = planted()
    evil = "</script><script>alert(1)</script>"
    s = sample_with({"i": v, "c": v - 0.2, "h": v}, tokens=[evil] + [f"w{k}" for k in range(11)],
                    output="ok", attention={"source": ["a"], "target": ["b"], "weights": [[1.0]]})
    page = View(build_payload([s], task="classify", model="m"))
    text = page.html()
    assert text.count("<script") == 2  # the data block and the page script: the token did not open a third
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched from anywhere
    assert "http://" not in text.replace('"http://www.w3.org/2000/svg"', "")
    data = text.split('id="lk-data">', 1)[1].split("</script>", 1)[0]
    loaded = json.loads(data)
    assert loaded["sequences"][0]["tokens"][0] == evil
    i = unpack_matrix(loaded["sequences"][0]["traces"]["l0"]["i"])
    # rounded to 4 decimals in the payload, then 16-bit levels in the page
    assert np.abs(np.array(i) - v.numpy()).max() <= 0.5e-4 + (float(v.max()) - float(v.min())) / 65535 + 1e-7
    assert i[4][4] == pytest.approx(0.9, abs=1e-5)
    assert loaded["meta"]["units"] == {"l0": {"i": 6, "c": 6, "h": 6}}
    out = page.save(tmp_path / "v.html")
    assert out.read_text(encoding="utf-8") == text
    assert page._repr_html_().startswith("<iframe srcdoc=")


def test_packed_matrices_round_trip_within_one_level():
    rows = [[0.0, 0.25, 1.0], [0.5, 0.125, 0.75]]
    p = pack_matrix(rows)
    assert p["shape"] == [2, 3] and (p["lo"], p["hi"]) == (0.0, 1.0)
    assert np.abs(np.array(unpack_matrix(p)) - rows).max() <= 0.5 / 65535
    flat = pack_matrix([[0.3, 0.3]])
    assert unpack_matrix(flat) == [[0.3, 0.3]]  # a constant matrix: no division by zero


def test_capture_traces_equal_a_direct_trace():
    """What an adapter records inside a forward pass is the layer's own trace."""
    from lstmkit.inspect.adapters import capture

    torch.manual_seed(0)
    net = lstmkit.LSTM(3, 4, batch_first=True, bidirectional=True)
    x = torch.randn(1, 5, 3)
    with capture(net) as cap:
        net(x, lengths=torch.tensor([5]))
    got = cap.traces(net)
    want = trace(net, x, [5])
    assert set(got) == {"l0", "l0_reverse"}
    for key in want:
        for name in want[key].values:
            torch.testing.assert_close(got[key].values[name], want[key].values[name])


def test_registry_names_every_task_and_takes_new_ones():
    from lstmkit.tasks import TASKS

    missing = set(TASKS) - set(ADAPTERS)
    assert not missing, f"tasks without an inspect adapter: {sorted(missing)} (docs/inspect.md, 'Adding a task')"
    calls = []

    def speech_samples(task, data, limits):
        calls.append(limits)
        return []

    register_adapter("speech-test", speech_samples)
    try:
        assert adapter_for("speech-test") is speech_samples
        with pytest.raises(ValueError, match="module:function"):
            register_adapter("x", "no_colon")
    finally:
        ADAPTERS.pop("speech-test")
    with pytest.raises(ValueError, match="no view for task 'nope'"):
        adapter_for("nope")
    with pytest.raises(ValueError, match="max_steps"):
        Limits(2, 0)


def test_serve_binds_to_localhost_and_serves_only_the_page(tmp_path):
    from lstmkit.inspect.serve import make_server, url_of

    page = tmp_path / "report.html"
    page.write_text("<!doctype html><p>hi</p>", encoding="utf-8")
    server = make_server(page, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.server_address[0] == "127.0.0.1"
        url = url_of(server)
        for path in ("", "report.html"):
            with urllib.request.urlopen(url + path, timeout=10) as r:
                assert r.read() == page.read_bytes()
                assert r.headers["Content-Type"].startswith("text/html")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "../etc/passwd", timeout=10)
        assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_page_assets_ship_with_the_package():
    import tomllib
    from importlib import resources
    from pathlib import Path

    assets = resources.files("lstmkit.inspect").joinpath("assets")
    assert assets.joinpath("view.js").is_file() and assets.joinpath("view.css").is_file()
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert "inspect/assets/*" in pyproject["tool"]["setuptools"]["package-data"]["lstmkit"]
