"""The hosting side: EnvServer, its configuration, sessions and worker processes."""
