"""Stand-in step results for a host whose worker died and whose session was re-created (restart mode)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import iterate

from remote_gym.codec.vector import RESTART_REASON_KEY, RESTARTED_KEY

# They follow what the server does when one sub-env fails in restart mode, for all of the host's
# sub-envs at once: the episode ends truncated with reward 0 and the last observation as its final one,
# ``info["env_restarted"]`` is True and ``info["env_restart_reason"]`` says why; the fresh envs are then
# reset as the autoreset mode prescribes (NEXT_STEP: on the next step; SAME_STEP: at once, the final
# observation and info going to ``final_obs``/``final_info``; DISABLED: by the user).

StepPart = tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]


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
    return (
        last_obs,
        np.zeros(size, dtype=np.float64),
        np.zeros(size, dtype=np.bool_),
        np.ones(size, dtype=np.bool_),
        infos,
    )


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
    return (
        reset_obs,
        np.zeros(size, dtype=np.float64),
        np.zeros(size, dtype=np.bool_),
        np.zeros(size, dtype=np.bool_),
        reset_infos,
    )
