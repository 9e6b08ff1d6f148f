"""The training side: RemoteEnvironment and its configuration."""
