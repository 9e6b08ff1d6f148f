"""Every space shape the codec must carry, as shared parametrization data (SPACES, SPACE_IDS)."""

from __future__ import annotations

import inspect
import string
from collections import OrderedDict
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

DISCRETE_HAS_DTYPE = "dtype" in inspect.signature(Discrete.__init__).parameters
"""Whether the installed Gymnasium lets Discrete choose its dtype (added during 1.x)."""

_INT_DTYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)


def _box_full_range(dtype: Any) -> Box:
    """A Box spanning the whole range of an integer dtype."""
    info = np.iinfo(dtype)
    return Box(low=int(info.min), high=int(info.max), shape=(2, 3), dtype=dtype)


def _discrete_with_dtype() -> list[Space[Any]]:
    if not DISCRETE_HAS_DTYPE:
        return []
    return [Discrete(7, start=3, dtype=np.int32), Discrete(200, start=10, dtype=np.uint8)]


FUNDAMENTAL_SPACES: list[Space[Any]] = [
    # Box: every dtype, scalar and per-element bounds, infinities, 0-d and empty shapes.
    Box(low=0.0, high=1.0, shape=(3,)),
    Box(low=-np.inf, high=np.inf, shape=(2, 2), dtype=np.float64),
    Box(low=-np.inf, high=0.0, shape=(2,), dtype=np.float32),
    Box(low=-1.0, high=1.0, shape=(4,), dtype=np.float16),
    Box(
        low=np.array([-1.0, -np.inf, 0.0], dtype=np.float32),
        high=np.array([1.0, 2.0, np.inf], dtype=np.float32),
        dtype=np.float32,
    ),
    Box(low=np.arange(6.0).reshape(2, 3), high=np.arange(6.0).reshape(2, 3) + 10.0, dtype=np.float64),
    *[_box_full_range(dtype) for dtype in _INT_DTYPES],
    Box(low=0, high=255, shape=(8, 8, 3), dtype=np.uint8),
    Box(low=-np.inf, high=np.inf, shape=(3,), dtype=np.int64),
    Box(low=0, high=1, shape=(5,), dtype=np.bool_),
    Box(low=np.array([False, True]), high=np.array([True, True]), dtype=np.bool_),
    Box(low=-2.0, high=2.0, shape=(), dtype=np.float32),
    Box(low=0.0, high=1.0, shape=(0,), dtype=np.float32),
    # Discrete: start offsets and dtypes.
    Discrete(3),
    Discrete(3, start=-1),
    Discrete(1),
    *_discrete_with_dtype(),
    # MultiDiscrete: vector and matrix nvec, start, dtype.
    MultiDiscrete([2, 3, 4]),
    MultiDiscrete(np.array([[2, 3], [4, 5]]), start=np.array([[-1, 0], [5, -10]])),
    MultiDiscrete([5, 5], dtype=np.int32),
    # MultiBinary: an int n stays an int, a shape stays a tuple.
    MultiBinary(5),
    MultiBinary(1),
    MultiBinary((2, 3)),
    MultiBinary([4]),
    # Text: default, custom ordered charset, set charset, empty strings allowed.
    Text(5),
    Text(min_length=0, max_length=8, charset="zyx \u00e9\u4e2d"),
    Text(max_length=3, min_length=2, charset=frozenset("cab")),
    Text(max_length=4, charset=string.digits),
]

COMPOSITE_SPACES: list[Space[Any]] = [
    Tuple((Discrete(2), Box(low=0.0, high=1.0, shape=(2,)))),
    Tuple(()),
    Tuple((Tuple((Discrete(3),)), MultiBinary(2), Text(3))),
    Dict({"position": Box(low=-1.0, high=1.0, shape=(2,)), "button": Discrete(2)}),
    Dict(OrderedDict([("zeta", Discrete(4)), ("alpha", MultiBinary(3))])),
    Dict({"outer": Dict({"inner": Box(low=0, high=9, shape=(2,), dtype=np.int16)}), "flag": MultiBinary(1)}),
    Dict({}),
    Sequence(Discrete(3)),
    Sequence(Box(low=0.0, high=1.0, shape=(2,)), stack=True),
    Sequence(Tuple((Dict({"a": Discrete(2), "b": Box(low=-1.0, high=1.0, shape=(1,))}), Discrete(5)))),
    Sequence(Dict({"x": Box(low=0.0, high=1.0, shape=(3,))}), stack=True),
    Graph(node_space=Box(low=-1.0, high=1.0, shape=(3,)), edge_space=Discrete(4)),
    Graph(node_space=Discrete(5), edge_space=None),
    Graph(node_space=Box(low=0.0, high=1.0, shape=(2,)), edge_space=Box(low=0.0, high=1.0, shape=(1,))),
    OneOf((Box(low=0.0, high=1.0, shape=(2,)), Discrete(3))),
    OneOf((Dict({"k": Discrete(2)}), Tuple((MultiDiscrete([2, 2]),)))),
    Tuple(
        (
            Dict({"seq": Sequence(OneOf((Discrete(2), Text(2))))}),
            Graph(node_space=Discrete(2), edge_space=None),
        )
    ),
]

SPACES: list[Space[Any]] = FUNDAMENTAL_SPACES + COMPOSITE_SPACES
"""Every space the codec must round-trip."""

SPACE_IDS: list[str] = [" ".join(f"{space}".split()) for space in SPACES]
"""Readable pytest ids for SPACES."""
