"""Environment repositories: what is deployed where, its history, holds and verification notes."""
