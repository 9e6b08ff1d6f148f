"""Turn RemoteVectorEnv arguments into per-host settings and MakeRequests, refusing bad ones."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from remote_gym.codec.requests import make_request
from remote_gym.errors import ConfigError, ConnectError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.status import map_errors
from remote_gym.transport.tls import TLSConfig
from remote_gym.vector.splits import split_sizes

DNS_PREFIX = "dns:"


def expand_addresses(address: str | Sequence[str]) -> list[str]:
    """The ``"host:port"`` list of ``address``, each ``"dns:NAME:PORT"`` replaced by one address per
    A/AAAA record of NAME, in the resolver's order (what a Kubernetes headless Service returns).

    Raises:
        ConnectError: A ``dns:`` name that does not resolve, or has no port.
    """
    expanded: list[str] = []
    for item in [address] if isinstance(address, str) else list(address):
        if not item.startswith(DNS_PREFIX):
            expanded.append(item)
            continue
        name, sep, port = item.removeprefix(DNS_PREFIX).rpartition(":")
        if not sep or not name or not port.isdigit():
            raise ConnectError(f"address {item!r} is not dns:NAME:PORT")
        with map_errors(f"cannot resolve the host name {name!r} of {item!r}", os_error=ConnectError):
            infos = socket.getaddrinfo(name, int(port), type=socket.SOCK_STREAM)
        hosts = dict.fromkeys(str(info[4][0]) for info in infos)
        expanded.extend(f"[{h}]:{port}" if ":" in h else f"{h}:{port}" for h in hosts)
    return expanded


def host_sizes(num_envs: int | Sequence[int], hosts: int) -> list[int]:
    """Sub-envs per host: an even split of an int total (remainder to the first hosts), or the given counts.

    Raises:
        ConfigError: No hosts, fewer envs than hosts, or a count list that does not fit.
    """
    if hosts < 1:
        raise ConfigError("RemoteVectorEnv needs at least one address")
    if isinstance(num_envs, (int, np.integer)):
        if num_envs < hosts:
            raise ConfigError(
                f"num_envs={num_envs} is less than the {hosts} addresses; every host needs an env"
            )
        return split_sizes(int(num_envs), hosts)
    sizes = [int(n) for n in num_envs]
    if len(sizes) != hosts or any(n < 1 for n in sizes):
        raise ConfigError(
            f"num_envs must be an int or one count >= 1 per address ({hosts}), got {list(num_envs)}"
        )
    return sizes


def per_host(tls: TLSConfig | Sequence[TLSConfig | None] | None, hosts: int) -> list[TLSConfig | None]:
    """One TLS setting per host, from one setting for all or a list.

    Raises:
        ConfigError: A list whose length is not the number of hosts.
    """
    if tls is None or isinstance(tls, TLSConfig):
        return [tls] * hosts
    tls_list = list(tls)
    if len(tls_list) != hosts:
        raise ConfigError(f"tls must be one TLSConfig or one per address ({hosts}), got {len(tls_list)}")
    return tls_list


def per_host_tokens(
    token: str | TokenAuth | Sequence[str | TokenAuth | None] | None, hosts: int
) -> list[TokenAuth | None]:
    """One bearer token (or None) per host, from one token for all or a list.

    Raises:
        ConfigError: A list whose length is not the number of hosts, or an invalid token.
    """
    if token is None or isinstance(token, (str, TokenAuth)):
        tokens: list[str | TokenAuth | None] = [token] * hosts
    else:
        tokens = list(token)
        if len(tokens) != hosts:
            raise ConfigError(f"token must be one token or one per address ({hosts}), got {len(tokens)}")
    return [TokenAuth(t) if isinstance(t, str) else t for t in tokens]


def make_requests(
    env: str | None,
    sizes: Sequence[int],
    *,
    kwargs_json: str,
    render_mode: str | None,
    autoreset_mode: AutoresetMode,
    restart: bool,
    compression: bool,
    vectorization_mode: str = "sync",
    names: Sequence[str | None] | None = None,
    kwargs_jsons: Sequence[str] | None = None,
    per_env_infos: bool = False,
) -> list[pb.Request]:
    """The first request of each host's session: ``sizes[i]`` sub-envs on host ``i``.

    A mixed pool gives each host its env ``names[i]`` and kwargs ``kwargs_jsons[i]``; ``per_env_infos``
    asks every host for its sub-envs' own infos even when there is one (asynchronous stepping).
    """
    requests = []
    for i, size in enumerate(sizes):
        requests.append(
            make_request(
                names[i] if names is not None else env,
                kwargs_json=kwargs_jsons[i] if kwargs_jsons is not None else kwargs_json,
                render_mode=render_mode,
                compression=compression,
                num_envs=size,
                autoreset_mode=autoreset_mode,
                restart_on_failure=restart,
                vectorization_mode=vectorization_mode,
                # Several hosts: each sends its sub-envs' own infos, so that merging them equals one
                # SyncVectorEnv whatever the split (a vectorised info is typed by its first sub-env).
                per_env_infos=per_env_infos or len(sizes) > 1,
            )
        )
    return requests


def env_id(id: str | None, env: str | None) -> str | None:
    """The environment named by ``id`` or by ``env``, its former name (both: they must agree).

    Raises:
        ConfigError: They name different environments.
    """
    if env is not None and id is not None and env != id:
        raise ConfigError(f"id={id!r} and env={env!r} name different environments; pass only id")
    return id if id is not None else env


ON_ENV_FAILURE = ("raise", "restart")
VECTORIZATION_MODES = ("sync", "vector_entry_point", "auto")


def check_vector_options(vectorization_mode: str, on_env_failure: str, render_mode: str | None) -> None:
    """Refuse options a RemoteVectorEnv does not know.

    Raises:
        ConfigError: An unknown vectorization mode or failure policy, or the "human" render mode.
    """
    if vectorization_mode not in VECTORIZATION_MODES:
        raise ConfigError(
            f"vectorization_mode must be one of {VECTORIZATION_MODES}, got {vectorization_mode!r}"
        )
    if on_env_failure not in ON_ENV_FAILURE:
        raise ConfigError(f"on_env_failure must be one of {ON_ENV_FAILURE}, got {on_env_failure!r}")
    if render_mode == "human":
        raise ConfigError("RemoteVectorEnv has no 'human' render mode; use 'rgb_array' and show the frames")


@dataclass(frozen=True)
class EnvGroup:
    """Sub-envs of a mixed pool (``RemoteVectorEnv(envs=[...])``): ``num_envs`` copies of env ``id``
    made with ``kwargs``, on the server ``address`` (None: the vector env's single ``address``)."""

    id: str | None = None
    num_envs: int = 1
    kwargs: Mapping[str, Any] | None = None
    address: str | None = None


def env_groups(
    envs: Sequence[EnvGroup | Mapping[str, Any]], address: str | Sequence[str] | None
) -> list[EnvGroup]:
    """The groups of a mixed pool, each with its address.

    Raises:
        ConfigError: No group, a group of fewer than one sub-env, unknown keys, or a group without
            an address when ``address`` is not one string.
    """
    groups: list[EnvGroup] = []
    for i, item in enumerate(envs):
        try:
            group = item if isinstance(item, EnvGroup) else EnvGroup(**item)
        except TypeError as exc:
            raise ConfigError(f"envs[{i}] is not an EnvGroup or a dict of its fields: {exc}") from None
        if group.num_envs < 1:
            raise ConfigError(f"envs[{i}] has num_envs={group.num_envs}; every group needs at least one")
        if group.address is None:
            if not isinstance(address, str):
                raise ConfigError(f"envs[{i}] names no address, and address= is not one server")
            group = EnvGroup(group.id, group.num_envs, group.kwargs, address)
        groups.append(group)
    if not groups:
        raise ConfigError("envs= needs at least one group of sub-envs")
    return groups
