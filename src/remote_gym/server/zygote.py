"""A preloaded, single-threaded process that forks worker processes for the server.

The server never forks itself (it runs gRPC threads; forking those hangs, as 0.7.x did). It starts
this process once with a fresh interpreter; the zygote imports gymnasium and the codec, then forks a
worker in a few milliseconds whenever the server sends it a create message:

* server -> zygote (SOCK_SEQPACKET): an empty JSON object ``{}`` carrying one socket fd (the
  worker's end of a socketpair). The worker reads what to create (the spec) as the first frame on
  that socket, so a spec of any size fits (a datagram holds ~200 kB at most).
* zygote -> server: ``{"pid": N}`` after each fork, and ``{"exit": N, "code": C}`` when a worker
  ends (C negative: killed by signal -C).

The zygote exits when the server closes its end; workers exit when their own socket closes.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import traceback

_MAX_DATAGRAM = 1 << 20


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def _run_child(control: socket.socket, wakeup_r: int, wakeup_w: int, fd: int) -> None:
    code = 70
    try:
        control.close()
        os.close(wakeup_r)
        os.close(wakeup_w)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from remote_gym.server.worker import run_forked_worker

        code = run_forked_worker(socket.socket(fileno=fd))
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        try:
            control.send(json.dumps({"exit": pid, "code": _exit_code(status)}).encode())
        except OSError:  # the server is gone; nobody to tell
            return


def main(control_fd: int) -> None:
    """Serve create requests on ``control_fd`` until the server closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Preload what every worker needs, so a fork starts ready.
    import gymnasium  # noqa: F401

    import remote_gym.server.worker  # noqa: F401

    control = socket.socket(fileno=control_fd)
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_r, False)
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    selector.register(wakeup_r, selectors.EVENT_READ, "wakeup")
    control.send(b'{"ready": true}')
    while True:
        for key, _ in selector.select():
            if key.data == "wakeup":
                while True:
                    try:
                        if not os.read(wakeup_r, 512):
                            break
                    except BlockingIOError:
                        break
                _reap(control)
                continue
            try:
                data, fds, _flags, _addr = socket.recv_fds(control, _MAX_DATAGRAM, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                return
            if not fds:
                continue
            pid = os.fork()
            if pid == 0:
                _run_child(control, wakeup_r, wakeup_w, fds[0])
            for fd in fds:
                os.close(fd)
            try:
                control.send(json.dumps({"pid": pid}).encode())
            except OSError:
                return
        _reap(control)


if __name__ == "__main__":
    main(int(sys.argv[1]))
