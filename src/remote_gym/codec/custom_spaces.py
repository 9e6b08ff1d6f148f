"""The registry of codecs that give third-party Gymnasium spaces a wire form."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gymnasium.spaces import Space

from remote_gym.codec.suite_spaces import SUITE_CODECS
from remote_gym.errors import ConfigError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "remote_gym.spaces"
"""Entry-point group through which an installed package contributes space codecs.

Each entry point names a function taking no arguments that calls :func:`register_space`.
"""


@dataclass(frozen=True)
class SpaceCodec:
    """How one space class travels: ``encode`` makes a value of the space, ``decode`` rebuilds it.

    ``encode``'s result must be made of what the value codec carries (None, bool, int, float, str,
    bytes, numpy arrays and scalars, lists, tuples and dicts of them); no pickle is involved.
    """

    cls: type[Space[Any]]
    """The space class (exactly: a subclass needs a codec of its own)."""
    encode: Callable[[Any], Any]
    """Space -> payload value."""
    decode: Callable[[Any], Space[Any]]
    """Payload value -> a space equal to the encoded one."""
    name: str
    """The name on the wire; both sides must register the codec under it."""


_lock = threading.Lock()
_by_class: dict[type[Space[Any]], SpaceCodec] = {}
_by_name: dict[str, SpaceCodec] = {}
_entry_points_loaded = False


def register_space(
    cls: type[Space[Any]],
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Space[Any]],
    name: str | None = None,
) -> SpaceCodec:
    """Give a custom ``gymnasium.Space`` subclass a wire form, on the server and on the client.

    A space of ``cls`` then travels as ``name`` plus ``encode(space)``, a value of the wire's value
    codec (no pickle); the client rebuilds it with ``decode(value)`` -- only through a codec
    registered on its side under the same name. Without a codec on one side, the env is still
    served and the client sees a :class:`~remote_gym.codec.remote_space.RemoteSpace`.

    Args:
        cls: The space class.
        encode: Returns a plain value (None, bool, int, float, str, bytes, numpy arrays and
            scalars, and lists, tuples and dicts of them) that describes a space of ``cls``.
        decode: Rebuilds a space equal to the encoded one from that value.
        name: The codec's name on the wire; default ``"module.QualName"`` of ``cls``.

    Returns:
        The registered codec (it replaces an earlier one of the same class or name).

    Raises:
        ConfigError: If ``cls`` is not a ``gymnasium.Space`` subclass or a function is not callable.

    Example:
        >>> class Colours(Space):  # doctest: +SKIP
        ...     def __init__(self, names): ...
        >>> register_space(Colours, lambda s: list(s.names), Colours)  # doctest: +SKIP
    """
    if not (isinstance(cls, type) and issubclass(cls, Space)):
        raise ConfigError(f"register_space needs a gymnasium.Space subclass, got {cls!r}")
    if not (callable(encode) and callable(decode)):
        raise ConfigError("register_space needs callable encode and decode functions")
    codec = SpaceCodec(cls, encode, decode, name or f"{cls.__module__}.{cls.__qualname__}")
    with _lock:
        old = _by_class.pop(cls, None)
        if old is not None:
            _by_name.pop(old.name, None)
        _by_class[cls] = codec
        _by_name[codec.name] = codec
    return codec


def codec_for_class(cls: type) -> SpaceCodec | None:
    """The codec registered for exactly ``cls`` (or a built-in one), or None.

    A subclass does not inherit its base's codec: it may sample or check membership otherwise
    (BabyAI's mission space accepts every string, MiniGrid's only its missions).
    """
    _load_entry_points()
    codec = _by_class.get(cls)
    if codec is not None:
        return codec
    for name, (module, class_name, encode, decode) in SUITE_CODECS.items():
        if cls.__module__ == module and cls.__qualname__ == class_name:
            return register_space(cls, encode, decode, name)
    return None


def codec_named(name: str) -> SpaceCodec | None:
    """The codec registered under ``name`` on this side (or a built-in one whose suite imports), or None."""
    _load_entry_points()
    codec = _by_name.get(name)
    if codec is None and name in SUITE_CODECS:
        module, class_name, encode, decode = SUITE_CODECS[name]
        try:  # a fixed module of our own table, never one the peer named
            cls = getattr(importlib.import_module(module), class_name)
        except ImportError:
            return None
        codec = register_space(cls, encode, decode, name)
    return codec


def _load_entry_points() -> None:
    """Run every installed package's codec registration once (this side's packages, never the peer's)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()()
        except Exception as exc:  # a broken third-party package must not stop the session
            logger.warning("space codecs of entry point %s failed to load: %s", entry_point.value, exc)
