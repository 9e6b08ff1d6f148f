"""The wire layer: frames, the lane handshake, control messages and polling, as bytes in and bytes out.

Stdlib only, and no I/O: every process (the gRPC server, the zygote, each worker, the client) brings
its own sockets around these pieces, as h11 leaves its sockets to its caller. Nothing outside this
package packs or parses a frame header.

Modules:
    frames: the frame format (``<u32 length><u32 number><payload>``), its encoder and decoder.
    control: the control messages (frames numbered 0) and :class:`~.control.WorkerStatus`.
    handshake: both ends of the lane handshake (a one-time secret, then an acceptance).
    tls: SSL contexts of the TLS streams (built from certificate paths; the sockets are the caller's).
    polling: when to poll instead of sleep, and the polling loop (one policy for every process).
"""
