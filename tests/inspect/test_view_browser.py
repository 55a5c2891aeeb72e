"""The interactive view in a real browser: headless Chromium (the Debian package) driven by playwright.

Skips, saying why, only when playwright or a Chromium binary is missing. The
screenshot of the first test goes to the test's tmp folder, and to
docs/img/inspect_view.png (the README's picture) when LSTMKIT_WRITE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from lstmkit.inspect import View, view
from lstmkit.inspect.adapters import Sample
from lstmkit.inspect.payload import build_payload, find_units
from lstmkit.inspect.traces import GateTrace

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "inspect_view.png"
# the network is closed where the tests run: no background requests, no updates, no QUIC
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TEXT = ("the cat sat on the mat.\nthe dog sat on the log.\na cat and a dog sat (on a mat).\n"
        "(the mat) was red and the log was old.\n") * 3


def chromium() -> str | None:
    for path in (os.environ.get("LSTMKIT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                 shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install 'lstmkit[dev]')")
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium browser found (/usr/bin/chromium); install it with: apt-get install chromium")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: errors.append(f"request {r.url}") if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("#lk-root[data-ready='1']", timeout=20000)
    return page, errors


@pytest.fixture(scope="module")
def generate_model(tmp_path_factory):
    from lstmkit.tasks.generate import Generate
    from lstmkit.tasks.generate.config import (
        GenerateConfig,
        GenerateDataConfig,
        GenerateModelConfig,
    )

    d = tmp_path_factory.mktemp("gen")
    (d / "text.txt").write_text(TEXT, encoding="utf-8")
    cfg = GenerateConfig(model=GenerateModelConfig(embed_size=8, hidden_size=12, num_layers=1, dropout=0.0),
                         data=GenerateDataConfig(batch_size=4, bptt=16))
    torch.manual_seed(0)
    task = Generate(cfg, Generate.default_train(max_epochs=2, progress=False, checkpoint=False, lr=1e-2))
    task.fit(str(d / "text.txt"))
    task.save(d / "model")
    return d


def test_tokens_heatmap_and_unit_selection_in_chromium(browser, generate_model, tmp_path):
    v = view(generate_model / "model", generate_model / "text.txt", max_sequences=3, max_steps=60,
             title="lstmkit inspect: a character language model")
    out = v.save(tmp_path / "report.html")
    seqs = v.payload["sequences"]
    page, errors = open_page(browser, out)
    steps, units = len(seqs[0]["tokens"]), v.payload["meta"]["units"]["l0"]["h"]
    assert page.locator(".lk-tok").count() == steps
    assert page.locator(".lk-cell").count() == steps * units
    assert page.locator(".lk-sat-pt").count() == 3 * units  # i, f, o: one point per unit
    assert page.locator("#lk-attn-sec").is_hidden() and page.locator("#lk-series-sec").is_hidden()

    before = page.locator(".lk-tok").evaluate_all("s => s.map(e => e.getAttribute('style'))")
    sel_y = page.locator("#lk-heat-sel").get_attribute("y")
    page.locator(".lk-cell[data-unit='3'][data-step='2']").click()
    after = page.locator(".lk-tok").evaluate_all("s => s.map(e => e.getAttribute('style'))")
    assert after != before  # the tokens are coloured by unit 3 now
    assert page.locator("#lk-heat-sel").get_attribute("y") != sel_y
    assert page.locator("#lk-unit").input_value() == "3"
    assert "unit A = 3" in page.locator("#lk-status").inner_text()
    assert page.locator(".lk-sat-pt.lk-sel-a").count() == 3  # unit 3 marked in each saturation panel
    assert all("background:rgb(" in s for s in after)

    page.locator(".lk-cell[data-unit='5'][data-step='0']").click(modifiers=["Shift"])  # unit B: compare
    assert "unit B = 5" in page.locator("#lk-status").inner_text()
    assert "box-shadow" in page.locator(".lk-tok").first.get_attribute("style")

    page.select_option("#lk-seq", "1")
    assert page.locator(".lk-tok").count() == len(seqs[1]["tokens"])
    page.select_option("#lk-seq", "0")
    shot = tmp_path / "inspect_view.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("LSTMKIT_WRITE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    assert errors == []
    page.close()


def synthetic_view(tmp_path: Path) -> tuple[Path, torch.Tensor]:
    """A page with a planted unit (4, on over steps 3..6), an attention matrix and a series, no training."""
    g = torch.Generator().manual_seed(1)
    steps, units = 12, 6
    h = torch.rand(steps, units, generator=g) * 0.45
    h[3:7, 4] = 0.9
    values = {"i": torch.rand(steps, units, generator=g), "f": torch.rand(steps, units, generator=g),
              "g": torch.rand(steps, units, generator=g) * 2 - 1, "o": torch.rand(steps, units, generator=g),
              "c": torch.randn(steps, units, generator=g), "h": h}
    tokens = [f"w{k}" for k in range(steps)]
    weights = torch.softmax(torch.randn(3, steps, generator=g), -1).tolist()
    series = {"x": [str(k) for k in range(steps + 2)], "channels": {"y": [float(k % 5) for k in range(steps + 2)]},
              "overlay": {}, "lines": {"score": [0.1] * (steps + 2)}, "marks": {"flagged": [5]}, "trace_start": 2}
    s = Sample("planted", tokens, {"l0": GateTrace("l0", values, steps)}, "out",
               attention={"source": tokens, "target": ["a", "b", "c"], "weights": weights}, series=series)
    path = View(build_payload([s], task="synthetic", model="none")).save(tmp_path / "planted.html")
    return path, h


def test_pattern_search_attention_and_series_in_chromium(browser, tmp_path):
    path, h = synthetic_view(tmp_path)
    page, errors = open_page(browser, path)
    page.locator(".lk-tok[data-step='3']").click()
    page.locator(".lk-tok[data-step='6']").click(modifiers=["Shift"])
    assert page.locator(".lk-tok.lk-in-span").count() == 4
    assert page.locator("#lk-span").inner_text() == "span: steps 3\u20136"
    page.fill("#lk-thr", "0.5")
    page.locator("#lk-thr").dispatch_event("change")
    page.locator("#lk-find").click()
    found = page.locator("#lk-matches li").evaluate_all("s => s.map(e => +e.getAttribute('data-unit'))")
    assert found[0] == 4  # the planted unit
    assert found == [u for u, _ in find_units(h, 3, 6, 0.5, top=10)]  # the page ranks as the Python rule does
    page.locator("#lk-matches li").first.click()
    assert page.locator("#lk-unit").input_value() == "4"

    assert page.locator(".lk-attn-cell").count() == 3 * 12
    page.locator(".lk-attn-cell[data-i='1'][data-j='7']").hover()
    assert "target 'b' \u2190 source 'w7'" in page.locator("#lk-attn-info").inner_text()
    assert page.locator(".lk-tok.lk-attn-hot").get_attribute("data-step") == "7"

    assert page.locator("#lk-series-sec").is_visible()
    assert page.locator("#lk-series .lk-mark").count() == 1
    assert page.locator("#lk-series svg.lk-chart").count() == 3  # input, score, gate traces under them
    assert errors == []
    page.close()


def test_video_nextframe_page_draws_its_error_series_in_chromium(browser, tmp_path):
    """A ConvLSTM next-frame page: series with gaps (no error under the given frames), channels as units."""
    import numpy as np

    from lstmkit.tasks.video import Video, VideoConfig, VideoDataConfig, VideoModelConfig

    clips = np.zeros((8, 6, 1, 8, 8), dtype=np.float32)
    for i in range(8):
        for t in range(6):
            clips[i, t, 0, :, (i + t) % 8] = 1.0
    mc = VideoModelConfig(patch=2, hidden_channels=3, num_layers=1)
    task = Video(VideoConfig(mc, VideoDataConfig(input_frames=3, output_frames=3, batch_size=4)),
                 Video.default_train(max_epochs=1, progress=False, warmup_steps=0)).fit(clips)
    path = view(task, clips, max_sequences=2).save(tmp_path / "video.html")
    page, errors = open_page(browser, path)
    assert page.locator(".lk-tok").count() == 6
    assert page.locator(".lk-tok").first.inner_text() == "in 1"
    assert page.locator("#lk-series-sec").is_visible()
    # input (true and predicted mean intensity), the two error lines, the gate traces under them
    assert page.locator("#lk-series svg.lk-chart").count() == 4
    assert errors == []
    page.close()
