"""Reading a project at a revision and building a Comparison of two revisions.

- ``snapshot``: the files of one revision (git objects, work tree, DVC cache, files
  inside directory outputs), and how revision names resolve.
- ``dvcfiles``: what DVC declares at one revision (every dvc.yaml resolved by DVC's own
  resolver) and its dvc.lock files, merged.
- ``declared``: which metrics and params files a model has at a revision.
- ``pipeline``: data inputs, stage lineage and stale stages from DVC's metadata.
- ``plots``: plot definitions and their data, drawn as charts.
- ``predictions``: per-sample predictions and the significance of metric changes.
- ``trend``: a metric's history over the base branch.
- ``runrecords``: the cost of `dvc repro`, kept as git notes.
- ``build``: all of the above for every model: the I/O half of `jx-mlops report`.

Imports go one way: ``build`` -> the others -> ``snapshot``.
"""
