"""The composition root of what runs where the env runs: the handler, and the vector core it drives, for a spec."""

from __future__ import annotations

from remote_gym.errors import InvalidCallError
from remote_gym.server.handlers.base import RequestHandler
from remote_gym.server.handlers.cores import LocalVectorCore, VectorCore
from remote_gym.server.handlers.env import EnvHandler
from remote_gym.server.handlers.native import NativeVectorCore, resolve_vectorization_mode
from remote_gym.server.handlers.shards import ShardedVectorCore
from remote_gym.server.handlers.spec import CreateSpec, create_env
from remote_gym.server.handlers.vector import VectorEnvHandler


def create_handler(spec: CreateSpec) -> RequestHandler:
    """The handler for ``spec``: one env's, a vector handler driving the core the spec asks for, or a
    multi-agent (PettingZoo) one.

    Vector cores: the env's own vectorised implementation (``vector_entry_point``), Gymnasium's
    ``SyncVectorEnv`` in this process, or the same split over ``spec.workers`` processes.

    Raises:
        InvalidCallError: An unknown vectorization mode.
        Exception: Whatever creating the environment raised.
    """
    if spec.multi_agent:
        return create_agent_handler(spec)
    if spec.num_envs <= 0:
        return EnvHandler(create_env(spec), spec)
    mode = resolve_vectorization_mode(spec)
    core: VectorCore
    if mode == "vector_entry_point":
        core = NativeVectorCore(spec)
    elif mode == "sync":
        workers = min(spec.workers, spec.num_envs)
        core = ShardedVectorCore(spec, workers) if workers > 1 else LocalVectorCore(spec)
    else:
        raise InvalidCallError(
            f"vectorization_mode must be 'sync', 'vector_entry_point' or 'auto', got {spec.vectorization_mode!r}"
        )
    return VectorEnvHandler(spec, core, mode)


def create_agent_handler(spec: CreateSpec) -> RequestHandler:
    """A multi-agent session's handler: Parallel, AEC, or a batch of Parallel copies."""
    # Imported here: they import PettingZoo (an optional extra) only when a session asks for it.
    from remote_gym.server.handlers.agent_batch import AgentBatchHandler
    from remote_gym.server.handlers.agent_env import create_agent_env
    from remote_gym.server.handlers.agents import AECHandler, ParallelHandler

    if spec.num_envs > 0:
        return AgentBatchHandler(spec)
    env = create_agent_env(spec)
    return AECHandler(env, spec) if spec.multi_agent == "aec" else ParallelHandler(env, spec)
