"""Encode and decode Gymnasium spaces as remote_gym.v1.Space messages."""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable
from functools import singledispatch
from typing import Any

import numpy as np
from gymnasium.spaces import (
    Box,
    Dict,
    Discrete,
    Graph,
    MultiBinary,
    MultiDiscrete,
    OneOf,
    Sequence,
    Space,
    Text,
    Tuple,
)

from remote_gym._constants import MAX_NESTING_DEPTH
from remote_gym.codec.arrays import decode_array, encode_array
from remote_gym.codec.custom_spaces import codec_for_class, codec_named
from remote_gym.codec.dtypes import decode_dtype, encode_dtype
from remote_gym.codec.remote_space import RemoteSpace
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import DecodeError, UnsupportedSpaceError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

# Gymnasium grew these keyword arguments during 1.x; pass them only where the installed one has them.
_DISCRETE_HAS_DTYPE = "dtype" in inspect.signature(Discrete.__init__).parameters
_DICT_HAS_SORT_KEYS = "sort_keys" in inspect.signature(Dict.__init__).parameters
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def encode_space(space: Space[Any]) -> pb.Space:
    """Encodes a Gymnasium space; its seed and RNG state are not transported.

    Subclasses of the built-in spaces are encoded as their built-in base class. Any other space
    travels through its registered codec (:func:`~remote_gym.codec.custom_spaces.register_space`),
    or else as a description the client turns into a
    :class:`~remote_gym.codec.remote_space.RemoteSpace`.

    Args:
        space: Any built-in Gymnasium 1.x space, nested up to ``MAX_NESTING_DEPTH`` deep.

    Returns:
        The message.

    Raises:
        UnsupportedSpaceError: If the space (or a sub-space) is not a space, a built-in space has a
            dtype without a wire form, a non-str Dict key, or spaces are nested too deep.
    """
    msg = pb.Space()
    _encode(space, msg, 0)
    return msg


def decode_space(msg: pb.Space) -> Space[Any]:
    """Decodes a ``Space`` message into an unseeded space equal to the encoded one.

    Args:
        msg: The message.

    Returns:
        The space, of the same type, dtype and shape as the encoded one; a custom space with no
        codec registered on this side is a :class:`~remote_gym.codec.remote_space.RemoteSpace`.

    Raises:
        DecodeError: If a node has no kind set, fields are inconsistent (e.g. bounds of the wrong
            dtype or shape), Gymnasium refuses the parameters, or nesting is too deep.
    """
    return _decode(msg, 0)


# ---------------------------------------------------------------- encoding ----


@singledispatch
def _encode(space: Any, msg: pb.Space, depth: int) -> None:
    if not isinstance(space, Space):
        raise UnsupportedSpaceError(f"{type(space).__module__}.{type(space).__qualname__} is not a space")
    _encode_custom(space, msg.custom)


def _encode_custom(space: Space[Any], custom: pb.CustomSpace) -> None:
    """A third-party space: its registered codec's payload if it has one, and what the client can check."""
    cls = type(space)
    custom.class_name = f"{cls.__module__}.{cls.__qualname__}"
    custom.description = _ADDRESS.sub("", repr(space))  # equal on every server, for ==
    if space.shape is not None:
        custom.has_shape = True
        custom.shape.extend(space.shape)
    if space.dtype is not None:
        with contextlib.suppress(UnsupportedValueError):  # e.g. a str dtype: left unspecified
            custom.dtype = encode_dtype(space.dtype)
    codec = codec_for_class(cls)
    if codec is None:
        return
    try:
        encode_value(codec.encode(space), custom.payload, path=f"{codec.name} payload")
    except Exception:  # a third-party codec failed: the space still travels, as an opaque one
        custom.ClearField("payload")
        return
    custom.codec = codec.name


def _wire_dtype(space: Space[Any]) -> pb.DType:
    try:
        return encode_dtype(space.dtype)
    except UnsupportedValueError as exc:
        raise UnsupportedSpaceError(f"{type(space).__name__} dtype: {exc}") from None


def _check_depth(space: Space[Any], depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise UnsupportedSpaceError(
            f"spaces nested more than {MAX_NESTING_DEPTH} deep ({type(space).__name__})"
        )


@_encode.register(Box)
def _encode_box(space: Box, msg: pb.Space, depth: int) -> None:
    box = msg.box
    box.dtype = _wire_dtype(space)
    box.shape.extend(space.shape)
    encode_array(space.low, box.low)
    encode_array(space.high, box.high)


@_encode.register(Discrete)
def _encode_discrete(space: Discrete, msg: pb.Space, depth: int) -> None:
    discrete = msg.discrete
    discrete.dtype = _wire_dtype(space)
    try:
        discrete.n = int(space.n)
        discrete.start = int(space.start)
    except ValueError as exc:  # outside sint64 (a huge uint64 Discrete)
        raise UnsupportedSpaceError(f"Discrete n/start do not fit in 64 bits: {exc}") from None


@_encode.register(MultiDiscrete)
def _encode_multi_discrete(space: MultiDiscrete, msg: pb.Space, depth: int) -> None:
    multi = msg.multi_discrete
    multi.dtype = _wire_dtype(space)
    encode_array(space.nvec, multi.nvec)
    encode_array(space.start, multi.start)


@_encode.register(MultiBinary)
def _encode_multi_binary(space: MultiBinary, msg: pb.Space, depth: int) -> None:
    multi = msg.multi_binary
    multi.SetInParent()
    multi.shape.extend(space.shape)
    multi.n_is_int = isinstance(space.n, int)


@_encode.register(Text)
def _encode_text(space: Text, msg: pb.Space, depth: int) -> None:
    text = msg.text
    text.SetInParent()
    text.min_length = space.min_length
    text.max_length = space.max_length
    text.charset = "".join(space.character_list)


@_encode.register(Tuple)
def _encode_tuple(space: Tuple[Any], msg: pb.Space, depth: int) -> None:
    _check_depth(space, depth)
    spaces = msg.tuple
    spaces.SetInParent()
    for subspace in space.spaces:
        _encode(subspace, spaces.spaces.add(), depth + 1)


@_encode.register(Dict)
def _encode_dict(space: Dict, msg: pb.Space, depth: int) -> None:
    _check_depth(space, depth)
    entries = msg.dict
    entries.SetInParent()
    for key, subspace in space.spaces.items():
        if not isinstance(key, str):
            raise UnsupportedSpaceError(f"Dict space keys must be str, got {key!r}")
        entry = entries.entries.add()
        entry.key = key
        _encode(subspace, entry.space, depth + 1)


@_encode.register(Sequence)
def _encode_sequence(space: Sequence, msg: pb.Space, depth: int) -> None:
    _check_depth(space, depth)
    sequence = msg.sequence
    _encode(space.feature_space, sequence.feature_space, depth + 1)
    sequence.stack = space.stack


@_encode.register(Graph)
def _encode_graph(space: Graph, msg: pb.Space, depth: int) -> None:
    _check_depth(space, depth)
    graph = msg.graph
    _encode(space.node_space, graph.node_space, depth + 1)
    if space.edge_space is not None:
        _encode(space.edge_space, graph.edge_space, depth + 1)


@_encode.register(OneOf)
def _encode_one_of(space: OneOf[Any], msg: pb.Space, depth: int) -> None:
    _check_depth(space, depth)
    one_of = msg.one_of
    one_of.SetInParent()
    for subspace in space.spaces:
        _encode(subspace, one_of.spaces.add(), depth + 1)


# ---------------------------------------------------------------- decoding ----


def _decode(msg: pb.Space, depth: int) -> Space[Any]:
    kind = msg.WhichOneof("kind")
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise DecodeError("Space has no kind set")
    return decoder(getattr(msg, kind), depth)


def _build(factory: Callable[..., Space[Any]], *args: Any, **kwargs: Any) -> Space[Any]:
    """Calls a space constructor, turning its complaints about our parameters into DecodeError."""
    try:
        return factory(*args, **kwargs)
    except (ValueError, TypeError, OverflowError, AssertionError) as exc:
        raise DecodeError(f"{factory.__name__} space refused the decoded parameters: {exc}") from exc


def _decode_children(msgs: Any, depth: int, kind: str) -> list[Space[Any]]:
    if depth >= MAX_NESTING_DEPTH:
        raise DecodeError(f"Space nested more than {MAX_NESTING_DEPTH} deep ({kind})")
    return [_decode(child, depth + 1) for child in msgs]


def _check_bounds(
    name: str, array: np.ndarray[Any, Any], dtype: np.dtype[Any], shape: tuple[int, ...]
) -> None:
    if array.dtype != dtype or array.shape != shape:
        raise DecodeError(f"{name} is {array.dtype} {array.shape}, expected {dtype} {shape}")


def _decode_box(msg: pb.BoxSpace, depth: int) -> Space[Any]:
    dtype = decode_dtype(msg.dtype)
    shape = tuple(msg.shape)
    low = decode_array(msg.low)
    high = decode_array(msg.high)
    _check_bounds("Box low", low, dtype, shape)
    _check_bounds("Box high", high, dtype, shape)
    return _build(Box, low, high, shape=shape, dtype=dtype)


def _decode_discrete(msg: pb.DiscreteSpace, depth: int) -> Space[Any]:
    if not _DISCRETE_HAS_DTYPE:
        return _build(Discrete, msg.n, start=msg.start)
    return _build(Discrete, msg.n, start=msg.start, dtype=decode_dtype(msg.dtype))


def _decode_multi_discrete(msg: pb.MultiDiscreteSpace, depth: int) -> Space[Any]:
    dtype = decode_dtype(msg.dtype)
    nvec = decode_array(msg.nvec)
    start = decode_array(msg.start)
    _check_bounds("MultiDiscrete nvec", nvec, dtype, nvec.shape)
    _check_bounds("MultiDiscrete start", start, dtype, nvec.shape)
    return _build(MultiDiscrete, nvec, dtype=dtype, start=start)


def _decode_multi_binary(msg: pb.MultiBinarySpace, depth: int) -> Space[Any]:
    shape = tuple(msg.shape)
    if not msg.n_is_int:
        return _build(MultiBinary, shape)
    if len(shape) != 1:
        raise DecodeError(f"MultiBinary with an int n must have a 1-d shape, got {shape}")
    return _build(MultiBinary, shape[0])


def _decode_text(msg: pb.TextSpace, depth: int) -> Space[Any]:
    return _build(Text, msg.max_length, min_length=msg.min_length, charset=msg.charset)


def _decode_tuple(msg: pb.TupleSpace, depth: int) -> Space[Any]:
    return _build(Tuple, _decode_children(msg.spaces, depth, "Tuple"))


def _decode_dict(msg: pb.DictSpace, depth: int) -> Space[Any]:
    keys = [entry.key for entry in msg.entries]
    if len(set(keys)) != len(keys):
        raise DecodeError(f"Dict space has repeated keys: {keys}")
    subspaces = _decode_children([entry.space for entry in msg.entries], depth, "Dict")
    # A sequence of pairs keeps the wire order. `sort_keys` only matters when the space is rebuilt
    # from a mapping later (batch_space does that): keep the order unless it was sorted anyway.
    kwargs = {"sort_keys": keys == sorted(keys)} if _DICT_HAS_SORT_KEYS else {}
    return _build(Dict, list(zip(keys, subspaces, strict=True)), **kwargs)


def _decode_sequence(msg: pb.SequenceSpace, depth: int) -> Space[Any]:
    (feature_space,) = _decode_children([msg.feature_space], depth, "Sequence")
    return _build(Sequence, feature_space, stack=msg.stack)


def _decode_graph(msg: pb.GraphSpace, depth: int) -> Space[Any]:
    children = [msg.node_space, msg.edge_space] if msg.HasField("edge_space") else [msg.node_space]
    node_space, *edge_space = _decode_children(children, depth, "Graph")
    return _build(Graph, node_space, edge_space[0] if edge_space else None)


def _decode_one_of(msg: pb.OneOfSpace, depth: int) -> Space[Any]:
    return _build(OneOf, _decode_children(msg.spaces, depth, "OneOf"))


def _decode_custom(msg: pb.CustomSpace, depth: int) -> Space[Any]:
    codec = codec_named(msg.codec) if msg.codec else None
    if codec is not None:
        with contextlib.suppress(Exception):  # a third-party codec failed: fall back to RemoteSpace
            return codec.decode(decode_value(msg.payload))
    shape = tuple(msg.shape) if msg.has_shape else None
    dtype = decode_dtype(msg.dtype) if msg.dtype != pb.DTYPE_UNSPECIFIED else None
    return RemoteSpace(msg.class_name, msg.description, shape, dtype)


_DECODERS: dict[str, Callable[[Any, int], Space[Any]]] = {
    "box": _decode_box,
    "discrete": _decode_discrete,
    "multi_discrete": _decode_multi_discrete,
    "multi_binary": _decode_multi_binary,
    "text": _decode_text,
    "tuple": _decode_tuple,
    "dict": _decode_dict,
    "sequence": _decode_sequence,
    "graph": _decode_graph,
    "one_of": _decode_one_of,
    "custom": _decode_custom,
}
