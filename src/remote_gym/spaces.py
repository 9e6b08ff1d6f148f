"""Third-party spaces on the wire: register a codec for a custom space, and the opaque RemoteSpace."""

from remote_gym.codec.custom_spaces import ENTRY_POINT_GROUP, SpaceCodec, register_space
from remote_gym.codec.remote_space import RemoteSpace

__all__ = ["ENTRY_POINT_GROUP", "RemoteSpace", "SpaceCodec", "register_space"]
