"""Make the site's benchmark page from one run of the benchmark scripts: JSON, PNG plots and the page.

Usage (peers are measured when their interpreters are given; each lives in a virtual environment of its
own and is never a dependency of remote-gym):

    uv run --extra plots python benchmarks/make_page.py \\
        --seed-python .venv-073/bin/python \\
        --rlmesh-python .venv-rlmesh/bin/python \\
        --envpool-python .venv-envpool/bin/python

It runs bench_step.py and bench_connect.py (one env: local, the same-host lane, the gRPC path, remote-gym 0.7.3),
peer_rlmesh.py (RLMesh), bench_sweep.py (env-steps/s against the number of envs) and peer_envpool.py
(EnvPool), then writes docs/benchmarks/results.json, the plots (docs/benchmarks/*.png, made by
page_plots.py) and docs/benchmarks/index.md. The site is built from those committed files; CI never
runs this script. See the peers' scripts for how to make their environments.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
from importlib.metadata import version
from typing import Any

import page_plots
from rich.console import Console

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks"
console = Console(stderr=True)


def _run_json(argv: list[str], what: str) -> Any:
    console.print(f"[bold]{what}[/]: {' '.join(argv[1:])}")
    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(done.stdout[done.stdout.index("{") :])


def _peer_version(python: str, package: str) -> str:
    code = f"from importlib.metadata import version; print(version({package!r}))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def _peer_python(python: str) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": os.getloadavg()[0],
        "versions": {name: version(name) for name in ("remote-gym", "grpcio", "gymnasium", "numpy")},
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run of every benchmark script; their reports, unchanged, in one dict."""
    results: dict[str, Any] = {"machine": machine(), "peers": {}}
    rounds = ["--json", "--rounds", str(args.rounds)]
    bench_step = [sys.executable, "bench_step.py", *rounds, "--steps", str(args.steps)]
    if args.seed_python:
        bench_step += ["--seed-python", args.seed_python]
        results["peers"]["remote-gym (predecessor)"] = _peer_version(args.seed_python, "remote-gym")
    results["one_env"] = _run_json(bench_step, "one env")
    connect = _run_json([sys.executable, "bench_connect.py", *rounds], "connect + first reset")
    results["one_env"]["rows"].update(connect["rows"])
    if args.rlmesh_python:
        argv = [args.rlmesh_python, "peer_rlmesh.py", str(args.rounds), str(args.steps), "5"]
        results["rlmesh"] = _run_json(argv, "RLMesh")
        results["peers"]["rlmesh"] = results["rlmesh"]["version"]
    sizes = [str(n) for n in args.sizes]
    sweep = [
        sys.executable,
        "bench_sweep.py",
        "--json",
        "--runs",
        str(args.runs),
        "--seconds",
        str(args.seconds),
    ]
    results["sweep"] = _run_json([*sweep, "--sizes", *sizes], "env-steps/s against envs")
    if args.envpool_python:
        argv = [args.envpool_python, "peer_envpool.py", str(args.runs), str(args.seconds), *sizes]
        results["envpool"] = _run_json(argv, "EnvPool")
        results["peers"]["envpool"] = results["envpool"]["version"]
        results["peers"]["envpool's Python"] = _peer_python(args.envpool_python)
    results["machine"]["load_after"] = os.getloadavg()[0]
    return results


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def one_env_rows(results: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(configuration, µs per step, steps/s) of one CartPole-v1 env, medians, fastest first."""
    rows = results["one_env"]["rows"]
    picked = [
        ("local gym.make", "local"),
        ("remote-gym, same-host lane (default on one machine)", "process"),
        ("remote-gym, gRPC path (what another machine gets)", "process_grpc"),
        ("remote-gym, gRPC path with TLS", "tls"),
        ("remote-gym 0.7.3 (use_thread=True)", "seed"),
    ]
    out = [(name, 1e6 / rows[key]["median"], rows[key]["median"]) for name, key in picked if key in rows]
    if "rlmesh" in results:
        rate = _median(results["rlmesh"]["steps_per_s"])
        out.append(("RLMesh 0.1.0 (TCP on loopback)", 1e6 / rate, rate))
    return sorted(out, key=lambda row: row[1])


def connect_rows(results: dict[str, Any]) -> list[tuple[str, float]]:
    """(library, connect + first reset in ms), medians."""
    rows = results["one_env"]["rows"]
    out = [("remote-gym " + results["machine"]["versions"]["remote-gym"], rows["connect"]["median"])]
    if "seed_connect" in rows:
        out.append(("remote-gym 0.7.3", rows["seed_connect"]["median"]))
    if "rlmesh" in results:
        out.append(("RLMesh 0.1.0", 1e3 * _median(results["rlmesh"]["connect_s"])))
    return out


def sweep_series(results: dict[str, Any]) -> dict[str, dict[int, float]]:
    """{label: {num_envs: median env-steps/s}} of every vector configuration measured."""
    sweep = results["sweep"]
    series = {
        sweep["modes"][mode]: {int(n): _median(s) for n, s in by_n.items()}
        for mode, by_n in sweep["samples"].items()
    }
    if "envpool" in results:
        label = f"EnvPool {results['envpool']['version']} (C++ threads, one process)"
        series[label] = {int(n): _median(s) for n, s in results["envpool"]["env_steps_per_s"].items()}
    return series


def page(results: dict[str, Any]) -> str:
    """The Markdown of docs/benchmarks/index.md."""
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "CartPole-v1, client and servers on one machine over loopback. Generated by",
        "`uv run --extra plots python benchmarks/make_page.py` (see its `--help`) from one run of the",
        "benchmark scripts; every figure is in [results.json](results.json) with all its samples.",
        "",
        f"**Machine**: {m['cpu']}, {m['cpus']} CPUs, {m['os']}, Python {m['python']}; "
        f"load average {m['load_before']:.1f} before the run and {m['load_after']:.1f} after it (a shared "
        "machine: other work ran beside the benchmark, so compare figures within a plot, not with other "
        f"machines); processes not pinned. **Date**: {m['date']}. **Versions**: "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + "; peers, each in a virtual environment of its own: "
        + (", ".join(f"{k} {v}" for k, v in results["peers"].items()) or "none")
        + ".",
        "",
        *(
            [
                '!!! warning "A loaded machine"',
                f"    The load average stayed above twice the machine's {m['cpus']} CPUs during this run: every",
                "    process waited for a CPU most of the time, so absolute figures are several times those of an",
                "    idle machine of this kind, and single-process designs (EnvPool, a local env) suffer less than",
                "    designs that hand each step between processes. The [Performance](../performance.md) page has",
                "    figures measured at load 2-3. Run the command above on your machine to compare.",
                "",
            ]
            if max(m["load_before"], m["load_after"]) > 2 * m["cpus"]
            else []
        ),
        "## One environment: time per step",
        "",
        "![Time per step of one CartPole-v1 env](step_time.png)",
        "",
        "| configuration | µs per step | steps/s |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {us:,.0f} | {rate:,.0f} |" for name, us, rate in one_env_rows(results)]
    lines += [
        "",
        f"Medians over {results['one_env']['rounds']} rounds of {results['one_env']['steps']} steps "
        "(bench_step.py, bench_connect.py; RLMesh and 0.7.3 measured after remote-gym's rounds, in the same run).",
        "",
        "## Many environments: env-steps/s against the number of envs",
        "",
        "![Env-steps/s against the number of envs](scaling.png)",
        "",
    ]
    series = sweep_series(results)
    sizes = sorted({n for s in series.values() for n in s})
    lines += ["| envs | " + " | ".join(series) + " |", "|---" * (len(series) + 1) + "|"]
    for n in sizes:
        cells = [f"{s[n]:,.0f}" if n in s else "—" for s in series.values()]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Medians over {results['sweep']['runs']} runs of {results['sweep']['seconds']} s per configuration "
        "(bench_sweep.py, peer_envpool.py). AsyncVectorEnv runs one process per env and stops at 32 envs here.",
        "",
        "## Connect and first reset",
        "",
        "![Connect + first reset](connect.png)",
        "",
        "| library | connect + first reset (ms) |",
        "|---|---|",
    ]
    lines += [f"| {name} | {ms:,.1f} |" for name, ms in connect_rows(results)]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any]) -> None:
    """Write results.json, the plots and the page from ``results``."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    footer = page_plots.footer(results)
    page_plots.step_time(one_env_rows(results), footer, OUT / "step_time.png")
    page_plots.scaling(sweep_series(results), footer, OUT / "scaling.png")
    page_plots.connect(connect_rows(results), footer, OUT / "connect.png")
    (OUT / "index.md").write_text(page(results))


def main(argv: list[str] | None = None) -> int:
    """Measure (or, with --from-json, reuse a results.json) and write the page."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed-python", help="interpreter of a venv with remote-gym 0.7.3 (seed_073.py)")
    parser.add_argument("--rlmesh-python", help="interpreter of a venv with rlmesh 0.1.0 (peer_rlmesh.py)")
    parser.add_argument("--envpool-python", help="interpreter of a Python 3.12 venv with envpool 1.2.7")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of the one-env measurements (default 5)"
    )
    parser.add_argument(
        "--steps", type=int, default=2000, help="steps per one-env measurement (default 2000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of the envs sweep (default 3)")
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="seconds per sweep measurement (default 1)"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64, 256], help="numbers of envs")
    parser.add_argument("--from-json", type=pathlib.Path, help="redraw the page from a results.json")
    args = parser.parse_args(argv)
    results = json.loads(args.from_json.read_text()) if args.from_json else measure(args)
    write(results)
    console.print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
