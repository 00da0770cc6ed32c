"""Lake administration over the metadata stores of every service: ``doctor`` checks and
repairs, ``backup`` copies and restores. A service-level package because it reads the
stores of catalog, queries, crawlers, workflows and ingest alike."""
