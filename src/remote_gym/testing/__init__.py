"""Helpers for testing code built on remote-gym: a loopback server, checks, and small test envs.

Import what you need from the modules: ``remote_gym.testing.server.running_server``,
``remote_gym.testing.checks.check_remote_env``, ``remote_gym.testing.envs``.
"""
