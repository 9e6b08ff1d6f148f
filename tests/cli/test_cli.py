"""Every `remote-gym` subcommand, run in-process: exit codes and what it prints."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import pathlib
import signal
import socket
import stat
import sys
import types
from typing import Any

import numpy as np
import pytest

from remote_gym.cli import compat
from remote_gym.cli.interact import with_port
from remote_gym.cli.main import main
from remote_gym.client.env import RemoteEnvironment
from remote_gym.errors import ConnectError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from remote_gym.transport.certs import certificate_names
from tests.cli.helpers import make_console, run_cli, serve_in_process

pytestmark = pytest.mark.integration

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
COMMANDS = ("demo", "serve", "hub", "interact", "play", "top", "bench", "certs")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _table_rows(out: str) -> list[list[str]]:
    # The body rows of the rich table(s) in ``out``, as lists of stripped cells.
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("│")]
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]


def _play(address: str) -> None:
    with RemoteEnvironment(address=address) as env:
        env.reset(seed=0)
        env.step(env.action_space.sample())


# -- the root command --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [(), *((c,) for c in COMMANDS)], ids=["root", *COMMANDS])
def test_help_has_examples(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` exits 0 and shows examples, for the root command and every subcommand."""
    assert main([*command, "--help"]) == 0
    assert "example" in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`remote-gym` alone shows the help and exits 2."""
    code, _ = run_cli()
    assert code == 2
    assert "COMMAND" in capsys.readouterr().out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed option is a usage error (exit 2) naming the option."""
    assert main(["interact", "--episodes", "0"]) == 2
    assert "--episodes" in capsys.readouterr().err


def test_debug_is_accepted_after_the_command() -> None:
    """`--debug` works after the subcommand too, and then lets the exception through."""
    with pytest.raises(ConnectError):
        run_cli("interact", f"127.0.0.1:{_free_port()}", "--connect-timeout", "0.5", "--debug")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_command_leaves_the_logging_set_up_as_it_found_it(debug: bool) -> None:
    """A command run from Python logs to its console while it runs, and to nothing of its own afterwards."""
    root = logging.getLogger()
    before = (root.handlers[:], root.level, logging.getLogger("remote_gym").level)
    console, buffer = make_console()
    argv = [
        "interact",
        f"127.0.0.1:{_free_port()}",
        "--connect-timeout",
        "0.5",
        *(["--debug"] if debug else []),
    ]
    with contextlib.suppress(ConnectError):
        main(argv, console=console)
    assert (root.handlers, root.level, logging.getLogger("remote_gym").level) == before
    printed = buffer.getvalue()
    logging.getLogger("remote_gym.server").warning("a record after the command")
    assert buffer.getvalue() == printed


# -- demo ----------------------------------------------------------------------------------------


def test_demo_runs_episodes_and_prints_the_table() -> None:
    """`demo` starts a server, plays the episodes and prints a summary row."""
    code, out = run_cli("demo", "--episodes", "2", "--hosting", "in-process")
    assert code == 0
    assert "connected" in out
    assert "step p99" in out
    assert "all" in out


# -- certs ---------------------------------------------------------------------------------------


def test_certs_writes_the_seed_file_names_with_private_keys_0600(tmp_path: pathlib.Path) -> None:
    """`certs` writes ca/server/client PEM files; private keys are readable by the owner only."""
    code, out = run_cli("certs", "--out", str(tmp_path))
    assert code == 0
    for name in ("ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"):
        assert (tmp_path / name).is_file(), name
    for name in ("server-key.pem", "client-key.pem", "ca-key.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert "remote-gym serve" in out
    assert "--ca" in out


def test_certs_puts_hosts_and_ips_in_the_server_certificate(tmp_path: pathlib.Path) -> None:
    """`--host` values become DNS or IP subject alternative names, beside the loopback ones."""
    code, _ = run_cli("certs", "--out", str(tmp_path), "--host", "gpu-box.lan,10.1.2.3", "--host", "fd00::7")
    assert code == 0
    names = certificate_names((tmp_path / "server.pem").read_bytes())
    assert names == ["localhost", "gpu-box.lan", "127.0.0.1", "::1", "10.1.2.3", "fd00::7"]


def test_certs_no_loopback_leaves_localhost_out(tmp_path: pathlib.Path) -> None:
    """`--no-loopback` keeps only the given names."""
    assert run_cli("certs", "--out", str(tmp_path), "--host", "gpu-box.lan", "--no-loopback")[0] == 0
    assert certificate_names((tmp_path / "server.pem").read_bytes()) == ["gpu-box.lan"]


def test_certs_refuses_to_overwrite_without_force(tmp_path: pathlib.Path) -> None:
    """Existing certificates are kept unless `--force` is given; the error says so in one line."""
    assert run_cli("certs", "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "ca.pem").read_bytes()
    code, out = run_cli("certs", "--out", str(tmp_path))
    assert code == 1
    assert out.startswith("error:")
    assert "--force" in out
    assert len(out.strip().splitlines()) == 1
    assert (tmp_path / "ca.pem").read_bytes() == before
    assert run_cli("certs", "--out", str(tmp_path), "--force")[0] == 0
    assert (tmp_path / "ca.pem").read_bytes() != before


# -- interact ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["interact", "play"])
def test_interact_plays_and_prints_the_table(env_server: EnvServer, command: str) -> None:
    """`interact` (and its alias `play`) plays N episodes and prints one row per episode plus a summary."""
    code, out = run_cli(command, env_server.address, "--env", "CartPole-v1", "--episodes", "3")
    assert code == 0, out
    assert "connected to CartPole-v1" in out
    assert "Discrete(2)" in out
    rows = _table_rows(out)
    assert [row[0] for row in rows] == ["0", "1", "2", "all"], out


def test_interact_passes_kwargs(env_server: EnvServer) -> None:
    """`--kwargs` reaches the environment (a time limit of 3 steps cuts every episode at 3)."""
    kwargs = json.dumps({"max_episode_steps": 3})
    code, out = run_cli(
        "interact", env_server.address, "--env", "Pendulum-v1", "--kwargs", kwargs, "--episodes", "1"
    )
    assert code == 0, out
    [episode, _summary] = _table_rows(out)
    assert episode[0] == "0"
    assert episode[2] == "3"


def test_interact_refused_kwargs_is_one_line() -> None:
    """A kwarg the operator did not allow fails with one line, no traceback."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline") as server:
        code, out = run_cli("interact", server.address, "--kwargs", '{"sutton_barto_reward": true}')
    assert code == 1
    [error] = [line for line in out.splitlines() if line.startswith("error:")]  # the rest: server logs
    assert "sutton_barto_reward" in error
    assert "allowed: none" in error
    assert "Traceback" not in out


def test_interact_nothing_listening_says_so() -> None:
    """Connecting to a closed port says nothing is listening there."""
    code, out = run_cli("interact", f"127.0.0.1:{_free_port()}", "--connect-timeout", "0.5")
    assert code == 1
    assert "nothing is listening" in out


def test_interact_render_human_uses_the_local_viewer(inline_server: EnvServer) -> None:
    """`--render` opens the pygame viewer (headless here) and still plays to the end."""
    pytest.importorskip("pygame")
    code, out = run_cli(
        "interact",
        inline_server.address,
        "--env",
        "CartPole-v1",
        "--render",
        "--episodes",
        "1",
        "--max-steps",
        "3",
    )
    assert code == 0, out


@pytest.mark.skipif(importlib.util.find_spec("imageio") is not None, reason="the record extra is installed")
def test_interact_record_without_the_extra_names_the_pip_command(inline_server: EnvServer) -> None:
    """`--record` without imageio fails before connecting, with the pip command to run."""
    code, out = run_cli("interact", inline_server.address, "--record", "out.mp4")
    assert code == 1
    assert "pip install 'remote-gym[record]'" in out


class _StubWriter:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.closed = False

    def append_data(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def stub_imageio(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any], _StubWriter]]:
    """Stand-ins for imageio and imageio_ffmpeg that keep the frames in memory."""
    opened: list[tuple[Any, dict[str, Any], _StubWriter]] = []

    def get_writer(path: Any, **kwargs: Any) -> _StubWriter:
        writer = _StubWriter()
        opened.append((path, kwargs, writer))
        return writer

    v2 = types.ModuleType("imageio.v2")
    v2.get_writer = get_writer  # type: ignore[attr-defined]
    package = types.ModuleType("imageio")
    package.v2 = v2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "imageio", package)
    monkeypatch.setitem(sys.modules, "imageio.v2", v2)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", types.ModuleType("imageio_ffmpeg"))
    return opened


def test_interact_record_writes_every_frame(
    inline_server: EnvServer,
    stub_imageio: list[tuple[Any, dict[str, Any], _StubWriter]],
    tmp_path: pathlib.Path,
) -> None:
    """`--record` writes the reset frame and one frame per step, at the env's render_fps, then closes."""
    pytest.importorskip("pygame")
    out_file = tmp_path / "out.mp4"
    code, out = run_cli(
        "interact",
        inline_server.address,
        "--env",
        "CartPole-v1",
        "--record",
        str(out_file),
        "--episodes",
        "1",
        "--max-steps",
        "4",
    )
    assert code == 0, out
    [(path, kwargs, writer)] = stub_imageio
    assert pathlib.Path(path) == out_file
    assert kwargs["fps"] == 50
    assert len(writer.frames) == 1 + 4
    assert writer.closed
    assert writer.frames[0].shape == (400, 600, 3)
    assert "saved 5 frames" in out


def test_with_port_adds_the_default_port() -> None:
    """A bare host (IPv4, name or IPv6) gets the default port; host:port is kept."""
    assert with_port("10.0.0.2") == "10.0.0.2:56765"
    assert with_port("gpu-box:1234") == "gpu-box:1234"
    assert with_port("::1") == "[::1]:56765"
    assert with_port("[::1]:99") == "[::1]:99"


# -- serve ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_hosts_until_stopped(stop_signal: signal.Signals) -> None:
    """`serve` hosts the env, logs each session, and stops cleanly with exit code 0 on SIGTERM or Ctrl-C."""
    argv = ["serve", "CartPole-v1", "--port", "0", "--hosting", "in-process", "--grace", "0.5"]
    code, out, errors = serve_in_process(
        lambda console: main(argv, console=console), _play, stop_signal=stop_signal
    )
    assert not errors
    assert code == 0, out
    assert "CartPole-v1 (default)" in out
    assert "opened" in out
    assert "server stopped" in out


def test_serve_entrypoint_with_kwargs_and_allowed_kwargs() -> None:
    """`serve --entrypoint` hosts create_environment() from the file, with --kwargs and --allow-kwargs."""
    entry = str(EXAMPLES / "entrypoint.py")
    argv = ["serve", "--entrypoint", entry, "--kwargs", '{"env": "CartPole-v1", "max_episode_steps": 5}']
    argv += [
        "--allow-kwargs",
        "max_episode_steps",
        "--port",
        "0",
        "--hosting",
        "in-process",
        "--grace",
        "0.5",
    ]
    seen: dict[str, Any] = {}

    def use(address: str) -> None:
        with RemoteEnvironment(address=address, kwargs={"max_episode_steps": 2}) as env:
            seen["name"] = env.env_name
            env.reset(seed=0)
            seen["truncated"] = env.step(0)[3] or env.step(0)[3]

    code, out, errors = serve_in_process(lambda console: main(argv, console=console), use)
    assert not errors
    assert code == 0, out
    assert seen == {"name": "entrypoint", "truncated": True}
    assert "clients may set: max_episode_steps" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve"], "nothing to host"),
        (["serve", "CartPol-v1"], "not a registered Gymnasium id"),
        (["serve", "Nowhere/Env-v0"], "serve 'PACKAGE:Nowhere/Env-v0' (the form gymnasium.make accepts)"),
        (["serve", "CartPole-v1", "--cert", "server.pem"], "--key"),
        (["serve", "CartPole-v1", "--ca", "ca.pem"], "--cert"),
        (["serve", "--entrypoint", "no/such/file.py"], "does not exist"),
        (["serve", "CartPole-v1", "--port", "70000"], "port"),
    ],
    ids=[
        "nothing",
        "unknown-id",
        "unknown-namespace",
        "cert-without-key",
        "ca-without-cert",
        "missing-entrypoint",
        "bad-port",
    ],
)
def test_serve_configuration_errors_are_one_line(argv: list[str], message: str) -> None:
    """A wrong serve configuration fails with exit code 1 and one line naming the problem."""
    code, out = run_cli(*argv)
    assert code == 1
    assert out.startswith("error:")
    assert message in out
    assert len(out.strip().splitlines()) == 1


def test_serve_port_in_use_is_one_line() -> None:
    """Binding a port that is taken fails with one line."""
    with running_server(hosting="inline") as server:
        code, out = run_cli("serve", "CartPole-v1", "--port", str(server.port))
    assert code == 1
    assert "cannot listen" in out


def test_serve_bad_kwargs_json_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--kwargs` must be a JSON object."""
    assert main(["serve", "CartPole-v1", "--kwargs", "[1, 2]"]) == 2
    assert "JSON object" in capsys.readouterr().err


# -- bench ---------------------------------------------------------------------------------------


def test_bench_prints_local_and_remote_rows() -> None:
    """`bench` with an embedded server shows local and remote rows for 1 env and for the vector."""
    code, out = run_cli("bench", "--steps", "30", "--runs", "1", "--num-envs", "2", "--hosting", "in-process")
    assert code == 0, out
    assert "env-steps/s" in out
    assert "vs local" in out
    assert [row[:2] for row in _table_rows(out)] == [
        ["local", "1"],
        ["remote", "1"],
        ["local", "2"],
        ["remote", "2"],
    ]


def test_bench_module_prefixed_id_has_a_local_baseline() -> None:
    """`bench --env module:Id` (as gymnasium.make takes it) imports the module for the local baseline too."""
    code, out = run_cli(
        "bench",
        "--env",
        "minigrid:MiniGrid-Empty-5x5-v0",
        "--steps",
        "20",
        "--runs",
        "1",
        "--no-vector",
        "--hosting",
        "in-process",
    )
    assert code == 0, out
    assert "no local baseline" not in out
    assert [row[:2] for row in _table_rows(out)] == [["local", "1"], ["remote", "1"]]


def test_bench_json_against_an_address(env_server: EnvServer) -> None:
    """`bench ADDRESS --json` prints only a JSON report: remote rows carry their ratio to local."""
    code, out = run_cli(
        "bench",
        env_server.address,
        "--env",
        "CartPole-v1",
        "--steps",
        "30",
        "--runs",
        "2",
        "--no-vector",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["env"] == "CartPole-v1"
    assert report["server"] == env_server.address
    targets = {m["target"]: m for m in report["measurements"]}
    assert set(targets) == {"local", "remote"}
    assert targets["remote"]["vs_local"] > 0
    assert targets["local"]["vs_local"] is None
    assert targets["remote"]["runs"] == 2
    assert targets["remote"]["call_p99_us"] >= targets["remote"]["call_p50_us"]
    assert "not pinned" in report["placement"]


# -- 0.7.x console scripts -----------------------------------------------------------------------


def test_compat_server_flags_map_onto_serve() -> None:
    """start_remote_environment's flags become serve's: TLS files, --use_thread, url and port."""
    argv = compat.server_argv(
        [
            "-u",
            "0.0.0.0",
            "-p",
            "5000",
            "--root_certificate",
            "ca.pem",
            "--server_certificate",
            "server.pem",
            "--server_private_key",
            "server-key.pem",
            "--use_thread",
            "--render_mode",
            "rgb_array",
        ]
    )
    assert argv == [
        "serve", compat.DEFAULT_COMPAT_ENV, "--host", "0.0.0.0", "--port", "5000",
        "--cert", "server.pem", "--key", "server-key.pem", "--ca", "ca.pem", "--hosting", "in-process",
    ]  # fmt: skip


def test_compat_client_flags_map_onto_interact() -> None:
    """start_environment_interaction's flags become interact's."""
    argv = compat.client_argv(
        [
            "-u",
            "10.0.0.2",
            "-p",
            "5000",
            "--root_certificate",
            "ca.pem",
            "--client_certificate",
            "client.pem",
            "--client_private_key",
            "client-key.pem",
            "--render_mode",
            "human",
            "--use_thread",
        ]
    )
    assert argv == [
        "interact", "10.0.0.2:5000", "--episodes", "5", "--ca", "ca.pem",
        "--cert", "client.pem", "--key", "client-key.pem", "--render-mode", "human",
    ]  # fmt: skip


def test_compat_interaction_runs(env_server: EnvServer) -> None:
    """start_environment_interaction plays against a server and exits 0."""
    console, buffer = make_console()
    code = compat.start_environment_interaction(
        ["-u", "127.0.0.1", "-p", str(env_server.port), "--episodes", "1"], console=console
    )
    assert code == 0, buffer.getvalue()
    assert "connected to CartPole-v1" in buffer.getvalue()


def test_compat_server_runs_until_sigterm() -> None:
    """start_remote_environment hosts its default env (in-process with --use_thread) until SIGTERM."""
    port = _free_port()
    code, out, errors = serve_in_process(
        lambda console: compat.start_remote_environment(
            ["-u", "127.0.0.1", "-p", str(port), "--use_thread"], console=console
        ),
        _play,
    )
    assert not errors
    assert code == 0, out
    assert f"serving on 127.0.0.1:{port}" in out
    assert compat.DEFAULT_COMPAT_ENV in out


def test_serve_flags_reach_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """--token (or REMOTE_GYM_TOKEN), --idle-timeout, --max-call-time, --resume-window and --worker-spin-us
    set the server's config."""
    from remote_gym.cli.main import build_parser
    from remote_gym.cli.serve import build_config
    from remote_gym.transport.auth import TokenAuth

    monkeypatch.setenv("REMOTE_GYM_TOKEN", "from-env")
    args = build_parser().parse_args(
        [
            "serve",
            "CartPole-v1",
            "--idle-timeout",
            "30",
            "--max-call-time",
            "5",
            "--resume-window",
            "10",
            "--worker-spin-us",
            "0",
        ]
    )
    config = build_config(args)
    assert config.tokens == (TokenAuth("from-env"),)
    assert (config.session_idle_timeout_s, config.max_call_s, config.resume_window_s) == (30.0, 5.0, 10.0)
    assert config.spin_us == 0
    assert build_config(build_parser().parse_args(["serve", "CartPole-v1"])).spin_us == 300
    args = build_parser().parse_args(["serve", "CartPole-v1", "--token", "flag"])
    assert build_config(args).tokens == (TokenAuth("flag"),)


def test_json_output_has_no_log_lines(env_server: EnvServer) -> None:
    """With --json, log records (such as a server's in this process) go to stderr, never into the JSON."""
    import logging

    console, buffer = make_console()
    code = main(
        ["bench", env_server.address, "--steps", "10", "--runs", "1", "--no-vector", "--json"],
        console=console,
    )
    assert code == 0
    logging.getLogger("remote_gym.server.servicer").info("a session line logged meanwhile")
    assert "a session line" not in buffer.getvalue()
    assert json.loads(buffer.getvalue())["server"] == env_server.address
