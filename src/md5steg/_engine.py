"""Chooses the engine: the compiled core when it imports, else pure Python.

``MD5STEG_NO_EXTENSIONS=1`` forces the pure engine (as msgpack does), so the
whole test suite can run on either. Both modules expose the same names:
``ENGINE_NAME``, ``Scanner``, ``simd_paths`` and ``default_simd_path``.
"""

from __future__ import annotations

import os
from types import ModuleType

from .errors import EngineError

ENGINE_NAMES = ("cython", "python")


def extensions_disabled() -> bool:
    return os.environ.get("MD5STEG_NO_EXTENSIONS", "").strip() not in ("", "0")


def _load_compiled() -> ModuleType | None:
    if extensions_disabled():
        return None
    try:
        from . import _core
    except ImportError:
        return None
    return _core


def available_engines() -> list[str]:
    """Engines usable in this process, preferred first."""
    return ["cython", "python"] if _load_compiled() is not None else ["python"]


def load_engine(name: str | None = None) -> ModuleType:
    """The engine module called ``name``, or the best available one for ``None``."""
    if name is None:
        name = available_engines()[0]
    if name == "python":
        from . import _engine_py

        return _engine_py
    if name == "cython":
        compiled = _load_compiled()
        if compiled is None:
            why = (
                "MD5STEG_NO_EXTENSIONS is set"
                if extensions_disabled()
                else "the compiled extension md5steg._core is not built (run `pip install .` with a C compiler)"
            )
            raise EngineError(f"the cython engine is not available: {why}")
        return compiled
    raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


def resolve_simd(engine: ModuleType, simd: str | None) -> str:
    """The SIMD path to run: ``simd``, else ``MD5STEG_SIMD``, else the engine's best."""
    wanted = simd or os.environ.get("MD5STEG_SIMD") or None
    paths: list[str] = engine.simd_paths()
    if wanted is None or engine.ENGINE_NAME == "python":
        return str(engine.default_simd_path())
    if wanted not in paths:
        raise EngineError(
            f"SIMD path {wanted!r} is not available with this build and CPU; choose one of {', '.join(paths)}"
        )
    return wanted
