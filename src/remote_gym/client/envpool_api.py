"""EnvPool's ``make`` for remote envs: training code written for EnvPool's API runs on remote-gym servers.

Training libraries that drive EnvPool asynchronously (CleanRL's EnvPool scripts, Sample Factory-like
loops) call ``envpool.make(task_id, env_type="gymnasium", num_envs=N, batch_size=M, seed=S)`` and then
``async_reset()``, ``send(actions, env_id)`` and ``recv()``. :func:`make` takes the same arguments plus
the servers' ``address`` and returns a :class:`RemoteVectorEnv` with EnvPool's seeding: sub-env ``i``
is seeded ``seed + i`` by the first ``reset``/``async_reset`` that names no seed.

Example:
    >>> from remote_gym.client import make_envpool  # doctest: +SKIP
    >>> envs = make_envpool("CartPole-v1", num_envs=64, batch_size=32, seed=0, address=["a:56765", "b:56765"])  # doctest: +SKIP
    >>> envs.async_reset()  # doctest: +SKIP
    >>> obs, rew, term, trunc, info = envs.recv()  # doctest: +SKIP
    >>> envs.send(policy(obs), info["env_id"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.errors import ConfigError


class EnvPoolEnv(RemoteVectorEnv):
    """A RemoteVectorEnv seeded as EnvPool seeds its envs: ``seed + i`` at the first unseeded reset."""

    def __init__(self, *args: Any, seed: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seed = seed
        self._seeded = False

    def _first_seed(self, seed: Any) -> Any:
        if seed is None and not self._seeded:
            seed = self.seed
        self._seeded = True
        return seed

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """``RemoteVectorEnv.reset``; the first one without a seed uses the creation seed."""
        return super().reset(seed=self._first_seed(seed), options=options)

    def async_reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> None:
        """``RemoteVectorEnv.async_reset``; the first one without a seed uses the creation seed."""
        super().async_reset(seed=self._first_seed(seed), options=options)


def make(
    task_id: str,
    env_type: str = "gymnasium",
    *,
    address: str | Sequence[str],
    num_envs: int = 1,
    batch_size: int | None = None,
    seed: int = 42,
    **options: Any,
) -> EnvPoolEnv:
    """``envpool.make`` over remote-gym servers: ``num_envs`` sub-envs of ``task_id``, ``recv`` giving ``batch_size``.

    Args:
        task_id: The environment's name on the servers.
        env_type: ``"gymnasium"`` only (EnvPool's ``"gym"`` and ``"dm"`` APIs are not offered).
        address: The servers, as for :class:`RemoteVectorEnv`.
        num_envs: Sub-envs in all.
        batch_size: Results per ``recv`` (EnvPool's default: ``num_envs``).
        seed: Sub-env ``i`` gets ``seed + i`` at the first reset that names no seed.
        options: Other :class:`RemoteVectorEnv` arguments (``kwargs=`` for the env, ``tls=``, ...).

    Raises:
        ConfigError: Another ``env_type``, or bad arguments.
    """
    if env_type != "gymnasium":
        raise ConfigError(
            f"env_type must be 'gymnasium' (remote-gym speaks Gymnasium's API), got {env_type!r}"
        )
    return EnvPoolEnv(
        task_id,
        num_envs,
        address=address,
        batch_size=num_envs if batch_size is None else batch_size,
        seed=seed,
        **options,
    )


make_envpool = make
""":func:`make` under the name ``remote_gym.client`` exports it by."""
