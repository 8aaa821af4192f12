"""Type stub for the compiled engine ``md5steg._core`` (see ``_core.pyx``)."""

from typing import Optional

from .layout import Layout
from .target import Target

ENGINE_NAME: str

def simd_paths() -> list[str]:
    """SIMD paths this build has and this CPU can run, fastest first; always ends in "scalar"."""

def default_simd_path() -> str:
    """The path a search uses when none is forced (``MD5STEG_SIMD`` or ``simd=``)."""

def midstate(data: bytes) -> tuple[bytes, int]:
    """MD5 state after the whole 64-byte blocks of ``data``: (16 state bytes, bytes consumed)."""

class Scanner:
    """Tests nonce indices of one layout against one target, from one shared midstate."""

    @property
    def simd_path(self) -> str: ...
    def __init__(
        self, content: bytes, layout: Layout, target: Target, simd: Optional[str] = None
    ) -> None: ...
    def scan(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""
