"""Encode and decode Python and numpy values as remote_gym.v1.Value trees."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium.spaces import GraphInstance

from remote_gym._constants import MAX_NESTING_DEPTH
from remote_gym.codec.arrays import decode_array, encode_array
from remote_gym.codec.dtypes import DTYPE_BY_WIRE
from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_BIG_INT = re.compile(r"-?[0-9]+")
_GRAPH_FIELDS = ("nodes", "edges", "edge_links")


class _UnsupportedError(Exception):
    """A value has no wire form; containers add their path segment while it propagates up."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str] = []


def encode_value(
    value: Any, msg: pb.Value | None = None, *, compress: bool = False, path: str = "value"
) -> pb.Value:
    """Encodes a value so that it decodes to an equal value of the same type.

    Supported: ``None``, ``bool``, ``int`` (any size), ``float``, ``complex``, ``str``, ``bytes``,
    ``np.ndarray`` and numpy scalars of a wire dtype (:mod:`remote_gym.codec.dtypes`), ``list``,
    ``tuple``, ``dict`` (any encodable keys, insertion order kept) and
    :class:`gymnasium.spaces.GraphInstance`, nested up to ``MAX_NESTING_DEPTH`` containers deep.
    Subclasses travel as their base type (an ``OrderedDict`` or a named tuple decodes as a plain
    ``dict`` or ``tuple``, an ``IntEnum`` as an ``int``, ``np.str_`` as ``str``).

    Args:
        value: The value.
        msg: A message to fill in place (e.g. ``response.observation``); a new one when ``None``.
            Its content is unspecified if encoding fails.
        compress: Let large arrays be zstd-compressed (see :func:`encode_array`).
        path: How to name ``value`` in error messages, e.g. ``"info"``.

    Returns:
        ``msg``, or the new message.

    Raises:
        UnsupportedValueError: If some part has no wire form or nesting is too deep; the message
            names where, e.g. ``info['stats'][2]``, and the type.
    """
    if msg is None:
        msg = pb.Value()
    try:
        _encode(value, msg, compress, 0)
    except _UnsupportedError as exc:
        where = path + "".join(reversed(exc.segments))
        raise UnsupportedValueError(f"{where}: {exc.reason}") from None
    return msg


def decode_value(msg: pb.Value) -> Any:
    """Decodes a ``Value`` tree written by :func:`encode_value`.

    Args:
        msg: The message.

    Returns:
        The value; arrays are new and writeable.

    Raises:
        DecodeError: If a node has no kind set, an array is malformed, a dict key is unhashable or
            repeated, an int is not decimal, or nesting is deeper than ``MAX_NESTING_DEPTH``.
    """
    return _decode(msg, 0)


# ---------------------------------------------------------------- encoding ----

_Encoder = Callable[[Any, pb.Value, bool, int], None]


def _encode(value: Any, msg: pb.Value, compress: bool, depth: int) -> None:
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        encoder = _subclass_encoder(value)
    encoder(value, msg, compress, depth)


def _subclass_encoder(value: Any) -> _Encoder:
    """Finds the encoder of a value whose exact type is not in the table, or raises."""
    # Order matters: GraphInstance is a tuple; np.str_ is both str and np.generic; np.float64 and
    # np.complex128 subclass float and complex, so np.generic comes before the builtin numbers.
    for base, encoder in _SUBCLASS_ENCODERS:
        if isinstance(value, base):
            return encoder
    raise _UnsupportedError(
        f"values of type {type(value).__module__}.{type(value).__qualname__} have no wire form"
    )


def _encode_int(value: int, msg: pb.Value, compress: bool, depth: int) -> None:
    if _INT64_MIN <= value <= _INT64_MAX:
        msg.int_value = value
        return
    try:
        msg.big_int_value = str(int(value))
    except ValueError as exc:  # more digits than sys.get_int_max_str_digits() allows
        raise _UnsupportedError(f"int too large to write in decimal ({exc})") from None


def _encode_complex(value: complex, msg: pb.Value, compress: bool, depth: int) -> None:
    encode_array(np.complex128(value), msg.complex_value)


def _encode_str(value: str, msg: pb.Value, compress: bool, depth: int) -> None:
    try:
        msg.string_value = value
    except (ValueError, UnicodeError) as exc:  # lone surrogates are not valid UTF-8
        raise _UnsupportedError(f"str is not valid UTF-8 ({exc})") from None


def _encode_ndarray(value: np.ndarray[Any, Any], msg: pb.Value, compress: bool, depth: int) -> None:
    try:
        encode_array(value, msg.array, compress=compress)
    except UnsupportedValueError as exc:
        raise _UnsupportedError(f"numpy array: {exc}") from None


def _encode_numpy_scalar(value: np.generic, msg: pb.Value, compress: bool, depth: int) -> None:
    try:
        encode_array(value, msg.numpy_scalar)
    except UnsupportedValueError as exc:
        raise _UnsupportedError(f"numpy scalar of type {type(value).__name__}: {exc}") from None


def _check_depth(depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise _UnsupportedError(f"containers nested more than {MAX_NESTING_DEPTH} deep")


def _encode_items(items: Any, container: pb.ValueList, compress: bool, depth: int) -> None:
    container.SetInParent()  # an empty list must still count as set
    add = container.items.add
    index = 0
    try:
        for index, item in enumerate(items):  # noqa: B007 - `index` is read in the handler
            _encode(item, add(), compress, depth)
    except _UnsupportedError as exc:
        exc.segments.append(f"[{index}]")
        raise


def _encode_list(value: list[Any], msg: pb.Value, compress: bool, depth: int) -> None:
    _check_depth(depth)
    _encode_items(value, msg.list_value, compress, depth + 1)


def _encode_tuple(value: tuple[Any, ...], msg: pb.Value, compress: bool, depth: int) -> None:
    _check_depth(depth)
    _encode_items(value, msg.tuple_value, compress, depth + 1)


def _encode_dict(value: dict[Any, Any], msg: pb.Value, compress: bool, depth: int) -> None:
    _check_depth(depth)
    mapping = msg.dict_value
    mapping.SetInParent()
    add = mapping.entries.add
    depth += 1
    for key, item in value.items():
        entry = add()
        try:
            _encode(key, entry.key, compress, depth)
        except _UnsupportedError as exc:
            exc.reason = f"dict key {key!r}: {exc.reason}"
            exc.segments.clear()
            raise
        try:
            _encode(item, entry.value, compress, depth)
        except _UnsupportedError as exc:
            exc.segments.append(f"[{key!r}]")
            raise


def _encode_graph(value: GraphInstance, msg: pb.Value, compress: bool, depth: int) -> None:
    _check_depth(depth)
    graph = msg.graph_value
    for name in _GRAPH_FIELDS:
        try:
            _encode(getattr(value, name), getattr(graph, name), compress, depth + 1)
        except _UnsupportedError as exc:
            exc.segments.append(f".{name}")
            raise


_ENCODERS: dict[type, _Encoder] = {
    type(None): lambda value, msg, compress, depth: setattr(msg, "none", True),
    bool: lambda value, msg, compress, depth: setattr(msg, "bool_value", value),
    int: _encode_int,
    float: lambda value, msg, compress, depth: setattr(msg, "float_value", value),
    complex: _encode_complex,
    str: _encode_str,
    bytes: lambda value, msg, compress, depth: setattr(msg, "bytes_value", value),
    np.ndarray: _encode_ndarray,
    list: _encode_list,
    tuple: _encode_tuple,
    dict: _encode_dict,
    GraphInstance: _encode_graph,
    **{dtype.type: _encode_numpy_scalar for dtype in DTYPE_BY_WIRE.values()},
}

_SUBCLASS_ENCODERS: tuple[tuple[type, _Encoder], ...] = (
    (GraphInstance, _encode_graph),
    (np.ndarray, _encode_ndarray),
    (str, _encode_str),
    (bytes, _ENCODERS[bytes]),
    (np.generic, _encode_numpy_scalar),
    (int, _encode_int),
    (float, _ENCODERS[float]),
    (complex, _encode_complex),
    (list, _encode_list),
    (tuple, _encode_tuple),
    (dict, _encode_dict),
)

# ---------------------------------------------------------------- decoding ----


def _decode(msg: pb.Value, depth: int) -> Any:
    kind = msg.WhichOneof("kind")
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise DecodeError("Value has no kind set")
    return decoder(msg, depth)


def _decode_big_int(msg: pb.Value, depth: int) -> int:
    text = msg.big_int_value
    if not _BIG_INT.fullmatch(text):
        raise DecodeError(f"Value.big_int_value is not a decimal integer: {text[:40]!r}")
    try:
        return int(text)
    except ValueError as exc:  # more digits than sys.get_int_max_str_digits() allows
        raise DecodeError(f"Value.big_int_value is too long: {exc}") from exc


def _decode_numpy_scalar(msg: pb.Value, depth: int) -> Any:
    array = decode_array(msg.numpy_scalar)
    if array.ndim:
        raise DecodeError(f"Value.numpy_scalar has shape {array.shape}, expected ()")
    return array[()]


def _decode_complex(msg: pb.Value, depth: int) -> complex:
    array = decode_array(msg.complex_value)
    if array.ndim or array.dtype != np.complex128:
        raise DecodeError(f"Value.complex_value must be a complex128 scalar, got {array.dtype} {array.shape}")
    return complex(array[()])


def _check_decode_depth(depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise DecodeError(f"Value containers are nested more than {MAX_NESTING_DEPTH} deep")


def _decode_list(msg: pb.Value, depth: int) -> list[Any]:
    _check_decode_depth(depth)
    depth += 1
    return [_decode(item, depth) for item in msg.list_value.items]


def _decode_tuple(msg: pb.Value, depth: int) -> tuple[Any, ...]:
    _check_decode_depth(depth)
    depth += 1
    return tuple([_decode(item, depth) for item in msg.tuple_value.items])


def _decode_dict(msg: pb.Value, depth: int) -> dict[Any, Any]:
    _check_decode_depth(depth)
    depth += 1
    result: dict[Any, Any] = {}
    entries = msg.dict_value.entries
    for entry in entries:
        key = _decode(entry.key, depth)
        value = _decode(entry.value, depth)
        try:
            result[key] = value
        except TypeError as exc:
            raise DecodeError(f"Value dict key is unhashable: {exc}") from exc
    if len(result) != len(entries):
        raise DecodeError("Value dict has repeated keys")
    return result


def _decode_graph(msg: pb.Value, depth: int) -> GraphInstance:
    _check_decode_depth(depth)
    graph = msg.graph_value
    depth += 1
    return GraphInstance(
        _decode(graph.nodes, depth), _decode(graph.edges, depth), _decode(graph.edge_links, depth)
    )


_DECODERS: dict[str, Callable[[pb.Value, int], Any]] = {
    "none": lambda msg, depth: None,
    "bool_value": lambda msg, depth: msg.bool_value,
    "int_value": lambda msg, depth: msg.int_value,
    "big_int_value": _decode_big_int,
    "float_value": lambda msg, depth: msg.float_value,
    "string_value": lambda msg, depth: msg.string_value,
    "bytes_value": lambda msg, depth: msg.bytes_value,
    "array": lambda msg, depth: decode_array(msg.array),
    "numpy_scalar": _decode_numpy_scalar,
    "complex_value": _decode_complex,
    "list_value": _decode_list,
    "tuple_value": _decode_tuple,
    "dict_value": _decode_dict,
    "graph_value": _decode_graph,
}
