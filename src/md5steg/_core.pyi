"""Type stub for the compiled engine ``md5steg._core`` (see ``_core.pyx``)."""

from typing import Optional, Union

from .content import Content
from .layout import Layout
from .target import Target

ENGINE_NAME: str
IV: tuple[int, int, int, int]

def simd_paths() -> list[str]:
    """SIMD paths this build has and this CPU can run, fastest first; always ends in "scalar"."""

def default_simd_path() -> str:
    """The path a search uses when none is forced (``MD5STEG_SIMD`` or ``simd=``)."""

def compress(
    state: tuple[int, int, int, int], data: Union[bytes, memoryview]
) -> tuple[int, int, int, int]:
    """The MD5 state (4 words) after compressing ``data``, whole 64-byte blocks, into ``state``."""

class Scanner:
    """Tests nonce indices of one layout against one target, from the content's midstate."""

    @property
    def simd_path(self) -> str: ...
    def __init__(
        self,
        content: Union[Content, bytes],
        layout: Layout,
        target: Target,
        simd: Optional[str] = None,
    ) -> None: ...
    def scan(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""

class CollisionSearch:
    """A resumable search for two 128-byte suffixes that collide from chaining value ``iv``."""

    def __init__(self, iv: tuple[int, int, int, int], seed_x: int, seed_y: int) -> None: ...
    def run(self, budget: int) -> bool:
        """Up to ``budget`` more attempts, without the GIL; True once the pair is found."""
    @property
    def attempts(self) -> int:
        """Attempts made so far (both blocks)."""
    @property
    def stage(self) -> int:
        """0 while searching block 0, 1 while searching block 1, 2 when done."""
    @property
    def rng_state(self) -> tuple[int, int]:
        """The PRNG's two words now (for checking the engines step by step)."""
    def pair(self) -> tuple[bytes, bytes]:
        """The two 128-byte suffixes (message 1's blocks, message 2's blocks), once found."""
