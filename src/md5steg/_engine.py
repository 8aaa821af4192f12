"""Chooses the engine: the compiled core when it imports, else pure Python.

Both engines are imported once, here, at import time (as propcache's
``_helpers.py`` and msgpack's ``__init__.py`` bind theirs), and both satisfy
the ``Engine`` protocol below, so mypy --strict checks every caller.
``MD5STEG_NO_EXTENSIONS=1`` forces the pure engine (as msgpack does), so the
whole test suite can run on either; it is read on every call, so a process
can switch it off for later searches. Each engine module writes its own name
(``ENGINE_NAME``) once; everything else learns the names from here.
"""

from __future__ import annotations

import os
from typing import Optional, Protocol

from . import _engine_py
from .content import Content, extensions_disabled
from .errors import EngineError
from .layout import Layout
from .target import Target


class Scanner(Protocol):
    """Tests nonce indices of one layout against one target, from the content's midstate."""

    @property
    def simd_path(self) -> str: ...

    def scan(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""
        ...


class ScannerFactory(Protocol):
    """An engine's ``Scanner`` class: builds a scanner for one search."""

    def __call__(
        self,
        content: Content | bytes,
        layout: Layout,
        target: Target,
        simd: Optional[str] = None,
    ) -> Scanner: ...


class CollisionSearch(Protocol):
    """A resumable search for two colliding 128-byte suffixes (md5_collide.h / _collide_py)."""

    @property
    def attempts(self) -> int: ...

    @property
    def stage(self) -> int: ...

    def run(self, budget: int) -> bool:
        """Up to ``budget`` more attempts; True once the pair is found."""
        ...

    def pair(self) -> tuple[bytes, bytes]:
        """The two suffixes, once found."""
        ...


class CollisionSearchFactory(Protocol):
    """An engine's ``CollisionSearch`` class: one search from a chaining value and two seed words."""

    def __call__(self, iv: tuple[int, int, int, int], seed_x: int, seed_y: int) -> CollisionSearch: ...


class Engine(Protocol):
    """What the compiled module ``_core`` and the pure module ``_engine_py`` both provide."""

    @property
    def ENGINE_NAME(self) -> str: ...  # noqa: N802 - a module-level constant

    @property
    def Scanner(self) -> ScannerFactory: ...  # noqa: N802 - a module-level class

    @property
    def CollisionSearch(self) -> CollisionSearchFactory: ...  # noqa: N802 - a module-level class

    def simd_paths(self) -> list[str]:
        """SIMD paths this engine can run here, fastest first."""
        ...

    def default_simd_path(self) -> str:
        """The path a search uses when none is forced."""
        ...


def _import_compiled() -> tuple[Optional[Engine], str]:
    """The compiled engine, or None and why it is missing."""
    if extensions_disabled():
        return None, "MD5STEG_NO_EXTENSIONS is set"
    try:
        from . import _core
    except ImportError as exc:
        return None, f"the compiled extension md5steg._core does not import ({exc}); run `pip install .` with a C compiler"
    return _core, ""


COMPILED, _COMPILED_MISSING = _import_compiled()
PURE: Engine = _engine_py


def available_engines() -> list[str]:
    """Names of the engines usable in this process, preferred first."""
    if COMPILED is None or extensions_disabled():
        return [PURE.ENGINE_NAME]
    return [COMPILED.ENGINE_NAME, PURE.ENGINE_NAME]


def load_engine(name: Optional[str] = None) -> Engine:
    """The engine called ``name``, or the best available one for ``None``."""
    chosen = available_engines()[0] if name is None else name
    for engine in (COMPILED, PURE):
        if engine is not None and chosen == engine.ENGINE_NAME:
            if chosen not in available_engines():  # compiled, but switched off
                raise EngineError(f"the {chosen} engine is not available: MD5STEG_NO_EXTENSIONS is set")
            return engine
    hint = f" (no compiled engine here: {_COMPILED_MISSING})" if _COMPILED_MISSING else ""
    raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(available_engines())}{hint}")


SIMD_PATH_NAMES = ("avx512", "avx2", "sse2", "neon", "scalar")
"""Every kernel the compiled core has on some machine, fastest first."""


def resolve_simd(engine: Engine, simd: Optional[str]) -> str:
    """The SIMD path to run: ``simd``, else ``MD5STEG_SIMD``, else the engine's best.

    Only the compiled engine has several paths; the pure engine always runs its one,
    so it ignores a kernel name, though not a name that is no kernel anywhere.
    """
    wanted = simd or os.environ.get("MD5STEG_SIMD") or None
    if wanted is not None and wanted not in SIMD_PATH_NAMES:
        raise EngineError(f"unknown SIMD path {wanted!r}; choose one of {', '.join(SIMD_PATH_NAMES)}")
    paths = engine.simd_paths()
    if wanted is None or engine is PURE:
        return engine.default_simd_path()
    if wanted not in paths:
        raise EngineError(
            f"SIMD path {wanted!r} is not available with this build and CPU; choose one of {', '.join(paths)}"
        )
    return wanted
