"""Regenerate the README's `scar browse` screenshots (docs/img/browse-*.png) from the demo build.

    .venv/bin/python docs/screenshots.py      # needs /usr/bin/chromium and playwright (dev group)
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scar.browse.site import SiteOptions, build_site  # noqa: E402
from scar.cli import main  # noqa: E402
from tests.test_browse_browser import CHROMIUM_FLAGS, _find_chromium  # noqa: E402

OUT = REPO / "docs" / "img"


def save(png: bytes, name: str) -> None:
    """Optimised PNG; a palette one (the demo's flat colours survive it) only when that is needed to stay under 200 KB."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.save(OUT / name, optimize=True)
    if (OUT / name).stat().st_size > 190_000:
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(OUT / name, optimize=True)
    print(f"{OUT / name}: {(OUT / name).stat().st_size / 1e3:.0f} kB")


def run() -> int:
    from playwright.sync_api import sync_playwright

    executable = _find_chromium()
    if executable is None:
        print("no Chromium found (apt-get install -y chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "demo"
        if main(["build", "--source", "demo", "--out", str(build), "--no-progress"]) != 0:
            return 1
        site = Path(tmp) / "site"
        build_site(SiteOptions(build, site))
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1180, "height": 940},
            )
            page = context.new_page()
            page.goto((site / "index.html").as_uri() + "#src=demo&sp=eval&page=2")
            page.wait_for_selector("#grid[data-state=ready]")
            page.keyboard.press("a")
            page.keyboard.press("r")
            page.keyboard.type("the box holds only part of it")
            page.keyboard.press("Enter")
            page.keyboard.press("a")
            page.evaluate("window.scrollTo(0, 0)")
            save(page.screenshot(), "browse-grid.png")
            page.click("#grid .card:nth-child(6) .figure")
            page.wait_for_timeout(200)
            save(page.screenshot(), "browse-detail.png")
            page.keyboard.press("Escape")
            page.click("#tab-rejections")
            page.wait_for_function("[...document.querySelectorAll('.rej-images img')].every(i => i.complete)")
            save(page.screenshot(), "browse-rejections.png")
            context.close()
    return 0


if __name__ == "__main__":
    sys.exit(run())
