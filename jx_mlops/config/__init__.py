"""mlops.yaml, typed: one idiom (ConfigNode) for every block; errors name the file and key."""
