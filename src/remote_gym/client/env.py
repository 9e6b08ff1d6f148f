"""RemoteEnvironment: a gymnasium.Env whose environment runs on a remote-gym server."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from remote_gym._constants import DEFAULT_PORT
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.connection import Connection, split_address
from remote_gym.client.viewer import FrameViewer
from remote_gym.codec.remote_space import SpacePath, bind_remote_spaces
from remote_gym.codec.requests import (
    call_request,
    get_attr_request,
    make_request,
    render_request,
    reset_request,
    sample_request,
    set_attr_request,
    step_request,
)
from remote_gym.codec.spaces import decode_space
from remote_gym.codec.values import decode_value
from remote_gym.errors import ConfigError, EnvClosedError, RemoteEnvError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import PathLike, TLSConfig


class RemoteEnvironment(gym.Env[Any, Any]):
    """A Gymnasium environment hosted by a remote-gym server, used exactly like the local one.

    Spaces, observations (bit for bit), rewards, terminated/truncated, info dicts, seeding and
    rendered frames are those of the environment on the server. There is no hidden auto-reset.

    Args:
        url: Server host name or IP address.
        port: Server port.
        remote_args: As in 0.7.x: ``{"entrypoint_kwargs": {...}}``, keyword arguments for the
            environment that the server operator allows clients to set.
        client_credentials_paths: ``(ca, cert, key)`` PEM paths for TLS (cert/key only for mutual
            TLS; the CA may be None to trust the system roots), or None for no TLS (local
            credentials on loopback, plaintext elsewhere, with an ``InsecureChannelWarning``).
        render_mode: None, ``"rgb_array"`` (``render()`` returns the server's frame) or
            ``"human"`` (frames shown in a local window; needs the ``render`` extra).
        env: Name of the environment to create, among those the server hosts; None for its default.
        kwargs: Keyword arguments for the environment (merged over ``remote_args``).
        address: ``"host:port"``, instead of ``url`` and ``port``.
        tls: A :class:`TLSConfig`, instead of ``client_credentials_paths``.
        timeouts: Connect and per-call timeouts.
        config: Other client options.
        token: Bearer token the server requires (a ``str`` or :class:`TokenAuth`); never shown in repr.
        host: Through a hub (``remote-gym hub``): the name of the attached host that must serve the
            session (``HostNotFoundError`` if none is); None lets the hub pick one with room.

    Raises:
        ConnectError: The server could not be reached within ``timeouts.connect``.
        EnvNotFoundError: The server does not host ``env``.
        PermissionDeniedError: A keyword argument is not allowed by the server's operator.
        RemoteEnvError: The environment's constructor raised on the server.

    Example:
        >>> env = RemoteEnvironment(url="127.0.0.1", port=56765)  # doctest: +SKIP
        >>> obs, info = env.reset(seed=0)  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        remote_args: Mapping[str, Any] | None = None,
        client_credentials_paths: tuple[PathLike | None, ...] | None = None,
        render_mode: str | None = None,
        *,
        env: str | None = None,
        kwargs: Mapping[str, Any] | None = None,
        address: str | None = None,
        tls: TLSConfig | None = None,
        timeouts: Timeouts | None = None,
        config: ClientConfig | None = None,
        token: str | TokenAuth | None = None,
        host: str | None = None,
    ) -> None:
        self._connection: Connection | None = None
        self._viewer: FrameViewer | None = None
        self._closed = False
        if address is not None:
            url, port = split_address(address)
        if tls is None and client_credentials_paths is not None:
            tls = TLSConfig.from_paths(client_credentials_paths)
        config = config or ClientConfig()
        if timeouts is not None:
            config = dataclasses.replace(config, timeouts=timeouts)
        env_kwargs = _merge_kwargs(remote_args, kwargs)
        self._remote_kwargs = env_kwargs
        auth = TokenAuth(token) if isinstance(token, str) else token
        self._connection = Connection(url, port, tls=tls, config=config, auth=auth)
        make = make_request(
            env, kwargs_json=json.dumps(env_kwargs), render_mode=render_mode, compression=config.compression
        )
        if host:  # through a hub: the attached host that must serve the session
            if self._connection.server_info.hosting != "hub":
                self._connection.close()
                raise ConfigError(
                    f"host={host!r} pins an env host of a hub, but {self._connection.target} is not a hub"
                )
            make.make.hub_host = host
        try:
            reply = self._connection.request(
                make,
                timeout=config.timeouts.make,
                what="creating the environment on",
            ).make
        except BaseException:
            self._connection.close()
            raise
        self._describe(reply, render_mode)
        self._spec_args = {
            "url": url,
            "port": port,
            "tls": tls,
            "env": env,
            "kwargs": env_kwargs,
            "timeouts": config.timeouts,
            "config": config,
            "token": auth,  # a TokenAuth: its repr never shows the secret
        }
        self.spec = self._make_spec(reply)

    def _describe(self, reply: pb.MakeResponse, render_mode: str | None) -> None:
        self.observation_space = decode_space(reply.observation_space)
        self.action_space = decode_space(reply.action_space)
        bind_remote_spaces(self.observation_space, "observation", self._sample_remote)
        bind_remote_spaces(self.action_space, "action", self._sample_remote)
        self.metadata = decode_value(reply.metadata)
        reward_range = decode_value(reply.reward_range)
        if reward_range is not None:
            self.reward_range = reward_range
        self.render_mode = render_mode
        self.session_id = reply.session_id
        self.env_name = reply.env_name
        self.server_version = reply.server_version
        self._remote_class = reply.env_class
        self._remote_spec = decode_value(reply.spec)

    def _make_spec(self, reply: pb.MakeResponse) -> EnvSpec:
        # A spec whose make() opens another session on the same server with the same arguments, so
        # that gymnasium tools calling env.spec.make(render_mode=...) (check_env does) stay remote.
        remote = self._remote_spec or {}
        return EnvSpec(
            id=remote.get("id") or reply.env_name,
            entry_point="remote_gym.client.env:reconnect",
            reward_threshold=remote.get("reward_threshold"),
            nondeterministic=bool(remote.get("nondeterministic", False)),
            max_episode_steps=None,  # the server's env already enforces its time limit
            order_enforce=False,
            disable_env_checker=True,
            kwargs=dict(self._spec_args),
        )

    @property
    def max_episode_steps(self) -> int | None:
        """The server env's time limit (``spec.max_episode_steps`` there), or None."""
        return (self._remote_spec or {}).get("max_episode_steps")

    def __repr__(self) -> str:
        target = self._connection.target if self._connection else "?"
        path = self._connection.path if self._connection else "?"
        return (
            f"RemoteEnvironment({self.env_name} @ {target}, session={getattr(self, 'session_id', '?')}, "
            f"path={path})"
        )

    def __str__(self) -> str:
        return (
            f"<RemoteEnvironment<{self.env_name} @ {self._connection.target if self._connection else '?'}>>"
        )

    def _conn(self) -> Connection:
        if self._closed or self._connection is None:
            raise EnvClosedError(f"{self!r} is closed")
        return self._connection

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the remote environment, forwarding ``seed`` and ``options``.

        Raises:
            EnvClosedError: :meth:`close` was called.
            RemoteEnvError: The environment's reset raised.
            DeadlineExceededError: No reply within ``timeouts.call``.
        """
        connection = self._conn()
        super().reset(seed=seed)  # mirror the seeding, so np_random behaves as the local env's would
        reply = connection.request(reset_request(seed, options), what="reset on").reset
        return decode_value(reply.observation), decode_value(reply.info)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the remote environment.

        Raises:
            EnvClosedError: :meth:`close` was called.
            InvalidActionError: ``action`` is not in :attr:`action_space`; the env never saw it.
            InvalidCallError: ``step`` before ``reset``.
            RemoteEnvError: The environment's step raised; the session stays usable.
            WorkerCrashedError: The worker process hosting the environment died.
            DeadlineExceededError: No reply within ``timeouts.call``.
        """
        connection = self._conn()
        reply = connection.request(step_request(action), what="step on").step
        result = (
            decode_value(reply.observation),
            decode_value(reply.reward),
            decode_value(reply.terminated),
            decode_value(reply.truncated),
            decode_value(reply.info),
        )
        if self.render_mode == "human":
            self._show_frame()
        return result

    def render(self) -> Any:
        """The frame of the current state, fetched from the server (``rgb_array``); shown locally for ``human``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to RemoteEnvironment")
            return None
        if self.render_mode == "human":
            self._show_frame()
            return None
        return self._fetch_frame()

    def _fetch_frame(self) -> Any:
        reply = self._conn().request(render_request(), what="render on").render
        return decode_value(reply.frame)

    def _show_frame(self) -> None:
        frame = self._fetch_frame()
        if isinstance(frame, np.ndarray):
            if self._viewer is None:
                self._viewer = FrameViewer(title=repr(self), fps=self.metadata.get("render_fps") or 30)
            self._viewer.show(frame)

    def _sample_remote(self, space: str, path: SpacePath) -> Any:
        """A sample of a space this client has no codec for, drawn on the server (RemoteSpace.sample)."""
        reply = self._conn().request(sample_request(space, path), what="sample on").sample
        return decode_value(reply.sample)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call a public method of the remote env (through its wrappers) and return the result."""
        request = call_request(name, args, kwargs)
        return decode_value(self._conn().request(request, what=f"call {name} on").call.result)

    def get_wrapper_attr(self, name: str) -> Any:
        """Read a public attribute: locally if this client has it, else from the remote env."""
        if hasattr(self, name):
            return getattr(self, name)
        request = get_attr_request(name)
        return decode_value(self._conn().request(request, what=f"get {name} on").call.result)

    def set_wrapper_attr(self, name: str, value: Any, *, force: bool = True) -> bool:
        """Set an attribute: on this client if it has it (spaces, metadata, ...), else on the remote env.

        The remote env sets it as ``gymnasium.Env.set_wrapper_attr`` does: on the wrapper or env that
        defines it, else (``force=True``) on its outermost wrapper. With ``force=False`` an attribute
        the remote env lacks is not created, and False is returned.

        Raises:
            PermissionDeniedError: ``name`` starts with ``_``.
            RemoteEnvError: Setting it raised on the server.
        """
        if hasattr(self, name):
            return super().set_wrapper_attr(name, value, force=force)
        if not force:
            try:
                self.get_wrapper_attr(name)
            except RemoteEnvError:
                return False
        self._conn().request(set_attr_request(name, value), what=f"set {name} on")
        return True

    def close(self) -> None:
        """End the session (the server frees the env and its worker); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._viewer is not None:
                self._viewer.close()
        finally:
            if self._connection is not None:
                self._connection.close()

    def __del__(self) -> None:
        # Not the mechanism (close() is), only a safety net that never raises.
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:
            pass


def reconnect(**kwargs: Any) -> RemoteEnvironment:
    """Open another session with the same arguments: the entry point of a RemoteEnvironment's spec.

    A plain function (no ``metadata``), so that ``gymnasium.make`` leaves the render mode to the server.
    """
    return RemoteEnvironment(**kwargs)


def _merge_kwargs(remote_args: Mapping[str, Any] | None, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if remote_args:
        extra = set(remote_args) - {"entrypoint_kwargs"}
        if extra:
            # 0.7.x let clients name the entrypoint/repo; the server refuses that with a clear error.
            merged.update({k: remote_args[k] for k in extra})
        merged.update(remote_args.get("entrypoint_kwargs") or {})
    merged.update(kwargs or {})
    try:
        json.dumps(merged)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"environment kwargs must be JSON values: {exc}") from exc
    return merged


RemoteEnv = RemoteEnvironment
"""A shorter name of :class:`RemoteEnvironment`, the same class."""
