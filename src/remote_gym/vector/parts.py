"""A vector env split into parts (hosts, or one session's helper processes): the bookkeeping both sides share.

The client splits a ``RemoteVectorEnv`` over hosts; a server splits one session over helper
processes. Both must answer exactly as one ``SyncVectorEnv`` over all sub-envs would: the seeds and
``reset_mask`` each part gets, which parts a masked reset leaves alone (their last observations fill
in), and, in DISABLED mode, refusing a step while an ended sub-env awaits its reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import create_empty_array

from remote_gym.errors import InvalidCallError
from remote_gym.vector.splits import check_reset_mask, merge_batches, offsets_of, split_seeds


@dataclass
class ResetPlan:
    """What each part gets for one ``reset``."""

    seeds: list[Any]
    """Each part's seed (an int, a list of its sub-envs' seeds, or None)."""
    options: list[dict[str, Any] | None]
    """Each part's options, with its slice of the reset mask."""
    active: list[bool]
    """Whether the part resets at all (a mask that marks none of its sub-envs leaves it alone)."""
    shared_options: dict[str, Any] | None
    """The options without a reset mask (for a part that must reset all its sub-envs)."""
    mask: np.ndarray | None


def disabled_mode_error(pending: np.ndarray) -> InvalidCallError:
    """The error of a step while, in DISABLED mode, sub-envs that ended their episode await a reset."""
    return InvalidCallError(
        f"autoreset_mode DISABLED: sub-envs {np.flatnonzero(pending).tolist()} ended their "
        "episode and must be reset (reset(options={'reset_mask': ...})) before the next step"
    )


class VectorParts:
    """The sizes of the parts, each part's last observations, and the sub-envs awaiting a reset.

    The merged results equal one ``SyncVectorEnv``'s over all sub-envs only while these hold:

    - Part ``k`` holds the consecutive sub-envs ``offsets[k] .. offsets[k] + sizes[k] - 1`` and is
      itself a vector env over exactly those, with this object's autoreset mode (a ``SyncVectorEnv``,
      or a session of one), seeded and masked as :meth:`plan_reset` says.
    - Every part answers with batches of its ``sizes[k]`` sub-envs, and results are given in part order.
    - Every step goes to every part (:meth:`check_step` before any of them steps, then
      :meth:`finish_step` with all parts' results); a reset goes to the parts the plan marks active,
      and :meth:`finish_reset` gets the observations of exactly those.

    ``pending`` then equals the sub-envs that one ``SyncVectorEnv`` would refuse to step in DISABLED
    mode, and ``last_obs`` what it would return for the sub-envs a masked reset leaves alone. (A
    single part checks DISABLED mode itself: a caller with one part may pass its results through
    instead of calling :meth:`finish_step`, keeping ``last_obs`` up to date itself.)
    """

    def __init__(
        self, single_observation_space: spaces.Space[Any], sizes: Sequence[int], autoreset_mode: AutoresetMode
    ) -> None:
        self.space = single_observation_space
        self.sizes = list(sizes)
        self.offsets = offsets_of(self.sizes)
        self.num_envs = sum(self.sizes)
        self.autoreset_mode = autoreset_mode
        self.last_obs: list[Any] = [None] * len(self.sizes)
        """Each part's last observations: they fill in for a part a masked reset leaves alone."""
        self.pending = np.zeros(self.num_envs, dtype=np.bool_)
        """DISABLED mode: sub-envs whose episode ended and that await a reset."""

    def plan_reset(self, seed: Any, options: dict[str, Any] | None) -> ResetPlan:
        """Split ``reset(seed=, options=)`` over the parts; the caller's options are not changed.

        Raises:
            ValueError, TypeError: A bad seed list or reset mask (Gymnasium's types and messages).
        """
        seeds = split_seeds(seed, self.sizes)
        shared = dict(options) if options is not None else None
        mask = None
        if shared is not None and "reset_mask" in shared:
            mask = check_reset_mask(shared.pop("reset_mask"), self.num_envs)
        part_options: list[dict[str, Any] | None] = []
        active: list[bool] = []
        for offset, size in zip(self.offsets, self.sizes, strict=True):
            part = None if mask is None else mask[offset : offset + size]
            # SyncVectorEnv refuses an all-False mask: a part whose envs are all left alone is not asked.
            active.append(part is None or bool(part.any()))
            part_options.append(shared if part is None else {**(shared or {}), "reset_mask": part})
        return ResetPlan(seeds, part_options, active, shared, mask)

    def finish_reset(self, plan: ResetPlan, observations: dict[int, Any]) -> Any:
        """Note the reset parts' observations (by part index); the merged observations of all parts."""
        for index, obs in observations.items():
            self.last_obs[index] = obs
        if plan.mask is None:
            self.pending[:] = False
        else:
            self.pending[plan.mask] = False
        return self.merged_observations()

    def merged_observations(self) -> Any:
        """Every part's last observations as one batch (empty arrays for a part never reset)."""
        parts = [
            obs if obs is not None else create_empty_array(self.space, size)
            for obs, size in zip(self.last_obs, self.sizes, strict=True)
        ]
        return merge_batches(self.space, parts)

    def check_step(self) -> None:
        """Refuse a step while, in DISABLED mode, a sub-env awaits its reset (before any part steps).

        Raises:
            InvalidCallError: A sub-env's episode ended and it was not reset.
        """
        if self.autoreset_mode is AutoresetMode.DISABLED and self.pending.any():
            raise disabled_mode_error(self.pending)

    def finish_step(self, parts: Sequence[tuple[Any, Any, Any, Any]]) -> tuple[Any, Any, Any, Any]:
        """Merge the parts' ``(obs, rewards, terminations, truncations)``, noting what each part ended."""
        self.last_obs = [part[0] for part in parts]
        terminations = np.concatenate([part[2] for part in parts])
        truncations = np.concatenate([part[3] for part in parts])
        self.pending = terminations | truncations
        return (
            merge_batches(self.space, self.last_obs),
            np.concatenate([part[1] for part in parts]),
            terminations,
            truncations,
        )
