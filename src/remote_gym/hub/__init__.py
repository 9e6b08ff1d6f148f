"""A hub trainers reach, to which env hosts behind NAT or firewalls dial out (``remote-gym hub``)."""

from __future__ import annotations

from remote_gym.hub.config import HubConfig
from remote_gym.hub.hub import Hub

__all__ = ["Hub", "HubConfig"]
