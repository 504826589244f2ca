"""Setting a project up: adopting an existing DVC repository (``init``)."""
