"""Tests for remote_gym.codec.dtypes: the numpy dtype <-> wire DType table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from remote_gym.codec.dtypes import decode_dtype, encode_dtype
from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

TABLE: list[tuple[Any, int]] = [
    (np.bool_, pb.DTYPE_BOOL),
    (np.int8, pb.DTYPE_INT8),
    (np.int16, pb.DTYPE_INT16),
    (np.int32, pb.DTYPE_INT32),
    (np.int64, pb.DTYPE_INT64),
    (np.uint8, pb.DTYPE_UINT8),
    (np.uint16, pb.DTYPE_UINT16),
    (np.uint32, pb.DTYPE_UINT32),
    (np.uint64, pb.DTYPE_UINT64),
    (np.float16, pb.DTYPE_FLOAT16),
    (np.float32, pb.DTYPE_FLOAT32),
    (np.float64, pb.DTYPE_FLOAT64),
    (np.complex64, pb.DTYPE_COMPLEX64),
    (np.complex128, pb.DTYPE_COMPLEX128),
]
TABLE_IDS = [np.dtype(dtype).name for dtype, _ in TABLE]


@pytest.mark.parametrize(("dtype", "wire"), TABLE, ids=TABLE_IDS)
def test_encode_dtype(dtype: Any, wire: int) -> None:
    """Each supported numpy dtype maps to its wire value."""
    assert encode_dtype(np.dtype(dtype)) == wire


@pytest.mark.parametrize(("dtype", "wire"), TABLE, ids=TABLE_IDS)
def test_encode_dtype_accepts_dtype_likes(dtype: Any, wire: int) -> None:
    """Scalar types and dtype names are accepted as well as np.dtype objects."""
    assert encode_dtype(dtype) == wire
    assert encode_dtype(np.dtype(dtype).name) == wire


@pytest.mark.parametrize(("dtype", "wire"), TABLE, ids=TABLE_IDS)
def test_decode_dtype(dtype: Any, wire: int) -> None:
    """Each wire value decodes to the native numpy dtype."""
    decoded = decode_dtype(wire)
    assert decoded == np.dtype(dtype)
    assert decoded.isnative


@pytest.mark.parametrize(("dtype", "wire"), TABLE, ids=TABLE_IDS)
def test_big_endian_maps_to_same_wire_dtype(dtype: Any, wire: int) -> None:
    """A big-endian dtype has the same wire value as its little-endian twin."""
    assert encode_dtype(np.dtype(dtype).newbyteorder(">")) == wire


def test_table_covers_every_wire_value() -> None:
    """Every DType enum value except UNSPECIFIED is in the table."""
    names = set(pb.DType.keys()) - {"DTYPE_UNSPECIFIED"}
    assert {pb.DType.Name(wire) for _, wire in TABLE} == names


@pytest.mark.parametrize(
    "dtype",
    [
        np.dtype(object),
        np.dtype("U5"),
        np.dtype("S3"),
        np.dtype("datetime64[s]"),
        np.dtype("timedelta64[ms]"),
        np.dtype([("x", np.float32), ("y", np.int8)]),
        np.dtype((np.float32, (2,))),
        np.dtype(np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.dtype("V4"),
    ],
    ids=["object", "str", "bytes", "datetime", "timedelta", "structured", "subarray", "longdouble"],
)
def test_encode_unsupported_dtype_raises(dtype: np.dtype[Any]) -> None:
    """Dtypes without a wire form raise UnsupportedValueError naming the dtype."""
    with pytest.raises(UnsupportedValueError, match="dtype"):
        encode_dtype(dtype)


def test_encode_non_dtype_raises() -> None:
    """Something numpy cannot read as a dtype raises UnsupportedValueError."""
    with pytest.raises(UnsupportedValueError, match="not a numpy dtype"):
        encode_dtype("no-such-dtype")


@pytest.mark.parametrize("wire", [pb.DTYPE_UNSPECIFIED, 99, -1], ids=["unspecified", "unknown", "negative"])
def test_decode_unknown_dtype_raises(wire: int) -> None:
    """Unspecified or unknown wire values raise DecodeError."""
    with pytest.raises(DecodeError):
        decode_dtype(wire)
