"""The session protocol's vocabulary: the Requests a client builds, and the tables of wire enums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymnasium.vector import AutoresetMode

from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

AUTORESET_MODES: dict[AutoresetMode, int] = {
    AutoresetMode.NEXT_STEP: pb.AUTORESET_MODE_NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.AUTORESET_MODE_SAME_STEP,
    AutoresetMode.DISABLED: pb.AUTORESET_MODE_DISABLED,
}
"""Gymnasium's autoreset modes and their wire values (unspecified on the wire means NEXT_STEP)."""

_AUTORESET_BY_WIRE = {wire: mode for mode, wire in AUTORESET_MODES.items()}

SERVER_RENDER_MODES = {"rgb_array": "rgb_array", "human": "rgb_array"}
"""Client render mode -> the mode the server's env renders in: a "human" client shows the server's
rgb_array frames in a local window. Other modes are passed on as they are."""

# A serialized Request holding CloseRequest: protobuf writes fields in field-number order, so the
# (empty) close field, number 7, comes first; ``seq`` (15) follows it.
_CLOSE_PREFIX = pb.Request(close=pb.CloseRequest()).SerializeToString()


# A serialized Request starts with the tag of its ``kind`` field (field number << 3 | wire type 2):
# the kind is told from the first byte without parsing, for the server's per-method accounting.
REQUEST_KINDS: tuple[str, ...] = tuple(
    next((f.name for f in pb.Request.DESCRIPTOR.oneofs_by_name["kind"].fields if f.number == n), "other")
    for n in range(32)
)
"""Request kind name ("step", "reset", ...) by :func:`request_kind`; "other" for any other number."""


def request_kind(data: bytes) -> int:
    """The field number of the kind of a serialized Request (an index into REQUEST_KINDS), told from its first byte."""
    return data[0] >> 3 if data else 0


def autoreset_mode_from_wire(value: int) -> AutoresetMode:
    """The autoreset mode a MakeRequest asks for."""
    return _AUTORESET_BY_WIRE.get(value, AutoresetMode.NEXT_STEP)


def is_close_request(data: bytes) -> bool:
    """Whether serialized request bytes hold a CloseRequest, told without parsing them."""
    return data.startswith(_CLOSE_PREFIX)


def call_request(name: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None) -> pb.Request:
    """A ``CallRequest``: call ``name(*args, **kwargs)`` on the env (or read it, if not callable)."""
    request = pb.Request()
    call = request.call
    call.name = name
    encode_value(list(args), call.args, path="args")
    encode_value(dict(kwargs or {}), call.kwargs, path="kwargs")
    return request


def get_attr_request(name: str) -> pb.Request:
    """A ``CallRequest`` that reads attribute ``name`` without calling it."""
    request = pb.Request()
    request.call.name = name
    request.call.get_attr = True
    return request


def set_attr_request(name: str, value: Any) -> pb.Request:
    """A ``SetAttrRequest``: set attribute ``name`` to ``value`` (a vector session: one value per sub-env)."""
    request = pb.Request()
    request.set_attr.name = name
    encode_value(value, request.set_attr.values, path="values")
    return request


def sample_request(space: str, path: Sequence[str]) -> pb.Request:
    """A ``SampleRequest``: sample the sub-space at ``path`` of the ``"observation"`` or ``"action"`` space."""
    request = pb.Request()
    request.sample.space = space
    request.sample.path.extend(path)
    return request
