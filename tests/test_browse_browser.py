"""`scar browse` in a real headless Chromium (Debian's package, driven by Playwright).

The browser is installed with apt-get when missing and the tests run as root; otherwise every test
here is skipped with the reason.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pyarrow.parquet as pq
import pytest
from PIL import Image

from scar.browse.server import make_server
from scar.browse.site import SiteOptions, build_site
from scar.cli import main
from scar.core.schema import rle_to_mask
from tests.browse_fixtures import CATEGORIES, IMAGE_SIZE, write_synthetic_build

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_TIMEOUT_S = 900


def _find_chromium() -> str | None:
    for candidate in (os.environ.get("SCAR_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _install_chromium() -> str:
    """Try Debian's package; the reason it cannot be had, or "" once it is installed."""
    if os.name != "posix" or os.geteuid() != 0:
        return "Chromium is not installed and installing it needs root (apt-get install -y chromium)"
    if not shutil.which("apt-get"):
        return "Chromium is not installed and apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    try:
        for command in (install, ["apt-get", "update", "-q"], install):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
            if command == install and done.returncode == 0:
                return ""
        return f"apt-get install chromium failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get install chromium failed: {exc}"


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (it is in the dev dependency group: uv sync)")
    executable = _find_chromium()
    if executable is None:
        reason = _install_chromium()
        executable = _find_chromium()
        if executable is None:
            pytest.skip(reason or "Chromium installed but not found on PATH")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        yield context
        context.close()


class Page:
    """A page plus every console error, uncaught exception and failed request it produced."""

    def __init__(self, context: Any, url: str) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"requestfailed: {r.url}"))
        self.page.goto(url)
        self.settle(0)

    def render_count(self) -> int:
        return int(self.page.get_attribute("#grid", "data-render") or 0)

    def settle(self, after: int) -> None:
        """Wait until a render newer than `after` is on screen."""
        self.page.wait_for_function(
            f"(() => {{ const g = document.getElementById('grid'); return g.dataset.state === 'ready' && +g.dataset.render > {after}; }})()",
            timeout=15_000,
        )

    def act(self, action: Any) -> None:
        before = self.render_count()
        action()
        self.settle(before)

    def ids(self) -> list[str]:
        return self.page.eval_on_selector_all("#grid .card", "cards => cards.map(c => c.dataset.id)")

    def close(self) -> None:
        self.page.close()


def site_url(site: Path) -> str:
    return (site / "index.html").resolve().as_uri()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("browse-demo")
    assert main(["build", "--source", "demo", "--out", str(root / "build"), "--no-progress", "--workers", "1"]) == 0
    build_site(SiteOptions(root / "build", root / "site"))
    ids = [i for p in sorted((root / "build").glob("demo/*.parquet")) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]
    return {"root": root, "build": root / "build", "site": root / "site", "ids": ids}


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("browse-synth")
    xss = '<img src=x onerror="window.__xss=1">'
    ids = write_synthetic_build(root / "build", rows=60, images=4, captions={2: xss})
    other = write_synthetic_build(root / "build", rows=5, images=1, source="synthb")
    flagged = {ids[1]: ["solved:ngram"], ids[6]: ["solved:ngram", "solved:length"], ids[9]: ["solved:length"]}
    (root / "build" / "audit.json").write_text(json.dumps({"row_flags": flagged}))
    build_site(SiteOptions(root / "build", root / "site"))
    return {"site": root / "site", "ids": ids, "other": other, "flagged": flagged, "xss": xss}


# ---------------------------------------------------------------- tests


def test_page_loads_from_file_without_console_errors(browser_context, demo):
    page = Page(browser_context, site_url(demo["site"]))
    p = page.page
    assert page.ids() == demo["ids"][:24]
    assert p.text_content("#matches") == f"{len(demo['ids'])} of {len(demo['ids'])} samples"
    p.wait_for_function("[...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0)")
    first = p.locator("#grid .card").first
    assert first.locator("ol.cands li").count() == 10 and first.locator("li.gold").count() == 1
    assert first.locator("li.object").count() == 3 and first.locator("li.scene").count() == 3
    from scar.generate.offline.generator import PROMPT_VERSION

    assert f"prompts {PROMPT_VERSION}" in first.locator(".foot").text_content()
    p.click("#grid .card .figure")
    assert p.is_visible("#detail") and "demo:eval-00000:0" in p.text_content("#detail-content")
    p.keyboard.press("Escape")
    assert not p.is_visible("#detail")
    p.click("#tab-rejections")
    stats = json.loads((demo["build"] / "stats.json").read_text())
    groups = sum(len(a["rejections"]["counts"]) for a in stats["sources"]["demo"]["splits"].values())
    assert p.locator(".rej-group").count() == groups
    assert p.locator(".rej-images img").count() > 0
    p.wait_for_function("[...document.querySelectorAll('.rej-images img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.errors == []
    page.close()


def _pixel_near(image: Image.Image, x: float, y: float, test: Any, radius: int = 2) -> bool:
    rgb = image.convert("RGB")
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            px, py = int(round(x)) + dx, int(round(y)) + dy
            if 0 <= px < rgb.width and 0 <= py < rgb.height and test(rgb.getpixel((px, py))):
                return True
    return False


def is_box_red(p: tuple[int, int, int]) -> bool:
    return p[0] > 200 and p[1] < 90 and p[2] < 120


def is_grey(p: tuple[int, int, int]) -> bool:
    return all(110 <= v <= 150 for v in p)


def test_overlay_is_drawn_where_the_box_is(browser_context, synth):
    page = Page(browser_context, site_url(synth["site"]))
    figure = page.page.locator("#grid .card .figure").first
    shot = Image.open(io.BytesIO(figure.screenshot()))
    sx, sy = shot.width / IMAGE_SIZE[0], shot.height / IMAGE_SIZE[1]
    x, y, w, h = 40, 60, 160, 120  # row 0's box (tests/browse_fixtures.py)
    edges = [(x, y + h / 2), (x + w, y + h / 2), (x + w / 2, y), (x + w / 2, y + h)]
    for ex, ey in edges:
        assert _pixel_near(shot, ex * sx, ey * sy, is_box_red), f"no box stroke at {(ex, ey)}"
    assert not _pixel_near(shot, (x + 20) * sx, (y + h / 2) * sy, is_box_red, radius=0)  # inside the box: not stroked
    assert _pixel_near(shot, 10 * sx, 10 * sy, is_grey, radius=0)  # far outside: the image itself
    # The mask outline (an ellipse 8 px inside the box) and the point at the box centre.
    assert _pixel_near(shot, (x + 8) * sx, (y + h / 2) * sy, lambda p: p[0] > 200 and p[1] > 170 and p[2] < 90)
    assert _pixel_near(shot, (x + w / 2) * sx, (y + h / 2) * sy, lambda p: p[0] > 200 and p[1] < 120 and p[2] > 160)
    # Switched off, the stroke is gone: what was red is the grey image again.
    page.page.uncheck("#o-box")
    plain = Image.open(io.BytesIO(figure.screenshot()))
    for ex, ey in edges:
        assert not _pixel_near(plain, ex * sx, ey * sy, is_box_red)
    assert page.errors == []
    page.close()


def test_filters_change_the_visible_set(browser_context, synth):
    page = Page(browser_context, site_url(synth["site"]))
    p, ids = page.page, synth["ids"]
    everything = ids + synth["other"]
    assert page.ids() == everything[:24]
    page.act(lambda: p.select_option("#f-cat", "dog"))
    assert page.ids() == [i for k, i in enumerate(ids) if CATEGORIES[k % 4] == "dog"] + [synth["other"][1]]
    page.act(lambda: p.select_option("#f-src", "synthb"))
    assert page.ids() == [synth["other"][1]]
    page.act(lambda: p.select_option("#f-cat", ""))
    assert page.ids() == synth["other"]
    page.act(lambda: p.select_option("#f-src", ""))
    page.act(lambda: p.select_option("#f-fl", "solved:ngram"))
    assert page.ids() == [ids[1], ids[6]]
    assert p.locator("#grid .card").first.locator(".flag").all_text_contents() == ["solved:ngram"]
    page.act(lambda: p.select_option("#f-fl", "__any"))
    assert page.ids() == [ids[1], ids[6], ids[9]]
    page.act(lambda: p.select_option("#f-fl", ""))
    page.act(lambda: p.fill("#f-q", "number 7 left"))
    assert page.ids() == [ids[7]]
    page.act(lambda: p.fill("#f-q", "wrong1 number 3 left"))  # words of a negative only
    assert page.ids() == []
    page.act(lambda: p.check("#f-all"))
    assert page.ids() == [ids[3], synth["other"][3]]
    page.act(lambda: p.fill("#f-q", ""))
    page.act(lambda: p.select_option("#f-nt", "scene"))
    assert len(page.ids()) == 24 and p.locator("#grid .card").first.locator("li.dim").count() == 6
    assert page.errors == []
    page.close()


def test_paging(browser_context, synth):
    everything = synth["ids"] + synth["other"]
    page = Page(browser_context, site_url(synth["site"]) + "#page=3")
    assert page.ids() == everything[48:72] and page.page.input_value("#page") == "3"
    page.act(lambda: page.page.click("#prev"))
    assert page.ids() == everything[24:48]
    page.act(lambda: page.page.keyboard.press("n"))
    assert page.ids() == everything[48:72]
    page.act(lambda: page.page.select_option("#f-ps", "12"))
    assert page.ids() == everything[:12] and page.page.text_content("#pages") == "6"
    assert page.errors == []
    page.close()


def test_captions_are_shown_as_text_never_as_html(browser_context, synth):
    page = Page(browser_context, site_url(synth["site"]))
    card = page.page.locator(f'#grid .card[data-id="{synth["ids"][2]}"]')
    assert card.locator("li.gold").text_content() == "gold" + synth["xss"]
    assert card.locator("ol.cands img").count() == 0
    assert page.page.evaluate("window.__xss") is None
    page.close()


def test_keyboard_review_exports_the_decisions_and_exclude_drops_them(browser_context, demo, tmp_path):
    ids = demo["ids"]
    page = Page(browser_context, site_url(demo["site"]))
    p = page.page
    p.keyboard.press("a")  # accept #0, on to #1
    p.keyboard.press("r")  # reject #1 and type why
    p.keyboard.type("box covers two objects")
    p.keyboard.press("Enter")  # on to #2
    p.keyboard.press("j")  # skip #2
    p.keyboard.press("x")  # reject #3 without a reason
    p.keyboard.press("Escape")
    p.keyboard.press("j")
    p.keyboard.press("a")  # accept #4
    p.keyboard.press("j")
    p.keyboard.press("a")  # accept #6, then clear it again
    p.keyboard.press("k")
    p.keyboard.press("u")
    page.act(lambda: p.keyboard.press("n"))
    p.keyboard.press("a")  # accept #24, the first of page 2
    with p.expect_download() as download_info:
        p.keyboard.press("e")
    exported = tmp_path / "review.json"
    download_info.value.save_as(exported)
    review = json.loads(exported.read_text())
    assert review["format"] == "scar-review" and review["version"] == 1 and review["build"]["rows"] == len(ids)
    assert review["decisions"] == {
        ids[0]: {"decision": "accept"},
        ids[1]: {"decision": "reject", "reason": "box covers two objects"},
        ids[3]: {"decision": "reject"},
        ids[4]: {"decision": "accept"},
        ids[24]: {"decision": "accept"},
    }
    assert p.text_content("#review-count") == "3 accepted, 2 rejected"
    # Decisions survive a reload (local storage) and feed the review filter.
    p.reload()
    page.settle(0)  # a fresh page counts its renders from 1 again
    assert p.text_content("#review-count") == "3 accepted, 2 rejected"
    page.act(lambda: p.select_option("#f-rv", "reject"))
    assert page.ids() == [ids[1], ids[3]]
    assert p.locator("#grid .card.rejected").count() == 2
    assert page.errors == []
    page.close()

    out = tmp_path / "rebuilt"
    assert main(["build", "--source", "demo", "--out", str(out), "--no-progress", "--workers", "1", "--exclude", str(exported)]) == 0
    rebuilt = [i for p in sorted(out.glob("demo/*.parquet")) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]
    assert rebuilt == [i for i in ids if i not in (ids[1], ids[3])]


def test_import_merges_a_review_file(browser_context, synth, tmp_path):
    ids = synth["ids"]
    review = {"format": "scar-review", "version": 1, "decisions": {ids[0]: {"decision": "reject", "reason": "blurry"}, ids[5]: "accept"}}
    (tmp_path / "in.json").write_text(json.dumps(review))
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    page = Page(browser_context, site_url(synth["site"]))
    p = page.page
    page.act(lambda: p.set_input_files("#import", str(tmp_path / "in.json")))
    assert p.text_content("#review-count") == "1 accepted, 1 rejected"
    assert p.input_value(f'#grid .card[data-id="{ids[0]}"] input.reason') == "blurry"
    assert p.evaluate("SCAR.reviewDocument().decisions") == {ids[0]: {"decision": "reject", "reason": "blurry"}, ids[5]: {"decision": "accept"}}
    p.set_input_files("#import", str(tmp_path / "bad.json"))
    p.wait_for_selector("#error:not([hidden])")
    assert "not a SCaR review file" in p.text_content("#error")
    assert page.errors == []
    p.evaluate("localStorage.clear()")  # the other tests start with no decisions
    page.close()


def test_mask_decoder_matches_pycocotools(browser_context, demo):
    table = pq.read_table(demo["build"] / "demo" / "eval-00000.parquet", columns=["mask"]).slice(0, 25)
    masks = [m for m in table.column("mask").to_pylist() if m]
    page = Page(browser_context, site_url(demo["site"]))
    decoded = page.page.evaluate(
        """masks => masks.map(rle => {
             const d = SCAR.decodeMask(rle); let n = 0, s = 0;
             d.mask.forEach((v, i) => { if (v) { n++; s += i; } });
             return [n, s, d.h, d.w];
           })""",
        masks,
    )
    for rle, got in zip(masks, decoded):
        mask = rle_to_mask(rle).flatten(order="F")  # COCO RLE runs down the columns
        on = mask.nonzero()[0]
        assert got == [len(on), int(on.sum()), *rle["size"]]
    assert page.page.evaluate("SCAR.decodeMask({size: [2, 2], counts: '0'}) === null")
    page.close()


def test_served_site_loads_without_errors(browser_context, demo):
    server = make_server(demo["site"], 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = Page(browser_context, f"http://127.0.0.1:{server.server_address[1]}/")
        assert page.ids() == demo["ids"][:24]
        page.page.wait_for_function("[...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0)")
        assert page.errors == []
        page.close()
    finally:
        server.shutdown()
        server.server_close()
