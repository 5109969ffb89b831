"""The shared core every room of the toolkit builds on: errors, the data model and Parquet schema,
seeded randomness, crash-safe files, locks, images roots, argument types, worker lifetime, the
candidate-list filters and the toolkit's version. Imports nothing outside itself."""
