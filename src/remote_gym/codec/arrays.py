"""Encode and decode numpy arrays as remote_gym.v1.Array messages."""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
import zstandard

from remote_gym._constants import COMPRESS_MIN_BYTES, MAX_MESSAGE_BYTES, ZSTD_LEVEL
from remote_gym.codec.dtypes import DTYPE_BY_WIRE, WIRE_BY_DTYPE, encode_dtype
from remote_gym.errors import DecodeError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

MAX_DECOMPRESSED_BYTES = MAX_MESSAGE_BYTES
"""Largest array a zstd frame may expand to; anything bigger could not have been sent raw either."""

_NONE = pb.COMPRESSION_NONE
_ZSTD = pb.COMPRESSION_ZSTD
_BOOL = pb.DTYPE_BOOL
_LITTLE_ENDIAN_HOST = sys.byteorder == "little"

# zstandard's (de)compressor objects must not be used by two threads at once, and creating one per
# call allocates a context, so each thread lazily gets its own pair.
_contexts = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    try:
        compressor: zstandard.ZstdCompressor = _contexts.compressor
    except AttributeError:
        compressor = _contexts.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    try:
        decompressor: zstandard.ZstdDecompressor = _contexts.decompressor
    except AttributeError:
        decompressor = _contexts.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def encode_array(
    array: npt.NDArray[Any] | np.generic, msg: pb.Array | None = None, *, compress: bool = False
) -> pb.Array:
    """Encodes a numpy array (or numpy scalar) as raw little-endian C-order bytes.

    Args:
        array: The array. Non-contiguous and big-endian arrays are converted; numpy scalars encode
            as 0-d arrays.
        msg: A message to fill in place (e.g. ``value_msg.array``); a new one when ``None``. Every
            field is overwritten.
        compress: Compress with zstd when the array is at least ``COMPRESS_MIN_BYTES`` large and
            the frame comes out smaller than the raw bytes.

    Returns:
        ``msg``, or the new message.

    Raises:
        UnsupportedValueError: If the dtype has no wire form (object, str, datetime...).
    """
    if msg is None:
        msg = pb.Array()
    dtype = array.dtype
    wire = WIRE_BY_DTYPE.get(dtype)
    if wire is None:
        wire = encode_dtype(dtype)  # raises for dtypes without a wire form
        array = array.astype(dtype.newbyteorder("<"))
    msg.dtype = wire
    shape = msg.shape
    if shape:
        del shape[:]
    if array.shape:
        shape.extend(array.shape)
    if compress and array.nbytes >= COMPRESS_MIN_BYTES:
        contiguous = np.ascontiguousarray(array)
        frame = _compressor().compress(contiguous.data)
        if len(frame) < contiguous.nbytes:
            msg.data = frame
            msg.compression = _ZSTD
            return msg
        msg.data = contiguous.tobytes()
    else:
        msg.data = array.tobytes()
    msg.compression = _NONE
    return msg


def decode_array(msg: pb.Array) -> npt.NDArray[Any]:
    """Decodes an ``Array`` message into a new, writeable, native-endian numpy array.

    Sizes are checked before anything is allocated or decompressed.

    Args:
        msg: The message.

    Returns:
        The array (0-d when the shape is empty).

    Raises:
        DecodeError: If the dtype is unknown, a dimension is negative, the byte length does not
            match shape and dtype, the compression is unknown, the zstd frame does not declare
            exactly the expected size (or is larger than ``MAX_DECOMPRESSED_BYTES``) or is corrupt,
            or a bool array holds bytes other than 0 and 1.
    """
    wire = msg.dtype
    dtype = DTYPE_BY_WIRE.get(wire)
    if dtype is None:
        raise DecodeError(f"Array has an unknown or unspecified dtype: {wire!r}")
    shape = tuple(msg.shape)
    size = 1
    for dim in shape:
        if dim < 0:
            raise DecodeError(f"Array has a negative dimension: shape {shape}")
        size *= dim
    nbytes = size * dtype.itemsize
    data = msg.data
    compression = msg.compression
    if compression == _NONE:
        if len(data) != nbytes:
            raise DecodeError(
                f"Array data has {len(data)} bytes, but shape {shape} of {dtype} needs {nbytes}"
            )
        try:
            array = np.frombuffer(bytearray(data), dtype).reshape(shape)
        except ValueError as exc:  # e.g. more dimensions than numpy supports
            raise DecodeError(f"Array of shape {shape} cannot be built: {exc}") from exc
    elif compression == _ZSTD:
        array = _decompress(data, dtype, shape, nbytes)
    else:
        raise DecodeError(f"Array has an unknown compression: {compression!r}")
    if wire == _BOOL and size and array.view(np.uint8).max() > 1:
        raise DecodeError("bool Array holds bytes other than 0 and 1")
    if not _LITTLE_ENDIAN_HOST:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _decompress(data: bytes, dtype: np.dtype[Any], shape: tuple[int, ...], nbytes: int) -> npt.NDArray[Any]:
    """Decompresses a zstd frame straight into a new array, refusing frames of the wrong size."""
    try:
        declared = zstandard.frame_content_size(data)
    except zstandard.ZstdError as exc:
        raise DecodeError(f"Array data is not a zstd frame: {exc}") from exc
    if declared < 0:
        raise DecodeError("Array zstd frame does not declare its content size")
    if declared != nbytes:
        raise DecodeError(
            f"Array zstd frame declares {declared} bytes, but shape {shape} of {dtype} needs {nbytes}"
        )
    if nbytes > MAX_DECOMPRESSED_BYTES:
        raise DecodeError(f"Array zstd frame expands to {nbytes} bytes, more than {MAX_DECOMPRESSED_BYTES}")
    try:
        array = np.empty(shape, dtype)
    except ValueError as exc:
        raise DecodeError(f"Array of shape {shape} cannot be built: {exc}") from exc
    buffer = array.reshape(-1).view(np.uint8).data
    filled = 0
    try:
        with _decompressor().stream_reader(data) as reader:
            while filled < nbytes:
                count = reader.readinto(buffer[filled:])
                if not count:
                    break
                filled += count
            trailing = reader.read(1)
    except zstandard.ZstdError as exc:
        raise DecodeError(f"Array zstd frame is corrupt: {exc}") from exc
    if filled != nbytes:
        raise DecodeError(f"Array zstd frame holds {filled} bytes, expected {nbytes}")
    if trailing:
        raise DecodeError("Array zstd data continues after the frame")
    return array
