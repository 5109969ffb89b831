"""`scar browse`: a static HTML site over a SCaR build (or any SCaR Parquet) for looking at and reviewing samples.

Modules: `review` (the review file format, also read by `scar build --exclude`), `images` (where images
live, thumbnails), `rows` (reading Parquet rows into the site's compact form), `inputs` (audit flags and
rejection examples beside a build), `site` (writes the site), `server` (`--serve`), `cli` (the command).
Nothing here is imported by `scar build` except `review`, which needs only the standard library.
"""
