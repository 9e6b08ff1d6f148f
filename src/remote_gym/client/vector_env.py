"""RemoteVectorEnv: a gymnasium.vector.VectorEnv whose sub-environments run on remote-gym servers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.env import _merge_kwargs
from remote_gym.client.hub_hosts import apply_pins, hub_resolver, spread_over_hub
from remote_gym.client.vector_args import (
    EnvGroup,
    check_vector_options,
    env_groups,
    env_id,
    expand_addresses,
    host_sizes,
    make_requests,
    per_host,
    per_host_tokens,
)
from remote_gym.client.vector_async import AsyncSteps
from remote_gym.client.vector_async_api import AsyncVectorMethods
from remote_gym.client.vector_calls import reset_hosts, step_hosts
from remote_gym.client.vector_hosts import VectorHost, agreed_spaces, check_pool_spaces, exchange, open_hosts
from remote_gym.client.vector_recovery import HostRecovery, Resolver
from remote_gym.codec.remote_space import SpacePath, bind_remote_spaces
from remote_gym.codec.requests import call_request, render_request, sample_request, set_attr_request
from remote_gym.codec.values import decode_value
from remote_gym.errors import ConfigError, EnvClosedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig
from remote_gym.vector.infos import combine_infos
from remote_gym.vector.modes import autoreset_mode_of
from remote_gym.vector.parts import VectorParts
from remote_gym.vector.splits import set_attr_values


class RemoteVectorEnv(AsyncVectorMethods, gym.vector.VectorEnv[Any, Any, Any]):
    """Sub-environments on one or more remote-gym servers, used as one Gymnasium vector env.

    Results equal those of a local ``gymnasium.vector.SyncVectorEnv`` over the same envs, with the
    same seeds: the servers step their sub-envs with Gymnasium's own ``SyncVectorEnv`` (autoreset
    applied there) and every host gets one message per call, all hosts working concurrently.

    Args:
        id: Name of the environment, among those every server hosts; None for their default
            (``gymnasium.make_vec``'s ``id``; ``env=`` is its former name, still accepted).
        num_envs: Total number of sub-envs, split evenly over ``address`` (the first hosts take the
            remainder), or one count per address.
        address: ``"host:port"`` of a server, or a list of them. Sub-envs are numbered host after host.
            ``"dns:NAME:PORT"`` stands for every A/AAAA record of NAME (a headless Service).
        autoreset_mode: A ``gymnasium.vector.AutoresetMode`` (or its value/name as a string).
        on_env_failure: ``"raise"``: a sub-env failure raises ``RemoteEnvError`` naming the sub-env's
            global index and host. ``"restart"``: the sub-env is recreated and its episode ends
            (truncated, ``info["env_restarted"]`` True, ``info["env_restart_reason"]`` says why);
            the other sub-envs go on undisturbed.
        render_mode: None or a mode the env supports that returns data (``"rgb_array"``, ``"ansi"``...);
            ``render()`` returns a tuple with one frame per sub-env.
        kwargs: Keyword arguments for every sub-env (only those the servers' operators allow).
        tls: A :class:`TLSConfig` for every address, or one (or None) per address.
        token: A bearer token (``str`` or :class:`TokenAuth`) for every address, or one (or None) per
            address, for servers that require one.
        timeouts: Connect and per-call timeouts (each host has its own deadline).
        config: Other client options.
        vectorization_mode: ``"sync"`` (default): results equal a local ``SyncVectorEnv``.
            ``"vector_entry_point"``: each server steps its share with the env's own vectorised
            implementation (many times faster for envs that have one; results then equal
            ``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`` per host; no restart,
            call or set_attr). ``"auto"``: that where the env has one, else ``"sync"`` (what
            ``gymnasium.make_vec`` picks). :attr:`vectorization_mode` then holds the servers' choice.
        resolver: Restart mode: ``resolver(i, lost_address)`` gives the server that replaces host ``i``'s
            lost one; its sub-envs are re-created there as after a worker crash (see vector_recovery).
        batch_size: EnvPool's asynchronous API (servers with the ``vector_async`` capability):
            :meth:`async_reset`, :meth:`send` and :meth:`recv`, which returns the first ``batch_size``
            sub-envs to finish with ``infos["env_id"]``. Below ``num_envs``, :meth:`step` is refused.
            None: ``num_envs``, and no asynchronous API (exactly the synchronous vector env).
        envs: A mixed pool instead of ``id``/``num_envs``: a list of :class:`EnvGroup` (or dicts of its
            fields), each its own session of ``num_envs`` sub-envs of env ``id`` with ``kwargs`` on
            ``address`` (default: ``address``). Their spaces must be equal (ConfigError names the first
            group that differs); sub-envs are numbered group after group.

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
        id: str | None = None,
        num_envs: int | Sequence[int] = 1,
        *,
        address: str | Sequence[str] | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        on_env_failure: str = "raise",
        render_mode: str | None = None,
        kwargs: Mapping[str, Any] | None = None,
        tls: TLSConfig | Sequence[TLSConfig | None] | None = None,
        timeouts: Timeouts | None = None,
        config: ClientConfig | None = None,
        token: str | TokenAuth | Sequence[str | TokenAuth | None] | None = None,
        vectorization_mode: str = "sync",
        resolver: Resolver | None = None,
        env: str | None = None,
        batch_size: int | None = None,
        envs: Sequence[EnvGroup | Mapping[str, Any]] | None = None,
    ) -> None:
        env = env_id(id, env)
        self._hosts: list[VectorHost] = []
        self._async: AsyncSteps | None = None
        self.closed = False
        self.autoreset_mode = autoreset_mode_of(autoreset_mode)
        check_vector_options(vectorization_mode, on_env_failure, render_mode)
        self.vectorization_mode = vectorization_mode
        config = config or ClientConfig()
        if timeouts is not None:
            config = dataclasses.replace(config, timeouts=timeouts)
        self._timeouts = config.timeouts
        self.on_env_failure = on_env_failure
        groups = env_groups(envs, address) if envs is not None else None
        if groups is not None:
            address, num_envs = [g.address or "" for g in groups], [g.num_envs for g in groups]
        elif address is None:
            raise ConfigError("RemoteVectorEnv needs address= (or envs= with an address per group)")
        addresses = expand_addresses(address)
        if not groups and isinstance(address, str) and len(addresses) == 1 and not isinstance(tls, Sequence):
            token_auth = TokenAuth(token) if isinstance(token, str) else token
            addresses = spread_over_hub(addresses[0], env, tls, token_auth, config)  # type: ignore[arg-type]
            if resolver is None and addresses[0] != address:  # a hub: lost hosts' envs go to the others
                resolver = hub_resolver(lambda: self._hosts, address)
        self._recovery = HostRecovery(
            on_env_failure == "restart", resolver, config.timeouts, tuple(addresses)
        )
        self._sizes = host_sizes(num_envs, len(addresses))
        requests = make_requests(
            env,
            self._sizes,
            kwargs_json=json.dumps(_merge_kwargs(None, kwargs)),
            render_mode=render_mode,
            autoreset_mode=self.autoreset_mode,
            restart=on_env_failure == "restart",
            compression=config.compression,
            vectorization_mode=vectorization_mode,
            names=[g.id or env for g in groups] if groups else None,
            kwargs_jsons=[json.dumps(_merge_kwargs(None, g.kwargs)) for g in groups] if groups else None,
            # Results of some sub-envs at a time need each sub-env's own infos; with a batch of all
            # of them, every step is a whole one (see AsyncVectorMethods.send), with vectorised infos.
            per_env_infos=batch_size is not None and batch_size < sum(self._sizes),
        )
        addresses = apply_pins(addresses, requests)
        tokens = per_host_tokens(token, len(addresses))
        self._hosts = open_hosts(
            addresses, self._sizes, requests, per_host(tls, len(addresses)), tokens, config
        )
        try:
            replies = [
                r.make
                for r in exchange(
                    self._hosts, requests, timeout=config.timeouts.make, what="creating envs on"
                )
            ]
            if groups is not None:
                check_pool_spaces(self._hosts, replies)
            self._describe(replies, render_mode)
            self._setup_async(batch_size, config.timeouts.call)
        except BaseException:
            self.close_extras()
            self.closed = True
            raise

    def _describe(self, replies: list[pb.MakeResponse], render_mode: str | None) -> None:
        first = replies[0]
        self.single_observation_space, self.single_action_space = agreed_spaces(self._hosts, replies)
        bind_remote_spaces(self.single_observation_space, "observation", self._sample_remote)
        bind_remote_spaces(self.single_action_space, "action", self._sample_remote)
        self.num_envs = sum(self._sizes)
        # The hosts' last observations (for a reset_mask that leaves a host out, and as the final
        # observations when a host's worker dies in restart mode) and, in DISABLED mode, the sub-envs
        # awaiting a reset: the same bookkeeping as a server's over its helper processes.
        self._parts = VectorParts(self.single_observation_space, self._sizes, self.autoreset_mode)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        metadata = decode_value(first.metadata)
        metadata["autoreset_mode"] = self.autoreset_mode
        self.metadata = metadata
        self.render_mode = render_mode
        self.env_name = first.env_name
        self.vectorization_mode = first.vectorization_mode or self.vectorization_mode
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

    def __enter__(self) -> RemoteVectorEnv:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.closed:
            raise EnvClosedError(f"{self!r} is closed")

    def _sample_remote(self, space: str, path: SpacePath) -> Any:
        reply = self._exchange(self._hosts[:1], [sample_request(space, path)], "sample on")[0]
        return decode_value(reply.sample.sample)

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
                ``(num_envs,)``) resets only the sub-envs it marks. The caller's dict is not changed.

        Raises:
            EnvClosedError: :meth:`close` was called.
            ValueError, TypeError: A bad seed list or reset mask (as Gymnasium raises them).
            RemoteEnvError: A sub-env's reset raised (the error names its global index and host).
            TransportError: A host did not answer (the error names it).
        """
        self._check_open()
        self._settle_async(options)
        plan = self._parts.plan_reset(seed, options)
        observations, infos = reset_hosts(self._hosts, plan, self._recovery, timeout=self._timeouts.call)
        obs = self._parts.finish_reset(plan, observations)
        if self._async is not None:
            self._async.reset_all()
            self._whole = None  # a whole step sent and not received is dropped, as results in flight are
        if len(self._hosts) == 1 and not isinstance(infos[0], list):
            return obs, infos[0] or {}
        return obs, combine_infos(infos, self._sizes)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env with its action, as ``SyncVectorEnv.step`` does (autoreset on the servers).

        Raises:
            EnvClosedError: :meth:`close` was called.
            InvalidActionError: ``actions`` is not in :attr:`action_space`.
            RemoteEnvError: A sub-env raised (``on_env_failure="raise"``); names its global index and host.
            WorkerCrashedError: A worker process died (``on_env_failure="raise"``); names the host and
                the sub-envs it held. In restart mode the host's session is re-created instead and
                its sub-envs' episodes end truncated, with ``info["env_restarted"]``.
            TransportError: A host did not answer within ``timeouts.call`` (the error names it).
        """
        self._check_open()
        self._check_sync_step()
        hosts = self._hosts
        if len(hosts) > 1:  # so that a refused step leaves every host as it was (one server checks its own)
            self._parts.check_step()
        parts = step_hosts(
            hosts, actions, self.single_action_space, self._parts, self._recovery, timeout=self._timeouts.call
        )
        if len(parts) == 1 and not isinstance(parts[0][4], list):
            return parts[0]  # type: ignore[return-value]
        merged = self._parts.finish_step([part[:4] for part in parts])
        return (*merged, combine_infos([part[4] for part in parts], self._sizes))

    def render(self) -> tuple[Any, ...] | None:
        """One frame per sub-env (``SyncVectorEnv.render``), fetched from the servers."""
        self._check_open()
        self._settle_async()
        replies = self._exchange(self._hosts, [render_request() for _ in self._hosts], "render on")
        return tuple(frame for reply in replies for frame in decode_value(reply.render.frame))

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call ``name(*args, **kwargs)`` on every sub-env (or read it, if not callable); one result each.

        Raises:
            PermissionDeniedError: ``name`` starts with ``_``.
            RemoteEnvError: The call failed on a sub-env (the error names its global index and host).
        """
        self._check_open()
        self._settle_async()
        requests = [call_request(name, args, kwargs) for _ in self._hosts]
        replies = self._exchange(self._hosts, requests, f"call {name} on")
        return tuple(result for reply in replies for result in decode_value(reply.call.result))

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Every sub-env's attribute ``name`` (as in ``SyncVectorEnv``, a callable is called)."""
        return self.call(name)

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | Any) -> None:
        """Set attribute ``name`` on every sub-env: one value each, or the same value for all.

        Raises:
            ValueError: ``values`` is a list or tuple whose length is not ``num_envs``.
        """
        self._check_open()
        self._settle_async()
        values = set_attr_values(values, self.num_envs)
        requests = [set_attr_request(name, values[host.offset : host.stop]) for host in self._hosts]
        self._exchange(self._hosts, requests, f"set {name} on")

    def close_extras(self, **kwargs: Any) -> None:
        """End every host's session (the servers free the sub-envs and their workers)."""
        self._abandon_async()
        for host in self._hosts:
            host.connection.close()

    def __del__(self) -> None:
        # Not the mechanism (close() is), only a safety net that never raises.
        try:
            if not getattr(self, "closed", True) and getattr(self, "_hosts", None):
                self.close()
        except Exception:
            pass
