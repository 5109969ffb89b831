"""`scar build`: the build loop (`pipeline`) and its settings (`config`), generation in worker
processes (`workers`), Parquet shards and sidecars (`shards`), the folder's claim (`manifests`),
unique row ids (`record_ids`) and the build-wide sums (`stats`)."""
