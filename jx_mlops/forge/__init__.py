"""Forges: where repositories and pull requests live (the embedded local forge, or GitHub)."""
