"""EnvCluster: remote-gym servers launched, placed, supervised and restarted by Ray."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.placement_group import remove_placement_group

from remote_gym.client.config import ClientConfig
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.errors import ConfigError, ServerLostError
from remote_gym.ray.health import serving
from remote_gym.ray.hub import HubLink, start_hub, stop_hub, wait_until_attached
from remote_gym.ray.placement import DEFAULT_SERVER_RESOURCES, bundle_of
from remote_gym.ray.records import ServerHandle, ServerRecord
from remote_gym.ray.spawn import NAMESPACE, note_records, raise_start_error, spawn_servers, wait_until_serving
from remote_gym.ray.spec import ServerSpec, build_spec
from remote_gym.ray.status import wait_removed
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig

START_TIMEOUT_S = 120.0
RESOLVE_TIMEOUT_S = 60.0
STOP_GRACE_S = 1.0
CLUSTER_RESUME_S = 1.0
"""A vector env's resume window on a cluster: a lost server comes back elsewhere, not at its old address."""
_PROBE_S = 2.0

logger = logging.getLogger(__name__)


class EnvCluster:
    """Servers hosting one environment on Ray actors, each on its node's IP and a free port.

    Use :meth:`launch`; :meth:`make_vec` opens a vector env over every server that follows a
    restarted server to its new address. Closing stops the servers and their worker processes and
    removes the actors and placement groups.

    Example:
        >>> with EnvCluster.launch("CartPole-v1", num_servers=2) as cluster:  # doctest: +SKIP
        ...     envs = cluster.make_vec(16, on_env_failure="restart")
    """

    def __init__(
        self,
        spec: ServerSpec,
        *,
        bundle: Mapping[str, float],
        strategy: str,
        max_restarts: int,
        token: str | None,
        client_tls: TLSConfig | None,
        name: str,
        owns_ray: bool,
    ) -> None:
        self.name = name
        self._spec = spec
        self._bundle = dict(bundle)
        self._strategy = strategy
        self._max_restarts = max_restarts
        self._token = token
        self._client_tls = client_tls
        self._owns_ray = owns_ray
        self._servers: list[ServerHandle] = []
        self._hub: tuple[Any, HubLink] | None = None
        """The hub actor and the link its servers dial (``launch(hub=True)``)."""
        self._next_index = 0
        self.closed = False

    @classmethod
    def launch(
        cls,
        env: str | None = None,
        *,
        entrypoint: str | os.PathLike[str] | None = None,
        repo: str | None = None,
        reference: str | None = None,
        repo_cache_dir: str | os.PathLike[str] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        allowed_kwargs: Sequence[str] | str | None = None,
        num_servers: int = 1,
        strategy: str = "SPREAD",
        server_resources: Mapping[str, Any] | None = None,
        server_config: Mapping[str, Any] | None = None,
        tls: ServerTLSConfig | None = None,
        client_tls: TLSConfig | None = None,
        token: str | None = None,
        ray_address: str | None = None,
        max_restarts: int = -1,
        name: str | None = None,
        start_timeout: float = START_TIMEOUT_S,
        hub: bool | Mapping[str, Any] = False,
    ) -> EnvCluster:
        """Start ``num_servers`` servers as Ray actors; return once every one answers health checks.

        Args:
            env: A registered Gymnasium id, importable on every node (``"module:Id"`` imports ``module``).
            entrypoint: Or an entrypoint file (``create_environment(...)``). Its directory (at most
                16 MiB, hidden files and caches left out) is read here and shipped with every server's
                spec through Ray; it need not exist on the nodes (the packages it imports must).
                With ``repo``: a path in that repository instead.
            repo: A git repository (URL) holding the entrypoint. ``reference`` is resolved to a commit
                here, once; every node checks that commit out (once per node) so all servers run the same code.
            reference: Branch, tag or commit of ``repo`` (default: its default branch).
            repo_cache_dir: The nodes' checkout cache (default: ``~/.cache/remote-gym/repos``).
            kwargs: The operator's keyword arguments for the environment.
            allowed_kwargs: What clients may set (default: the keys of ``kwargs``; ``"*"``: anything).
            num_servers: Servers to start.
            strategy: Ray placement strategy of the servers' placement group: ``"SPREAD"``, ``"PACK"``,
                ``"STRICT_SPREAD"`` or ``"STRICT_PACK"``.
            server_resources: Ray resources per server, as actor options: ``{"num_cpus": 4}``,
                ``{"resources": {"windows-sim": 1}}``. Default: one CPU. Worker processes of the
                server's sessions run on the same node, outside Ray's accounting.
            server_config: Other :class:`~remote_gym.ServerConfig` fields (``max_sessions``, ``hosting``...).
            tls: The servers' certificate (valid for the nodes' IPs) and key; None: plaintext.
            client_tls: How this process and :meth:`make_vec` reach TLS servers (needed with ``tls``).
            token: A bearer token the servers require, also used by :meth:`make_vec`.
            ray_address: Ray cluster to join (``"auto"``, ``"ray://head:10001"``); None: the one already
                initialised, else a new local one. A Ray runtime started here stops at :meth:`close`.
            max_restarts: Times Ray restarts a server whose process or node died (-1: always).
            name: Prefix of the actors' names in the ``remote-gym`` namespace (default: random).
            start_timeout: Seconds to wait for placement, start and health of all servers.
            hub: Also start a hub (an actor, ``{name}/hub``) that the servers dial out to: trainers
                then need its one address (:attr:`address`) and the servers listen nowhere. A mapping
                gives the hub actor's Ray resources (default: no CPU reserved). It has the servers'
                ``tls`` and ``token``; the servers dial it with ``client_tls``.

        Raises:
            ConfigError: Invalid arguments, or a repository or reference that cannot be resolved.
            ServerStartError: A server could not be placed or started, or did not answer in time:
                the error names the node and the cause (missing package, bad entrypoint, port...).
        """
        if num_servers < 1:
            raise ConfigError(f"num_servers must be >= 1, got {num_servers}")
        if tls is not None and client_tls is None:
            raise ConfigError("TLS servers need client_tls (the CA that signed their certificate)")
        bundle = bundle_of(server_resources or DEFAULT_SERVER_RESOURCES)
        allowed = (
            allowed_kwargs
            if allowed_kwargs is None or isinstance(allowed_kwargs, str)
            else tuple(allowed_kwargs)
        )
        spec = build_spec(
            env,
            entrypoint=entrypoint,
            kwargs=kwargs,
            allowed_kwargs=allowed,
            tls=tls,
            tokens=(token,) if token else (),
            options=server_config,
            repo=repo,
            reference=reference,
            repo_cache_dir=repo_cache_dir,
        )
        owns_ray = not ray.is_initialized()
        if owns_ray:
            ray.init(address=ray_address, namespace=NAMESPACE, log_to_driver=False)
        cluster = cls(
            spec,
            bundle=bundle,
            strategy=strategy,
            max_restarts=max_restarts,
            token=token,
            client_tls=client_tls,
            name=name or f"envs-{uuid.uuid4().hex[:8]}",
            owns_ray=owns_ray,
        )
        try:
            if hub is not False:
                resources = hub if isinstance(hub, Mapping) else None
                cluster._hub = start_hub(spec, cluster.name, client_tls, resources, NAMESPACE, start_timeout)
            cluster._add(num_servers, start_timeout)
        except BaseException:
            cluster.close()
            raise
        return cluster

    def __repr__(self) -> str:
        return (
            f"EnvCluster({self.name}: {self._spec.name} x {len(self._servers)} @ {', '.join(self.addresses)})"
        )

    def __enter__(self) -> EnvCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> str | None:
        """The hub's ``"host:port"`` (``launch(hub=True)``): one address for every server; else None."""
        return self._hub[1].address if self._hub is not None else None

    @property
    def addresses(self) -> list[str]:
        """``"host:port"`` of every server, as last seen (with a hub: the hub's alone)."""
        if self._hub is not None:
            return [self._hub[1].address]
        return [str(server.record["address"]) for server in self._servers]

    @property
    def servers(self) -> list[ServerRecord]:
        """Every server's node, address, state and restarts, asked now (a few seconds at most)."""
        refs = [server.actor.record.remote() for server in self._servers]
        records = []
        for index, (server, ref) in enumerate(zip(self._servers, refs, strict=True)):
            state = "ALIVE"
            try:
                server.update(ray.get(ref, timeout=_PROBE_S))
            except GetTimeoutError:
                state = "RESTARTING"
            except RayActorError:
                state = "DEAD" if self._max_restarts == 0 else "RESTARTING"
            record = server.record
            records.append(ServerRecord(index, record["node_id"], record["address"], state, server.restarts))
        return records

    def make_vec(self, num_envs: int, **options: Any) -> RemoteVectorEnv:
        """A :class:`~remote_gym.RemoteVectorEnv` of ``num_envs`` sub-envs spread evenly over the servers.

        ``options`` are RemoteVectorEnv's; ``token`` and ``tls`` default to the cluster's. With
        ``on_env_failure="restart"``, the sub-envs of a server that died are recreated on the server
        Ray restarted in its place (their episodes end truncated, ``info["env_restarted"]``); without
        it, that step raises an error naming the server. Servers added later by :meth:`scale` are not
        part of a vector env made before.
        """
        self._check_open()
        options.setdefault("token", self._token)
        options.setdefault("tls", self._client_tls)
        options.setdefault("config", ClientConfig(resume_s=CLUSTER_RESUME_S))
        env = options.pop("env", None)
        if self._hub is not None:  # the hub spreads the sub-envs over its hosts, and moves them
            return RemoteVectorEnv(env, num_envs, address=self._hub[1].address, **options)
        return RemoteVectorEnv(env, num_envs, address=self.addresses, resolver=self.resolve, **options)

    def resolve(self, index: int, lost_address: str, timeout: float = RESOLVE_TIMEOUT_S) -> str:
        """The address of server ``index`` once it serves again (Ray restarted it, maybe elsewhere).

        Raises:
            ServerStartError: The restarted server could not start (names node and cause).
            ServerLostError: It did not answer health checks within ``timeout`` seconds.
        """
        self._check_open()
        server = self._servers[index]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                record = ray.get(server.actor.record.remote(), timeout=max(0.1, deadline - time.monotonic()))
            except (GetTimeoutError, RayActorError):
                time.sleep(0.1)
                continue
            server.update(record)
            raise_start_error(index, record)
            address = str(record["address"])
            if serving(address, self._client_tls, timeout=max(0.1, deadline - time.monotonic())) is None:
                if address != lost_address:
                    logger.info("server %d moved from %s to %s", index, lost_address, address)
                return address
        raise ServerLostError(
            f"server {index} of {self.name} ({lost_address}) did not serve again within {timeout} s",
            server=index,
            address=lost_address,
        )

    def scale(self, num_servers: int, *, start_timeout: float = START_TIMEOUT_S) -> None:
        """Start or stop servers until there are ``num_servers`` (the last ones stop first).

        New servers form a placement group of their own, placed with the cluster's strategy.

        Raises:
            ConfigError: ``num_servers`` < 1.
            ServerStartError: A new server could not start (those started by this call are stopped).
        """
        self._check_open()
        if num_servers < 1:
            raise ConfigError(f"num_servers must be >= 1, got {num_servers}")
        if num_servers > len(self._servers):
            before = len(self._servers)
            try:
                self._add(num_servers - before, start_timeout)
            except BaseException:
                self._remove(self._servers[before:])
                raise
        else:
            self._remove(self._servers[num_servers:])

    def close(self) -> None:
        """Stop every server, remove its actor and placement group; idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            self._remove(list(self._servers))
        finally:
            if self._hub is not None:
                stop_hub(self._hub[0], STOP_GRACE_S)
            wait_removed(f"{self.name}/")  # the actors are gone, not only killed, once close returns
            if self._owns_ray:
                ray.shutdown()

    # -- internals ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ConfigError(f"{self.name} is closed")

    def _add(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        new = spawn_servers(
            self._spec,
            cluster=self.name,
            numbers=range(self._next_index, self._next_index + count),
            bundle=self._bundle,
            strategy=self._strategy,
            max_restarts=self._max_restarts,
            timeout=timeout,
            hub=self._hub[1] if self._hub is not None else None,
        )
        self._next_index += count
        self._servers.extend(new)  # before waiting: a server that fails to start is still removed
        first_index = len(self._servers) - len(new)
        if self._hub is not None:
            note_records(new, first_index=first_index, deadline=deadline)
            wait_until_attached(self._hub[0], new, deadline=deadline)
        else:
            wait_until_serving(new, first_index=first_index, client_tls=self._client_tls, deadline=deadline)

    def _remove(self, servers: Sequence[ServerHandle]) -> None:
        stops = []
        for server in servers:
            stops.append(server.actor.stop.remote(STOP_GRACE_S))
        for ref in stops:
            try:
                ray.get(ref, timeout=STOP_GRACE_S + 10)
            except Exception:  # a dead or restarting server has nothing left to stop
                logger.debug("server did not stop cleanly", exc_info=True)
        groups = {id(s.group): s.group for s in servers}
        for server in servers:
            ray.kill(server.actor, no_restart=True)
            self._servers.remove(server)
        in_use = {id(s.group) for s in self._servers}
        for key, group in groups.items():
            if key not in in_use:
                remove_placement_group(group)
