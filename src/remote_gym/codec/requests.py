"""The session protocol's vocabulary: the Requests a client builds, and the tables of wire enums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymnasium.vector import AutoresetMode

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.capabilities import this_release
from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

AUTORESET_MODES: dict[AutoresetMode, Any] = {
    AutoresetMode.NEXT_STEP: pb.AUTORESET_MODE_NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.AUTORESET_MODE_SAME_STEP,
    AutoresetMode.DISABLED: pb.AUTORESET_MODE_DISABLED,
}
"""Gymnasium's autoreset modes and their wire values (unspecified on the wire means NEXT_STEP)."""

_AUTORESET_BY_WIRE = {wire: mode for mode, wire in AUTORESET_MODES.items()}

_SERVER_RENDER_MODES = {"rgb_array": "rgb_array", "human": "rgb_array"}


def server_render_mode(client_mode: str | None) -> str | None:
    """The mode the server's env renders in for a client's ``render_mode``.

    A "human" client shows the server's rgb_array frames in a local window; other modes pass as they are.
    """
    if not client_mode:
        return None
    return _SERVER_RENDER_MODES.get(client_mode, client_mode)


# A serialized Request holding CloseRequest: protobuf writes fields in field-number order, so the
# (empty) close field, number 7, comes first; ``seq`` (15) follows it.
_CLOSE_PREFIX = pb.Request(close=pb.CloseRequest()).SerializeToString()


# A serialized Request starts with the tag of its ``kind`` field (field number << 3 | wire type 2):
# the kind is told from the first byte without parsing, for the server's per-method accounting.
# Kinds numbered above ``seq`` (15) come after it: their number is read past ``seq``, and each has a
# slot of its own from 16 on (:data:`_LATE_KINDS`).
_LATE_KINDS = {pb.Request.DESCRIPTOR.fields_by_name["async_step"].number: 16}
_SEQ_TAG = 15 << 3  # seq: field 15, varint
REQUEST_KINDS: tuple[str, ...] = tuple(
    next(
        (
            f.name
            for f in pb.Request.DESCRIPTOR.oneofs_by_name["kind"].fields
            if _LATE_KINDS.get(f.number, f.number) == n
        ),
        "other",
    )
    for n in range(32)
)
"""Request kind name ("step", "reset", "async_step", ...) by :func:`request_kind`; "other" for any other."""


def request_kind(data: bytes) -> int:
    """The kind of a serialized Request as an index into REQUEST_KINDS (its field number, or the slot of
    a kind numbered above ``seq``), told from its first bytes without parsing."""
    if data[:1] and data[0] < 0x80 and data[0] != _SEQ_TAG:
        return data[0] >> 3  # the common case: a one-byte tag of a kind numbered below seq
    field, at = _varint(data, 0)
    if field >> 3 == 15:
        _, at = _varint(data, at)  # seq's value
        field, at = _varint(data, at)
    field >>= 3
    return _LATE_KINDS.get(field, field if field < 16 else 0)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``data[at:]`` and the offset after it (0 past the end or after 10 bytes)."""
    value = shift = 0
    for offset in range(at, min(at + 10, len(data))):
        value |= (data[offset] & 0x7F) << shift
        shift += 7
        if not data[offset] & 0x80:
            return value, offset + 1
    return 0, len(data)


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


def make_request(
    env: str | None,
    *,
    kwargs_json: str,
    render_mode: str | None,
    compression: bool,
    num_envs: int = 0,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    restart_on_failure: bool = False,
    vectorization_mode: str = "",
    per_env_infos: bool = False,
    multi_agent: str = "",
) -> pb.Request:
    """The first request of a new session: which env to make (``num_envs`` > 0: a vector session;
    ``multi_agent`` ``"parallel"`` or ``"aec"``: a PettingZoo env served with that API)."""
    make = pb.MakeRequest(
        protocol_version=PROTOCOL_VERSION,
        env_name=env or "",
        kwargs_json=kwargs_json,
        render_mode=render_mode or "",
    )
    if num_envs:
        make.num_envs = num_envs
        make.autoreset_mode = AUTORESET_MODES[autoreset_mode]
        make.restart_on_failure = restart_on_failure
        make.per_env_infos = per_env_infos
    if vectorization_mode:
        make.vectorization_mode = vectorization_mode
    if multi_agent:
        make.multi_agent = multi_agent
    if compression:
        make.accept_compression.append(pb.COMPRESSION_ZSTD)
    _say_window(make)
    return pb.Request(make=make)


def _say_window(make: pb.MakeRequest) -> None:
    """This release's window, capabilities and version (``protocol_version`` stays the window's lowest)."""
    ours = this_release()
    make.min_protocol_version = ours.min_version
    make.max_protocol_version = ours.max_version
    make.capabilities[:] = sorted(ours.capabilities)
    make.client_version = ours.release


def resume_request(session_id: str, token: str) -> pb.Request:
    """The first request of a stream that resumes session ``session_id`` (``token``: its secret)."""
    request = pb.Request()
    request.make.protocol_version = PROTOCOL_VERSION
    request.make.resume_session_id = session_id
    request.make.resume_token = token
    _say_window(request.make)
    return request


def reset_request(seed: Any, options: dict[str, Any] | None) -> pb.Request:
    """A ``ResetRequest`` (``seed``: None, an int, or for a vector session a list; ``options``: a dict or None)."""
    request = pb.Request()
    out = request.reset
    out.SetInParent()  # an empty reset must still select the oneof
    if seed is not None:
        encode_value(seed, out.seed, path="seed")
    if options is not None:
        encode_value(options, out.options, path="options")
    return request


def step_request(action: Any, *, path: str = "action") -> pb.Request:
    """A ``StepRequest`` carrying ``action`` (a vector session: the batch of actions)."""
    request = pb.Request()
    encode_value(action, request.step.action, path=path)
    return request


def render_request() -> pb.Request:
    """A ``RenderRequest``."""
    return pb.Request(render=pb.RenderRequest())


def close_request() -> pb.Request:
    """A ``CloseRequest``: the client is done with the session."""
    return pb.Request(close=pb.CloseRequest())
