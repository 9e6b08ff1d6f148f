"""Sessions driven by hand on a server's gRPC stream: clients that make a session and vanish, or resume one."""

from __future__ import annotations

import asyncio

from remote_gym.client.channel import SESSION_METHOD, open_channel, split_address
from remote_gym.client.config import ClientConfig
from remote_gym.codec.requests import make_request, reset_request, resume_request
from remote_gym.protocol.v1 import remote_gym_pb2 as pb


async def _exchange(address: str, requests: list[pb.Request]) -> list[pb.Response]:
    """Open a stream, send each request and read its reply, then vanish (cancel the call, drop the channel)."""
    host, port = split_address(address)
    channel = open_channel(host, port, None, ClientConfig())
    try:
        call = channel.stream_stream(SESSION_METHOD)()
        replies = []
        for request in requests:
            await call.write(request.SerializeToString())
            replies.append(pb.Response.FromString(await call.read()))
        call.cancel()  # no CloseRequest: the server sees a broken stream
        return replies
    finally:
        await channel.close(None)


def make_and_vanish(address: str, *, reset: bool, env: str = "CartPole-v1") -> pb.MakeResponse:
    """Make a session (and reset it once if ``reset``), then vanish as a killed client does; its make reply."""
    requests = [make_request(env, kwargs_json="{}", render_mode=None, compression=False)]
    if reset:
        requests.append(reset_request(None, None))
        requests[-1].seq = 1
    replies = asyncio.run(_exchange(address, requests))
    assert replies[0].WhichOneof("kind") == "make", replies[0]
    return replies[0].make


def try_resume(address: str, made: pb.MakeResponse, *, as_release_1_0: bool = False) -> pb.Response:
    """Ask to resume the session ``made`` describes; its reply. ``as_release_1_0``: without window or capabilities."""
    request = resume_request(made.session_id, made.resume_token)
    if as_release_1_0:
        for name in ("min_protocol_version", "max_protocol_version", "capabilities", "client_version"):
            request.make.ClearField(name)
    return asyncio.run(_exchange(address, [request]))[0]
