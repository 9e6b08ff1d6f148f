"""Protobuf <-> Python codec for arrays, dtypes, spaces and values (no gRPC in here)."""

from remote_gym.codec.arrays import decode_array as decode_array
from remote_gym.codec.arrays import encode_array as encode_array
from remote_gym.codec.dtypes import decode_dtype as decode_dtype
from remote_gym.codec.dtypes import encode_dtype as encode_dtype
from remote_gym.codec.spaces import decode_space as decode_space
from remote_gym.codec.spaces import encode_space as encode_space
from remote_gym.codec.values import decode_value as decode_value
from remote_gym.codec.values import encode_value as encode_value

__all__ = [
    "decode_array",
    "decode_dtype",
    "decode_space",
    "decode_value",
    "encode_array",
    "encode_dtype",
    "encode_space",
    "encode_value",
]
