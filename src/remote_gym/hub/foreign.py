"""The hub's one boundary for foreign errors: bytes from trainers and hosts that do not parse, a late attach.

The hub is a process of its own between trainers and hosts (see :mod:`remote_gym.transport.status` for
the client's boundary and :mod:`remote_gym.server.handlers.foreign` for a server's);
``tests/unit/test_error_boundaries.py`` keeps translations from growing anywhere else.
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from remote_gym.errors import InvalidCallError, ProtocolError

M = TypeVar("M", bound=Message)


def parse_from_trainer(cls: type[M], data: bytes, what: str) -> M:
    """A message a trainer or an attaching host sent.

    Raises:
        InvalidCallError: The bytes are not such a message (``what`` names it).
    """
    try:
        return cls.FromString(data)
    except Exception as exc:  # protobuf's DecodeError, or anything its parser raises on hostile bytes
        raise InvalidCallError(f"malformed {what}: {exc}") from exc


def parse_from_host(cls: type[M], data: bytes, what: str) -> M:
    """A message an attached host sent for a session.

    Raises:
        ProtocolError: The bytes are not such a message (the host's stream is out of step).
    """
    try:
        return cls.FromString(data)
    except Exception as exc:
        raise ProtocolError(f"malformed {what} from a host: {exc}") from exc


def attach_timeout_error(timeout: float) -> InvalidCallError:
    """The refusal of a host that sent no HubAttach within ``timeout`` seconds."""
    return InvalidCallError(f"no HubAttach within {timeout} s")
