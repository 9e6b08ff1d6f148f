"""Whether a MakeRequest may open a session, and what it creates: limits, the allow-list, the spec."""

from __future__ import annotations

import itertools

from remote_gym.codec.requests import autoreset_mode_from_wire
from remote_gym.errors import EnvKindError, InvalidCallError, ServerBusyError, ServerShutdownError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.config import ServerConfig
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.registry import EnvEntry, Registry

_MAKE_REQUEST_SLACK_BYTES = 4096
"""Room for a MakeRequest's fields other than its kwargs (names, modes, session id, token)."""


class Admission:
    """Checks new sessions against the server's limits and turns an allowed request into a spec."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self.registry = Registry(config.environments)
        self._env_indices = itertools.count()

    def check_first_size(self, size: int) -> None:
        """Refuse a first request too large to hold allowed kwargs, before it is parsed.

        Raises:
            ServerBusyError: ``size`` bytes cannot be a MakeRequest within ``max_kwargs_bytes``.
        """
        limit = self._config.max_kwargs_bytes + _MAKE_REQUEST_SLACK_BYTES
        if size > limit:
            raise ServerBusyError(
                f"the first request takes {size} bytes; with this server's max_kwargs_bytes "
                f"({self._config.max_kwargs_bytes}) a make request is at most {limit} bytes"
            )

    def spec_for(
        self, make: pb.MakeRequest, *, session_id: str, open_sessions: int, shutting_down: bool
    ) -> CreateSpec:
        """The spec of the env(s) ``make`` asks for, if the server allows them.

        Raises:
            ServerShutdownError: The server is shutting down.
            InvalidCallError: A bad ``num_envs`` (the protocol versions are agreed before: versions.py).
            ServerBusyError: A limit is reached (sessions, sub-envs, kwargs size).
            EnvNotFoundError, PermissionDeniedError: The env is not hosted, or a kwarg not allowed.
        """
        config = self._config
        if shutting_down:
            raise ServerShutdownError("the server is shutting down")
        if config.max_sessions and open_sessions >= config.max_sessions:
            raise ServerBusyError(
                f"the server already has {config.max_sessions} sessions open (its max_sessions)"
            )
        if make.num_envs < 0:
            raise InvalidCallError(f"num_envs must be >= 0, got {make.num_envs}")
        if make.num_envs > config.max_envs_per_session:
            raise ServerBusyError(
                f"{make.num_envs} sub-environments asked for; this server allows at most "
                f"{config.max_envs_per_session} per session"
            )
        kwargs_bytes = len(make.kwargs_json.encode())
        if kwargs_bytes > config.max_kwargs_bytes:  # checked before parsing: JSON costs time and memory
            raise ServerBusyError(
                f"the environment kwargs take {kwargs_bytes} bytes of JSON, over this server's limit "
                f"of {config.max_kwargs_bytes} bytes (its max_kwargs_bytes)"
            )
        entry, kwargs = self.registry.resolve(make.env_name, make.kwargs_json)
        check_kind(make, entry)
        first_index = next(self._env_indices)
        for _ in range(max(make.num_envs, 1) - 1):  # one index per sub-env, consecutive
            next(self._env_indices)
        return CreateSpec(
            env_name=entry.name,
            gym_id=entry.gym_id,
            entrypoint=entry.entrypoint,
            pettingzoo=entry.pettingzoo,
            kwargs=kwargs,
            render_mode=make.render_mode or None,
            env_index=first_index,
            compress=config.compress and pb.COMPRESSION_ZSTD in make.accept_compression,
            session_id=session_id,
            num_envs=make.num_envs,
            autoreset_mode=autoreset_mode_from_wire(make.autoreset_mode).name,
            restart_on_failure=make.restart_on_failure,
            workers=config.workers_per_session,
            vectorization_mode=make.vectorization_mode or "sync",
            per_env_infos=make.per_env_infos,
            multi_agent=make.multi_agent,
        )


def check_kind(make: pb.MakeRequest, entry: EnvEntry) -> None:
    """Refuse, before any worker starts, a session of another kind than the entry's env.

    Raises:
        EnvKindError: A PettingZoo entry asked for as a Gymnasium env, or a Gymnasium id asked for
            as a PettingZoo env.
        InvalidCallError: An unknown multi-agent API, or a batched AEC session.
    """
    if make.multi_agent not in ("", "parallel", "aec"):
        raise InvalidCallError(f"multi_agent must be 'parallel' or 'aec', got {make.multi_agent!r}")
    if entry.pettingzoo is not None and not make.multi_agent:
        raise EnvKindError(f"{entry.name!r} is a PettingZoo env: open it with remote_gym.pettingzoo")
    if entry.gym_id is not None and make.multi_agent:
        raise EnvKindError(f"{entry.name!r} is a Gymnasium env: open it with remote_gym.make")
    if make.multi_agent == "aec" and make.num_envs:
        raise InvalidCallError("batched multi-agent sessions serve the Parallel API only")
