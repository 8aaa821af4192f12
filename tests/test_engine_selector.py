"""The engine selector: which engines load, by which name, and which SIMD paths it refuses."""

from __future__ import annotations

import platform
import sys
from typing import Optional

import pytest

from md5steg import _engine, _engine_py
from md5steg._engine import SIMD_PATH_NAMES, available_engines, load_engine, resolve_simd
from md5steg.errors import EngineError

needs_compiled = pytest.mark.skipif(
    _engine.COMPILED is None, reason="the compiled core is not built here"
)
ARM64 = platform.machine().lower() in ("aarch64", "arm64") and sys.platform != "win32"


def test_each_engine_loads_by_its_own_name(engine: str) -> None:
    assert engine == load_engine(engine).ENGINE_NAME


def test_default_engine_is_the_first_available() -> None:
    assert available_engines()[0] == load_engine().ENGINE_NAME


def test_engine_names_are_distinct_and_pure_is_always_there() -> None:
    names = available_engines()
    assert len(set(names)) == len(names)
    assert names[-1] == _engine_py.ENGINE_NAME


def test_unknown_engine_is_refused_with_the_choices() -> None:
    with pytest.raises(EngineError, match=r"unknown engine 'rust'; choose one of"):
        load_engine("rust")


@needs_compiled
def test_no_extensions_switches_the_compiled_engine_off_at_run_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _engine.COMPILED is not None
    compiled = _engine.COMPILED.ENGINE_NAME
    monkeypatch.setenv("MD5STEG_NO_EXTENSIONS", "1")
    assert available_engines() == [_engine_py.ENGINE_NAME]
    with pytest.raises(EngineError, match="MD5STEG_NO_EXTENSIONS is set"):
        load_engine(compiled)
    monkeypatch.setenv("MD5STEG_NO_EXTENSIONS", "0")
    assert load_engine(compiled) is _engine.COMPILED


@needs_compiled
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_resolve_simd_refuses_a_path_this_cpu_lacks(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = load_engine(available_engines()[0])
    lacking = next(name for name in SIMD_PATH_NAMES if name not in compiled.simd_paths())  # neon on x86
    for name, refusal in ((lacking, f"SIMD path '{lacking}' is not available.*scalar"), ("avx1024", "unknown SIMD path 'avx1024'")):
        if how == "argument":
            wanted: Optional[str] = name
        else:
            monkeypatch.setenv("MD5STEG_SIMD", name)
            wanted = None
        with pytest.raises(EngineError, match=refusal):
            resolve_simd(compiled, wanted)


@pytest.mark.parametrize("name", ["avx1024", "NEON", "sse2 "])
def test_every_engine_refuses_a_name_that_is_no_kernel_anywhere(name: str) -> None:
    """The pure engine ignores a kernel name (the same command runs everywhere), but not a typo."""
    for engine_name in available_engines():
        with pytest.raises(EngineError, match="unknown SIMD path"):
            resolve_simd(load_engine(engine_name), name)


@needs_compiled
def test_resolve_simd_takes_a_path_this_cpu_has(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = load_engine(available_engines()[0])
    monkeypatch.delenv("MD5STEG_SIMD", raising=False)
    assert resolve_simd(compiled, None) == compiled.default_simd_path()
    monkeypatch.setenv("MD5STEG_SIMD", "scalar")
    assert resolve_simd(compiled, None) == "scalar"


@needs_compiled
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_neon_is_taken_by_name_on_arm64_and_refused_elsewhere(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = load_engine(available_engines()[0])
    monkeypatch.delenv("MD5STEG_SIMD", raising=False)
    wanted = "neon" if how == "argument" else None
    if how == "environment":
        monkeypatch.setenv("MD5STEG_SIMD", "neon")
    if ARM64:
        assert resolve_simd(compiled, wanted) == "neon"
    else:
        with pytest.raises(EngineError, match=r"SIMD path 'neon' is not available.*scalar"):
            resolve_simd(compiled, wanted)


def test_the_pure_engine_ignores_simd_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD5STEG_SIMD", "avx2")
    assert resolve_simd(load_engine(_engine_py.ENGINE_NAME), None) == "none"
