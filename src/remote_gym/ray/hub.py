"""A hub for an EnvCluster: a Ray actor running a :class:`~remote_gym.hub.Hub`, which the cluster's
servers dial out to, so that trainers need one address (the hub's) and the servers open no port."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from remote_gym.errors import ConfigError, ServerStartError
from remote_gym.hub import Hub, HubConfig
from remote_gym.ray.records import ServerHandle
from remote_gym.ray.spec import ServerSpec, private_dir, server_runtime_env, write_secret
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

_POLL_S = 0.1


@dataclasses.dataclass(frozen=True)
class HubLink:
    """What each server of the cluster needs to dial its hub; pickled to the nodes by Ray."""

    address: str
    host_token: str
    """The token the hub asks of its hosts (made for this cluster, never shown)."""
    tls_pem: tuple[bytes | None, bytes | None, bytes | None] | None = None
    """``(ca, cert, key)`` of the cluster's ``client_tls``, read on the driver; None: plaintext."""
    server_name: str | None = None

    def __repr__(self) -> str:  # never show the token
        return f"HubLink({self.address}, tls={self.tls_pem is not None})"

    def dial_options(self, name: str, secrets_dir: str) -> dict[str, Any]:
        """The :class:`~remote_gym.ServerConfig` fields that make a server dial this hub as ``name``."""
        tls = None
        if self.tls_pem is not None:
            ca, cert, key = (
                write_secret(secrets_dir, f"hub-{part}", data) if data else None
                for part, data in zip(("ca", "cert", "key"), self.tls_pem, strict=True)
            )
            tls = TLSConfig(ca=ca, cert=cert, key=key, server_name=self.server_name)
        return {"dial": (self.address,), "dial_name": name, "dial_token": self.host_token, "dial_tls": tls}


class HubActor:
    """Runs the cluster's hub on its node's IP and a free port, with the servers' TLS and the trainers' token."""

    def __init__(self, spec: ServerSpec, host_token: str) -> None:
        self._secrets = private_dir()
        ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        tls = spec.server_tls(self._secrets)
        config = HubConfig(
            host=ip,
            port=0,
            tls=tls,
            host_tokens=(TokenAuth(host_token),),
            tokens=tuple(TokenAuth(t) for t in spec.tokens),
            allow_token_over_plaintext=tls is None,  # plaintext like the cluster's servers, if asked for
        )
        self._hub = Hub(config).start()

    def address(self) -> str:
        """Where trainers and the servers reach the hub."""
        return self._hub.address

    def record(self) -> dict[str, Any]:
        """Where the hub runs, as a server actor's record says it (``remote-gym ray status`` lists it)."""
        node_id = ray.get_runtime_context().get_node_id()
        return {"node_id": node_id, "pid": os.getpid(), "address": self._hub.address, "error": None}

    def attached(self) -> list[str]:
        """Names of the hosts attached now."""
        return [host.name for host in self._hub.info().hub_hosts if host.state == "attached"]

    def stop(self, grace: float) -> None:
        """Stop the hub (its trainers' streams and hosts' links end)."""
        try:
            self._hub.stop(grace)
        finally:
            shutil.rmtree(self._secrets, ignore_errors=True)


def start_hub(
    spec: ServerSpec,
    cluster: str,
    client_tls: TLSConfig | None,
    resources: Mapping[str, Any] | None,
    namespace: str,
    timeout: float,
) -> tuple[Any, HubLink]:
    """Start the cluster's hub actor (``{cluster}/hub``) with Ray ``resources`` (default: no CPU
    reserved); its handle and the link its servers dial.

    Raises:
        ConfigError: The cluster's ``client_tls`` files cannot be read.
        ServerStartError: The hub did not start within ``timeout`` seconds.
    """
    tls_pem = None
    if client_tls is not None:
        try:
            tls_pem = tuple(
                pathlib.Path(path).read_bytes() if path else None
                for path in (client_tls.ca, client_tls.cert, client_tls.key)
            )
        except OSError as exc:
            raise ConfigError(f"cannot read client_tls files for the hub's servers: {exc}") from exc
    host_token = secrets.token_urlsafe(24)
    actor: Any = (
        ray.remote(HubActor)
        .options(
            name=f"{cluster}/hub",
            namespace=namespace,
            max_restarts=0,  # a restarted hub would listen on another port than its servers dial
            runtime_env=server_runtime_env(),
            **dict(resources or {"num_cpus": 0}),
        )
        .remote(spec, host_token)
    )
    try:
        address = str(ray.get(actor.address.remote(), timeout=timeout))
    except (GetTimeoutError, RayActorError) as exc:
        ray.kill(actor, no_restart=True)
        raise ServerStartError(
            f"the cluster's hub did not start: {exc}", node_id=None, cause=str(exc)
        ) from exc
    server_name = client_tls.server_name if client_tls is not None else None
    return actor, HubLink(address, host_token, tls_pem, server_name)  # type: ignore[arg-type]


def wait_until_attached(hub: Any, servers: Sequence[ServerHandle], *, deadline: float) -> None:
    """Wait until every server (its record noted) is attached at the hub.

    Raises:
        ServerStartError: A server did not attach by ``deadline`` (on ``time.monotonic()``).
    """
    names = {str(server.record["hub_name"]) for server in servers}
    attached: set[str] = set()
    while time.monotonic() < deadline:
        attached = set(ray.get(hub.attached.remote(), timeout=max(0.1, deadline - time.monotonic())))
        if names <= attached:
            return
        time.sleep(_POLL_S)
    missing = sorted(names - attached)
    raise ServerStartError(
        f"servers {missing} did not attach to the cluster's hub in time", node_id=None, cause="timeout"
    )


def stop_hub(actor: Any, grace: float) -> None:
    """Stop the hub actor's hub and remove the actor."""
    with contextlib.suppress(Exception):  # a dead hub has nothing left to stop
        ray.get(actor.stop.remote(grace), timeout=grace + 10)
    ray.kill(actor, no_restart=True)
