"""The only package that runs git: one runner for the git binary, in a sanitized environment."""
