"""RemoteVectorEnv: a gymnasium.vector.VectorEnv whose sub-environments run on remote-gym servers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, create_empty_array

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.env import _merge_kwargs
from remote_gym.client.vector_hosts import VectorHost, connect_all, exchange
from remote_gym.codec.batch import merge_batches, merge_infos, offsets_of, split_batch, split_sizes
from remote_gym.codec.spaces import decode_space
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.codec.vector import decode_vector_info
from remote_gym.errors import ConfigError, EnvClosedError, ProtocolError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.tls import TLSConfig

ON_ENV_FAILURE = ("raise", "restart")
_WIRE_AUTORESET = {
    AutoresetMode.NEXT_STEP: pb.AUTORESET_MODE_NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.AUTORESET_MODE_SAME_STEP,
    AutoresetMode.DISABLED: pb.AUTORESET_MODE_DISABLED,
}


class RemoteVectorEnv(gym.vector.VectorEnv[Any, Any, Any]):
    """Sub-environments on one or more remote-gym servers, used as one Gymnasium vector env.

    Results equal those of a local ``gymnasium.vector.SyncVectorEnv`` over the same envs, with the
    same seeds: the servers step their sub-envs with Gymnasium's own ``SyncVectorEnv`` (autoreset
    applied there) and every host gets one message per call, all hosts working concurrently.

    Args:
        env: Name of the environment, among those every server hosts; None for their default.
        num_envs: Total number of sub-envs, split evenly over ``address`` (the first hosts take the
            remainder), or one count per address.
        address: ``"host:port"`` of a server, or a list of them. Sub-envs are numbered host after host.
        autoreset_mode: A ``gymnasium.vector.AutoresetMode`` (or its value/name as a string).
        on_env_failure: ``"raise"``: a sub-env failure raises ``RemoteEnvError`` naming the sub-env's
            global index and host. ``"restart"``: the sub-env is recreated and its episode ends
            (truncated, ``info["env_restarted"]`` True, ``info["env_restart_reason"]`` says why);
            the other sub-envs go on undisturbed.
        render_mode: None or a mode the env supports that returns data (``"rgb_array"``, ``"ansi"``...);
            ``render()`` returns a tuple with one frame per sub-env.
        kwargs: Keyword arguments for every sub-env (only those the servers' operators allow).
        tls: A :class:`TLSConfig` for every address, or one (or None) per address.
        timeouts: Connect and per-call timeouts (each host has its own deadline).
        config: Other client options.

    Raises:
        ConfigError: Invalid arguments.
        ConnectError: A server could not be reached within ``timeouts.connect`` (the error names it).
        EnvNotFoundError, PermissionDeniedError, RemoteEnvError: A server refused or failed to create the envs.

    Example:
        >>> envs = RemoteVectorEnv("CartPole-v1", 64, address=["a:56765", "b:56765"])  # doctest: +SKIP
        >>> obs, infos = envs.reset(seed=0)  # doctest: +SKIP
    """

    def __init__(
        self,
        env: str | None = None,
        num_envs: int | Sequence[int] = 1,
        *,
        address: str | Sequence[str],
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        on_env_failure: str = "raise",
        render_mode: str | None = None,
        kwargs: Mapping[str, Any] | None = None,
        tls: TLSConfig | Sequence[TLSConfig | None] | None = None,
        timeouts: Timeouts | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        self._hosts: list[VectorHost] = []
        self.closed = False
        addresses = [address] if isinstance(address, str) else list(address)
        sizes = _host_sizes(num_envs, len(addresses))
        tls_list = _per_host(tls, len(addresses))
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        if on_env_failure not in ON_ENV_FAILURE:
            raise ConfigError(f"on_env_failure must be one of {ON_ENV_FAILURE}, got {on_env_failure!r}")
        if render_mode == "human":
            raise ConfigError(
                "RemoteVectorEnv has no 'human' render mode; use 'rgb_array' and show the frames"
            )
        config = config or ClientConfig()
        if timeouts is not None:
            config = ClientConfig(
                timeouts=timeouts, compression=config.compression, max_message_bytes=config.max_message_bytes
            )
        self._timeouts = config.timeouts
        env_kwargs = _merge_kwargs(None, kwargs)
        connections = connect_all(addresses, tls_list, config)
        self._hosts = [
            VectorHost(connection, offset, size)
            for connection, offset, size in zip(connections, offsets_of(sizes), sizes, strict=True)
        ]
        self._sizes = sizes
        # Multi-host only: each host's last observations, for a reset_mask that leaves a host out.
        self._last_obs: list[Any] = [None] * len(self._hosts)
        requests = []
        for size in sizes:
            make = pb.MakeRequest(
                protocol_version=PROTOCOL_VERSION,
                env_name=env or "",
                kwargs_json=json.dumps(env_kwargs),
                render_mode=render_mode or "",
                num_envs=size,
                autoreset_mode=_WIRE_AUTORESET[self.autoreset_mode],
                restart_on_failure=on_env_failure == "restart",
            )
            if config.compression:
                make.accept_compression.append(pb.COMPRESSION_ZSTD)
            requests.append(pb.Request(make=make))
        try:
            timeout = max(config.timeouts.call or 0.0, config.timeouts.connect) or None
            replies = [
                r.make for r in exchange(self._hosts, requests, timeout=timeout, what="creating envs on")
            ]
            self._describe(replies, render_mode)
        except BaseException:
            self.close_extras()
            self.closed = True
            raise
        self.on_env_failure = on_env_failure

    def _describe(self, replies: list[pb.MakeResponse], render_mode: str | None) -> None:
        first = replies[0]
        self.single_observation_space = decode_space(first.observation_space)
        self.single_action_space = decode_space(first.action_space)
        for host, reply in zip(self._hosts[1:], replies[1:], strict=True):
            if (
                decode_space(reply.observation_space) != self.single_observation_space
                or decode_space(reply.action_space) != self.single_action_space
            ):
                raise ProtocolError(
                    f"{host.target} hosts {reply.env_name!r} with other spaces than {self._hosts[0].target}"
                )
        for host, reply in zip(self._hosts, replies, strict=True):
            if reply.num_envs != host.size:
                raise ProtocolError(f"{host.target} created {reply.num_envs} sub-envs, not {host.size}")
        self.num_envs = sum(self._sizes)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        metadata = decode_value(first.metadata)
        metadata["autoreset_mode"] = self.autoreset_mode
        self.metadata = metadata
        self.render_mode = render_mode
        self.env_name = first.env_name
        self.session_ids = tuple(reply.session_id for reply in replies)
        self.server_versions = tuple(reply.server_version for reply in replies)
        self._remote_spec = decode_value(first.spec)

    @property
    def hosts(self) -> tuple[str, ...]:
        """``host:port`` of every server, in sub-env order."""
        return tuple(host.target for host in self._hosts)

    @property
    def envs_per_host(self) -> tuple[int, ...]:
        """Number of sub-envs on each host."""
        return tuple(self._sizes)

    @property
    def np_random_seed(self) -> tuple[int, ...]:  # type: ignore[override]
        """The sub-envs' ``np_random_seed`` (as ``SyncVectorEnv.np_random_seed``)."""
        return self.get_attr("np_random_seed")

    def __repr__(self) -> str:
        hosts = ", ".join(self.hosts) or "?"
        name = getattr(self, "env_name", "?")
        return f"RemoteVectorEnv({name}, num_envs={getattr(self, 'num_envs', '?')} @ {hosts})"

    def _check_open(self) -> None:
        if self.closed:
            raise EnvClosedError(f"{self!r} is closed")

    def _exchange(
        self, hosts: Sequence[VectorHost], requests: Sequence[pb.Request], what: str
    ) -> list[pb.Response]:
        return exchange(hosts, requests, timeout=self._timeouts.call, what=what)

    # -- the VectorEnv API -------------------------------------------------------------------

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the sub-envs, as ``SyncVectorEnv.reset`` does.

        Args:
            seed: None, an int (sub-env ``i`` gets ``seed + i``) or one seed (or None) per sub-env.
            options: Options for every sub-env; ``options["reset_mask"]`` (a bool array of shape
                ``(num_envs,)``) resets only the sub-envs it marks.

        Raises:
            EnvClosedError: :meth:`close` was called.
            ValueError, TypeError: A bad seed list or reset mask (as Gymnasium raises them).
            RemoteEnvError: A sub-env's reset raised (the error names its global index and host).
            TransportError: A host did not answer (the error names it).
        """
        self._check_open()
        seeds = self._host_seeds(seed)
        options = dict(options) if options is not None else None
        mask = (
            _check_reset_mask(options.pop("reset_mask"), self.num_envs)
            if options and "reset_mask" in options
            else None
        )
        hosts, requests = [], []
        for i, host in enumerate(self._hosts):
            host_options = options
            if mask is not None:
                part = mask[host.offset : host.stop]
                if not part.any():
                    continue  # SyncVectorEnv refuses an all-False mask; this host keeps its envs as they are
                host_options = {**(options or {}), "reset_mask": part}
            request = pb.Request()
            out = request.reset
            out.SetInParent()
            if seeds[i] is not None:
                encode_value(seeds[i], out.seed, path="seed")
            if host_options is not None:
                encode_value(host_options, out.options, path="options")
            hosts.append(host)
            requests.append(request)
        replies = [r.reset for r in self._exchange(hosts, requests, "reset on")]
        if len(self._hosts) == 1:
            return decode_value(replies[0].observation), decode_vector_info(replies[0].info)
        infos: list[dict[str, Any] | None] = [None] * len(self._hosts)
        for host, reply in zip(hosts, replies, strict=True):
            index = self._hosts.index(host)
            self._last_obs[index] = decode_value(reply.observation)
            infos[index] = decode_vector_info(reply.info)
        parts = [
            obs if obs is not None else create_empty_array(self.single_observation_space, host.size)
            for obs, host in zip(self._last_obs, self._hosts, strict=True)
        ]
        return merge_batches(self.single_observation_space, parts), merge_infos(infos, self._sizes)

    def _host_seeds(self, seed: int | Sequence[int | None] | None) -> list[Any]:
        if seed is None:
            return [None] * len(self._hosts)
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            if len(self._hosts) == 1:
                return [int(seed)]  # the server's SyncVectorEnv makes it seed + i
            seed = [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)  # type: ignore[arg-type]
        if len(seeds) != self.num_envs:
            raise ValueError(
                f"If seeds are passed as a list the length must match num_envs={self.num_envs} "
                f"but got length={len(seeds)}."
            )
        seeds = [None if s is None else int(s) for s in seeds]
        return [seeds[host.offset : host.stop] for host in self._hosts]

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env with its action, as ``SyncVectorEnv.step`` does (autoreset on the servers).

        Raises:
            EnvClosedError: :meth:`close` was called.
            InvalidActionError: ``actions`` is not in :attr:`action_space`.
            RemoteEnvError: A sub-env raised (``on_env_failure="raise"``); names its global index and host.
            WorkerCrashedError: A worker process died; names the host and the sub-envs it held.
            TransportError: A host did not answer within ``timeouts.call`` (the error names it).
        """
        self._check_open()
        hosts = self._hosts
        requests = []
        for host in hosts:
            request = pb.Request()
            part = (
                actions
                if len(hosts) == 1
                else split_batch(self.single_action_space, actions, host.offset, host.stop)
            )
            encode_value(part, request.step.action, path="actions")
            requests.append(request)
        replies = [r.step for r in self._exchange(hosts, requests, "step on")]
        if len(hosts) == 1:
            reply = replies[0]
            return (
                decode_value(reply.observation),
                decode_value(reply.reward),
                decode_value(reply.terminated),
                decode_value(reply.truncated),
                decode_vector_info(reply.info),
            )
        self._last_obs = [decode_value(reply.observation) for reply in replies]
        return (
            merge_batches(self.single_observation_space, self._last_obs),
            np.concatenate([decode_value(reply.reward) for reply in replies]),
            np.concatenate([decode_value(reply.terminated) for reply in replies]),
            np.concatenate([decode_value(reply.truncated) for reply in replies]),
            merge_infos([decode_vector_info(reply.info) for reply in replies], self._sizes),
        )

    def render(self) -> tuple[Any, ...] | None:
        """One frame per sub-env (``SyncVectorEnv.render``), fetched from the servers."""
        self._check_open()
        requests = [pb.Request(render=pb.RenderRequest()) for _ in self._hosts]
        frames: list[Any] = []
        for reply in self._exchange(self._hosts, requests, "render on"):
            frames.extend(decode_value(reply.render.frame))
        return tuple(frames)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call ``name(*args, **kwargs)`` on every sub-env (or read it, if not callable); one result each.

        Raises:
            PermissionDeniedError: ``name`` starts with ``_``.
            RemoteEnvError: The call failed on a sub-env (the error names its global index and host).
        """
        self._check_open()
        requests = []
        for _ in self._hosts:
            request = pb.Request()
            request.call.name = name
            encode_value(list(args), request.call.args, path="args")
            encode_value(dict(kwargs), request.call.kwargs, path="kwargs")
            requests.append(request)
        results: list[Any] = []
        for reply in self._exchange(self._hosts, requests, f"call {name} on"):
            results.extend(decode_value(reply.call.result))
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Every sub-env's attribute ``name`` (as in ``SyncVectorEnv``, a callable is called)."""
        return self.call(name)

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | Any) -> None:
        """Set attribute ``name`` on every sub-env: one value each, or the same value for all.

        Raises:
            ValueError: ``values`` is a list or tuple whose length is not ``num_envs``.
        """
        self._check_open()
        if not isinstance(values, (list, tuple)):
            values = [values for _ in range(self.num_envs)]
        if len(values) != self.num_envs:
            raise ValueError(
                "Values must be a list or tuple with length equal to the number of environments. "
                f"Got `{len(values)}` values for {self.num_envs} environments."
            )
        requests = []
        for host in self._hosts:
            request = pb.Request()
            request.set_attr.name = name
            encode_value(list(values[host.offset : host.stop]), request.set_attr.values, path="values")
            requests.append(request)
        self._exchange(self._hosts, requests, f"set {name} on")

    def close_extras(self, **kwargs: Any) -> None:
        """End every host's session (the servers free the sub-envs and their workers)."""
        for host in self._hosts:
            host.connection.close()

    def __del__(self) -> None:
        # Not the mechanism (close() is), only a safety net that never raises.
        try:
            if not getattr(self, "closed", True) and getattr(self, "_hosts", None):
                self.close()
        except Exception:
            pass


def _host_sizes(num_envs: int | Sequence[int], hosts: int) -> list[int]:
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


def _per_host(tls: TLSConfig | Sequence[TLSConfig | None] | None, hosts: int) -> list[TLSConfig | None]:
    if tls is None or isinstance(tls, TLSConfig):
        return [tls] * hosts
    tls_list = list(tls)
    if len(tls_list) != hosts:
        raise ConfigError(f"tls must be one TLSConfig or one per address ({hosts}), got {len(tls_list)}")
    return tls_list


def _autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    if isinstance(mode, AutoresetMode):
        return mode
    for member in AutoresetMode:
        if mode in (member.value, member.name):
            return member
    raise ConfigError(f"autoreset_mode must be one of {[m.value for m in AutoresetMode]}, got {mode!r}")


def _check_reset_mask(mask: Any, num_envs: int) -> np.ndarray:
    """Gymnasium's checks of ``options["reset_mask"]``, with its exception types and messages."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"`options['reset_mask']` must be a numpy array, got {type(mask)}")
    if mask.shape != (num_envs,):
        raise ValueError(f"`options['reset_mask']` must have shape `({num_envs},)`, got {mask.shape}")
    if mask.dtype != np.bool_:
        raise TypeError(f"`options['reset_mask']` must have `dtype=np.bool_`, got {mask.dtype}")
    if not np.any(mask):
        raise ValueError(
            f"`options['reset_mask']` must contain a boolean array with at least one True value, got reset_mask={mask}"
        )
    return mask
