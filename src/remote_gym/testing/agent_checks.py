"""Compare a remote PettingZoo env with the local one, step by step (needs PettingZoo)."""

from __future__ import annotations

from typing import Any

from gymnasium.utils.env_checker import data_equivalence


def _plain(result: Any) -> Any:
    """``result`` with its per-agent dicts as plain dicts: a dict subclass (PettingZoo's
    ``aec_to_parallel`` returns ``defaultdict`` rewards) crosses the wire as a dict, its default
    factory being code."""
    if isinstance(result, tuple):
        return tuple(dict(part) if isinstance(part, dict) else part for part in result)
    return result


def _mask(observation: Any, info: Any) -> Any:
    if isinstance(observation, dict) and "action_mask" in observation:
        return observation["action_mask"]
    return info.get("action_mask") if isinstance(info, dict) else None


def assert_parallel_trajectories_equal(local: Any, remote: Any, *, seed: int, steps: int) -> int:
    """Reset both Parallel envs with ``seed`` and step both with the same (seeded, masked) actions.

    Returns:
        The number of steps taken (an episode end resets both with ``seed + 1``).
    """
    results = [_plain(local.reset(seed=seed)), remote.reset(seed=seed)]
    assert data_equivalence(results[0], results[1], exact=True), "reset differs"
    for agent in local.possible_agents:
        local.action_space(agent).seed(seed)
    taken = 0
    while taken < steps:
        observations, infos = results[0][0], results[0][-1]
        actions = {
            agent: local.action_space(agent).sample(_mask(observations.get(agent), infos.get(agent, {})))
            for agent in local.agents
        }
        results = [_plain(local.step(actions)), remote.step(actions)]
        taken += 1
        assert data_equivalence(results[0], results[1], exact=True), f"step {taken} differs"
        assert list(local.agents) == list(remote.agents), f"agents differ after step {taken}"
        if not local.agents:
            seed += 1
            results = [_plain(local.reset(seed=seed)), remote.reset(seed=seed)]
            assert data_equivalence(results[0], results[1], exact=True), "reset differs"
    return taken


def assert_aec_trajectories_equal(local: Any, remote: Any, *, seed: int, steps: int) -> int:
    """Reset both AEC envs with ``seed`` and play both with the same (seeded, masked) actions.

    Returns:
        The number of turns played.
    """
    local.reset(seed=seed)
    remote.reset(seed=seed)
    for agent in local.possible_agents:
        local.action_space(agent).seed(seed)
    taken = 0
    for agent in local.agent_iter(steps):
        assert remote.agent_selection == agent, f"turn {taken}: {remote.agent_selection!r} != {agent!r}"
        last = local.last()
        assert data_equivalence(last, remote.last(), exact=True), f"last() differs at turn {taken}"
        assert list(local.agents) == list(remote.agents)
        for name in ("rewards", "terminations", "truncations", "infos"):
            assert data_equivalence(dict(getattr(local, name)), getattr(remote, name), exact=True), name
        observation, _, termination, truncation, info = last
        action = (
            None if termination or truncation else local.action_space(agent).sample(_mask(observation, info))
        )
        local.step(action)
        remote.step(action)
        taken += 1
    assert list(local.agents) == list(remote.agents)
    return taken
