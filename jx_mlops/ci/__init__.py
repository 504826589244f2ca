"""What CI runs: the pull-request check, the release, ChatOps, publishing fork reports."""
