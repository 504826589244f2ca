"""Unit tests of jx_mlops.dvc: DVC's rules applied to resolved dvc.yaml files (pure)."""
