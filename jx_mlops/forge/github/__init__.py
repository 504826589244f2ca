"""GitHub as a forge, through PyGithub: values, errors and credentials of its own."""
