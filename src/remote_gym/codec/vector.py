"""Vector-session payloads: vectorised infos, sub-env infos, and the decoding of reset and step replies."""

from __future__ import annotations

from typing import Any

import numpy as np

from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import DecodeError, UnsupportedValueError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

# Vectorised infos (Gymnasium's ``{key: array, "_key": mask}`` dicts) may hold numpy *object*
# arrays (``final_obs``, strings, ``None``, lists ...), which have no ``Array`` wire form. In such an
# info tree every non-dict value is a numpy array, so an object array travels as a plain list of its
# items and any list found at a value position decodes back into a 1-d object array. No new wire type
# is needed, and no ambiguity arises.

InfoCalls = list[tuple[int, dict[Any, Any]]]
"""Sub-env infos in the order ``SyncVectorEnv`` adds them: ``(sub-env index, that env's info dict)``.

A part of a vector env sends these instead of its vectorised info, for whoever holds the other
parts to replay all of them in index order (:func:`remote_gym.vector.infos.replay_infos`).
"""


def encode_vector_info(
    info: dict[Any, Any], msg: pb.Value | None = None, *, compress: bool = False, path: str = "infos"
) -> pb.Value:
    """Encodes a vectorised info dict, object arrays included.

    Args:
        info: A dict built by Gymnasium's ``VectorEnv._add_info`` (values are dicts or numpy arrays).
        msg: A message to fill in place; a new one when ``None``.
        compress: Let large arrays be zstd-compressed.
        path: How to name ``info`` in error messages.

    Returns:
        ``msg``, or the new message.

    Raises:
        UnsupportedValueError: If a value is neither a dict nor a numpy array, an object array is not
            1-d, or an item has no wire form.
    """
    return encode_value(_to_wire(info, path), msg, compress=compress, path=path)


def decode_vector_info(msg: pb.Value) -> dict[Any, Any]:
    """Decodes what :func:`encode_vector_info` wrote; lists become 1-d numpy object arrays.

    Raises:
        DecodeError: If the message is malformed or is not a tree of dicts and arrays.
    """
    info = decode_value(msg)
    if not isinstance(info, dict):
        raise DecodeError(f"a vector info must be a dict, got {type(info).__name__}")
    return _from_wire(info)


def _to_wire(info: dict[Any, Any], path: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in info.items():
        if isinstance(value, dict):
            out[key] = _to_wire(value, f"{path}[{key!r}]")
        elif isinstance(value, np.ndarray):
            if value.dtype == object:
                if value.ndim != 1:
                    raise UnsupportedValueError(
                        f"{path}[{key!r}]: object arrays in vector infos must be 1-d, got shape {value.shape}"
                    )
                out[key] = list(value)
            else:
                out[key] = value
        else:
            raise UnsupportedValueError(
                f"{path}[{key!r}]: a vector info holds dicts and numpy arrays, not {type(value).__name__}"
            )
    return out


def _from_wire(info: dict[Any, Any]) -> dict[Any, Any]:
    for key, value in info.items():
        if isinstance(value, dict):
            _from_wire(value)
        elif isinstance(value, list):
            array = np.empty(len(value), dtype=object)
            for i, item in enumerate(value):  # item by item: np.array() would broadcast nested lists
                array[i] = item
            info[key] = array
        elif not isinstance(value, np.ndarray):
            raise DecodeError(f"vector info entry {key!r} is a {type(value).__name__}, not an array")
    return info


def encode_info_calls(calls: InfoCalls, msg: pb.Value, *, compress: bool = False) -> pb.Value:
    """Encodes sub-env infos (``(index, info)`` pairs, see :data:`InfoCalls`).

    Raises:
        UnsupportedValueError: If an info holds a value with no wire form.
    """
    return encode_value(calls, msg, compress=compress, path="infos")


def decode_info_calls(msg: pb.Value) -> InfoCalls:
    """Decodes what :func:`encode_info_calls` wrote.

    Raises:
        DecodeError: If the message is not a list of ``(int, dict)`` pairs.
    """
    calls = decode_value(msg)
    if not isinstance(calls, list) or not all(
        isinstance(call, tuple)
        and len(call) == 2
        and type(call[0]) is int
        and call[0] >= 0
        and isinstance(call[1], dict)
        for call in calls
    ):
        raise DecodeError("per-env infos must be a list of (sub-env index, info dict) pairs")
    return calls


def decode_infos(reply: pb.ResetResponse | pb.StepResponse) -> dict[Any, Any] | InfoCalls:
    """A vector reply's infos: its sub-envs' own infos when it carries them, else its vectorised info."""
    if reply.HasField("info_calls"):
        return decode_info_calls(reply.info_calls)
    return decode_vector_info(reply.info)


def decode_reset(reply: pb.ResetResponse) -> tuple[Any, dict[Any, Any] | InfoCalls]:
    """A vector reset reply as ``(observations, infos)``."""
    return decode_value(reply.observation), decode_infos(reply)


def decode_step(reply: pb.StepResponse) -> tuple[Any, Any, Any, Any, dict[Any, Any] | InfoCalls]:
    """A vector step reply as ``(observations, rewards, terminations, truncations, infos)``."""
    return (
        decode_value(reply.observation),
        decode_value(reply.reward),
        decode_value(reply.terminated),
        decode_value(reply.truncated),
        decode_infos(reply),
    )
