"""Compute engines a stage is handed to instead of the CI job: the Ray Jobs API (``ray``)."""
