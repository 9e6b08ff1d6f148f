"""The network lane's settings: the address a server announces to clients on other hosts, and its ports."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from remote_gym.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class NetworkLaneConfig:
    """Offer clients on other hosts a direct stream to their session's worker (``ServerConfig.network_lane``).

    After the session is made over gRPC, the worker listens on ``bind`` at a port of ``ports`` and the
    server announces ``announce:PORT`` with a one-time secret; the client connects there and sends
    its steps as frames, skipping the gRPC process. With a TLS server the stream is TLS with the
    same certificates (mutual TLS: the worker asks for the client's certificate too).

    Example:
        >>> NetworkLaneConfig.parse("10.0.0.5:40000-40099")
        NetworkLaneConfig(announce='10.0.0.5', ports=(40000, 40099), bind='10.0.0.5', plaintext=False)
    """

    announce: str
    """The address (IP or host name) clients connect to: one of this host's that they can reach."""
    ports: tuple[int, int] = (0, 0)
    """The ports workers may listen on (inclusive), one per session with a lane; ``(0, 0)``: any free
    port. Sessions beyond the range's size stay on gRPC."""
    bind: str = ""
    """The local address workers listen on ("" : the announced one; ``0.0.0.0`` behind NAT)."""
    plaintext: bool = False
    """On a server without TLS, allow a plaintext stream (a trusted network only). A TLS server's
    stream is always TLS."""

    def __post_init__(self) -> None:
        if not self.announce:
            raise ConfigError("network_lane needs the address to announce")
        if not self.bind:
            object.__setattr__(self, "bind", self.announce)
        low, high = self.ports
        if not (0 <= low <= high <= 65535) or (low == 0) != (high == 0):
            raise ConfigError(
                f"network_lane ports must be a range within 1..65535 (or 0, 0), got {self.ports}"
            )

    @classmethod
    def parse(cls, text: str, *, bind: str = "", plaintext: bool = False) -> NetworkLaneConfig:
        """From ``ADDRESS``, ``ADDRESS:PORT`` or ``ADDRESS:LOW-HIGH`` (IPv6 in brackets: ``[::1]:4000-4010``).

        Raises:
            ConfigError: The text is not of that form.
        """
        address, ports = text, ""
        if text.startswith("["):
            address, _, rest = text[1:].partition("]")
            ports = rest[1:] if rest.startswith(":") else rest
        elif text.count(":") == 1:
            address, ports = text.split(":")
        try:
            if not ports:
                low = high = 0
            else:
                low_text, _, high_text = ports.partition("-")
                low = int(low_text)
                high = int(high_text or low_text)
        except ValueError as exc:
            raise ConfigError(f"network lane {text!r}: expected ADDRESS[:PORT[-PORT]]") from exc
        return cls(announce=address, ports=(low, high), bind=bind, plaintext=plaintext)

    def port_candidates(self) -> range:
        """The ports a worker tries, in order (``range(0, 1)``: any free port)."""
        low, high = self.ports
        return range(low, high + 1)

    @property
    def family_host(self) -> str:
        """The bind address as ``socket.getaddrinfo`` takes it (without brackets)."""
        return self.bind.strip("[]")

    @property
    def announced(self) -> str:
        """The announced address as it goes before ``:PORT`` (IPv6 in brackets)."""
        try:
            ipv6 = ipaddress.ip_address(self.announce.strip("[]")).version == 6
        except ValueError:
            ipv6 = False
        return f"[{self.announce.strip('[]')}]" if ipv6 else self.announce
