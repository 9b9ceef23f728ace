"""Settings, layered from defaults to flags, and the secret default credentials derive from."""
