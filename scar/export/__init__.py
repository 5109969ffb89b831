"""`scar export`: a build folder in the official SCaR layout, or as a Hugging Face dataset folder.

Modules: `names` (official file names per source), `images` (safe image paths, hard links with a
copy fallback), `outdir` (the output folder: refusal, marker, clean-up), `session` (what both layouts share: claiming
`--out` and the result), `official` (the layout the
official sony/virtue loaders read), `hub` (a portable build folder with a hub README, rendered by
scar.publish.hub_card as every build does), `cli` (the command's options).
"""
