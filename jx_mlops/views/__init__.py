"""How each command shows its result: rich tables for people, ``--json`` for scripts."""
