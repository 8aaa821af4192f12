"""Helpers shared by the story tests: write story folders, crawl a published story."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

URL_RE = re.compile(rb"https?://[^\s<>\"']+")
EXAMPLE_STORY = Path(__file__).resolve().parent.parent / "examples" / "story"


def http_fetch(url: str) -> bytes:
    """The raw bytes of the paste at an md5bin or pinnwand page URL (``<base>/raw/<id>``)."""
    import httpx  # only where a server runs: plain core test runs lack it

    base, paste_id = url.rsplit("/", 1)
    response = httpx.get(f"{base}/raw/{paste_id}", timeout=10)
    assert response.status_code == 200, url
    return response.content


def write_story(folder: Path, pages: Mapping[str, str], config: str = "") -> Path:
    """A story folder with one ``name.txt`` per page (text written as bytes, no newline translation)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (folder / f"{name}.txt").write_bytes(text.encode("utf-8"))
    if config:
        (folder / "story.toml").write_text(config, encoding="utf-8")
    return folder


def graph_story(folder: Path, graph: Mapping[str, list[str]], start: str) -> Path:
    """A story whose pages say their own name on the first line and link as ``graph`` says."""
    pages = {}
    for name, targets in graph.items():
        lines = [f"page {name}"] + [f"go to [[{target}]] now" for target in targets]
        pages[name] = "\n".join(lines) + "\n"
    return write_story(folder, pages, f'start = "{start}"\n')


def check_published(
    folder: Path, start_url: str, fetch: Callable[[str], bytes], expected_pages: int | None = None
) -> dict[str, str]:
    """Crawl from ``start_url`` and check every page's bytes against the story's source.

    ``fetch(url)`` returns the raw bytes of a paste. Each fetched page must be
    its source file with every ``[[name]]`` replaced by a URL that leads to
    that page (plus, for searched pages, a whitespace suffix). Returns page -> URL.
    """
    from md5steg.story import load_story

    story = load_story(folder)
    url_of: dict[str, str] = {story.start: start_url}
    frontier = [story.start]
    while frontier:
        name = frontier.pop()
        content = fetch(url_of[name])
        page = story.pages[name]
        # Rebuild the expected bytes from the URLs actually found, in link order.
        found = URL_RE.findall(content)
        assert len(found) >= len(page.links), (
            f"page {name}: {len(found)} URLs for {len(page.links)} links"
        )
        urls = {}
        for link, url in zip(page.links, found):
            target_url = url.decode()
            assert urls.setdefault(link.target, target_url) == target_url, (
                f"{name}: two URLs for {link.target}"
            )
            if link.target in url_of:
                assert url_of[link.target] == target_url, (
                    f"{name} links {link.target} to another URL"
                )
            else:
                url_of[link.target] = target_url
                frontier.append(link.target)
        rendered = page.render(urls)
        assert content.startswith(rendered), f"page {name}: served bytes differ from the source"
        assert not content[len(rendered) :].strip(b" \t\n\x0b\x0c"), (
            f"page {name}: suffix is not whitespace"
        )
    if expected_pages is not None:
        assert len(url_of) == expected_pages
    return url_of


def copy_example(folder: Path, vanity: str = "c0f") -> Path:
    """The example story in ``folder``, its start page's vanity prefix shortened for 4-hex ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in EXAMPLE_STORY.iterdir():
        if path.name.startswith("."):  # e.g. the manifest `make demo` leaves there
            continue
        data = path.read_bytes()
        if path.name == "story.toml":
            data = data.replace(b'"c0ffee"', f'"{vanity}"'.encode())
        (folder / path.name).write_bytes(data)
    return folder
