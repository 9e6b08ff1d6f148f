"""The Ray actor that runs one remote-gym server on its node, in its own worker process."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
from typing import Any

import gymnasium as gym
import ray

from remote_gym.ray.hub import HubLink
from remote_gym.ray.spec import ServerSpec, private_dir
from remote_gym.server.handlers.spec import load_entrypoint
from remote_gym.server.server import EnvServer

CLUSTER_ENV = "REMOTE_GYM_CLUSTER"
"""Environment variable naming the cluster, set in each server process and inherited by its workers."""


def _check_environment(spec: ServerSpec, code_dir: str) -> None:
    """Import what the server will run, so that a missing package or a bad file fails the launch."""
    entry = spec.entry(code_dir)
    if entry.entrypoint is not None:
        load_entrypoint(entry.entrypoint)
    else:
        assert entry.gym_id is not None
        gym.spec(entry.gym_id)


class ServerActor:
    """Starts a server hosting ``spec`` on this node's IP and a free port; reports, never raises.

    A failure to start is kept and reported by :meth:`record` (with the node), so that the driver can
    name the node and the cause instead of seeing Ray restart a broken server again and again.
    With ``hub``, it listens nowhere and dials the cluster's hub as ``server-{number}-{pid}`` (a
    restarted server is a new host to the hub, which it need not wait to forget).
    """

    def __init__(self, spec: ServerSpec, cluster: str, hub: HubLink | None = None, number: int = 0) -> None:
        # Inherited by the server's zygote and workers: every process of the cluster can be found.
        os.environ[CLUSTER_ENV] = cluster
        context = ray.get_runtime_context()
        self._node_id = context.get_node_id()
        self._ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        self._server: EnvServer | None = None
        self._error: str | None = None
        self._hub_name = f"server-{number}-{os.getpid()}" if hub is not None else None
        self._secrets = private_dir()
        self._workdir = private_dir(spec.files)  # the node's copy of the entrypoint's directory
        try:
            code_dir = spec.code_dir(self._workdir)  # with a repo: its commit, checked out (cached)
            _check_environment(spec, code_dir)
            config = spec.config(self._ip, code_dir, self._secrets)
            if hub is not None and self._hub_name is not None:
                config = dataclasses.replace(config, **hub.dial_options(self._hub_name, self._secrets))
            self._server = EnvServer(config).start()
        except Exception as exc:  # reported by record(), raised on the driver as ServerStartError
            self._error = f"{type(exc).__name__}: {exc}"

    def record(self) -> dict[str, Any]:
        """Where this server runs: node id, address (None when it failed) and the failure."""
        return {
            "node_id": self._node_id,
            "node_ip": self._ip,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "address": self._server.address if self._server is not None and not self._hub_name else None,
            "hub_name": self._hub_name,
            "error": self._error,
        }

    def stop(self, grace: float) -> None:
        """Stop the server (its sessions end, their worker processes are stopped)."""
        try:
            if self._server is not None:
                self._server.stop(grace)
        finally:
            shutil.rmtree(self._secrets, ignore_errors=True)
            shutil.rmtree(self._workdir, ignore_errors=True)
