"""Public names of a package namespace, imported on first use (PEP 562).

A process that needs only part of the package (an environment's worker imports just
``remote_gym.server.handlers``) then loads neither gRPC nor TLS nor the client with the namespace.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose public names live in other modules.

    Args:
        package: The package's ``__name__``.
        modules: Each public name, and the module defining it.

    Returns:
        The two functions, for the package to bind as its ``__getattr__`` and ``__dir__``.
    """

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(modules))

    return __getattr__, __dir__
