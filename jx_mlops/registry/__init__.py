"""The model registry: versions and stages as GTO tags, read and written as GTO does.

``grammar`` (tag names), ``state`` (which events are in effect), ``tags`` (versions and
stage tags in a git repository), ``declared`` (models declared in mlops.yaml and
dvc.yaml), ``registration`` (registering a project's model with its lineage),
``listing``, ``provenance`` and ``signatures`` (what a version carries).
"""
