"""Tests for remote_gym.codec.arrays: numpy arrays <-> Array messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zstandard

from remote_gym._constants import COMPRESS_MIN_BYTES
from remote_gym.codec.arrays import MAX_DECOMPRESSED_BYTES, decode_array, encode_array
from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

DTYPES = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
]
DTYPE_IDS = [np.dtype(dtype).name for dtype in DTYPES]


def _sample(dtype: Any, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """Deterministic values covering the dtype's extremes where it has them."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    if dtype.kind == "b":
        flat = rng.integers(0, 2, size).astype(dtype)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)
        flat[:2] = [info.min, info.max][: min(size, 2)]
    else:
        flat = (rng.standard_normal(size) * 100).astype(dtype)
        if dtype.kind == "c":
            flat = flat + 1j * rng.standard_normal(size).astype(dtype)
    return flat.reshape(shape)


def _round_trip(array: Any, **kwargs: Any) -> np.ndarray[Any, Any]:
    """Encodes, serializes, parses and decodes an array, like a real peer would."""
    msg = pb.Array()
    msg.ParseFromString(encode_array(array, **kwargs).SerializeToString())
    return decode_array(msg)


def _assert_identical(decoded: np.ndarray[Any, Any], original: np.ndarray[Any, Any]) -> None:
    """Same type, dtype, shape and bits."""
    assert type(decoded) is np.ndarray
    assert decoded.dtype == original.dtype
    assert decoded.shape == original.shape
    assert decoded.tobytes() == np.ascontiguousarray(original).tobytes()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_round_trip_every_dtype(dtype: Any) -> None:
    """An array of every wire dtype decodes to the same dtype, shape and values."""
    array = _sample(dtype, (3, 4))
    _assert_identical(_round_trip(array), array)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_round_trip_zero_dimensional(dtype: Any) -> None:
    """A 0-d array stays 0-d."""
    array = _sample(dtype, (1,)).reshape(())
    _assert_identical(_round_trip(array), array)


@pytest.mark.parametrize("shape", [(0,), (2, 0, 3), (0, 0)], ids=str)
def test_round_trip_empty(shape: tuple[int, ...]) -> None:
    """Arrays with a zero-length dimension keep their shape."""
    array = np.zeros(shape, dtype=np.float32)
    _assert_identical(_round_trip(array), array)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(20, dtype=np.int32)[::3],
        lambda: np.arange(12.0).reshape(3, 4).T,
        lambda: np.asfortranarray(np.arange(12, dtype=np.uint16).reshape(3, 4)),
        lambda: np.arange(60, dtype=np.float32).reshape(3, 4, 5)[1:, ::2, ::-1],
    ],
    ids=["strided", "transposed", "fortran", "sliced-reversed"],
)
def test_round_trip_non_contiguous(make: Any) -> None:
    """Non C-contiguous input is sent in C order and decodes equal."""
    array = make()
    assert not array.flags.c_contiguous
    _assert_identical(_round_trip(array), array)


@pytest.mark.parametrize("dtype", ["<i4", "<f8", "<c16", "<u2", "<f2"], ids=str)
def test_round_trip_big_endian(dtype: str) -> None:
    """Big-endian input decodes to native byte order with the same values."""
    little = _sample(dtype, (5,))
    big = little.astype(np.dtype(dtype).newbyteorder(">"))
    decoded = _round_trip(big)
    assert decoded.dtype == np.dtype(dtype)
    assert decoded.dtype.isnative
    np.testing.assert_array_equal(decoded, little)


def test_big_endian_bytes_on_the_wire_are_little_endian() -> None:
    """The wire bytes of a big-endian array are its little-endian bytes."""
    big = np.arange(4, dtype=">i4")
    assert encode_array(big).data == np.arange(4, dtype="<i4").tobytes()


def test_numpy_scalar_encodes_as_zero_dimensional() -> None:
    """A numpy scalar is accepted and encodes as a 0-d array."""
    msg = encode_array(np.float32(1.5))
    assert list(msg.shape) == []
    assert decode_array(msg)[()] == np.float32(1.5)


def test_large_compressible_array_is_compressed() -> None:
    """With compress=True a big compressible array travels as a zstd frame and decodes equal."""
    array = np.zeros((400, 600, 3), dtype=np.uint8)
    array[100:200, 50:300] = 255
    msg = encode_array(array, compress=True)
    assert msg.compression == pb.COMPRESSION_ZSTD
    assert len(msg.data) < array.nbytes // 10
    _assert_identical(decode_array(pb.Array.FromString(msg.SerializeToString())), array)


def test_large_non_contiguous_array_is_compressed() -> None:
    """A non-contiguous big array is compressed in C order."""
    array = np.tile(np.arange(256, dtype=np.uint8), (512, 2))[:, ::2]
    msg = encode_array(array, compress=True)
    assert msg.compression == pb.COMPRESSION_ZSTD
    _assert_identical(decode_array(msg), array)


def test_small_array_is_not_compressed() -> None:
    """Arrays below COMPRESS_MIN_BYTES stay raw even with compress=True."""
    array = np.zeros(COMPRESS_MIN_BYTES // 8 - 1, dtype=np.float64)
    assert encode_array(array, compress=True).compression == pb.COMPRESSION_NONE


def test_incompressible_array_stays_raw() -> None:
    """Compression is dropped when the frame would not be smaller."""
    array = np.random.default_rng(0).integers(0, 256, COMPRESS_MIN_BYTES * 2, dtype=np.uint8)
    msg = encode_array(array, compress=True)
    assert msg.compression == pb.COMPRESSION_NONE
    assert msg.data == array.tobytes()


def test_compression_is_off_by_default() -> None:
    """Without compress=True even a large compressible array is sent raw."""
    array = np.zeros(COMPRESS_MIN_BYTES * 4, dtype=np.uint8)
    assert encode_array(array).compression == pb.COMPRESSION_NONE


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "zstd"])
def test_decoded_array_is_writeable_and_owned(compress: bool) -> None:
    """Decoded arrays are writeable and share memory with neither the input nor the message."""
    array = np.zeros(COMPRESS_MIN_BYTES, dtype=np.float32)
    msg = encode_array(array, compress=compress)
    decoded = decode_array(msg)
    assert decoded.flags.writeable
    decoded[0] = 1.0
    assert array[0] == 0.0
    assert decode_array(msg)[0] == 0.0


def test_encode_fills_given_message_in_place() -> None:
    """A given message is filled and returned, e.g. a Value's array field."""
    value = pb.Value()
    returned = encode_array(np.arange(3, dtype=np.int16), value.array)
    assert returned is value.array
    assert value.WhichOneof("kind") == "array"
    np.testing.assert_array_equal(decode_array(value.array), np.arange(3, dtype=np.int16))


def test_encode_overwrites_reused_message() -> None:
    """Reusing a message replaces its shape, data, dtype and compression."""
    msg = encode_array(np.zeros((COMPRESS_MIN_BYTES, 2), dtype=np.uint8), compress=True)
    encode_array(np.arange(3, dtype=np.int64), msg)
    _assert_identical(decode_array(msg), np.arange(3, dtype=np.int64))


@pytest.mark.parametrize(
    "array",
    [np.array(["a", "b"]), np.array([object()]), np.array([1], dtype="datetime64[s]")],
    ids=["str", "object", "datetime"],
)
def test_encode_unsupported_dtype_raises(array: np.ndarray[Any, Any]) -> None:
    """Arrays whose dtype has no wire form raise UnsupportedValueError."""
    with pytest.raises(UnsupportedValueError):
        encode_array(array)


# ------------------------------------------------------------ malformed ----


def _msg(**fields: Any) -> pb.Array:
    """A hand-built Array message."""
    return pb.Array(**fields)


def test_decode_wrong_byte_length_raises() -> None:
    """Data shorter or longer than shape * itemsize is refused."""
    with pytest.raises(DecodeError, match="bytes"):
        decode_array(_msg(dtype=pb.DTYPE_FLOAT32, shape=[4], data=b"\x00" * 15))
    with pytest.raises(DecodeError, match="bytes"):
        decode_array(_msg(dtype=pb.DTYPE_FLOAT32, shape=[4], data=b"\x00" * 17))


def test_decode_negative_dimension_raises() -> None:
    """A negative dimension is refused even when the byte count would match."""
    with pytest.raises(DecodeError, match="negative"):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[-2, -2], data=b"\x00" * 4))


def test_decode_unspecified_dtype_raises() -> None:
    """DTYPE_UNSPECIFIED is refused."""
    with pytest.raises(DecodeError, match="dtype"):
        decode_array(_msg(shape=[1], data=b"\x00"))


def test_decode_unknown_compression_raises() -> None:
    """An unknown compression value is refused."""
    with pytest.raises(DecodeError, match="compression"):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[1], data=b"\x00", compression=7))


def test_decode_too_many_dimensions_raises() -> None:
    """More dimensions than numpy supports is a DecodeError, not a numpy ValueError."""
    with pytest.raises(DecodeError):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[1] * 100, data=b"\x00"))


def test_decode_bool_bytes_other_than_zero_or_one_raise() -> None:
    """A bool array must hold only 0 and 1 bytes."""
    with pytest.raises(DecodeError, match="bool"):
        decode_array(_msg(dtype=pb.DTYPE_BOOL, shape=[2], data=b"\x01\x02"))


def _zstd_zeros(size: int, *, write_content_size: bool = True) -> bytes:
    """A zstd frame of `size` zero bytes, built in chunks so no big buffer is allocated."""
    compressor = zstandard.ZstdCompressor(write_content_size=write_content_size)
    chunks = []
    obj = compressor.compressobj(size=size if write_content_size else -1)
    chunk = bytes(1 << 20)
    remaining = size
    while remaining:
        piece = chunk[: min(remaining, len(chunk))]
        chunks.append(obj.compress(piece))
        remaining -= len(piece)
    chunks.append(obj.flush())
    return b"".join(chunks)


def test_decode_zstd_bomb_raises() -> None:
    """A small frame declaring far more content than the shape needs is refused before decompressing."""
    bomb = _zstd_zeros(256 << 20)
    assert len(bomb) < 64 << 10
    with pytest.raises(DecodeError, match="declares"):
        decode_array(_msg(dtype=pb.DTYPE_FLOAT32, shape=[4], data=bomb, compression=pb.COMPRESSION_ZSTD))


def test_decode_zstd_bomb_with_matching_shape_raises() -> None:
    """A frame expanding beyond MAX_DECOMPRESSED_BYTES is refused even if the shape agrees."""
    size = MAX_DECOMPRESSED_BYTES + 1
    msg = _msg(dtype=pb.DTYPE_UINT8, shape=[size], data=_zstd_zeros(size), compression=pb.COMPRESSION_ZSTD)
    with pytest.raises(DecodeError, match="expands"):
        decode_array(msg)


def test_decode_zstd_without_content_size_raises() -> None:
    """A frame that does not declare its content size is refused."""
    frame = _zstd_zeros(16, write_content_size=False)
    with pytest.raises(DecodeError, match="content size"):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[16], data=frame, compression=pb.COMPRESSION_ZSTD))


def test_decode_zstd_smaller_than_declared_raises() -> None:
    """A frame declaring fewer bytes than the shape needs is refused."""
    frame = zstandard.ZstdCompressor().compress(bytes(8))
    with pytest.raises(DecodeError, match="declares"):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[16], data=frame, compression=pb.COMPRESSION_ZSTD))


@pytest.mark.parametrize(
    "data",
    [
        b"not a zstd frame at all",
        zstandard.ZstdCompressor().compress(bytes(range(256)) * 4)[:-6],
        zstandard.ZstdCompressor().compress(bytes(1024)) * 2,
        zstandard.ZstdCompressor().compress(bytes(1024)) + b"trailing",
    ],
    ids=["garbage", "truncated", "two-frames", "trailing-bytes"],
)
def test_decode_corrupt_zstd_raises(data: bytes) -> None:
    """Garbage, truncated frames and data after the frame are refused."""
    with pytest.raises(DecodeError):
        decode_array(_msg(dtype=pb.DTYPE_UINT8, shape=[1024], data=data, compression=pb.COMPRESSION_ZSTD))
