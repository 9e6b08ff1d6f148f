"""Tell why a connection to a server failed, by probing it with plain TCP and TLS handshakes."""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import pathlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from remote_gym.errors import ConfigError
from remote_gym.transport.certs import certificate_names
from remote_gym.transport.tls import TLSConfig

PROBE_TIMEOUT_S = 0.5
"""Seconds each probe (TCP connect, TLS handshake, first read) may take: loopback and LANs answer in
milliseconds, and a client's connect gives up one second after its connect timeout."""

# What a grpc server sends first after the handshake is its HTTP/2 SETTINGS frame, once it has seen
# the client preface; a server that refuses the client certificate closes the connection instead.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
# OpenSSL reasons meaning "the peer does not speak TLS at all".
_NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
    }
)


class Failure(enum.Enum):
    """Why a connection attempt failed."""

    # Name resolution failed.
    UNKNOWN_HOST = "unknown_host"
    # The TCP connection was refused: no process listens on that port.
    NOTHING_LISTENING = "nothing_listening"
    # No TCP answer (host down, wrong address, firewall dropping packets).
    UNREACHABLE = "unreachable"
    # The client uses TLS, the server does not.
    SERVER_WITHOUT_TLS = "server_without_tls"
    # The server uses TLS, the client does not.
    SERVER_REQUIRES_TLS = "server_requires_tls"
    # The server's certificate is not signed by the CA the client trusts (or expired, ...).
    SERVER_NOT_TRUSTED = "server_not_trusted"
    # The server's certificate is valid, but not for the name the client connected to.
    HOSTNAME_MISMATCH = "hostname_mismatch"
    # The server requires a client certificate (mutual TLS) and the client sent none.
    CLIENT_CERT_MISSING = "client_cert_missing"
    # The server did not accept the client certificate.
    CLIENT_CERT_REJECTED = "client_cert_rejected"
    # None of the above could be established; the message carries gRPC's own details.
    UNKNOWN = "unknown"


CLIENT_CERT_FAILURES = frozenset({Failure.CLIENT_CERT_MISSING, Failure.CLIENT_CERT_REJECTED})
"""Failures where the server refused the client's credentials (an authentication failure)."""


@dataclass(frozen=True)
class Diagnosis:
    """What failed, and what to do about it."""

    failure: Failure
    """The kind of failure."""
    message: str
    """One line for a person: what failed, then what to do."""


def explain_connect_failure(
    details: str, *, tls: TLSConfig | None, host: str, port: int, timeout: float = PROBE_TIMEOUT_S
) -> str:
    """One line explaining a failed connection; see :func:`diagnose_connect_failure`."""
    return diagnose_connect_failure(details, tls=tls, host=host, port=port, timeout=timeout).message


def diagnose_connect_failure(
    details: str, *, tls: TLSConfig | None, host: str, port: int, timeout: float = PROBE_TIMEOUT_S
) -> Diagnosis:
    """Find out why connecting to ``host:port`` failed, by probing the server directly.

    The probes are a TCP connect, a TLS handshake that accepts any certificate (does the server speak
    TLS, and which names does its certificate hold?), then a handshake with the client's own
    settings followed by the HTTP/2 preface (does the CA verify the server, and does the server
    accept the client certificate?). Each takes at most ``timeout`` seconds.

    Args:
        details: gRPC's description of the failure, used when the probes find nothing wrong.
        tls: The client's TLS settings, or None when it connected without TLS.
        host: Host name or IP address the client connected to.
        port: Port the client connected to.
        timeout: Seconds allowed for each probe.

    Returns:
        The kind of failure and a one-line message naming what failed and what to do.
    """
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    reached = _probe_tcp(host, port, timeout, target)
    if reached is not None:
        return reached
    first = _probe_tls(host, port, timeout, _context(verify_ca=None, cert=None, key=None))
    if first.not_tls:
        if tls is None:
            return _unknown(details)
        return Diagnosis(
            Failure.SERVER_WITHOUT_TLS,
            f"the server at {target} does not use TLS but this client does: connect without "
            "certificates, or restart the server with its certificate and key (serve --cert/--key)",
        )
    if first.cert_der is None:
        return _unknown(details)
    if tls is None:
        if first.closed_after_handshake:  # it also wants a client certificate
            what, flags, paths = (
                "the CA certificate and a client certificate (mutual TLS)",
                "--ca ca.pem --cert client.pem --key client-key.pem",
                '("ca.pem", "client.pem", "client-key.pem")',
            )
        else:
            what, flags, paths = (
                "the CA certificate that signed its certificate",
                "--ca ca.pem",
                '("ca.pem",)',
            )
        return Diagnosis(
            Failure.SERVER_REQUIRES_TLS,
            f"the server at {target} uses TLS but this client connected without it: pass {what} "
            f"(interact {flags}; RemoteEnvironment(client_credentials_paths={paths}))",
        )
    server_cert = x509.load_der_x509_certificate(first.cert_der)
    try:
        verifying = _context(verify_ca=tls.ca or "", cert=tls.cert, key=tls.key)
    except (OSError, ssl.SSLError, ConfigError):
        return _unknown(details)  # the client's own files are unreadable; gRPC said so already
    second = _probe_tls(host, port, timeout, verifying)
    if second.verify_error is not None:
        trusted = f"the CA {_cert_field(tls.ca, 'subject')!r} in {tls.ca}" if tls.ca else "the system's CAs"
        return Diagnosis(
            Failure.SERVER_NOT_TRUSTED,
            f"the server certificate at {target} is not trusted by {trusted} ({second.verify_error}; "
            f"it was issued by {_common_name(server_cert.issuer)!r}): pass the ca.pem that signed the "
            "server's certificate",
        )
    expected = tls.server_name or host
    names = certificate_names(_der_to_pem(first.cert_der))
    if not _name_matches(expected, names):
        held = ", ".join(names) if names else "none (no subjectAltName)"
        return Diagnosis(
            Failure.HOSTNAME_MISMATCH,
            f"the server certificate at {target} is not valid for {expected!r} (it holds: {held}): "
            "connect with one of those names, set the name to verify (interact --server-name NAME; "
            f"TLSConfig(server_name=...)), or make a certificate for it (remote-gym certs --host {expected})",
        )
    if second.closed_after_handshake:
        if tls.cert is None:
            return Diagnosis(
                Failure.CLIENT_CERT_MISSING,
                f"the server at {target} requires a client certificate (mutual TLS) and this client "
                "sent none: pass client.pem and client-key.pem (interact --cert/--key; "
                "client_credentials_paths=(ca, cert, key))",
            )
        return Diagnosis(
            Failure.CLIENT_CERT_REJECTED,
            f"the server at {target} rejected the client certificate {tls.cert} "
            f"(issued by {_cert_field(tls.cert, 'issuer')!r}): use a client certificate signed by the CA the "
            "server trusts for clients (its serve --ca)",
        )
    return _unknown(details)


@dataclass(frozen=True)
class _TLSProbe:
    not_tls: bool = False
    cert_der: bytes | None = None
    verify_error: str | None = None
    closed_after_handshake: bool = False


def _unknown(details: str) -> Diagnosis:
    return Diagnosis(Failure.UNKNOWN, details or "the connection failed for an unknown reason")


def _probe_tcp(host: str, port: int, timeout: float, target: str) -> Diagnosis | None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return Diagnosis(
            Failure.UNKNOWN_HOST,
            f"cannot resolve the host name {host!r} ({exc.strerror}): check the spelling, or use the "
            "server's IP address",
        )
    except ConnectionRefusedError:
        return Diagnosis(
            Failure.NOTHING_LISTENING,
            f"nothing is listening on {target}: start the server (remote-gym serve ENV --port {port}), "
            "or check the address and port",
        )
    except TimeoutError:
        return Diagnosis(
            Failure.UNREACHABLE,
            f"no answer from {target}: check that the host is up and the address is "
            "right, that the server listens on an outside address (serve --host 0.0.0.0), and that a "
            f"firewall lets port {port} through",
        )
    except OSError as exc:
        return Diagnosis(
            Failure.UNREACHABLE,
            f"cannot reach {target} ({exc.strerror or exc}): check the address, the network and the firewall",
        )


def _context(verify_ca: str | pathlib.Path | None, cert: object, key: object) -> ssl.SSLContext:
    # verify_ca: None accepts any certificate; "" trusts the system roots; a path trusts that CA.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # names are checked separately, to report them
    if verify_ca is None:
        context.verify_mode = ssl.CERT_NONE
    elif verify_ca == "":
        context.load_default_certs()
    else:
        context.load_verify_locations(cafile=str(verify_ca))
    if cert is not None and key is not None:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    context.set_alpn_protocols(["h2"])
    return context


@contextlib.contextmanager
def _tls_socket(host: str, port: int, timeout: float, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        server_hostname = None if _is_ip(host) else host
        with context.wrap_socket(raw, server_hostname=server_hostname) as tls_sock:
            yield tls_sock
    finally:
        raw.close()


def _probe_tls(host: str, port: int, timeout: float, context: ssl.SSLContext) -> _TLSProbe:
    try:
        with _tls_socket(host, port, timeout, context) as sock:
            cert = sock.getpeercert(binary_form=True)
            try:
                sock.sendall(_HTTP2_PREFACE)
                closed = sock.recv(64) == b""
            except (ssl.SSLError, ConnectionError):
                closed = True
            except TimeoutError:
                closed = False
            return _TLSProbe(cert_der=cert, closed_after_handshake=closed)
    except ssl.SSLCertVerificationError as exc:
        return _TLSProbe(verify_error=str(exc.verify_message or exc.reason))
    except (ssl.SSLEOFError, ConnectionResetError):
        return _TLSProbe(not_tls=True)
    except ssl.SSLError as exc:
        return _TLSProbe(not_tls=exc.reason in _NOT_TLS_REASONS)
    except OSError:
        return _TLSProbe()


def _name_matches(expected: str, names: list[str]) -> bool:
    expected = expected.strip("[]").lower().rstrip(".")
    if _is_ip(expected):
        wanted = ipaddress.ip_address(expected)
        return any(_is_ip(name) and ipaddress.ip_address(name) == wanted for name in names)
    for name in names:
        name = name.lower().rstrip(".")
        if name == expected:
            return True
        # A wildcard stands for exactly one leftmost label: *.example.org matches a.example.org.
        if name.startswith("*.") and "." in expected and expected.split(".", 1)[1] == name[2:]:
            return True
    return False


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _der_to_pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _cert_field(path: object, field: str) -> str:
    # The common name of the subject or issuer of the PEM certificate at ``path``.
    try:
        cert = x509.load_pem_x509_certificate(pathlib.Path(str(path)).read_bytes())
    except (OSError, ValueError):
        return "unknown"
    return _common_name(cert.subject if field == "subject" else cert.issuer)
