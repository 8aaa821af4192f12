"""The pastebins' HTTP retry policy, against real sockets on 127.0.0.1 (tests/fault_server.py).

Waits are recorded, not slept: ``HttpSession(sleep=waits.append)``.
"""

from __future__ import annotations

import email.utils
import json

import pytest

from fault_server import Answer, FaultServer, refused_port
from md5steg.pastebins import PASTEBINS
from md5steg.pastebins.base import PastebinOptions
from md5steg.pastebins.errors import AmbiguousRequestError, PastebinError, PastebinUnreachableError
from md5steg.pastebins.http import HttpSession, retry_after_seconds


def session(waits: list[float], *, timeout: float = 5.0, max_retries: int = 2) -> HttpSession:
    return HttpSession(
        timeout=timeout, max_retries=max_retries, backoff_seconds=0.5, sleep=waits.append
    )


@pytest.mark.parametrize("idempotent", [True, False], ids=["read", "create"])
def test_a_port_nothing_listens_on_is_unreachable_after_backing_off(idempotent: bool) -> None:
    # Connection refused means the request never left, so even a create is retried.
    waits: list[float] = []
    with refused_port() as url, pytest.raises(PastebinUnreachableError) as caught:
        session(waits).request("POST", f"{url}/api/v1/paste", idempotent=idempotent)
    assert waits == [0.5, 1.0]
    assert "failed 3 times, last: cannot connect" in str(caught.value)


def test_a_server_that_never_answers_a_read_times_out_and_is_unreachable() -> None:
    waits: list[float] = []
    with FaultServer(Answer(action="hang")) as server:
        with pytest.raises(PastebinUnreachableError) as caught:
            session(waits, timeout=0.3, max_retries=1).request(
                "GET", f"{server.url}/raw/abc", idempotent=True
            )
        assert len(server.requests) == 2
    assert waits == [0.5]
    assert "ReadTimeout" in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [Answer(action="hang"), Answer(action="drop"), Answer(502)],
    ids=["never-answers", "drops-the-connection", "bad-gateway"],
)
def test_a_create_that_reached_the_server_is_never_sent_again(answer: Answer) -> None:
    waits: list[float] = []
    with FaultServer(answer, Answer(200)) as server:
        with pytest.raises(AmbiguousRequestError):
            session(waits, timeout=0.3).request(
                "POST", f"{server.url}/api/v1/paste", idempotent=False, content=b"page"
            )
        assert [(r.method, r.body) for r in server.requests] == [("POST", b"page")]
    assert waits == []


def test_a_create_refused_with_429_waits_as_retry_after_says_then_succeeds() -> None:
    waits: list[float] = []
    with FaultServer(Answer(429, headers={"Retry-After": "7"}), Answer(200)) as server:
        response = session(waits).request("POST", f"{server.url}/", idempotent=False)
        assert len(server.requests) == 2
    assert response.status_code == 200
    assert waits == [7.0]


def test_a_read_answered_503_is_retried_with_backoff_until_it_succeeds() -> None:
    waits: list[float] = []
    with FaultServer(Answer(503), Answer(500), Answer(200, b"text")) as server:
        response = session(waits).request("GET", f"{server.url}/raw/abc", idempotent=True)
    assert response.content == b"text"
    assert waits == [0.5, 1.0]


def test_a_read_that_keeps_failing_runs_out_of_retries() -> None:
    waits: list[float] = []
    with FaultServer(Answer(503)) as server:
        with pytest.raises(PastebinUnreachableError) as caught:
            session(waits).request("GET", f"{server.url}/api/info", idempotent=True)
        assert len(server.requests) == 3
    assert "failed 3 times, last: HTTP 503" in str(caught.value)


def test_a_retry_after_longer_than_the_cap_gives_up_at_once_instead_of_cutting_it_short() -> None:
    waits: list[float] = []
    with FaultServer(Answer(429, headers={"Retry-After": "3600"}), Answer(200)) as server:
        with pytest.raises(PastebinUnreachableError) as caught:
            session(waits).request("POST", f"{server.url}/", idempotent=False)
        assert len(server.requests) == 1
    assert waits == []
    assert "asks to wait 3600 s" in str(caught.value)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    in_90_seconds = email.utils.formatdate(now + 90, usegmt=True)
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(in_90_seconds, now=now) == 90.0
    assert retry_after_seconds(email.utils.formatdate(now - 5, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_a_body_without_end_is_cut_off_at_the_limit_not_read_into_memory() -> None:
    with FaultServer(Answer(action="endless")) as server:
        limited = HttpSession(max_retries=0, max_response_bytes=1_000_000)
        with pytest.raises(PastebinError, match="answered more than 1000000 bytes"):
            limited.request("GET", f"{server.url}/raw/abc", idempotent=True)


def test_a_body_within_the_limit_reads_whole() -> None:
    with FaultServer(Answer(200, b"y" * 5000)) as server:
        response = HttpSession(max_retries=0, max_response_bytes=5000).request(
            "GET", f"{server.url}/raw/abc", idempotent=True
        )
    assert response.status_code == 200 and response.content == b"y" * 5000


def test_retrying_is_reported_once_through_the_callback() -> None:
    notices: list[str] = []
    waits: list[float] = []
    with refused_port() as url, pytest.raises(PastebinUnreachableError):
        HttpSession(max_retries=3, sleep=waits.append, on_retry=notices.append).request(
            "GET", f"{url}/raw/abc", idempotent=True
        )
    assert len(waits) == 3
    (notice,) = notices
    assert notice.startswith(f"{url}/raw/abc: cannot connect (") and "Connection refused" in notice
    assert notice.endswith("); retrying up to 3 times with growing waits")


# --- ids from outside ----------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["http://evil.example/..", "http://evil.example/", "/a%2F..?"])
def test_a_pinnwand_link_without_a_plain_paste_id_is_refused(link: str) -> None:
    """The id is the link's last path segment; '..' would make url_for name the server's index."""
    answer = Answer(200, json.dumps({"link": link}).encode(), {"Content-Type": "application/json"})
    with FaultServer(answer) as server:
        pastebin = PASTEBINS["pinnwand"].from_options(PastebinOptions(url=server.url))
        with pastebin, pytest.raises(PastebinError, match="without a paste id"):
            pastebin.paste(b"hello\n")


@pytest.mark.parametrize("paste_id", ["../", "..", "a/b", "x?y", ""])
def test_a_path_is_never_fetched_as_a_paste_id(paste_id: str) -> None:
    with FaultServer(Answer(200, b"the index page")) as server:
        pastebin = PASTEBINS["pinnwand"].from_options(PastebinOptions(url=server.url))
        with pastebin, pytest.raises(PastebinError, match="is not a pinnwand paste id"):
            pastebin.fetch(paste_id)
        assert server.requests == []
