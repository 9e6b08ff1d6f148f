"""What a part of a vector env answers when its sub-envs were re-created after a failure (restart mode).

One sub-env that fails is re-created by the server that holds it: its episode ends truncated with
reward 0 and its last observation as the final one, ``info["env_restarted"]`` is True and
``info["env_restart_reason"]`` says why, and the fresh env is reset as the autoreset mode prescribes.
When a whole part is lost (a worker or a server died), the client re-creates its session and answers
the same for all of the part's sub-envs at once (NEXT_STEP: reset on the next step; SAME_STEP: reset
at once, the final observation and info going to ``final_obs``/``final_info``; DISABLED: by the user).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import iterate

from remote_gym.codec.vector import InfoCalls

RESTARTED_KEY = "env_restarted"
"""Info key set to True for a sub-env recreated after a failure (restart mode); its episode was truncated."""
RESTART_REASON_KEY = "env_restart_reason"
"""Info key holding ``"<ExceptionType>: <message>"`` of the failure that caused the restart."""

StepPart = tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any] | InfoCalls]
"""A part's share of a step: ``(observations, rewards, terminations, truncations, infos)``."""


def restart_info(reason: str) -> dict[str, Any]:
    """The info flags of one sub-env recreated for ``reason``."""
    return {RESTARTED_KEY: True, RESTART_REASON_KEY: reason}


def restart_infos(size: int, reason: str) -> dict[str, Any]:
    """The vectorised restart flags of ``size`` sub-envs that were all recreated for ``reason``."""
    reasons = np.empty(size, dtype=object)
    reasons[:] = [reason] * size
    return {
        RESTARTED_KEY: np.ones(size, dtype=np.bool_),
        f"_{RESTARTED_KEY}": np.ones(size, dtype=np.bool_),
        RESTART_REASON_KEY: reasons,
        f"_{RESTART_REASON_KEY}": np.ones(size, dtype=np.bool_),
    }


def truncated_part(last_obs: Any, size: int, infos: dict[str, Any]) -> StepPart:
    """A step in which all ``size`` sub-envs end truncated, with reward 0, on ``last_obs``."""
    return _step_part(last_obs, size, infos, truncated=True)


def same_step_part(
    batch_space: spaces.Space[Any],
    size: int,
    last_obs: Any,
    reset_obs: Any,
    reset_infos: dict[str, Any],
    reason: str,
) -> StepPart:
    """SAME_STEP: truncated and already reset; the last observations and the flags become final ones."""
    finals = np.empty(size, dtype=object)
    for i, obs in enumerate(iterate(batch_space, last_obs)):
        finals[i] = obs
    infos: dict[str, Any] = {
        "final_obs": finals,
        "_final_obs": np.ones(size, dtype=np.bool_),
        "final_info": restart_infos(size, reason),
        "_final_info": np.ones(size, dtype=np.bool_),
        **reset_infos,
    }
    return truncated_part(reset_obs, size, infos)


def reset_as_step(reset_obs: Any, reset_infos: dict[str, Any], size: int) -> StepPart:
    """NEXT_STEP: the step after the restart resets the sub-envs (reward 0, not done), as autoreset does."""
    return _step_part(reset_obs, size, reset_infos, truncated=False)


def _step_part(obs: Any, size: int, infos: dict[str, Any], *, truncated: bool) -> StepPart:
    rewards = np.zeros(size, dtype=np.float64)
    return obs, rewards, np.zeros(size, dtype=np.bool_), np.full(size, truncated, dtype=np.bool_), infos
