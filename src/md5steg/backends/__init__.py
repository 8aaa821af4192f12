"""Where searches run: the registry of backends.

Adding a backend is one ``Backend`` subclass in this package and one line in
``BACKENDS``. Classes are imported only when used, so an optional dependency
(Dask, PyOpenCL) costs nothing to a search that does not need it; a backend
module imports such a dependency inside its methods, never at the top.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import BackendError
from .base import Backend, BackendOption, ChunkResult, SearchJob

BACKENDS: dict[str, str] = {
    "pool": "md5steg.backends.pool:ProcessPoolBackend",
    "dask": "md5steg.backends.dask:DaskBackend",
    "opencl": "md5steg.backends.opencl:OpenCLBackend",
}
"""Backend name -> ``module:Class``; the CLI's ``--backend`` choices and options come from here."""

DEFAULT_BACKEND = "pool"


def backend_class(name: str) -> type[Backend]:
    """The class registered as ``name``."""
    try:
        module_name, _, class_name = BACKENDS[name].partition(":")
    except KeyError:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}") from None
    backend: type[Backend] = getattr(importlib.import_module(module_name), class_name)
    return backend


def backend_classes() -> list[type[Backend]]:
    """Every registered backend class, in registry order."""
    return [backend_class(name) for name in BACKENDS]


def create_backend(name: str, settings: Mapping[str, Any], jobs: Optional[int] = None) -> Backend:
    """The backend ``name`` built from option values (keyword -> value)."""
    return backend_class(name).from_settings(settings, jobs)


def selected_backend(settings: Mapping[str, Any]) -> Optional[str]:
    """The one backend whose options are set in ``settings``, or None; two at once is an error.

    The exception: a scheduler with OpenCL options is Dask searching on its workers' devices.
    """
    chosen = [
        cls.name
        for cls in backend_classes()
        if any(settings.get(option.keyword) for option in cls.options)
    ]
    if set(chosen) == {"dask", "opencl"}:
        return "dask"
    if len(chosen) > 1:
        raise BackendError(f"options of several backends were given ({', '.join(chosen)}); choose one")
    return chosen[0] if chosen else None


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Backend",
    "BackendOption",
    "ChunkResult",
    "SearchJob",
    "backend_class",
    "backend_classes",
    "create_backend",
    "selected_backend",
]
