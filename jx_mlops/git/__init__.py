"""The only package that runs git (GitPython or the git binary), with a sanitized environment."""
