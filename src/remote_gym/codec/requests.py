"""Requests that reach into the remote env by name: call a method, read or set an attribute, sample a space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb


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
