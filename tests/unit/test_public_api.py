"""The public API is an explicit, sorted, complete __all__, source-compatible with remote-gym 0.7.x."""

from __future__ import annotations

import inspect
import types

import pytest

import remote_gym
import remote_gym.codec
import remote_gym.errors


def test_all_is_sorted_and_complete() -> None:
    """Every public non-module name of remote_gym is exported, and __all__ is sorted."""
    assert remote_gym.__all__ == sorted(remote_gym.__all__)
    public = {
        name
        for name, value in vars(remote_gym).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(remote_gym.__all__) == set()
    for name in remote_gym.__all__:
        assert hasattr(remote_gym, name)


def test_seed_api_names_exist() -> None:
    """The 0.7.x entry points are importable from the package root."""
    from remote_gym import RemoteEnvironment, create_remote_environment_server

    params = inspect.signature(create_remote_environment_server).parameters
    assert list(params)[:4] == ["default_args", "url", "port", "server_credentials_paths"]
    params = inspect.signature(RemoteEnvironment).parameters
    # 0.7.x's positional order.
    assert list(params)[:5] == ["url", "port", "remote_args", "client_credentials_paths", "render_mode"]


def test_codec_all_is_sorted() -> None:
    """remote_gym.codec exports a sorted __all__ of encode/decode pairs."""
    names = remote_gym.codec.__all__
    assert names == sorted(names)
    encoders = {n.removeprefix("encode_") for n in names if n.startswith("encode_")}
    decoders = {n.removeprefix("decode_") for n in names if n.startswith("decode_")}
    assert encoders == decoders


def test_every_exception_derives_from_the_base() -> None:
    """Every exception class in remote_gym.errors derives from RemoteGymError and ends in Error."""
    for name, value in vars(remote_gym.errors).items():
        if not (isinstance(value, type) and value.__module__ == "remote_gym.errors"):
            continue
        if issubclass(value, Warning):
            assert issubclass(value, remote_gym.errors.RemoteGymWarning), name
            assert name.endswith("Warning"), name
        elif issubclass(value, BaseException):
            assert issubclass(value, remote_gym.errors.RemoteGymError), name
            assert name.endswith("Error"), name


def test_pettingzoo_all_is_sorted_and_complete() -> None:
    """remote_gym.pettingzoo exports a sorted __all__ of every public name it holds."""
    pettingzoo_api = pytest.importorskip("remote_gym.pettingzoo")
    names = pettingzoo_api.__all__
    assert names == sorted(names)
    public = {
        name
        for name, value in vars(pettingzoo_api).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public == set(names)
