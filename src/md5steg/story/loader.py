"""Read a story folder: UTF-8 pages linked with ``[[name]]``, and an optional ``story.toml``.

A page is a ``*.txt`` or ``*.md`` file; its name is the file stem (letters,
digits, ``-``, ``_``). Pages are kept as bytes, exactly as on disk (no newline
translation), because the bytes are what gets pasted and hashed. Only the
folder's own files are read: a page or ``story.toml`` that is a symbolic link,
or a page with a second hard link, is refused (``follow_symlinks`` to allow
it), and pages that no path of links from the start page reaches are left
out (``include_unreachable`` to keep them), so nothing outside the story is
ever published by accident. A page may have at most ``MAX_PAGE_BYTES``
(16 MiB) and ``story.toml`` ``MAX_CONFIG_BYTES`` (1 MiB). Every mistake
that can be found without a pastebin is found here, before anything is pasted,
and reported with the file and line.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..addresses import md5_hex
from .errors import StoryError
from .reading import MIB, read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

PAGE_SUFFIXES = (".txt", ".md")
CONFIG_NAME = "story.toml"
DEFAULT_START_PAGES = ("start", "index")
NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
LINK_RE = re.compile(rb"\[\[([^\[\]\r\n]*)\]\]")
HEX_RE = re.compile(r"[0-9a-f]+")
MAX_PAGE_BYTES = 16 * MIB
"""The largest page file read (every pastebin md5steg knows takes far less: md5bin 1 MiB by default)."""
MAX_CONFIG_BYTES = 1 * MIB
"""The largest ``story.toml`` read."""


@dataclass(frozen=True)
class Link:
    """One ``[[name]]`` in a page: where it is (byte offsets, line) and what it names."""

    target: str
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Page:
    """A page's exact bytes and its links, in the order they appear."""

    name: str
    path: Path
    source: bytes
    links: tuple[Link, ...]

    @property
    def source_md5(self) -> str:
        """MD5 of the file as read: what the manifest compares to notice an edit."""
        return md5_hex(self.source)

    @property
    def targets(self) -> frozenset[str]:
        """The names of the pages this page links to (itself included if it does)."""
        return frozenset(link.target for link in self.links)

    def render(self, urls: Mapping[str, str]) -> bytes:
        """The page with every ``[[name]]`` replaced by that page's URL."""
        parts: list[bytes] = []
        position = 0
        for link in self.links:
            parts.append(self.source[position : link.start])
            parts.append(urls[link.target].encode("utf-8"))
            position = link.end
        parts.append(self.source[position:])
        return b"".join(parts)


@dataclass(frozen=True)
class Story:
    """A loaded, checked story: pages by name, the start page, vanity prefixes, warnings."""

    folder: Path
    pages: Mapping[str, Page]
    start: str
    vanity: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def graph(self) -> dict[str, frozenset[str]]:
        """Page name -> names of the pages it links to."""
        return {name: page.targets for name, page in self.pages.items()}

    def reachable(self) -> set[str]:
        """Pages a reader can reach by following links from the start page."""
        seen = {self.start}
        frontier = [self.start]
        while frontier:
            for target in self.pages[frontier.pop()].targets:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return seen


def line_of(source: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset`` (for messages that name file and line)."""
    return source.count(b"\n", 0, offset) + 1


def parse_page(name: str, path: Path, source: bytes) -> Page:
    """Check one page's bytes and find its links; names the file and line of any mistake."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoryError(
            f"{path}:{line_of(source, exc.start)}: page {name!r} is not valid UTF-8 "
            f"(byte {exc.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise StoryError(
            f"{path}: page {name!r} is empty or only whitespace; write something or delete it"
        )
    links = []
    for match in LINK_RE.finditer(source):
        target = match.group(1).decode("utf-8").strip()
        line = line_of(source, match.start())
        if not NAME_RE.fullmatch(target):
            raise StoryError(
                f"{path}:{line}: link [[{match.group(1).decode('utf-8')}]] is not a valid page name; "
                f"use letters, digits, '-' and '_'"
            )
        links.append(Link(target, line, match.start(), match.end()))
    return Page(name=name, path=path, source=source, links=tuple(links))


def read_story_file(path: Path, follow_symlinks: bool, what: str, *, limit: int = MAX_PAGE_BYTES) -> bytes:
    """The bytes of a page or ``story.toml``: a regular file of the folder's own, at most ``limit`` bytes.

    A symbolic link could take in any file the user can read (``/etc/passwd``,
    a key) and paste it for the world, and so could a hard link, so both are
    refused unless ``follow_symlinks``; the link check holds also for a link
    swapped in after it (``O_NOFOLLOW``). A FIFO, a device or a folder is refused,
    and so is a followed link to nothing, or a file removed while the folder is read.
    """
    try:
        return read_regular_file(
            path,
            limit,
            what=what,
            error=StoryError,
            follow_symlinks=follow_symlinks,
            single_link=not follow_symlinks,
            link_hint="copy the file into the story folder, or pass --follow-symlinks to read links",
        )
    except FileNotFoundError:
        if path.is_symlink():
            raise StoryError(
                f"{path}: {what} is a symbolic link to {os.readlink(path)}, which does not exist"
            ) from None
        raise StoryError(f"{path}: {what} was removed while the story was read") from None


def _read_config(path: Path, follow_symlinks: bool) -> dict[str, Any]:
    source = read_story_file(path, follow_symlinks, CONFIG_NAME, limit=MAX_CONFIG_BYTES)
    try:
        config = tomllib.loads(source.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StoryError(
            f"{path}:{line_of(source, exc.start)}: not valid UTF-8 (byte {exc.start}); "
            f"save {CONFIG_NAME} as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise StoryError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # arrays or tables nested thousands deep: the parser recurses
        raise StoryError(f"{path}: nested too deeply to be a {CONFIG_NAME}") from None
    unknown = sorted(set(config) - {"start", "prefix"})
    if unknown:
        raise StoryError(
            f"{path}: unknown key(s) {', '.join(unknown)}; only 'start' and [prefix] are read"
        )
    return config


def _is_page_file(path: Path) -> bool:
    """A ``*.txt``/``*.md`` entry, whatever it is: a FIFO, a folder or a broken link named
    ``b.txt`` is refused by name when read, never skipped (a link to it would then name no page)."""
    return path.suffix in PAGE_SUFFIXES


def _read_pages(root: Path, follow_symlinks: bool) -> dict[str, Page]:
    pages: dict[str, Page] = {}
    for path in sorted(root.iterdir()):
        if not _is_page_file(path):
            continue
        name = path.stem
        if not NAME_RE.fullmatch(name):
            raise StoryError(
                f"{path}: {name!r} is not a valid page name; rename the file using letters, digits, '-' and '_'"
            )
        if name in pages:
            raise StoryError(
                f"{path}: page {name!r} also exists as {pages[name].path.name}; keep one of them"
            )
        source = read_story_file(path, follow_symlinks, f"page {name!r}")
        pages[name] = parse_page(name, path, source)
    if not pages:
        raise StoryError(f"{root} holds no pages; a page is a *.txt or *.md file")
    return pages


def load_story(
    folder: Union[str, Path], *, follow_symlinks: bool = False, include_unreachable: bool = False
) -> Story:
    """Load and check every page of ``folder``; raises ``StoryError`` on the first mistake.

    Pages and ``story.toml`` that are symbolic links (or pages with another
    hard link) are refused unless ``follow_symlinks``; the folder itself may
    be reached through a link. Pages the start page does not lead to are
    dropped with a warning unless ``include_unreachable``: no reader could
    find them, so publishing them would only expose what no one meant to.
    """
    root = Path(folder)
    if not root.is_dir():
        raise StoryError(f"{root} is not a folder; give the folder that holds the story's pages")
    pages = _read_pages(root, follow_symlinks)
    config_path = root / CONFIG_NAME
    config = {}
    if config_path.is_symlink() or config_path.exists():
        config = _read_config(config_path, follow_symlinks)
    for page in pages.values():
        for link in page.links:
            if link.target not in pages:
                raise StoryError(
                    f"{page.path}:{link.line}: link [[{link.target}]] names no page; "
                    f"create {link.target}.txt or fix the link"
                )

    start = config.get("start")
    if start is None:
        start = next((name for name in DEFAULT_START_PAGES if name in pages), None)
        if start is None:
            raise StoryError(
                f"{root} has no start page; name one page start.txt or index.txt, "
                f'or set start = "name" in {CONFIG_NAME}'
            )
    elif not isinstance(start, str) or start not in pages:
        raise StoryError(f"{config_path}: start = {start!r} names no page of the story")

    vanity = _read_vanity(config.get("prefix", {}), pages, config_path)
    story = Story(folder=root, pages=pages, start=start, vanity=vanity)
    unreachable = sorted(set(pages) - story.reachable())
    if not unreachable:
        return story
    if include_unreachable:
        warning = f"page(s) not reachable from {start!r}: {', '.join(unreachable)} (published anyway)"
    else:
        warning = (
            f"page(s) not reachable from {start!r}: {', '.join(unreachable)} (left out; "
            f"--include-unreachable publishes them)"
        )
        pages = {name: page for name, page in pages.items() if name not in unreachable}
        vanity = {name: prefix for name, prefix in vanity.items() if name in pages}
    return Story(folder=root, pages=pages, start=start, vanity=vanity, warnings=(warning,))


def _read_vanity(table: Any, pages: Mapping[str, Page], config_path: Path) -> dict[str, str]:
    """The [prefix] table: page name -> lowercase hex; the length is checked against the target later."""
    if not isinstance(table, dict):
        raise StoryError(f'{config_path}: [prefix] must be a table of page = "hex"')
    vanity: dict[str, str] = {}
    for name, prefix in table.items():
        if name not in pages:
            raise StoryError(f"{config_path}: [prefix] names page {name!r}, which does not exist")
        if not isinstance(prefix, str) or not HEX_RE.fullmatch(prefix.lower()):
            raise StoryError(
                f"{config_path}: vanity prefix {prefix!r} for page {name!r} is not hex; use only 0-9 and a-f"
            )
        vanity[name] = prefix.lower()
    return vanity


def check_for_target(story: Story, id_length: Optional[int], max_size: Optional[int]) -> None:
    """Mistakes that depend on the pastebin: vanity prefixes longer than its ids, pages over its limit.

    The planner checks each page again once its links are replaced by URLs.
    """
    if id_length is not None:
        for name, prefix in story.vanity.items():
            if len(prefix) > id_length:
                raise StoryError(
                    f"vanity prefix {prefix!r} for page {name!r} has {len(prefix)} hex digits; "
                    f"this pastebin's ids have only {id_length}"
                )
    if max_size is not None:
        for page in story.pages.values():
            if len(page.source) > max_size:
                raise StoryError(
                    f"{page.path}: page {page.name!r} is {len(page.source)} bytes; this pastebin accepts "
                    f"at most {max_size} bytes; split it into smaller pages"
                )
