"""Third-party spaces travel through a registered codec, or as an opaque RemoteSpace."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.spaces import Dict, Discrete, Sequence, Space, Tuple

from remote_gym import register_space
from remote_gym.codec.remote_space import RemoteSpace, bind_remote_spaces, remote_spaces_in, subspace_at
from remote_gym.codec.spaces import decode_space, encode_space
from remote_gym.errors import ConfigError, DecodeError, UnsupportedSpaceError
from remote_gym.testing.custom_envs import ColourSpace


class _Grid(Space[Any]):
    """A custom space with a shape and a dtype, and a codec registered below."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(shape=(size, size), dtype=np.uint8)

    def sample(self, mask: Any = None, probability: Any = None) -> Any:
        return self.np_random.integers(0, 2, size=(self.size, self.size), dtype=np.uint8)

    def contains(self, x: Any) -> bool:
        return isinstance(x, np.ndarray) and x.shape == self.shape

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Grid) and other.size == self.size

    def __hash__(self) -> int:
        return self.size


class _Unwired(_Grid):
    """A subclass whose codec fails: it must still travel, as a RemoteSpace."""


register_space(
    _Grid, lambda space: {"size": space.size}, lambda payload: _Grid(payload["size"]), name="test.Grid"
)
register_space(_Unwired, lambda space: object(), lambda payload: _Unwired(0), name="test.Unwired")


def test_registered_space_round_trips_to_its_class() -> None:
    """A space with a registered codec decodes to an equal space of the same class, also nested."""
    space = Dict({"grid": _Grid(3), "more": Tuple((Discrete(2), _Grid(2)))})
    decoded = decode_space(encode_space(space))
    assert decoded == space
    assert type(decoded["grid"]) is _Grid


def test_codec_name_is_on_the_wire() -> None:
    """The wire carries the codec's name and the class's qualified name, and a value payload."""
    custom = encode_space(_Grid(4)).custom
    assert custom.codec == "test.Grid"
    assert custom.class_name.endswith("._Grid")
    assert list(custom.shape) == [4, 4]
    assert custom.has_shape


def test_space_without_codec_becomes_remote_space() -> None:
    """A custom space with no codec decodes to a RemoteSpace with its class name and description."""
    decoded = decode_space(encode_space(Sequence(ColourSpace())))
    remote = decoded.feature_space
    assert isinstance(remote, RemoteSpace)
    assert remote.class_name == "remote_gym.testing.custom_envs.ColourSpace"
    assert remote.description == "ColourSpace(['red', 'green', 'blue'])"
    assert remote.shape is None
    assert remote.dtype is None


def test_failing_codec_falls_back_to_remote_space() -> None:
    """A codec whose payload has no wire form leaves the space opaque instead of failing."""
    decoded = decode_space(encode_space(_Unwired(2)))
    assert isinstance(decoded, RemoteSpace)
    assert decoded.shape == (2, 2)
    assert decoded.dtype == np.uint8


def test_remote_space_equality_and_contains() -> None:
    """RemoteSpaces compare by class name and description; contains checks the shape and dtype it knows."""
    a = RemoteSpace("m.S", "S(1)", shape=(2,), dtype=np.float32)
    assert a == RemoteSpace("m.S", "S(1)")
    assert a != RemoteSpace("m.S", "S(2)")
    assert a.contains(np.zeros(2, dtype=np.float32))
    assert not a.contains(np.zeros(3, dtype=np.float32))
    assert not a.contains(np.zeros(2, dtype=np.float64))
    assert RemoteSpace("m.S", "S").contains("anything")


def test_remote_space_samples_through_its_sampler() -> None:
    """sample() calls the bound sampler with the space's path; copies share it; unbound it raises."""
    space = Dict({"a": Discrete(2), "b": Tuple((RemoteSpace("m.S", "S"),))})
    with pytest.raises(UnsupportedSpaceError, match="not bound"):
        space.sample()
    bind_remote_spaces(space, "observation", lambda which, path: f"{which}:{'/'.join(path)}")
    assert space.sample()["b"] == ("observation:b/0",)
    assert copy.deepcopy(space)["b"][0].sample() == "observation:b/0"


def test_subspace_at_follows_paths() -> None:
    """subspace_at finds what remote_spaces_in names, and refuses a path that leads nowhere."""
    space = Dict({"x": Sequence(Tuple((Discrete(2), RemoteSpace("m.S", "S"))))})
    ((path, remote),) = remote_spaces_in(space)
    assert path == ("x", "feature_space", "1")
    assert subspace_at(space, path) is remote
    with pytest.raises(DecodeError):
        subspace_at(space, ("y",))


def test_register_space_refuses_non_spaces() -> None:
    """register_space refuses a class that is not a gymnasium.Space."""
    with pytest.raises(ConfigError):
        register_space(int, str, int)  # type: ignore[arg-type]


def test_minigrid_mission_space_round_trips() -> None:
    """MiniGrid's MissionSpace travels through the built-in codec and compares equal."""
    pytest.importorskip("minigrid")
    from minigrid.core.mission import MissionSpace

    space = MissionSpace(
        mission_func=lambda colour, obj: f"pick up the {colour} {obj}",
        ordered_placeholders=[["red", "green"], ["ball", "key"]],
    )
    decoded = decode_space(encode_space(space))
    assert type(decoded) is MissionSpace
    assert decoded == space
    assert decoded.contains("pick up the green key")
    assert decode_space(encode_space(MissionSpace(mission_func=lambda: "go"))) == MissionSpace(lambda: "go")


def test_minigrid_mission_function_that_is_no_template_stays_opaque() -> None:
    """A mission function that does more than fill a template is served as a RemoteSpace."""
    pytest.importorskip("minigrid")
    from minigrid.core.mission import MissionSpace

    space = MissionSpace(mission_func=lambda obj: f"get {obj.upper()}", ordered_placeholders=[["a", "b"]])
    assert isinstance(decode_space(encode_space(space)), RemoteSpace)


def test_gym_flatten_does_not_know_remote_space() -> None:
    """As with the server's own class, Gymnasium's flatten utilities refuse a RemoteSpace."""
    with pytest.raises((NotImplementedError, ValueError)):
        gym.spaces.flatdim(RemoteSpace("m.S", "S"))
