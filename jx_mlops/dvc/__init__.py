"""The only package that knows DVC: its commands, its file formats and its storage."""
