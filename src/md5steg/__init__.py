"""md5steg: make an MD5 hex digest start with a chosen prefix by appending invisible symbols.

>>> import md5steg
>>> match = md5steg.find(b"hello\\n", "c0ffee")
>>> match.md5.startswith("c0ffee")
True
"""

from ._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~30 ms at start-up)

if TYPE_CHECKING:
    from .alphabets import NAMED_ALPHABETS, Alphabet
    from .collision import Collision, collide
    from .errors import (
        ArgumentTypeError,
        BackendError,
        EngineError,
        InvalidAlphabetError,
        InvalidArgumentError,
        InvalidTargetError,
        Md5stegError,
        SearchExhaustedError,
        TooMuchWorkError,
    )
    from .search import Match, Progress, find
    from .stego import hide, reveal
    from .target import Target

# Imported on first use (PEP 562), so `import md5steg` costs nothing until the
# library is used: the console script can catch Ctrl-C from its first milliseconds.
_LAZY_EXPORTS = {
    "NAMED_ALPHABETS": "alphabets",
    "Alphabet": "alphabets",
    "ArgumentTypeError": "errors",
    "Collision": "collision",
    "collide": "collision",
    "BackendError": "errors",
    "EngineError": "errors",
    "InvalidAlphabetError": "errors",
    "InvalidArgumentError": "errors",
    "InvalidTargetError": "errors",
    "Md5stegError": "errors",
    "SearchExhaustedError": "errors",
    "TooMuchWorkError": "errors",
    "Match": "search",
    "Progress": "search",
    "find": "search",
    "hide": "stego",  # needs the optional cryptography package (the [hide] extra)
    "reveal": "stego",
    "Target": "target",
}


def __getattr__(name: str) -> object:
    """Import a public name's module on first use (PEP 562)."""
    if name not in _LAZY_EXPORTS:
        raise AttributeError(f"module 'md5steg' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "NAMED_ALPHABETS",
    "Alphabet",
    "ArgumentTypeError",
    "BackendError",
    "Collision",
    "EngineError",
    "InvalidAlphabetError",
    "InvalidArgumentError",
    "InvalidTargetError",
    "Match",
    "Md5stegError",
    "Progress",
    "SearchExhaustedError",
    "Target",
    "TooMuchWorkError",
    "__version__",
    "collide",
    "find",
    "hide",
    "reveal",
]
