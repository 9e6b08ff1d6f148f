"""Helpers for testing code built on remote-gym: toy environments and loopback servers."""
