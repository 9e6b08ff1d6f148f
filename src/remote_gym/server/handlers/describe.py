"""What both handlers put in a MakeResponse, and their answer to a SampleRequest."""

from __future__ import annotations

import logging
from typing import Any

from gymnasium.spaces import Space

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.codec.remote_space import subspace_at
from remote_gym.codec.values import encode_value
from remote_gym.errors import CodecError, InvalidCallError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.spec import CreateSpec

logger = logging.getLogger(__name__)


def describe_common(make: pb.MakeResponse, env: Any, spec: CreateSpec) -> dict[str, Any]:
    """Fill what every MakeResponse says (versions, names, spec, render mode); return the sendable metadata.

    ``env``: a Gymnasium env, or a PettingZoo one (which has a metadata dict and maybe a spec).
    """
    make.protocol_version = PROTOCOL_VERSION
    make.server_version = __version__
    make.session_id = spec.session_id
    make.env_name = spec.env_name
    make.env_class = type(getattr(env, "unwrapped", env)).__name__
    encode_optional(spec_dict(env), make.spec, "spec")
    make.render_mode = spec.render_mode or ""
    return sendable_metadata(env)


def sample_response(
    request: pb.Request, observation_space: Space[Any], action_space: Space[Any], compress: bool
) -> pb.Response:
    """Answer a SampleRequest: a sample of the sub-space it names (a custom space the client cannot sample)."""
    sample = request.sample
    spaces = {"observation": observation_space, "action": action_space}
    if sample.space not in spaces:
        raise InvalidCallError(f"SampleRequest.space must be 'observation' or 'action', got {sample.space!r}")
    space = subspace_at(spaces[sample.space], list(sample.path))
    resp = pb.Response()
    encode_value(space.sample(), resp.sample.sample, compress=compress, path=f"{sample.space} sample")
    return resp


def encode_optional(value: Any, msg: pb.Value, what: str) -> None:
    try:
        encode_value(value, msg, path=what)
    except CodecError as exc:
        logger.warning("%s cannot be sent and is left out: %s", what, exc)
        msg.none = True


def spec_dict(env: Any) -> dict[str, Any] | None:
    spec = getattr(env, "spec", None)
    if spec is None:
        return None
    return {
        "id": spec.id,
        "reward_threshold": spec.reward_threshold,
        "nondeterministic": spec.nondeterministic,
        "max_episode_steps": spec.max_episode_steps,
        "order_enforce": spec.order_enforce,
        "disable_env_checker": spec.disable_env_checker,
    }


def sendable_metadata(env: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(getattr(env, "metadata", None) or {}).items():
        try:
            encode_value(value, path=f"metadata[{key!r}]")
        except CodecError:
            logger.warning(
                "metadata[%r] of type %s cannot be sent and is left out", key, type(value).__name__
            )
            continue
        out[key] = value
    return out
