"""PettingZoo envs hosted by a remote-gym server, used as local Parallel, AEC and vector envs."""

from __future__ import annotations

try:
    import pettingzoo as _pettingzoo  # noqa: F401
except ImportError as _exc:  # pragma: no cover - depends on the installed extras
    from remote_gym.errors import DependencyNotInstalledError

    raise DependencyNotInstalledError(
        "remote_gym.pettingzoo needs PettingZoo: pip install 'remote-gym[pettingzoo]'"
    ) from _exc

from remote_gym.client.agent_aec import RemoteAECEnv
from remote_gym.client.agent_parallel import RemoteParallelEnv
from remote_gym.client.agent_sb3 import SB3VecEnvMethods, to_sb3_vec_env
from remote_gym.client.agent_vector import RemoteAgentVectorEnv

__all__ = [
    "RemoteAECEnv",
    "RemoteAgentVectorEnv",
    "RemoteParallelEnv",
    "SB3VecEnvMethods",
    "to_sb3_vec_env",
]
