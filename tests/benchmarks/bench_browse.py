"""`scar browse` at scale: site generation time and the page's time to show page 1 and page 500.

    .venv/bin/python tests/benchmarks/bench_browse.py [--rows 50000] [--images 2000] [--workers K]

Writes a build-like folder of ROWS rows (real schema rows with box, point and mask) over IMAGES
random-noise JPEGs, then measures: the first `build_site` (thumbnails made), a rerun (thumbnails
reused), the data sizes, and in headless Chromium (from file://): time until page 1 is on screen
with its images, page 500 opened directly (#page=500) and reached from page 1 through the page box,
a category filter over all rows, a search of the gold captions and one of all candidates. Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from scar.browse.site import SiteOptions, build_site  # noqa: E402
from tests.browse_fixtures import write_synthetic_build  # noqa: E402
from tests.test_browse_browser import CHROMIUM_FLAGS, _find_chromium  # noqa: E402

READY = "(() => { const g = document.getElementById('grid'); return g.dataset.state === 'ready' && +g.dataset.render > %d"
IMAGES_DONE = " && [...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0); })()"


def timed_wait(page, after: int) -> None:
    page.wait_for_function(READY % after + IMAGES_DONE, timeout=120_000, polling=10)


def render_count(page) -> int:
    return int(page.get_attribute("#grid", "data-render") or 0)


def browser_figures(site: Path, page_number: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    url = (site / "index.html").resolve().as_uri()
    out: dict[str, float] = {}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=_find_chromium(), headless=True, args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900}
        )
        errors: list[str] = []
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        start = time.perf_counter()
        page.goto(url)
        timed_wait(page, 0)
        out["page 1 (fresh load)"] = time.perf_counter() - start
        out["  of which load event"] = page.evaluate("performance.timing.loadEventEnd - performance.timing.navigationStart") / 1000

        start = time.perf_counter()
        page.goto("about:blank")
        page.goto(f"{url}#page={page_number}")
        timed_wait(page, 0)
        out[f"page {page_number} (fresh load, #page={page_number})"] = time.perf_counter() - start
        assert page.input_value("#page") == str(page_number)

        page.goto("about:blank")
        page.goto(url)
        timed_wait(page, 0)
        before = render_count(page)
        start = time.perf_counter()
        page.fill("#page", str(page_number))
        page.dispatch_event("#page", "change")
        timed_wait(page, before)
        out[f"page 1 -> page {page_number} (page box)"] = time.perf_counter() - start

        before = render_count(page)
        start = time.perf_counter()
        page.select_option("#f-cat", "dog")
        timed_wait(page, before)
        out["category filter over all rows"] = time.perf_counter() - start

        before = render_count(page)
        start = time.perf_counter()
        page.fill("#f-q", "number 4242 left")
        timed_wait(page, before)
        out["search (gold captions), incl. 150 ms debounce"] = time.perf_counter() - start

        before = render_count(page)
        start = time.perf_counter()
        page.check("#f-all")  # loads every chunk once to search all 10 candidates
        timed_wait(page, before)
        out["search all captions (loads every chunk once)"] = time.perf_counter() - start

        out["JS heap MB"] = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1e6 : -1")
        if errors:
            print("console errors:", errors[:5])
        context.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--page", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "build"
        start = time.perf_counter()
        write_synthetic_build(root, args.rows, args.images, noisy_jpeg=True)
        print(f"fixture: {args.rows:,} rows over {args.images:,} images written in {time.perf_counter() - start:.1f}s")

        options = SiteOptions(root, Path(tmp) / "site", workers=args.workers)
        first = build_site(options)
        second = build_site(options)
        data = Path(tmp) / "site" / "data"
        sizes = {
            "index.js": (data / "index.js").stat().st_size,
            "meta.js": (data / "meta.js").stat().st_size,
            "chunks (all)": sum(p.stat().st_size for p in data.glob("chunk-*.js")),
        }
        thumbs = sum(p.stat().st_size for p in (Path(tmp) / "site" / "thumbs").rglob("*.jpg"))
        print(f"site, first run : {first.seconds:6.2f}s  ({first.thumbs.made:,} thumbnails made, {args.workers} workers, "
              f"{first.thumbs.made / max(first.seconds, 1e-9):,.0f} images/s overall)")
        print(f"site, rerun     : {second.seconds:6.2f}s  ({second.thumbs.reused:,} thumbnails reused, {second.thumbs.made} made)")
        print(f"rows/s (rerun)  : {args.rows / second.seconds:,.0f}")
        for name, size in sizes.items():
            print(f"{name:<16}: {size / 1e6:6.2f} MB")
        print(f"{first.chunks} chunk files of {options.chunk_rows} rows, {sizes['chunks (all)'] / first.chunks / 1e3:.0f} kB each; "
              f"thumbnails {thumbs / 1e6:.1f} MB")
        if _find_chromium() is None:
            print("no Chromium (/usr/bin/chromium): page timings skipped")
            return 0
        pages = (args.rows + 23) // 24
        for name, value in browser_figures(Path(tmp) / "site", min(args.page, pages)).items():
            unit = "" if "MB" in name else "s"
            print(f"{name:<46}: {value:8.3f}{unit}")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
