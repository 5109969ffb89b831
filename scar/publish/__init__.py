"""What a build and an export both publish: the dataset card, the hub README (`hub_card`), the
sources' licenses and citations (`terms`) and the build's identity (`build_identity`, build.json)."""
