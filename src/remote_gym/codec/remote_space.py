"""RemoteSpace: the client's stand-in for a server space that has no wire form on both sides."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Dict, Graph, OneOf, Space, Tuple
from gymnasium.spaces import Sequence as SequenceSpace

from remote_gym.errors import DecodeError, UnsupportedSpaceError

SpacePath = tuple[str, ...]
"""Where a sub-space sits in a space: Dict keys, Tuple/OneOf indices, "feature_space", "node_space"..."""


class RemoteSpace(Space[Any]):
    """A space of the remote env that the client cannot rebuild: no codec for it on one side.

    It carries what the server told about it: the qualified name of the space's class, its ``repr``,
    and its shape and dtype where it has them. :meth:`contains` checks what it can locally (shape,
    dtype); :meth:`sample` asks the space on the server; ``==`` compares the class name and the
    description. Values of the space travel as any value does. Gymnasium's flatten utilities and
    algorithm libraries do not know such a space -- no more than they know the server's own class.

    Example:
        >>> space = RemoteSpace("suite.spaces.Mission", "Mission(colours=3)")
        >>> space
        RemoteSpace(suite.spaces.Mission: Mission(colours=3))
    """

    def __init__(
        self,
        class_name: str,
        description: str,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        sampler: Callable[[], Any] | None = None,
    ) -> None:
        """A stand-in for the server's space of class ``class_name`` whose ``repr`` is ``description``.

        Args:
            class_name: ``"module.QualName"`` of the space's class on the server.
            description: The space's ``repr`` on the server.
            shape: Its shape, or None when it has none.
            dtype: Its numpy dtype, or None when it has none (or none the wire carries).
            sampler: What :meth:`sample` calls; remote-gym's clients bind one to their session.
        """
        super().__init__(shape=None if shape is None else tuple(shape), dtype=dtype)
        self.class_name = class_name
        self.description = description
        self.sampler = sampler

    @property
    def is_np_flattenable(self) -> bool:
        """Never: nothing is known of how the server's space flattens."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> Any:
        """A sample drawn by the space on the server.

        Raises:
            UnsupportedSpaceError: ``mask`` or ``probability`` was given, or no session is bound.
        """
        if mask is not None or probability is not None:
            raise UnsupportedSpaceError(f"{self!r} cannot sample with a mask or probability")
        if self.sampler is None:
            raise UnsupportedSpaceError(f"{self!r} is not bound to a remote session that could sample it")
        return self.sampler()

    def contains(self, x: Any) -> bool:
        """Whether ``x`` may belong to the space: its shape and dtype, where known, must match."""
        if self.shape is not None and np.shape(x) != self.shape:
            return False
        if self.dtype is not None:
            kind = getattr(x, "dtype", None)
            return kind is None or np.can_cast(kind, self.dtype)
        return True

    def __eq__(self, other: object) -> bool:
        """Same class on the server and same description."""
        return (
            isinstance(other, RemoteSpace)
            and other.class_name == self.class_name
            and other.description == self.description
        )

    def __hash__(self) -> int:
        return hash((self.class_name, self.description))

    def __repr__(self) -> str:
        return f"RemoteSpace({self.class_name}: {self.description})"

    def __deepcopy__(self, memo: dict[int, Any]) -> RemoteSpace:
        # The sampler reaches the session; copies (batch_space makes some) share it.
        return RemoteSpace(self.class_name, self.description, self.shape, self.dtype, self.sampler)


def remote_spaces_in(space: Space[Any], path: SpacePath = ()) -> Iterator[tuple[SpacePath, RemoteSpace]]:
    """Every :class:`RemoteSpace` inside ``space`` (itself included), with its path."""
    if isinstance(space, RemoteSpace):
        yield path, space
    for key, child in _children(space):
        yield from remote_spaces_in(child, (*path, key))


def bind_remote_spaces(space: Space[Any], which: str, ask: Callable[[str, SpacePath], Any]) -> None:
    """Let every :class:`RemoteSpace` in ``space`` sample by calling ``ask(which, its path)``."""
    for path, remote in remote_spaces_in(space):
        remote.sampler = functools.partial(ask, which, path)


def subspace_at(space: Space[Any], path: Sequence[str]) -> Space[Any]:
    """The sub-space of ``space`` at ``path`` (see :data:`SpacePath`).

    Raises:
        DecodeError: If no sub-space lies at ``path``.
    """
    for key in path:
        children = dict(_children(space))
        if key not in children:
            raise DecodeError(f"{type(space).__name__} space has no sub-space {key!r}")
        space = children[key]
    return space


def _children(space: Space[Any]) -> list[tuple[str, Space[Any]]]:
    if isinstance(space, Dict):
        return [(str(key), child) for key, child in space.spaces.items()]
    if isinstance(space, (Tuple, OneOf)):
        return [(str(i), child) for i, child in enumerate(space.spaces)]
    if isinstance(space, SequenceSpace):
        return [("feature_space", space.feature_space)]
    if isinstance(space, Graph):
        children: list[tuple[str, Space[Any]]] = [("node_space", space.node_space)]
        return children if space.edge_space is None else [*children, ("edge_space", space.edge_space)]
    return []
