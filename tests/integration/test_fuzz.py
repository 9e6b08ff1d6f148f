"""Hostile input: malformed, out-of-order and hostile requests get error responses; the server goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

SESSION = "/remote_gym.v1.RemoteGym/Session"


class RawSession:
    """A session stream driven with raw bytes, as a hostile client would."""

    def __init__(self, address: str) -> None:
        creds = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        self._channel = grpc.secure_channel(address, creds)
        self._requests: list[bytes] = []
        self._pending: Any = None
        import queue

        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._responses = self._channel.stream_stream(SESSION)(iter(self._queue.get, None), timeout=60)

    def send(self, data: bytes) -> pb.Response:
        """Send one message and return the server's reply."""
        self._queue.put(data)
        return pb.Response.FromString(next(self._responses))

    def make(self, env: str = "CartPole-v1") -> pb.Response:
        """Open the session properly."""
        request = pb.Request(
            make=pb.MakeRequest(protocol_version=PROTOCOL_VERSION, env_name=env, kwargs_json="{}")
        )
        return self.send(request.SerializeToString())

    def close(self) -> None:
        """End the stream and the channel."""
        self._queue.put(None)
        self._responses.cancel()
        self._channel.close()


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[EnvServer]:
    """An inline server (fast) for fuzzing; process hosting is covered by the last test."""
    with running_server(
        {"CartPole-v1": "CartPole-v1", "Pendulum-v1": "Pendulum-v1"}, hosting="inline"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def session(fuzz_server: EnvServer) -> Iterator[RawSession]:
    """One open CartPole session that every fuzzed message goes to."""
    raw = RawSession(fuzz_server.address)
    assert raw.make().WhichOneof("kind") == "make"
    assert raw.send(pb.Request(reset=pb.ResetRequest()).SerializeToString()).WhichOneof("kind") == "reset"
    try:
        yield raw
    finally:
        raw.close()


def _healthy(raw: RawSession) -> None:
    reply = raw.send(_step(np.int64(1)))
    assert reply.WhichOneof("kind") in ("step", "error")
    if reply.WhichOneof("kind") == "error":  # an episode may have ended: reset and step again
        assert raw.send(pb.Request(reset=pb.ResetRequest()).SerializeToString()).WhichOneof("kind") == "reset"
        assert raw.send(_step(np.int64(1))).WhichOneof("kind") == "step"


def _step(action: Any) -> bytes:
    request = pb.Request()
    encode_value(action, request.step.action)
    return request.SerializeToString()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512))
def test_random_bytes_get_an_error_reply(session: RawSession, data: bytes) -> None:
    """Random bytes mid-session get one reply each (an error unless they happen to parse), and the session lives on."""
    reply = session.send(data)
    assert reply.WhichOneof("kind") is not None
    _healthy(session)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dtype=st.sampled_from(list(pb.DType.values())),
    shape=st.lists(st.integers(min_value=-3, max_value=2**40), max_size=4),
    data=st.binary(max_size=64),
    compression=st.sampled_from(list(pb.Compression.values())),
)
def test_malformed_arrays_are_refused(
    session: RawSession, dtype: int, shape: list[int], data: bytes, compression: int
) -> None:
    """Arrays whose dtype, shape, bytes or compression are wrong or huge are refused before allocating."""
    request = pb.Request()
    request.step.action.array.dtype = dtype
    request.step.action.array.shape.extend(shape)
    request.step.action.array.data = data
    request.step.action.array.compression = compression
    reply = session.send(request.SerializeToString())
    assert reply.WhichOneof("kind") == "error"
    assert reply.error.reason in ("INVALID_ACTION", "INVALID_CALL")
    _healthy(session)


@pytest.mark.parametrize(
    "action",
    [np.float64(np.nan), np.array([np.inf]), "left", {"a": 1}, (1, 2), 2**70, None, b"\xff", -1, 2],
    ids=lambda a: type(a).__name__,
)
def test_actions_outside_the_space_are_refused(session: RawSession, action: Any) -> None:
    """NaN, inf, wrong types, huge ints and out-of-range actions get INVALID_ACTION."""
    reply = session.send(_step(action))
    assert reply.WhichOneof("kind") == "error"
    assert reply.error.reason == "INVALID_ACTION"
    _healthy(session)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand (the library refuses to build it this deep)."""
    length, out = len(payload), bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([number << 3 | 2]) + bytes(out) + payload


def test_deep_nesting_is_refused(session: RawSession) -> None:
    """A value nested far beyond the limit (and beyond protobuf's own) is refused; the server goes on."""
    value = pb.Value(none=True).SerializeToString()
    for _ in range(200):
        value = _field(10, _field(1, value))  # Value.list_value -> ValueList.items -> Value
    reply = session.send(_field(3, _field(1, value)))  # Request.step -> StepRequest.action
    assert reply.WhichOneof("kind") == "error"
    _healthy(session)


def test_invalid_utf8_is_refused(session: RawSession) -> None:
    """A string field holding invalid UTF-8 is a malformed request, answered with an error."""
    # Request.step (3) -> StepRequest.action (1) -> Value.string_value (6), with bytes 0xff 0xfe.
    payload = bytes([0x1A, 0x06, 0x0A, 0x04, 0x32, 0x02, 0xFF, 0xFE])
    reply = session.send(payload)
    assert reply.WhichOneof("kind") == "error"
    _healthy(session)


def test_out_of_order_requests_are_refused(session: RawSession, fuzz_server: EnvServer) -> None:
    """A second MakeRequest mid-session, or a step as first message, are refused."""
    again = pb.Request(make=pb.MakeRequest(protocol_version=PROTOCOL_VERSION)).SerializeToString()
    assert session.send(again).error.reason == "INVALID_CALL"
    _healthy(session)
    fresh = RawSession(fuzz_server.address)
    try:
        assert fresh.send(_step(np.int64(0))).error.reason == "INVALID_CALL"
    finally:
        fresh.close()


@pytest.mark.parametrize(
    "make",
    [
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION + 7),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, kwargs_json="{not json"),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, kwargs_json="[1, 2]"),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, kwargs_json=json.dumps({"entrypoint": "/x.py"})),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, env_name="../../etc/passwd"),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, num_envs=-5),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, num_envs=10**9),
        pb.MakeRequest(protocol_version=PROTOCOL_VERSION, resume_session_id="abc", resume_token="x"),
    ],
    ids=[
        "version",
        "bad-json",
        "json-list",
        "entrypoint",
        "path",
        "negative-envs",
        "huge-envs",
        "resume-unknown",
    ],
)
def test_bad_make_requests_are_refused(fuzz_server: EnvServer, make: pb.MakeRequest) -> None:
    """Every malformed or forbidden MakeRequest gets an error reply; nothing is created."""
    before = fuzz_server.active_sessions
    raw = RawSession(fuzz_server.address)
    try:
        reply = raw.send(pb.Request(make=make).SerializeToString())
        assert reply.WhichOneof("kind") == "error"
    finally:
        raw.close()
    assert fuzz_server.active_sessions == before


def test_process_hosting_survives_garbage(env_server: EnvServer) -> None:
    """With worker processes, garbage is answered by the worker and the session and server go on."""
    raw = RawSession(env_server.address)
    try:
        assert raw.make().WhichOneof("kind") == "make"
        rng = np.random.default_rng(0)
        for _ in range(50):
            assert raw.send(rng.bytes(int(rng.integers(1, 200)))).WhichOneof("kind") is not None
        assert raw.send(pb.Request(reset=pb.ResetRequest()).SerializeToString()).WhichOneof("kind") == "reset"
        assert raw.send(_step(np.int64(0))).WhichOneof("kind") == "step"
    finally:
        raw.close()
