"""`scar validate` (every row against the rules, images by their headers, stats.json against the
shards) and `scar info` (a summary of a build folder)."""
