"""A resumed session survives its stream breaking again while the resume reply is being written."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.servicer import RemoteGymServicer

pytestmark = pytest.mark.integration


class _Stream:
    """The ServicerContext calls a session stream makes; ``break_on_write`` fails the first write."""

    def __init__(self, requests: list[bytes], *, break_on_write: bool = False) -> None:
        self._requests = list(requests)
        self._break = break_on_write
        self.replies: list[pb.Response] = []

    async def read(self) -> Any:
        return self._requests.pop(0) if self._requests else grpc.aio.EOF  # then: the stream ends

    async def write(self, data: bytes) -> None:
        if self._break:
            self._break = False
            raise ConnectionResetError("the stream broke")
        self.replies.append(pb.Response.FromString(data))

    def peer(self) -> str:
        return "ipv4:127.0.0.1:9"


def _make(**fields: Any) -> bytes:
    request = pb.Request()
    request.make.protocol_version = PROTOCOL_VERSION
    for name, value in fields.items():
        setattr(request.make, name, value)
    return request.SerializeToString()


def _step(seq: int) -> bytes:
    request = pb.Request(seq=seq)
    encode_value(0, request.step.action)
    return request.SerializeToString()


def test_resume_reply_lost_keeps_the_session() -> None:
    config = ServerConfig(
        environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), hosting="inline", port=0
    )
    reset = pb.Request(seq=1)
    reset.reset.SetInParent()

    async def scenario() -> list[pb.Response]:
        servicer = RemoteGymServicer(config, None)
        first = _Stream([_make(), reset.SerializeToString()])  # then the stream breaks
        await servicer.session(None, first)
        made = first.replies[0].make
        resume = _make(resume_session_id=made.session_id, resume_token=made.resume_token)
        with pytest.raises(ConnectionResetError):
            await servicer.session(None, _Stream([resume], break_on_write=True))
        again = _Stream([resume, _step(2)])
        await servicer.session(None, again)
        servicer.begin_shutdown()
        await asyncio.sleep(0.05)
        return again.replies

    replies = asyncio.run(scenario())
    assert replies[0].make.resumed, replies[0]
    assert replies[1].WhichOneof("kind") == "step"
