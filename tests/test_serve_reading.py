"""``md5steg serve``: reading pastes (raw, page, json), caching and 304s, against a real server."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest

from md5steg.md5bin.app import linkify
from serve_helpers import (
    SMALL_MAX_SIZE,
    Server,
    assert_security_headers,
    md5_prefix,
    serve_for_module,
    unique,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One default server (6-character ids, small max size) shared by this module's tests."""
    yield from serve_for_module(tmp_path_factory, 6, "--max-size", str(SMALL_MAX_SIZE))


TRICKY_CONTENTS = {
    "trailing-whitespace": b"the end   \t \n\n",
    "crlf": b"line one\r\nline two\r\n",
    "vertical-tab-form-feed": b"page\x0b\x0c\x0b\x0c",
    "zero-width": "zero\u200bwidth\u200c\u200d\u2060\ufeff\n".encode(),
    "no-final-newline": b"no newline at all",
    "not-utf8": b"latin-1 caf\xe9 \xff\xfe\n",
}


@pytest.mark.parametrize("content", TRICKY_CONTENTS.values(), ids=TRICKY_CONTENTS.keys())
def test_raw_returns_the_exact_bytes(server: Server, content: bytes) -> None:
    server.post(content)
    response = server.get(f"/raw/{md5_prefix(content)}")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_security_headers(response)


IMMUTABLE = "public, max-age=31536000, immutable"
VIEWS = ["/{id}", "/raw/{id}", "/{id}.json"]


@pytest.mark.parametrize("view", VIEWS, ids=["page", "raw", "json"])
@pytest.mark.parametrize(
    "if_none_match",
    ['"{md5}"', 'W/"{md5}"', "*", '"0123", "{md5}"', '"other",W/"{md5}"'],
    ids=["exact", "weak", "star", "list", "weak-in-list"],
)
def test_conditional_get_of_a_held_paste_is_304_without_body(
    server: Server, view: str, if_none_match: str
) -> None:
    content = unique("cached by a CDN")
    server.post(content)
    md5 = hashlib.md5(content).hexdigest()
    path = view.format(id=md5[:6])
    assert server.get(path).headers["etag"] == f'"{md5}"'
    response = server.get(path, headers={"If-None-Match": if_none_match.format(md5=md5)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == f'"{md5}"'
    assert response.headers["cache-control"] == IMMUTABLE
    assert_security_headers(response)


@pytest.mark.parametrize("view", VIEWS, ids=["page", "raw", "json"])
@pytest.mark.parametrize("if_none_match", ['"0123"', 'W/"abc", "def"', '""'])
def test_conditional_get_with_other_etags_is_a_full_200(
    server: Server, view: str, if_none_match: str
) -> None:
    content = unique("not what the cache holds")
    server.post(content)
    path = view.format(id=md5_prefix(content))
    response = server.get(path, headers={"If-None-Match": if_none_match})
    assert response.status_code == 200
    assert response.content == server.get(path).content != b""


def test_conditional_get_of_a_missing_paste_is_404(server: Server) -> None:
    assert server.get("/raw/000000", headers={"If-None-Match": "*"}).status_code == 404


def test_page_escapes_html_and_script(server: Server) -> None:
    content = b'<script>alert("x")</script><img src=x onerror=alert(1)> & done\n' + unique("xss")
    server.post(content)
    response = server.get(f"/{md5_prefix(content)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_security_headers(response)
    page = response.text
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&amp; done" in page
    assert f'href="raw/{md5_prefix(content)}"' in page


def test_page_links_http_urls_only(server: Server) -> None:
    content = (
        b"Go left: https://example.org/abc123.\n"
        b"Go right: http://example.org/q?a=1&b=2\t\x0b\n"
        b"Not this: javascript:alert(1) nor ftp://example.org/x\n" + unique("links")
    )
    server.post(content)
    page = server.get(f"/{md5_prefix(content)}").text
    assert '<a href="https://example.org/abc123" rel="nofollow noopener noreferrer">' in page
    assert '<a href="http://example.org/q?a=1&amp;b=2" rel="nofollow noopener noreferrer">' in page
    assert 'href="javascript' not in page
    assert 'href="ftp' not in page


def test_linkify_cannot_break_out_of_the_attribute() -> None:
    html_text = linkify('see https://e.com/"onmouseover="alert(1) and https://e.com/<b>x</b>')
    assert html_text.count("<a ") == 2
    assert '"onmouseover' not in html_text
    assert "<b>" not in html_text
    assert 'href="https://e.com/"' in html_text


def test_linkify_stops_urls_at_invisible_suffix_characters() -> None:
    html_text = linkify("https://e.com/next\u200b\u200c\n")
    assert 'href="https://e.com/next"' in html_text


def test_json_metadata(server: Server) -> None:
    content = unique("metadata")
    server.post(content)
    paste_id = md5_prefix(content)
    response = server.get(f"/{paste_id}.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_security_headers(response)
    metadata = response.json()
    assert metadata == {
        "id": paste_id,
        "md5": hashlib.md5(content).hexdigest(),
        "size": len(content),
        "created": metadata["created"],
        "url": f"{server.base_url}/{paste_id}",
        "raw_url": f"{server.base_url}/raw/{paste_id}",
    }
    assert isinstance(metadata["created"], float)


def test_index_explains_posting_with_curl(server: Server) -> None:
    response = server.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f"curl --data-binary @file.txt {server.base_url}/" in response.text
    assert_security_headers(response)


def test_api_info(server: Server) -> None:
    response = server.get("/api/info")
    assert response.status_code == 200
    assert_security_headers(response)
    info = response.json()
    assert info["id_length"] == 6
    assert info["max_size"] == SMALL_MAX_SIZE
    assert info["base_url"] == server.base_url
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", info["version"])


@pytest.mark.parametrize(
    "path",
    [
        "/000000",
        "/ABCDEF",
        "/abcde",
        "/abcdef0",
        "/zzzzzz",
        "/raw/zzzzzz",
        "/raw/abc",
        "/raw/ABCDEF",
        "/000000.json",
        "/abc.json",
        "/raw/..%2Fetc",
        "/nothing/here",
    ],
)
def test_unknown_or_malformed_ids_are_404(server: Server, path: str) -> None:
    response = server.get(path)
    assert response.status_code == 404
    assert_security_headers(response)


def test_wrong_method_is_405_with_security_headers(server: Server) -> None:
    response = server.client.post(f"{server.base_url}/api/info", content=b"x")
    assert response.status_code == 405
    assert_security_headers(response)


# --- Host never steers a redirect; browsers get pages; removed pastes are gone -------------------


@pytest.mark.parametrize("path", ["/abcdef/", "/raw/abcdef/", "//evil.example/"])
def test_a_trailing_slash_redirects_on_the_base_url_whatever_the_host_header(
    server: Server, path: str
) -> None:
    response = server.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 307
    location = response.headers["location"]
    assert location.startswith(f"{server.base_url}/") and "evil.example/" not in location
    assert location == server.base_url + "/" + path.strip("/")
    assert_security_headers(response)


def test_a_browser_gets_an_html_404_with_a_way_home(server: Server) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml"}
    well_formed = server.get("/000000", headers=browser)
    assert well_formed.status_code == 404
    assert well_formed.headers["content-type"].startswith("text/html")
    assert f'<a href="{server.base_url}/">md5bin front page</a>' in well_formed.text
    assert "no paste with id 000000 here" in well_formed.text
    assert "lowercase hex digits" not in well_formed.text
    assert_security_headers(well_formed)
    malformed = server.get("/raw/zz", headers=browser)
    assert malformed.status_code == 404 and "ids are 6 lowercase hex digits" in malformed.text


def test_curl_gets_a_plain_404_that_says_which_id(server: Server) -> None:
    response = server.get("/raw/000000")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "no paste with id 000000 here\n"


def test_the_page_title_is_the_first_line_without_markdown_hashes(server: Server) -> None:
    content = b"## The lighthouse\n\nA light turns.\n" + unique("title")
    server.post(content)
    page = server.get(f"/{md5_prefix(content)}").text
    assert f"<title>The lighthouse \u2014 md5bin {md5_prefix(content)}</title>" in page
