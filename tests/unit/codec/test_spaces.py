"""Tests for remote_gym.codec.spaces: Gymnasium spaces <-> Space messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
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
from gymnasium.vector.utils import batch_space

from remote_gym._constants import MAX_NESTING_DEPTH
from remote_gym.codec.arrays import encode_array
from remote_gym.codec.spaces import decode_space, encode_space
from remote_gym.errors import DecodeError, UnsupportedSpaceError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from tests.spaces import DISCRETE_HAS_DTYPE, SPACE_IDS, SPACES


def _round_trip(space: Space[Any]) -> Space[Any]:
    """Encodes, serializes, parses and decodes a space, like a real peer would."""
    msg = pb.Space()
    msg.ParseFromString(encode_space(space).SerializeToString())
    return decode_space(msg)


def _children(space: Space[Any]) -> list[Space[Any]]:
    """The direct sub-spaces of a composite space."""
    if isinstance(space, (Tuple, OneOf)):
        return list(space.spaces)
    if isinstance(space, Dict):
        return list(space.spaces.values())
    if isinstance(space, Sequence):
        return [space.feature_space]
    if isinstance(space, Graph):
        children: list[Space[Any]] = [space.node_space]
        return children if space.edge_space is None else [*children, space.edge_space]
    return []


def _assert_same_structure(decoded: Space[Any], original: Space[Any]) -> None:
    """Same type, dtype, shape and key order, recursively."""
    assert type(decoded) is type(original)
    assert decoded.dtype == original.dtype
    assert decoded.shape == original.shape
    if isinstance(original, Dict):
        assert isinstance(decoded, Dict)
        assert list(decoded.spaces) == list(original.spaces)
    for decoded_child, original_child in zip(_children(decoded), _children(original), strict=True):
        _assert_same_structure(decoded_child, original_child)


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_space_round_trip(space: Space[Any]) -> None:
    """A space decodes to an equal space after encoding."""
    assert _round_trip(space) == space


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_space_round_trip_keeps_type_dtype_shape(space: Space[Any]) -> None:
    """Every node of a decoded space has the original's type, dtype, shape and key order."""
    _assert_same_structure(_round_trip(space), space)


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_original_contains_decoded_samples(space: Space[Any]) -> None:
    """Samples of the decoded space belong to the original space."""
    decoded = _round_trip(space)
    decoded.seed(1)
    assert space.contains(decoded.sample())


def test_box_bounds_are_exact() -> None:
    """Per-element Box bounds, including infinities, survive bit for bit."""
    space = Box(low=np.array([-np.inf, -1.5, 0.0]), high=np.array([np.inf, 2.25, 1e300]), dtype=np.float64)
    decoded = _round_trip(space)
    assert isinstance(decoded, Box)
    np.testing.assert_array_equal(decoded.low, space.low)
    np.testing.assert_array_equal(decoded.high, space.high)
    assert decoded.is_bounded("below") is False


def test_multi_binary_n_keeps_its_type() -> None:
    """MultiBinary(5).n stays an int and MultiBinary((2, 3)).n stays a tuple."""
    flat = _round_trip(MultiBinary(5))
    shaped = _round_trip(MultiBinary((2, 3)))
    assert isinstance(flat, MultiBinary)
    assert isinstance(shaped, MultiBinary)
    assert type(flat.n) is int
    assert flat.n == 5
    assert shaped.n == (2, 3)


def test_text_charset_order_is_kept() -> None:
    """A Text space keeps the order of its character list."""
    space = Text(max_length=4, charset="zyxa")
    decoded = _round_trip(space)
    assert isinstance(decoded, Text)
    assert decoded.character_list == ("z", "y", "x", "a")
    assert (decoded.min_length, decoded.max_length) == (1, 4)


@pytest.mark.skipif(not DISCRETE_HAS_DTYPE, reason="installed Gymnasium's Discrete has no dtype")
def test_discrete_keeps_dtype_and_start() -> None:
    """A Discrete space keeps n, start and dtype, and samples of that dtype."""
    decoded = _round_trip(Discrete(9, start=-4, dtype=np.int16))
    assert isinstance(decoded, Discrete)
    assert (decoded.n, decoded.start, decoded.dtype) == (9, -4, np.dtype(np.int16))
    assert type(decoded.sample()) is np.int16


def test_multi_discrete_keeps_nvec_start_and_dtype() -> None:
    """MultiDiscrete nvec, start and dtype survive."""
    space = MultiDiscrete(np.array([[3, 4], [5, 6]]), dtype=np.int32, start=np.array([[0, -1], [2, 3]]))
    decoded = _round_trip(space)
    assert isinstance(decoded, MultiDiscrete)
    np.testing.assert_array_equal(decoded.nvec, space.nvec)
    np.testing.assert_array_equal(decoded.start, space.start)
    assert decoded.dtype == np.int32


def test_unsorted_dict_batches_like_the_original() -> None:
    """A Dict built with sort_keys=False keeps its order when batched (batch_space rebuilds it)."""
    space = Dict({"zeta": Discrete(2), "alpha": Discrete(3)}, sort_keys=False)
    decoded = _round_trip(space)
    batched, batched_original = batch_space(decoded, 2), batch_space(space, 2)
    assert isinstance(batched, Dict)
    assert isinstance(batched_original, Dict)
    assert list(batched.spaces) == list(batched_original.spaces) == ["zeta", "alpha"]


def test_graph_without_edges_keeps_none() -> None:
    """A Graph without an edge space decodes with edge_space None."""
    decoded = _round_trip(Graph(node_space=Box(low=0.0, high=1.0, shape=(2,)), edge_space=None))
    assert isinstance(decoded, Graph)
    assert decoded.edge_space is None


def test_box_subclass_encodes_as_box() -> None:
    """A subclass of a built-in space travels as its built-in base class."""

    class MyBox(Box):
        pass

    decoded = _round_trip(MyBox(low=0.0, high=1.0, shape=(2,)))
    assert type(decoded) is Box


@pytest.mark.parametrize(
    "space",
    [
        Dict({1: Discrete(2)}),  # type: ignore[dict-item]
        Box(low=0.0, high=1.0, shape=(2,), dtype=np.longdouble),
    ],
    ids=["int-dict-key", "longdouble-box"],
)
def test_unsupported_space_raises(space: Space[Any]) -> None:
    """Spaces without a wire form raise UnsupportedSpaceError, also when nested."""
    if isinstance(space, Box) and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(UnsupportedSpaceError):
        encode_space(space)


def test_non_space_raises() -> None:
    """Something that is not a space raises UnsupportedSpaceError."""
    with pytest.raises(UnsupportedSpaceError, match="int"):
        encode_space(3)


def _nested_tuples(levels: int) -> Space[Any]:
    space: Space[Any] = Discrete(2)
    for _ in range(levels):
        space = Tuple((space,))
    return space


def test_nesting_up_to_the_limit_round_trips() -> None:
    """MAX_NESTING_DEPTH nested composite spaces encode and decode."""
    space = _nested_tuples(MAX_NESTING_DEPTH)
    assert decode_space(encode_space(space)) == space


def test_nesting_beyond_the_limit_raises_on_encode() -> None:
    """One composite level more than MAX_NESTING_DEPTH raises UnsupportedSpaceError."""
    with pytest.raises(UnsupportedSpaceError, match="nested"):
        encode_space(_nested_tuples(MAX_NESTING_DEPTH + 1))


def test_nesting_beyond_the_limit_raises_on_decode() -> None:
    """A hand-built message nested deeper than MAX_NESTING_DEPTH raises DecodeError."""
    msg = node = pb.Space()
    for _ in range(MAX_NESTING_DEPTH + 1):  # built in place: protobuf would refuse to copy it
        node = node.tuple.spaces.add()
    node.discrete.n = 2
    node.discrete.dtype = pb.DTYPE_INT64
    with pytest.raises(DecodeError, match="nested"):
        decode_space(msg)


def test_nesting_at_the_limit_survives_parsing() -> None:
    """A Dict space nested MAX_NESTING_DEPTH deep inside a Response can be parsed by the peer."""
    space: Space[Any] = Discrete(2)
    for _ in range(MAX_NESTING_DEPTH):
        space = Dict({"a": space})
    response = pb.Response()
    response.make.observation_space.CopyFrom(encode_space(space))
    parsed = pb.Response.FromString(response.SerializeToString())
    assert decode_space(parsed.make.observation_space) == space


def _box_msg(low: Any, high: Any, dtype: int = pb.DTYPE_FLOAT32, shape: tuple[int, ...] = (2,)) -> pb.Space:
    """A hand-built Box message."""
    return pb.Space(box=pb.BoxSpace(dtype=dtype, shape=shape, low=encode_array(low), high=encode_array(high)))


MALFORMED: list[pb.Space] = [
    pb.Space(),
    pb.Space(tuple=pb.TupleSpace(spaces=[pb.Space()])),
    _box_msg(np.zeros(2, np.float64), np.ones(2, np.float64)),
    _box_msg(np.zeros(3, np.float32), np.ones(3, np.float32)),
    _box_msg(np.ones(2, np.float32), np.zeros(2, np.float32)),
    _box_msg(np.zeros(2, np.complex64), np.ones(2, np.complex64), dtype=pb.DTYPE_COMPLEX64),
    pb.Space(box=pb.BoxSpace(dtype=pb.DTYPE_FLOAT32, shape=[2])),
    pb.Space(discrete=pb.DiscreteSpace(n=0, dtype=pb.DTYPE_INT64)),
    pb.Space(discrete=pb.DiscreteSpace(n=3, dtype=pb.DTYPE_FLOAT32)),
    pb.Space(discrete=pb.DiscreteSpace(n=300, dtype=pb.DTYPE_INT8)),
    pb.Space(
        multi_discrete=pb.MultiDiscreteSpace(
            nvec=encode_array(np.array([2, 3])), start=encode_array(np.array([0])), dtype=pb.DTYPE_INT64
        )
    ),
    pb.Space(multi_binary=pb.MultiBinarySpace(shape=[2, 3], n_is_int=True)),
    pb.Space(text=pb.TextSpace(min_length=5, max_length=2)),
    pb.Space(dict=pb.DictSpace(entries=[pb.DictEntry(key="a", space=_box_msg(np.zeros(2), np.ones(2)))])),
    pb.Space(
        dict=pb.DictSpace(
            entries=[
                pb.DictEntry(key="a", space=pb.Space(multi_binary=pb.MultiBinarySpace(shape=[1]))),
                pb.DictEntry(key="a", space=pb.Space(multi_binary=pb.MultiBinarySpace(shape=[2]))),
            ]
        )
    ),
    pb.Space(sequence=pb.SequenceSpace(stack=True)),
    pb.Space(graph=pb.GraphSpace()),
    pb.Space(one_of=pb.OneOfSpace()),
]
MALFORMED_IDS = [
    "empty",
    "empty-child",
    "box-bounds-wrong-dtype",
    "box-bounds-wrong-shape",
    "box-low-above-high",
    "box-complex",
    "box-no-bounds",
    "discrete-zero-n",
    "discrete-float-dtype",
    "discrete-n-overflows-dtype",
    "multi-discrete-start-shape",
    "multi-binary-int-2d",
    "text-min-above-max",
    "dict-bad-child",
    "dict-repeated-key",
    "sequence-no-feature-space",
    "graph-no-node-space",
    "one-of-empty",
]


@pytest.mark.parametrize("msg", MALFORMED, ids=MALFORMED_IDS)
def test_malformed_space_raises_decode_error(msg: pb.Space) -> None:
    """Malformed or inconsistent Space messages raise DecodeError, never another exception."""
    if not DISCRETE_HAS_DTYPE and msg.WhichOneof("kind") == "discrete" and msg.discrete.n:
        pytest.skip("installed Gymnasium's Discrete ignores dtype")
    with pytest.raises(DecodeError):
        decode_space(msg)
