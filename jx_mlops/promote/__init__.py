"""Promotion flows and their pure parts: changes through PRs on environment repositories,
gates, verification, holds, audit, status, lineage, insights."""
