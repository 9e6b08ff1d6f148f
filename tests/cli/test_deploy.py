"""deploy/kubernetes agrees with the code: serve flags exist, ports match, probes name services the server serves."""

from __future__ import annotations

import argparse
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from grpc_health.v1 import health_pb2

from remote_gym.cli.main import build_parser
from remote_gym.cli.options import TOKEN_ENV
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from tests.support.health import health_status

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]


def _serve_containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod spec, container) of every container of the manifests that runs `remote-gym serve`."""
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in _documents(path.name):
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in pod.get("containers", []):
                if container.get("command") == ["remote-gym"] and container.get("args", [None])[0] == "serve":
                    yield pod, container


def _serve_parser() -> argparse.ArgumentParser:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["serve"]


def _parse(container: dict[str, Any]) -> argparse.Namespace:
    return build_parser().parse_args([str(a) for a in container["args"]])


def test_manifests_parse_and_run_serve() -> None:
    """Every YAML file parses, and the Deployment runs `remote-gym serve` in one container."""
    kinds = sorted(doc["kind"] for path in DEPLOY.glob("*.yaml") for doc in _documents(path.name))
    assert kinds == ["Deployment", "RayCluster", "Service"]
    assert len(list(_serve_containers())) == 1


def test_every_serve_flag_exists_in_the_cli() -> None:
    """Each --flag given to serve is one of its options, spelled out (no abbreviation), and the args parse."""
    known = {s for action in _serve_parser()._actions for s in action.option_strings}
    for _, container in _serve_containers():
        flags = [a.split("=", 1)[0] for a in container["args"] if str(a).startswith("--")]
        assert flags
        assert set(flags) <= known, set(flags) - known
        args = _parse(container)
        assert args.host == "0.0.0.0"
        assert args.cert is not None
        assert args.key is not None


def test_ports_probes_and_service_match_the_flags() -> None:
    """Container ports are --port and --health-port; probes use grpc on the health port; the Service targets --port."""
    (service,) = [d for d in _documents("remote-gym.yaml") if d["kind"] == "Service"]
    for pod, container in _serve_containers():
        args = _parse(container)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": args.port, "health": args.health_port}
        for probe in PROBES:
            assert set(container[probe]["grpc"]) == {"port", "service"}
            assert container[probe]["grpc"]["port"] == args.health_port
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["selector"].items() <= _labels(pod).items()
        (port,) = service["spec"]["ports"]
        assert (port["port"], port["targetPort"]) == (args.port, "grpc")


def _labels(pod_spec: dict[str, Any]) -> dict[str, str]:
    """The pod labels of the Deployment whose pod spec is ``pod_spec`` (its selector must match them)."""
    (deployment,) = [d for d in _documents("remote-gym.yaml") if d["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"] == pod_spec
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    return labels


def test_secrets_and_resources() -> None:
    """TLS files come from a mounted Secret, the token from a Secret via REMOTE_GYM_TOKEN; requests are set."""
    for pod, container in _serve_containers():
        args = _parse(container)
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        for path in (args.cert, args.key):
            directory, name = path.rsplit("/", 1)
            assert name in ("tls.crt", "tls.key")  # the keys of a kubernetes.io/tls Secret
            assert "secret" in volumes[mounts[directory]]
        (token,) = [e for e in container["env"] if e["name"] == TOKEN_ENV]
        assert "secretKeyRef" in token["valueFrom"]
        assert not [a for a in container["args"] if str(a).startswith("--token")]  # never on the command line
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])


@pytest.mark.integration
def test_probe_services_are_served_by_a_real_server() -> None:
    """Every probe's service name answers SERVING on a server started with the manifest's health port kind."""
    services = {
        container[probe]["grpc"]["service"] for _, container in _serve_containers() for probe in PROBES
    }
    config = ServerConfig(
        environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),),
        port=0,
        health_port=0,
        hosting="inline",
    )
    with EnvServer(config) as server:
        assert server.health_port is not None
        for service in services:
            assert health_status(server.health_port, service) == health_pb2.HealthCheckResponse.SERVING


def test_raycluster_sample_matches_the_images_and_readme() -> None:
    """The RayCluster's head places no servers, its workers offer the `envs` resource, versions agree."""
    (cluster,) = _documents("raycluster.yaml")
    assert cluster["apiVersion"] == "ray.io/v1"
    spec = cluster["spec"]
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    (group,) = spec["workerGroupSpecs"]
    assert '\\"envs\\": 1' in group["rayStartParams"]["resources"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    ray_tag = re.search(r"RAY_IMAGE=\S+:(\d+\.\d+\.\d+)", dockerfile)
    assert ray_tag is not None
    assert spec["rayVersion"] == ray_tag.group(1)
    assert re.search(r"FROM \S+ AS server", dockerfile)
    assert re.search(r"FROM \S+ AS ray", dockerfile)
