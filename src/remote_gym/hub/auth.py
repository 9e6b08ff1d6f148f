"""Whose token a hub checks: dialing hosts' on its hub service, trainers' on the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuthInterceptor

HUB_SERVICE = pb.DESCRIPTOR.services_by_name["RemoteGymHub"].full_name


class HubAuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Sends calls to the hub service through the hosts' token check, and others through the trainers'."""

    def __init__(self, hosts: TokenAuthInterceptor, trainers: TokenAuthInterceptor | None) -> None:
        self._hosts = hosts
        self._trainers = trainers
        self._prefix = f"/{HUB_SERVICE}/"

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Check the token the method's callers must present."""
        if handler_call_details.method.startswith(self._prefix):
            return await self._hosts.intercept_service(continuation, handler_call_details)
        if self._trainers is not None:
            return await self._trainers.intercept_service(continuation, handler_call_details)
        return await continuation(handler_call_details)
