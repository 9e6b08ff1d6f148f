"""Tests for remote_gym.codec.values: Python/numpy values <-> Value trees."""

from __future__ import annotations

import enum
import math
from collections import OrderedDict, namedtuple
from typing import Any

import numpy as np
import pytest
from gymnasium.spaces import GraphInstance, Space
from gymnasium.utils.env_checker import data_equivalence
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from remote_gym._constants import COMPRESS_MIN_BYTES, MAX_NESTING_DEPTH
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from tests.spaces import SPACE_IDS, SPACES

WIRE_DTYPES = [
    np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
]


def _round_trip(value: Any, **kwargs: Any) -> Any:
    """Encodes, serializes, parses and decodes a value, like a real peer would."""
    wire = encode_value(value, **kwargs).SerializeToString()
    return decode_value(pb.Value.FromString(wire))


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_space_sample_round_trip(space: Space[Any]) -> None:
    """A seeded sample of every space decodes to an exactly equivalent value."""
    space.seed(42)
    sample = space.sample()
    assert data_equivalence(_round_trip(sample), sample, exact=True)


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_decoded_sample_is_in_space(space: Space[Any]) -> None:
    """A decoded sample still belongs to the space it was drawn from."""
    space.seed(7)
    assert space.contains(_round_trip(space.sample()))


SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**63,
    -(2**200),
    1.5,
    -0.0,
    math.inf,
    -math.inf,
    "",
    "h\u00e9llo \u4e16\u754c \U0001f600",
    b"",
    b"\x00\xff",
    1 + 2j,
    complex(-0.0, math.inf),
    np.bool_(True),
    np.bool_(False),
    np.int8(-128),
    np.int16(7),
    np.int32(-7),
    np.int64(2**62),
    np.uint8(255),
    np.uint16(65535),
    np.uint32(2**32 - 1),
    np.uint64(2**64 - 1),
    np.float16(0.5),
    np.float32(1.5),
    np.float64(-2.25),
    np.complex64(1 - 1j),
    np.complex128(3 + 4j),
]


@pytest.mark.parametrize("value", SCALARS, ids=[f"{type(v).__name__}-{v!r}" for v in SCALARS])
def test_scalar_keeps_exact_type_and_value(value: Any) -> None:
    """Scalars come back with their exact Python or numpy type and value."""
    decoded = _round_trip(value)
    assert type(decoded) is type(value)
    assert decoded == value or (decoded != decoded and value != value)
    if isinstance(value, float) and value == 0.0:
        assert math.copysign(1.0, decoded) == math.copysign(1.0, value)


def test_nan_round_trips() -> None:
    """A float NaN and a float32 NaN come back as NaN of the same type."""
    assert math.isnan(_round_trip(math.nan))
    decoded = _round_trip(np.float32("nan"))
    assert type(decoded) is np.float32
    assert np.isnan(decoded)


def test_lists_and_tuples_stay_distinct() -> None:
    """Lists come back as lists and tuples as tuples, at every level."""
    value = [(1, [2, (3,)]), [], ()]
    decoded = _round_trip(value)
    assert decoded == value
    assert type(decoded) is list
    assert type(decoded[0]) is tuple
    assert type(decoded[0][1]) is list
    assert type(decoded[0][1][1]) is tuple
    assert type(decoded[1]) is list
    assert type(decoded[2]) is tuple


def test_dict_keeps_insertion_order() -> None:
    """Dict entries come back in insertion order, not sorted."""
    value = {"zeta": 1, "alpha": 2, "mu": 3}
    assert list(_round_trip(value)) == ["zeta", "alpha", "mu"]


def test_dict_keys_of_any_scalar_type() -> None:
    """Dict keys may be any encodable hashable value and keep their type."""
    value = {
        1: "int",
        "s": "str",
        None: "none",
        (1, "a"): "tuple",
        np.int64(5): "np",
        2.5: "float",
        b"b": "bytes",
    }
    decoded = _round_trip(value)
    assert data_equivalence(decoded, value, exact=True)
    assert [type(key) for key in decoded] == [type(key) for key in value]


def test_ordered_dict_comes_back_as_dict() -> None:
    """An OrderedDict decodes as a plain dict in the same order."""
    decoded = _round_trip(OrderedDict([("b", 1), ("a", 2)]))
    assert type(decoded) is dict
    assert list(decoded.items()) == [("b", 1), ("a", 2)]


def test_subclasses_travel_as_their_base_type() -> None:
    """Named tuples, IntEnum members and str subclasses decode as tuple, int and str."""

    class Color(enum.IntEnum):
        RED = 1

    Point = namedtuple("Point", "x y")
    decoded = _round_trip([Point(1, 2), Color.RED, np.str_("text")])
    assert decoded == [(1, 2), 1, "text"]
    assert [type(item) for item in decoded] == [tuple, int, str]


def test_info_dict_round_trip() -> None:
    """A typical vector-env info dict round-trips exactly."""
    info = {
        "episode": {
            "r": np.array([1.0, 2.0]),
            "l": np.array([10, 20], dtype=np.int32),
            "t": np.array([0.1, 0.2]),
        },
        "_episode": np.array([True, False]),
        "final_obs": [np.zeros(4, dtype=np.float32), None],
        "lives": np.int64(3),
        "TimeLimit.truncated": False,
        "stats": [1, 2.5, "x", (3, b"y")],
    }
    assert data_equivalence(_round_trip(info), info, exact=True)


def test_graph_instance_without_edges() -> None:
    """A GraphInstance whose edges and edge_links are None round-trips."""
    graph = GraphInstance(nodes=np.ones((3, 2), dtype=np.float32), edges=None, edge_links=None)
    decoded = _round_trip(graph)
    assert type(decoded) is GraphInstance
    assert decoded.edges is None
    assert decoded.edge_links is None
    assert data_equivalence(decoded, graph, exact=True)


def test_decoded_arrays_are_writeable() -> None:
    """Arrays inside decoded values are writeable, like a local env's observations."""
    decoded = _round_trip({"obs": np.zeros(3), "frames": [np.zeros((2, 2), dtype=np.uint8)]})
    assert decoded["obs"].flags.writeable
    assert decoded["frames"][0].flags.writeable


def test_encode_fills_given_message_in_place() -> None:
    """A given message (e.g. a response field) is filled and returned."""
    response = pb.StepResponse()
    returned = encode_value(np.arange(4.0), response.observation)
    assert returned is response.observation
    assert response.HasField("observation")
    np.testing.assert_array_equal(decode_value(response.observation), np.arange(4.0))


def test_empty_containers_are_set() -> None:
    """Empty lists, tuples and dicts still set their kind, so they decode."""
    empties: list[Any] = [[], (), {}]
    for value in empties:
        msg = encode_value(value)
        assert msg.WhichOneof("kind") is not None
        assert _round_trip(value) == value


def test_compress_reaches_nested_arrays() -> None:
    """compress=True compresses large arrays nested in containers."""
    frame = np.zeros((COMPRESS_MIN_BYTES, 2), dtype=np.uint8)
    msg = encode_value({"frames": [frame]}, compress=True)
    assert msg.dict_value.entries[0].value.list_value.items[0].array.compression == pb.COMPRESSION_ZSTD
    assert data_equivalence(decode_value(msg), {"frames": [frame]}, exact=True)


# -------------------------------------------------------------- unsupported ----


@pytest.mark.parametrize(
    ("value", "path", "type_name"),
    [
        ({"stats": [1, 2, object()]}, "info['stats'][2]", "object"),
        ({"a": ({"b": {1, 2}},)}, "info['a'][0]['b']", "set"),
        ([np.array(["x"])], "info[0]", "<U1"),
        ({"f": len}, "info['f']", "builtin_function_or_method"),
        (GraphInstance(nodes=np.zeros(1), edges=bytearray(b"x"), edge_links=None), "info.edges", "bytearray"),
        (np.datetime64("2024-01-01"), "info", "datetime64"),
    ],
    ids=["object-in-list", "set-in-tuple", "str-array", "function", "graph-edges", "datetime64"],
)
def test_unsupported_value_names_path_and_type(value: Any, path: str, type_name: str) -> None:
    """Values without a wire form raise UnsupportedValueError naming where they are and their type."""
    with pytest.raises(UnsupportedValueError) as info:
        encode_value(value, path="info")
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert type_name in message


def test_unsupported_dict_key_is_named() -> None:
    """An unencodable dict key is reported as a key."""
    with pytest.raises(UnsupportedValueError, match=r"^info\['a'\]: dict key frozenset"):
        encode_value({"a": {frozenset(): 1}}, path="info")


def test_lone_surrogate_is_unsupported() -> None:
    """A str that is not valid UTF-8 raises UnsupportedValueError."""
    with pytest.raises(UnsupportedValueError, match="UTF-8"):
        encode_value(["\ud800"])


def test_int_too_long_for_decimal_is_unsupported() -> None:
    """An int with more digits than Python will print raises UnsupportedValueError."""
    with pytest.raises(UnsupportedValueError, match="int"):
        encode_value(10**5000)


def _nested_lists(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_up_to_the_limit_round_trips() -> None:
    """MAX_NESTING_DEPTH nested containers encode and decode."""
    value = _nested_lists(MAX_NESTING_DEPTH)
    assert decode_value(encode_value(value)) == value


def test_nesting_beyond_the_limit_raises_on_encode() -> None:
    """One container level more than MAX_NESTING_DEPTH raises UnsupportedValueError."""
    with pytest.raises(UnsupportedValueError, match="nested"):
        encode_value(_nested_lists(MAX_NESTING_DEPTH + 1))


def test_nesting_beyond_the_limit_raises_on_decode() -> None:
    """A hand-built Value nested deeper than MAX_NESTING_DEPTH raises DecodeError."""
    msg = node = pb.Value()
    for _ in range(MAX_NESTING_DEPTH + 1):  # built in place: protobuf would refuse to copy it
        node = node.list_value.items.add()
    node.int_value = 1
    with pytest.raises(DecodeError, match="nested"):
        decode_value(msg)


def test_nesting_at_the_limit_survives_parsing() -> None:
    """A dict nested MAX_NESTING_DEPTH deep inside a Response can be parsed by the peer."""
    value: Any = 1
    for _ in range(MAX_NESTING_DEPTH):
        value = {"a": value}
    response = pb.Response()
    encode_value(value, response.step.info)
    parsed = pb.Response.FromString(response.SerializeToString())
    assert decode_value(parsed.step.info) == value


# ---------------------------------------------------------------- malformed ----


def _array(dtype: int, shape: list[int], data: bytes) -> pb.Array:
    return pb.Array(dtype=dtype, shape=shape, data=data)


MALFORMED: list[pb.Value] = [
    pb.Value(),
    pb.Value(list_value=pb.ValueList(items=[pb.Value(int_value=1), pb.Value()])),
    pb.Value(dict_value=pb.ValueMap(entries=[pb.MapEntry(value=pb.Value(none=True))])),
    pb.Value(big_int_value="12a"),
    pb.Value(big_int_value=" 12"),
    pb.Value(big_int_value="9" * 5000),
    pb.Value(numpy_scalar=_array(pb.DTYPE_INT8, [2], b"\x00\x01")),
    pb.Value(complex_value=_array(pb.DTYPE_FLOAT64, [], b"\x00" * 8)),
    pb.Value(array=_array(pb.DTYPE_FLOAT32, [3], b"\x00" * 8)),
    pb.Value(
        dict_value=pb.ValueMap(
            entries=[
                pb.MapEntry(key=pb.Value(string_value="k"), value=pb.Value(int_value=1)),
                pb.MapEntry(key=pb.Value(string_value="k"), value=pb.Value(int_value=2)),
            ]
        )
    ),
    pb.Value(
        dict_value=pb.ValueMap(
            entries=[pb.MapEntry(key=pb.Value(list_value=pb.ValueList()), value=pb.Value(int_value=1))]
        )
    ),
    pb.Value(graph_value=pb.GraphValue(nodes=pb.Value(none=True))),
]
MALFORMED_IDS = [
    "empty",
    "empty-list-item",
    "empty-dict-key",
    "big-int-not-decimal",
    "big-int-whitespace",
    "big-int-too-long",
    "numpy-scalar-not-0d",
    "complex-wrong-dtype",
    "array-wrong-length",
    "dict-repeated-key",
    "dict-unhashable-key",
    "graph-missing-fields",
]


@pytest.mark.parametrize("msg", MALFORMED, ids=MALFORMED_IDS)
def test_malformed_value_raises_decode_error(msg: pb.Value) -> None:
    """Malformed Value trees raise DecodeError, never another exception."""
    with pytest.raises(DecodeError):
        decode_value(msg)


# --------------------------------------------------------------- properties ----

_finite_floats = st.floats(allow_nan=False)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _finite_floats,
    st.complex_numbers(allow_nan=False),
    st.text(),
    st.binary(),
    st.sampled_from(WIRE_DTYPES).flatmap(lambda dtype: hnp.from_dtype(dtype, allow_nan=False)),
)
_keys = st.one_of(
    st.none(), st.booleans(), st.integers(), _finite_floats, st.text(max_size=8), st.binary(max_size=8)
)
_arrays = st.sampled_from(WIRE_DTYPES).flatmap(
    lambda dtype: hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
        elements=hnp.from_dtype(dtype, allow_nan=False),
    )
)
_graphs = st.builds(
    GraphInstance,
    nodes=_arrays,
    edges=st.none() | _arrays,
    edge_links=st.none() | hnp.arrays(np.int64, st.tuples(st.integers(0, 4), st.just(2))),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_keys, children, max_size=4),
    )


VALUES = st.recursive(st.one_of(_scalars, _arrays, _graphs), _containers, max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_property_round_trip(value: Any) -> None:
    """Any nest of supported Python and numpy values round-trips exactly."""
    assert data_equivalence(_round_trip(value), value, exact=True)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=4), VALUES, max_size=6))
def test_property_dict_order(value: dict[str, Any]) -> None:
    """Any dict comes back with the same key order."""
    assert list(_round_trip(value)) == list(value)


@settings(max_examples=100, deadline=None)
@given(_scalars)
def test_property_scalar_type(value: Any) -> None:
    """Any scalar comes back with exactly its type."""
    assert type(_round_trip(value)) is type(value)
