"""Map numpy dtypes to remote_gym.v1.DType wire values."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

# The one table both directions are built from. Keys are little-endian, the byte order on the wire
# (one-byte types have no byte order; numpy spells them "|").
_TABLE: tuple[tuple[np.dtype[Any], pb.DType], ...] = (
    (np.dtype("|b1"), pb.DTYPE_BOOL),
    (np.dtype("|i1"), pb.DTYPE_INT8),
    (np.dtype("<i2"), pb.DTYPE_INT16),
    (np.dtype("<i4"), pb.DTYPE_INT32),
    (np.dtype("<i8"), pb.DTYPE_INT64),
    (np.dtype("|u1"), pb.DTYPE_UINT8),
    (np.dtype("<u2"), pb.DTYPE_UINT16),
    (np.dtype("<u4"), pb.DTYPE_UINT32),
    (np.dtype("<u8"), pb.DTYPE_UINT64),
    (np.dtype("<f2"), pb.DTYPE_FLOAT16),
    (np.dtype("<f4"), pb.DTYPE_FLOAT32),
    (np.dtype("<f8"), pb.DTYPE_FLOAT64),
    (np.dtype("<c8"), pb.DTYPE_COMPLEX64),
    (np.dtype("<c16"), pb.DTYPE_COMPLEX128),
)

WIRE_BY_DTYPE: Mapping[np.dtype[Any], pb.DType] = MappingProxyType(dict(_TABLE))
"""Little-endian numpy dtype -> wire DType. On little-endian hosts the keys equal the native dtypes."""

DTYPE_BY_WIRE: Mapping[int, np.dtype[Any]] = MappingProxyType({wire: dtype for dtype, wire in _TABLE})
"""Wire DType -> little-endian numpy dtype (the layout of ``Array.data``)."""

NATIVE_BY_WIRE: Mapping[int, np.dtype[Any]] = MappingProxyType(
    {wire: dtype.newbyteorder("=") for dtype, wire in _TABLE}
)
"""Wire DType -> native-endian numpy dtype (what decoded arrays and spaces use)."""


def encode_dtype(dtype: Any) -> pb.DType:
    """Returns the wire ``DType`` of a numpy dtype.

    Big-endian dtypes map to the same wire value as their little-endian twins; the array codec
    converts the data.

    Args:
        dtype: Anything :func:`numpy.dtype` accepts (``np.float32``, ``"int8"``, ``np.dtype(">f8")``).

    Returns:
        A ``remote_gym.v1.DType`` value.

    Raises:
        UnsupportedValueError: If the dtype has no wire form (object, str, datetime, structured...).
    """
    if not isinstance(dtype, np.dtype):
        try:
            dtype = np.dtype(dtype)
        except (TypeError, ValueError) as exc:
            raise UnsupportedValueError(f"not a numpy dtype: {dtype!r}") from exc
    wire = WIRE_BY_DTYPE.get(dtype)
    if wire is None:
        wire = WIRE_BY_DTYPE.get(dtype.newbyteorder("<"))
        if wire is None:
            raise UnsupportedValueError(f"dtype {dtype} has no wire form")
    return wire


def decode_dtype(wire: int) -> np.dtype[Any]:
    """Returns the native-endian numpy dtype of a wire ``DType``.

    Args:
        wire: A ``remote_gym.v1.DType`` value.

    Returns:
        The numpy dtype.

    Raises:
        DecodeError: If ``wire`` is ``DTYPE_UNSPECIFIED`` or not a known value.
    """
    dtype = NATIVE_BY_WIRE.get(wire)
    if dtype is None:
        raise DecodeError(f"unknown or unspecified dtype: {wire!r}")
    return dtype
