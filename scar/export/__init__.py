"""`scar export`: a build folder in the official SCaR layout, or as a Hugging Face dataset folder.

Modules: `names` (official file names per source), `images` (safe image paths, hard links with a
copy fallback), `outdir` (the output folder: refusal, marker, clean-up), `session` (what both layouts share: claiming
`--out` and the result), `official` (the layout the
official sony/virtue loaders read), `hub` (a portable build folder with a hub README), `hub_card`
(the README renderer, also called by every build), `terms` (per-source licenses and citations),
`cli` (the command's options).
"""
