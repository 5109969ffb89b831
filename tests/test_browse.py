"""`scar browse` without a browser: the written site's data, thumbnails, inputs, review files, --exclude."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from scar.browse.images import image_file, resolve_image_roots
from scar.browse.review import parse_review, read_review, rejected_ids, review_document
from scar.browse.server import make_server
from scar.browse.site import SiteOptions, build_site
from scar.cli import main
from scar.core.errors import ScarError
from tests.browse_fixtures import IMAGE_SIZE, write_synthetic_build


def read_js(path: Path) -> tuple:
    """The arguments of the loader call in a data file (`SCAR.chunk(3, [...]);`)."""
    text = path.read_text("utf-8")
    assert text.startswith("SCAR.") and text.endswith(");\n")
    return tuple(json.loads("[" + text[text.index("(") + 1 : -3] + "]"))


def site_rows(site: Path) -> list[dict]:
    meta = read_js(site / "data" / "meta.js")[0]
    rows = []
    for k in range(meta["chunks"]):
        index, chunk = read_js(site / "data" / f"chunk-{k:05d}.js")
        assert index == k
        rows += chunk
    return rows


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "build"
    assert main(["build", "--source", "demo", "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    return out


def parquet_ids(build: Path) -> list[str]:
    return [i for p in sorted(build.glob("*/*.parquet")) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]


# ---------------------------------------------------------------- the site's data


def test_site_holds_every_row_once_in_chunks(tmp_path):
    ids = write_synthetic_build(tmp_path / "b", rows=70, images=7)
    result = build_site(SiteOptions(tmp_path / "b", tmp_path / "site", chunk_rows=16))
    assert (result.rows, result.chunks) == (70, 5)
    rows = site_rows(tmp_path / "site")
    assert [r["id"] for r in rows] == ids and [r["g"] for r in rows] == list(range(70))
    first = rows[0]
    assert first["box"] == [40.0, 60.0, 160.0, 120.0] and first["pt"] == [120.0, 120.0]
    assert first["m"]["size"] == [IMAGE_SIZE[1], IMAGE_SIZE[0]] and first["m"]["counts"]
    assert first["nt"] == ["object"] * 3 + ["relation"] * 3 + ["scene"] * 3 and len(first["c"]) == 10
    assert first["gen"]["prompt_version"] == "offline-1" and first["th"].startswith("thumbs/")
    index = read_js(tmp_path / "site" / "data" / "index.js")[0]
    meta = read_js(tmp_path / "site" / "data" / "meta.js")[0]
    assert index["id"] == ids and len(index["cat"]) == 70
    assert [meta["facets"]["cat"][c] for c in index["cat"][:4]] == ["cat", "dog", "kite", "bench"]
    assert index["nt"][0] == 0b111 and index["text"][0].startswith("a cat number 0 left of the lamp")
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "assets" / "app.js").is_file()


def test_thumbnails_are_made_once_and_reruns_are_identical(tmp_path):
    write_synthetic_build(tmp_path / "b", rows=30, images=6)
    options = SiteOptions(tmp_path / "b", tmp_path / "site", thumb_size=64)
    first = build_site(options)
    assert (first.thumbs.made, first.thumbs.reused) == (6, 0)
    thumbs = sorted((tmp_path / "site" / "thumbs").glob("*/*.jpg"))
    assert len(thumbs) == 6 and max(Image.open(t).size[0] for t in thumbs) == 64
    before = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    second = build_site(options)
    assert (second.thumbs.made, second.thumbs.reused) == (0, 6)
    assert {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()} == before
    # A changed image gets a new thumbnail; the stale one is removed.
    Image.new("RGB", IMAGE_SIZE, (10, 200, 10)).save(tmp_path / "b" / "images" / "synth" / "00000.png")
    third = build_site(options)
    assert (third.thumbs.made, third.thumbs.reused) == (1, 5)
    assert len(list((tmp_path / "site" / "thumbs").glob("*/*.jpg"))) == 6


def test_official_layout_file_needs_only_the_four_columns(tmp_path):
    images = tmp_path / "coco"
    images.mkdir()
    Image.new("RGB", (320, 200), (50, 60, 70)).save(images / "a.jpg")
    official = pa.table(
        {
            "qry_text": ["<|image_1|>\nFind the caption..."] * 2,
            "qry_image_path": ["a.jpg", "missing.jpg"],
            "tgt_text": [[f"caption {k}" for k in range(10)]] * 2,
            "bbox": [[10.0, 20.0, 30.0, 40.0], [0.0, 0.0, 5.0, 5.0]],
        }
    )
    path = tmp_path / "SCAR_RefCOCO+_val_filtered.parquet"
    pq.write_table(official, path)
    result = build_site(SiteOptions(path, tmp_path / "site", images=images))
    rows = site_rows(tmp_path / "site")
    assert [r["id"] for r in rows] == ["SCAR_RefCOCO+_val_filtered:0", "SCAR_RefCOCO+_val_filtered:1"]
    assert rows[0]["src"] == "SCAR_RefCOCO+_val_filtered" and rows[0]["sp"] == "eval"
    assert (rows[0]["iw"], rows[0]["ih"]) == (320, 200) and rows[0]["th"] and rows[0]["nt"] is None
    assert rows[1]["th"] is None and rows[1]["p"] == "missing image"
    assert result.image_problems == {"missing image": 1}
    # Without an images root the site is still written, with the regions on blank images.
    blank = build_site(SiteOptions(path, tmp_path / "site2"))
    assert blank.images_root is None and all(r["p"] for r in site_rows(tmp_path / "site2"))


def test_unsafe_image_paths_are_never_opened(tmp_path):
    root = tmp_path / "images"
    assert image_file(root, "../secret.png") is None
    assert image_file(root, "/etc/passwd") is None and image_file(root, "C:\\x.png") is None
    assert image_file(root, "a/../../b.png") is None and image_file(root, "a\x00b") is None
    assert image_file(root, "a/b.png") == root / "a" / "b.png"
    write_synthetic_build(tmp_path / "b", rows=2, images=1)
    table = pq.read_table(tmp_path / "b" / "synth" / "eval-00000.parquet")
    paths = pa.array(["../../outside.png", str(tmp_path / "b" / "images" / "synth" / "00000.png")])
    pq.write_table(table.set_column(table.schema.get_field_index("qry_image_path"), "qry_image_path", paths),
                   tmp_path / "b" / "synth" / "eval-00000.parquet")
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    build_site(SiteOptions(tmp_path / "b", tmp_path / "site"))
    assert [r["p"] for r in site_rows(tmp_path / "site")] == ["unsafe image path", "unsafe image path"]
    assert not list((tmp_path / "site" / "thumbs").glob("*/*.jpg"))


def test_audit_flags_are_attached_to_their_rows(tmp_path):
    ids = write_synthetic_build(tmp_path / "b", rows=12, images=2)
    audit = {"row_flags": {ids[1]: ["solved:ngram"], ids[5]: ["solved:length", "solved:ngram"], "synth:gone:0": ["solved:ngram"]}}
    (tmp_path / "b" / "audit.json").write_text(json.dumps(audit))
    result = build_site(SiteOptions(tmp_path / "b", tmp_path / "site"))
    assert (result.flagged_rows, result.unmatched_flags) == (2, 1)
    rows = site_rows(tmp_path / "site")
    assert {r["id"]: r.get("fl") for r in rows if r.get("fl")} == {ids[1]: ["solved:ngram"], ids[5]: ["solved:length", "solved:ngram"]}
    index = read_js(tmp_path / "site" / "data" / "index.js")[0]
    flags = read_js(tmp_path / "site" / "data" / "meta.js")[0]["facets"]["fl"]
    assert {g: [flags[c] for c in codes] for g, codes in index["fl"].items()} == {"1": ["solved:ngram"], "5": ["solved:length", "solved:ngram"]}
    (tmp_path / "b" / "audit.json").write_text('{"row_flags": {"x": "solved"}}')
    with pytest.raises(ScarError, match="audit.json: flags of row 'x'"):
        build_site(SiteOptions(tmp_path / "b", tmp_path / "site"))
    (tmp_path / "b" / "audit.json").write_text("{not json")
    with pytest.raises(ScarError, match="audit.json: unreadable audit file"):
        build_site(SiteOptions(tmp_path / "b", tmp_path / "site"))


def test_rejection_examples_carry_images(demo_build, tmp_path):
    stats = json.loads((demo_build / "stats.json").read_text())
    rejections = stats["sources"]["demo"]["splits"]["eval"]["rejections"]
    regions = rejections["example_regions"]["demo: too few relation swaps"]
    assert regions and all(r["image_path"].startswith("demo/eval/") and len(r["bbox"]) == 4 for r in regions)
    build_site(SiteOptions(demo_build, tmp_path / "site"))
    groups = read_js(tmp_path / "site" / "data" / "meta.js")[0]["rejections"]
    swaps = next(g for g in groups if g["split"] == "eval" and g["reason"] == "too few relation swaps")
    assert swaps["count"] == rejections["counts"]["demo: too few relation swaps"]
    assert all(r["th"] and r["iw"] for r in swaps["regions"])


def test_site_folder_safety(tmp_path):
    write_synthetic_build(tmp_path / "b", rows=2, images=1)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ScarError, match="not empty and not a `scar browse` site"):
        build_site(SiteOptions(tmp_path / "b", tmp_path / "mine"))
    with pytest.raises(ScarError, match="into the browsed folder itself"):
        build_site(SiteOptions(tmp_path / "b", tmp_path / "b"))
    with pytest.raises(ScarError, match="no Parquet files"):
        build_site(SiteOptions(tmp_path / "mine", tmp_path / "site"))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(ScarError, match="bad.parquet: unreadable Parquet file"):
        build_site(SiteOptions(tmp_path / "bad.parquet", tmp_path / "site"))


def test_images_root_resolution(tmp_path, demo_build):
    assert resolve_image_roots(demo_build, None).origin == "stats.json"
    assert resolve_image_roots(demo_build, tmp_path).default == tmp_path.resolve()
    with pytest.raises(ScarError, match="images root is not a directory"):
        resolve_image_roots(demo_build, tmp_path / "nope")
    assert resolve_image_roots(tmp_path, None).origin == "none"


def test_cli_browse_and_serve(tmp_path, capsys):
    write_synthetic_build(tmp_path / "b", rows=3, images=1)
    assert main(["browse", str(tmp_path / "b"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "site of 3 rows" in err and (tmp_path / "b" / "browse" / "index.html").is_file()
    assert main(["browse", str(tmp_path / "missing")]) == 2
    assert "missing: no such file or directory" in capsys.readouterr().err
    assert main(["browse", str(tmp_path / "b"), "--serve", "70000"]) == 2
    server = make_server(tmp_path / "b" / "browse", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert b"SCaR browser" in urllib.request.urlopen(f"{base}/index.html").read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/../../stats.json")
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- the review file and --exclude


def test_review_file_format(tmp_path):
    doc = review_document({"b:1:0": {"decision": "reject", "reason": "wrong box"}, "a:1:0": {"decision": "accept", "reason": ""}}, {"rows": 2})
    assert list(doc["decisions"]) == ["a:1:0", "b:1:0"]
    assert rejected_ids(parse_review(doc, "x")) == {"b:1:0": "wrong box"}
    assert rejected_ids(parse_review({"decisions": {"c:1:0": "reject", "d:1:0": "accept"}}, "x")) == {"c:1:0": ""}
    for bad, message in [
        ([], "must be a JSON object"),
        ({"version": 2, "decisions": {}}, "unsupported review file version 2"),
        ({"version": 1, "format": "other", "decisions": {}}, "not a SCaR review file"),
        ({"version": 1, "decisions": []}, "'decisions' must be an object"),
        ({"version": 1, "decisions": {"a": {"decision": "maybe"}}}, "decision for 'a'"),
        ({"version": 1, "decisions": {"a": {"decision": "reject", "reason": 3}}}, "reason for 'a'"),
    ]:
        with pytest.raises(ScarError, match=message):
            parse_review(bad, "review.json")
    (tmp_path / "r.json").write_text("{oops")
    with pytest.raises(ScarError, match="r.json: not valid JSON"):
        read_review(tmp_path / "r.json")
    with pytest.raises(ScarError, match="review file not found"):
        read_review(tmp_path / "none.json")


def write_review(path: Path, rejects: dict[str, str], accepts: list[str] = ()) -> Path:
    decisions = {i: {"decision": "reject", "reason": r} for i, r in rejects.items()}
    decisions.update({i: {"decision": "accept"} for i in accepts})
    path.write_text(json.dumps({"format": "scar-review", "version": 1, "build": {}, "decisions": decisions}))
    return path


def build_demo(out: Path, *extra: str) -> int:
    return main(["build", "--source", "demo", "--out", str(out), "--no-progress", "--workers", "1", *extra])


def test_exclude_drops_exactly_the_rejected_rows(demo_build, tmp_path, capsys):
    base = parquet_ids(demo_build)
    rejected = {base[3]: "wrong box", base[10]: "", base[-1]: "gold is false"}  # eval and train rows
    review = write_review(tmp_path / "review.json", rejected, accepts=[base[4]])
    assert build_demo(tmp_path / "x", "--exclude", str(review)) == 0
    assert parquet_ids(tmp_path / "x") == [i for i in base if i not in rejected]
    stats = json.loads((tmp_path / "x" / "stats.json").read_text())["sources"]["demo"]
    counts = {s: a["rejections"]["counts"].get("demo: rejected by review", 0) for s, a in stats["splits"].items()}
    assert sum(counts.values()) == 3 and counts["eval"] >= 1 and counts["train"] >= 1
    examples = stats["splits"]["eval"]["rejections"]["example_regions"]["demo: rejected by review"]
    assert any(e["detail"] == "wrong box" for e in examples)
    assert stats["manifest"]["review"]["rejected"] == 3
    card = (tmp_path / "x" / "dataset_card.md").read_text()
    assert "demo: rejected by review" in card and "Human review" in card

    # Deterministic: the same review gives the same rows, byte for byte in content.
    assert build_demo(tmp_path / "y", "--exclude", str(review)) == 0
    for name in ("eval-00000.parquet", "train-00000.parquet"):
        assert pq.read_table(tmp_path / "x" / "demo" / name).equals(pq.read_table(tmp_path / "y" / "demo" / name))
    # A rerun with the same rejections resumes; another review (or none) into the same folder is refused.
    assert build_demo(tmp_path / "x", "--exclude", str(review)) == 0
    other = write_review(tmp_path / "other.json", {base[5]: ""})
    capsys.readouterr()
    assert build_demo(tmp_path / "x", "--exclude", str(other)) == 2
    assert "review differ" in capsys.readouterr().err
    assert build_demo(tmp_path / "x") == 2
    # Accept-only reviews and reasons do not change the rows: same manifest as a plain build.
    accepts = write_review(tmp_path / "accepts.json", {}, accepts=base[:5])
    assert build_demo(demo_build, "--exclude", str(accepts)) == 0


def test_exclude_with_a_bad_review_file_is_one_line(tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps({"version": 1, "decisions": {"demo:1:0": {"decision": "nah"}}}))
    assert build_demo(tmp_path / "x", "--exclude", str(tmp_path / "r.json")) == 2
    err = capsys.readouterr().err
    assert "r.json: decision for 'demo:1:0'" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_unreadable_images_and_empty_files(tmp_path):
    write_synthetic_build(tmp_path / "b", rows=3, images=2)
    (tmp_path / "b" / "images" / "synth" / "00001.png").write_bytes(b"\x89PNG truncated")
    result = build_site(SiteOptions(tmp_path / "b", tmp_path / "site"))
    problems = [r["p"] for r in site_rows(tmp_path / "site")]
    assert problems[0] is None and problems[1].startswith("unreadable image") and result.thumbs.failed == 1
    table = pq.read_table(tmp_path / "b" / "synth" / "eval-00000.parquet").slice(0, 0)
    pq.write_table(table, tmp_path / "empty.parquet")
    empty = build_site(SiteOptions(tmp_path / "empty.parquet", tmp_path / "site-empty"))
    assert (empty.rows, empty.chunks) == (0, 0)
    assert read_js(tmp_path / "site-empty" / "data" / "index.js")[0]["id"] == []
