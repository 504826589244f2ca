"""The embedded local forge: bare repositories, pull requests and checks under JX_MLOPS_HOME."""
