"""The operator's allow-list of environments and the keyword arguments clients may set."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from remote_gym.errors import ConfigError, EnvNotFoundError, PermissionDeniedError

ANY_KWARGS = "*"
"""Pass as ``allowed_kwargs`` to let clients set any keyword argument (trusted clients only)."""

# Keys of the 0.7.x ``remote_args`` that named code to run: a client may never send them.
_CODE_KEYS = ("entrypoint", "repo", "reference")


@dataclass(frozen=True, kw_only=True)
class EnvEntry:
    """One environment the server may create.

    Exactly one of ``gym_id``, ``entrypoint`` and ``pettingzoo`` is set.
    """

    name: str
    """Name clients ask for."""
    gym_id: str | None = None
    """Gymnasium id passed to ``gymnasium.make`` (``"module:Id"`` imports the module first)."""
    entrypoint: str | None = None
    """Path of a Python file defining ``create_environment(enable_rendering, env_id, **kwargs)``."""
    pettingzoo: str | None = None
    """A PettingZoo env (multi-agent sessions only): an id of PettingZoo's registry
    (``"butterfly/pistonball-v6"``, made with ``pettingzoo.make``), a module
    (``"pettingzoo.butterfly.pistonball_v6"``, whose ``parallel_env`` and ``env`` make it), or
    ``"module:callable"`` returning a Parallel or AEC env."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Operator's keyword arguments (defaults a client may override where allowed)."""
    allowed_kwargs: frozenset[str] | str = frozenset()
    """Keyword arguments a client may set, or ``ANY_KWARGS``."""
    repo: str | None = None
    """The operator's git repository the entrypoint was checked out from (credentials removed)."""
    commit: str | None = None
    """The commit of ``repo`` checked out (a full SHA-1)."""

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.gym_id, self.entrypoint, self.pettingzoo)) != 1:
            raise ConfigError(
                f"environment {self.name!r} needs exactly one of gym_id, entrypoint and pettingzoo"
            )
        if self.entrypoint is not None and not pathlib.Path(self.entrypoint).is_file():
            raise ConfigError(f"entrypoint file {self.entrypoint!r} of {self.name!r} does not exist")
        try:
            json.dumps(dict(self.kwargs))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"kwargs of environment {self.name!r} must be JSON values: {exc}") from exc

    def merge_kwargs(self, client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Return the operator's kwargs updated with the client's, refusing keys not allowed."""
        refused = sorted(k for k in client_kwargs if k in _CODE_KEYS)
        if refused:
            raise PermissionDeniedError(
                f"clients cannot choose code to run ({', '.join(refused)}); the server operator sets it",
            )
        if self.allowed_kwargs != ANY_KWARGS:
            refused = sorted(k for k in client_kwargs if k not in self.allowed_kwargs)
            if refused:
                allowed = ", ".join(sorted(self.allowed_kwargs)) or "none"
                raise PermissionDeniedError(
                    f"environment {self.name!r} does not let clients set {', '.join(refused)} "
                    f"(allowed: {allowed})",
                )
        return {**self.kwargs, **client_kwargs}

    @property
    def kind(self) -> str:
        """``"gymnasium"``, ``"pettingzoo"``, or ``""`` for an entrypoint file (what it makes tells)."""
        if self.gym_id is not None:
            return "gymnasium"
        return "pettingzoo" if self.pettingzoo is not None else ""

    def allowed_list(self) -> list[str]:
        """Allowed kwarg names for display (``["*"]`` for any)."""
        return [ANY_KWARGS] if self.allowed_kwargs == ANY_KWARGS else sorted(self.allowed_kwargs)


def make_entry(
    name: str,
    *,
    gym_id: str | None = None,
    entrypoint: str | pathlib.Path | None = None,
    pettingzoo: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
    allowed_kwargs: Collection[str] | str | None = None,
    repo: str | None = None,
    commit: str | None = None,
) -> EnvEntry:
    """Build an entry; by default clients may override exactly the kwargs the operator set.

    ``repo`` and ``commit`` only describe where an entrypoint came from (see ``server.provision``).
    """
    kwargs = dict(kwargs or {})
    if allowed_kwargs is None:
        allowed: frozenset[str] | str = frozenset(kwargs)
    elif isinstance(allowed_kwargs, str):
        if allowed_kwargs != ANY_KWARGS:
            raise ConfigError(f"allowed_kwargs must be a collection of names or {ANY_KWARGS!r}")
        allowed = ANY_KWARGS
    else:
        allowed = frozenset(allowed_kwargs)
    return EnvEntry(
        name=name,
        gym_id=gym_id,
        entrypoint=str(entrypoint) if entrypoint is not None else None,
        pettingzoo=pettingzoo,
        kwargs=kwargs,
        allowed_kwargs=allowed,
        repo=repo,
        commit=commit,
    )


class Registry:
    """The environments a server hosts; the first one added is the default."""

    def __init__(self, entries: Collection[EnvEntry] = ()) -> None:
        self._entries: dict[str, EnvEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: EnvEntry) -> None:
        """Register ``entry``; names are unique."""
        if entry.name in self._entries:
            raise ConfigError(f"environment {entry.name!r} is registered twice")
        self._entries[entry.name] = entry

    @property
    def entries(self) -> list[EnvEntry]:
        """All entries, default first."""
        return list(self._entries.values())

    def resolve(self, name: str, kwargs_json: str) -> tuple[EnvEntry, dict[str, Any]]:
        """Find the entry a client asked for and merge its kwargs.

        Raises:
            EnvNotFoundError: No such environment.
            PermissionDeniedError: The client set a kwarg the operator did not allow.
            InvalidCallError: ``kwargs_json`` is not a JSON object.
        """
        from remote_gym.errors import InvalidCallError

        if not self._entries:
            raise EnvNotFoundError("this server hosts no environments")
        entry = self._entries.get(name) if name else next(iter(self._entries.values()))
        if entry is None:
            hosted = ", ".join(self._entries)
            raise EnvNotFoundError(
                f"environment {name!r} is not hosted here (hosted: {hosted})",
            )
        try:
            client_kwargs = json.loads(kwargs_json) if kwargs_json else {}
        except ValueError as exc:
            raise InvalidCallError(f"kwargs are not valid JSON: {exc}") from exc
        if not isinstance(client_kwargs, dict):
            raise InvalidCallError("kwargs must be a JSON object")
        return entry, entry.merge_kwargs(client_kwargs)


def preload_targets(entries: Iterable[EnvEntry]) -> list[dict[str, str]]:
    """What warm workers import for the hosted environments: gym ids' modules and entrypoint files."""
    targets: list[dict[str, str]] = []
    for entry in entries:
        if entry.gym_id is not None:
            targets.append({"gym_id": entry.gym_id})
        elif entry.entrypoint is not None:
            targets.append({"entrypoint": entry.entrypoint})
    return targets
