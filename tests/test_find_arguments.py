"""Bad calls to the library: every one raises an ``md5steg.Md5stegError`` subclass with a clear message.

The README promises that errors derive from ``Md5stegError``, so a caller can
catch md5steg's failures and nothing else. Each row below is a mistake a
caller can make; none may surface as a bare ``TypeError``, ``ValueError``,
``AttributeError``, ``KeyError`` or ``UnicodeEncodeError``, nor be accepted.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import md5steg
from md5steg.alphabets import Alphabet
from md5steg.content import Content
from md5steg.target import Target

BAD_FIND_CALLS: dict[str, dict[str, Any]] = {
    "text instead of bytes": {"data": "text", "prefix": "00"},
    "no data": {"data": None, "prefix": "00"},
    "an int as data": {"data": 5, "prefix": "00"},
    "a list as data": {"data": [1, 2], "prefix": "00"},
    "an int prefix": {"prefix": 0},
    "a bytes prefix": {"prefix": b"00"},
    "an int pattern": {"pattern": 5},
    "no target": {},
    "both targets": {"prefix": "ab", "pattern": "ab"},
    "non-hex prefix": {"prefix": "xyz"},
    "a 33-digit prefix": {"prefix": "0" * 33},
    "a pattern of wildcards": {"pattern": "____"},
    "a surrogate in the prefix": {"prefix": "0\udcff"},
    "jobs=0": {"prefix": "00", "jobs": 0},
    "jobs=-1": {"prefix": "00", "jobs": -1},
    "a million jobs": {"prefix": "00", "jobs": 10**6},
    "jobs as text": {"prefix": "00", "jobs": "2"},
    "fractional jobs": {"prefix": "00", "jobs": 2.5},
    "jobs=True": {"prefix": "00", "jobs": True},
    "an unknown alphabet": {"prefix": "00", "alphabet": "nope"},
    "an int alphabet": {"prefix": "00", "alphabet": 5},
    "a bytes alphabet": {"prefix": "00", "alphabet": b"ws5"},
    "alphabet=None": {"prefix": "00", "alphabet": None},
    "an unknown engine": {"prefix": "00", "engine": "fortran"},
    "an int engine": {"prefix": "00", "engine": 5},
    "an unknown SIMD path": {"prefix": "00", "simd": "neon-x"},
    "an int SIMD path": {"prefix": "00", "simd": 5},
    "an unknown backend": {"prefix": "00", "backend": "nope"},
    "an int backend": {"prefix": "00", "backend": 5},
    "a progress that is not callable": {"prefix": "00", "progress": 5},
    "a negative time bound": {"prefix": "00", "max_expected_seconds": -1},
    "a zero time bound": {"prefix": "00", "max_expected_seconds": 0},
    "a NaN time bound": {"prefix": "00", "max_expected_seconds": math.nan},
    "a time bound as text": {"prefix": "00", "max_expected_seconds": "60"},
    "an int scheduler": {"prefix": "00", "scheduler": 5},
    "gpu as text": {"prefix": "00", "gpu": "yes"},
    "cpu as text": {"prefix": "00", "cpu": "x"},
    "cpu=1": {"prefix": "00", "cpu": 1},
    "resume as text": {"prefix": "00", "resume": "x"},
    "resume=None": {"prefix": "00", "resume": None},
    "cpu with backend opencl": {"prefix": "00", "cpu": True, "backend": "opencl"},
    "cpu with gpu": {"prefix": "00", "cpu": True, "gpu": True},
    "cpu with an OpenCL device": {"prefix": "00", "cpu": True, "opencl_device": "gpu"},
    "an int OpenCL device": {"prefix": "00", "opencl_device": 5},
    "32 digits within the default hour": {"prefix": "0" * 32},
}


@pytest.mark.parametrize("arguments", BAD_FIND_CALLS.values(), ids=BAD_FIND_CALLS.keys())
def test_every_bad_find_call_raises_an_md5steg_error(arguments: dict[str, Any]) -> None:
    arguments = {"data": b"x", **arguments}
    with pytest.raises(md5steg.Md5stegError) as raised:
        md5steg.find(**arguments)
    message = str(raised.value)
    assert message and "\n" not in message


OTHER_BAD_CALLS: dict[str, Callable[[], object]] = {
    "Target.from_prefix(int)": lambda: Target.from_prefix(5),  # type: ignore[arg-type]
    "Target.from_prefix(None)": lambda: Target.from_prefix(None),  # type: ignore[arg-type]
    "Target.from_pattern(bytes)": lambda: Target.from_pattern(b"00"),  # type: ignore[arg-type]
    "Target('zz')": lambda: Target("zz"),
    "Target('')": lambda: Target(""),
    "Target(5)": lambda: Target(5),  # type: ignore[arg-type]
    "Alphabet.from_chars(int)": lambda: Alphabet.from_chars(5),  # type: ignore[arg-type]
    "Alphabet.from_chars(bytes)": lambda: Alphabet.from_chars(b"ab"),  # type: ignore[arg-type]
    "Alphabet.from_chars(surrogate)": lambda: Alphabet.from_chars("a\udcff"),
    "Alphabet.named(list)": lambda: Alphabet.named(["ws5"]),  # type: ignore[arg-type]
    "Alphabet.named(None)": lambda: Alphabet.named(None),  # type: ignore[arg-type]
    "Alphabet(one symbol)": lambda: Alphabet("one", (b"a",)),
    "Alphabet(repeated symbols)": lambda: Alphabet("twice", (b"a", b"a")),
    "Alphabet(empty symbol)": lambda: Alphabet("empty", (b"", b"a")),
    "Alphabet(str symbols)": lambda: Alphabet("text", ("a", "b")),  # type: ignore[arg-type]
    "Content.from_bytes(str)": lambda: Content.from_bytes("text"),  # type: ignore[arg-type]
    "Content.from_bytes(int)": lambda: Content.from_bytes(5),  # type: ignore[arg-type]
    "Content.from_bytes(None)": lambda: Content.from_bytes(None),  # type: ignore[arg-type]
    "Content.from_stream(int)": lambda: Content.from_stream(5),  # type: ignore[arg-type]
    "Content.from_stream(text stream)": lambda: Content.from_stream(io.StringIO("text")),  # type: ignore[arg-type]
    "Content.from_stream(chunk_size=0)": lambda: Content.from_stream(io.BytesIO(b"x"), chunk_size=0),
    "Content(1, 2, 3)": lambda: Content(1, 2, 3),  # type: ignore[arg-type]
    "Content(str tail)": lambda: Content(1, "x", None, b"x"),  # type: ignore[arg-type]
    "Content(3 state words)": lambda: Content(0, b"", (1, 2, 3)),  # type: ignore[arg-type]
    "Content(a tail that does not fit)": lambda: Content(65, b"", (1, 2, 3, 4)),
    "Content(data of another length)": lambda: Content(3, b"abc", None, b"abcd"),
    "md5_with(str)": lambda: Content.from_bytes(b"x").md5_with("x"),  # type: ignore[arg-type]
    "md5_with(None)": lambda: Content.from_bytes(b"x").md5_with(None),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("call", OTHER_BAD_CALLS.values(), ids=OTHER_BAD_CALLS.keys())
def test_bad_targets_alphabets_and_contents_raise_md5steg_errors(call: Callable[[], object]) -> None:
    with pytest.raises(md5steg.Md5stegError):
        call()


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.integers(), max_size=3),
)


def test_cpu_with_backend_opencl_is_refused_before_any_search_as_the_cli_refuses_it() -> None:
    """The CLI calls ``--cpu --backend opencl`` a usage error; the API ran it on the CPU silently."""
    with pytest.raises(md5steg.InvalidArgumentError, match="cpu=True contradicts"):
        md5steg.find(b"x", "00", cpu=True, backend="opencl")


def test_cpu_and_resume_take_booleans_as_gpu_does() -> None:
    match = md5steg.find(b"x", "0", jobs=1, cpu=True, resume=False)
    assert hashlib.md5(b"x" + match.suffix).hexdigest().startswith("0")


@given(
    keyword=st.sampled_from(["prefix", "pattern", "alphabet", "jobs", "engine", "simd", "max_expected_seconds"]),
    value=JUNK,
)
def test_any_junk_in_any_argument_is_answered_or_refused_with_an_md5steg_error(keyword: str, value: object) -> None:
    """Whatever one argument holds, find either answers (checked with hashlib) or raises an Md5stegError."""
    arguments: dict[str, Any] = {"jobs": 1, "prefix": "0"}
    if keyword == "pattern":
        del arguments["prefix"]
    arguments[keyword] = value
    try:
        match = md5steg.find(b"junk", **arguments)
    except md5steg.Md5stegError:
        return
    target = Target.from_pattern(arguments.get("pattern") or arguments["prefix"])
    assert match.md5 == hashlib.md5(b"junk" + match.suffix).hexdigest() and target.matches(match.md5)


class SearchGoesOn(Exception):
    """Raised by the progress callback on its second call: the search got past the time bound."""


def stop_on_the_second_report() -> Callable[[md5steg.Progress], None]:
    reports: list[md5steg.Progress] = []

    def progress(snapshot: md5steg.Progress) -> None:
        reports.append(snapshot)
        if len(reports) == 2:  # the first comes with the calibration, before the bound is checked
            raise SearchGoesOn()

    return progress


def test_the_default_time_bound_is_an_hour_and_none_or_infinity_lifts_it() -> None:
    with pytest.raises(md5steg.TooMuchWorkError, match="candidates"):
        md5steg.find(b"x", "0" * 24, jobs=1, progress=stop_on_the_second_report())
    for unbounded in (None, math.inf):
        with pytest.raises(SearchGoesOn):
            md5steg.find(b"x", "0" * 24, jobs=1, max_expected_seconds=unbounded, progress=stop_on_the_second_report())
