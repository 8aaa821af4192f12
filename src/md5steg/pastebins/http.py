"""HTTP for pastebin adapters: one session with timeouts and a retry policy, and the shared base.

Retries are tenacity's (exponential backoff, a cap on attempts); this module
only decides which failures may be repeated. Whether a failed request may be
sent again depends on whether repeating it is harmless:

- ``idempotent=True`` (reads; md5bin's content-addressed POST) retries
  connection failures, timeouts, 429 and 5xx.
- ``idempotent=False`` (a POST that creates a new paste each time) retries
  only what certainly did not create anything: a failure to open the
  connection (``httpx.ConnectError``, ``ConnectTimeout``, ``PoolTimeout`` are
  raised before the first byte of the request is written), and 429 (the
  server refused it). Any other failure after the request may have left
  (a read timeout, a dropped connection, a 5xx) raises
  ``AmbiguousRequestError`` at once, so the caller can say a copy may exist.

A ``Retry-After`` header (seconds or an HTTP date) replaces the backoff for
that wait; one longer than ``max_wait_seconds`` ends the retries instead of
being cut short. The first retry of a session is reported once through
``on_retry`` (the CLI prints it; an adapter never does), so a long wait for a
server that is down is not silent. httpx and tenacity are imported only when
a session is built, so ``import md5steg.pastebins`` works without the
``serve`` extra.

Every response body is read to at most ``max_response_bytes`` (after
decompression): a server that answers without end, or a gzip bomb, is an
error, not an exhausted memory.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from .._version import __version__
from ..addresses import normalise_base_url
from .base import DEFAULT_TIMEOUT_SECONDS, Pastebin
from .errors import (
    AmbiguousRequestError,
    PastebinError,
    PastebinUnreachableError,
    PasteMissingError,
    PasteRemovedError,
)

if TYPE_CHECKING:
    import httpx
    import tenacity

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The largest response body read: above any paste a pastebin md5steg knows will serve."""
REFUSED_UNSEEN_STATUS = 429
"""The one retryable status that says the server did not act on the request."""


class _RetryableFailure(Exception):
    """One attempt failed in a way the policy allows to repeat (internal to ``HttpSession``)."""

    def __init__(self, problem: str, retry_after: Optional[float] = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def retry_after_seconds(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpSession:
    """An httpx client plus the retry policy; each HTTP adapter owns one."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = 5,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: Optional[httpx.BaseTransport] = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        on_retry: Optional[Callable[[str], None]] = None,
    ) -> None:
        import httpx

        self.max_response_bytes = max_response_bytes
        self._on_retry = on_retry
        self._retry_reported = False
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"md5steg/{__version__}"},
            follow_redirects=False,
            transport=transport,
        )

    def request(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying as the policy allows; returns the first non-retryable response.

        Raises ``PastebinUnreachableError`` when the retries run out (or the server
        asks to wait too long) and ``AmbiguousRequestError`` as the module docstring says.
        """
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_RetryableFailure),
            stop=self._should_stop,
            wait=self._wait_seconds,
            sleep=self._sleep,
            before_sleep=self._report_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, idempotent, kwargs)
        except _RetryableFailure as failure:
            if self._too_long(failure.retry_after):
                raise PastebinUnreachableError(
                    f"{method} {url} answered {failure.problem} and asks to wait "
                    f"{failure.retry_after:.0f} s (more than {self.max_wait_seconds:.0f} s); "
                    f"try again later"
                ) from None
            raise PastebinUnreachableError(
                f"{method} {url} failed {self.max_retries + 1} times, last: {failure.problem}; "
                f"check that the pastebin is running and reachable"
            ) from None

    def _attempt(
        self, method: str, url: str, idempotent: bool, kwargs: dict[str, Any]
    ) -> httpx.Response:
        """One try: the response, or ``_RetryableFailure`` / ``AmbiguousRequestError``."""
        import httpx

        try:
            response = self._send(method, url, kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _RetryableFailure(f"cannot connect ({exc or type(exc).__name__})") from None
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__} ({exc})"
            if not idempotent:
                raise AmbiguousRequestError(
                    f"{method} {url} failed after the request was sent: {problem}"
                ) from None
            raise _RetryableFailure(problem) from None
        if response.status_code not in RETRY_STATUSES:
            return response
        problem = f"HTTP {response.status_code}"
        if not idempotent and response.status_code != REFUSED_UNSEEN_STATUS:
            raise AmbiguousRequestError(f"{method} {url} answered {problem}")
        raise _RetryableFailure(problem, retry_after_seconds(response.headers.get("Retry-After")))

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> httpx.Response:
        """The response with its body read, at most ``max_response_bytes`` of it."""
        import httpx

        request = self._client.build_request(method, url, **kwargs)
        streamed = self._client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise PastebinError(
                        f"{method} {url} answered more than {self.max_response_bytes} bytes; "
                        f"is it the pastebin it should be?"
                    )
                chunks.append(chunk)
        finally:
            streamed.close()
        # Decoded already: the copy must not claim an encoding or a length it no longer has.
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    def _report_retry(self, state: tenacity.RetryCallState) -> None:
        """Tell ``on_retry``, once per session, that a request failed and is being retried."""
        if self._retry_reported or self._on_retry is None:
            return
        self._retry_reported = True
        failure = state.outcome.exception() if state.outcome is not None else None
        problem = failure.problem if isinstance(failure, _RetryableFailure) else "failed"
        url = state.args[1] if len(state.args) > 1 else "the pastebin"
        self._on_retry(
            f"{url}: {problem}; retrying up to {self.max_retries} times with growing waits"
        )

    def _too_long(self, retry_after: Optional[float]) -> bool:
        return retry_after is not None and retry_after > self.max_wait_seconds

    def _should_stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop after ``max_retries`` retries, or when the server asks for too long a wait."""
        if state.attempt_number > self.max_retries:
            return True
        failure = state.outcome.exception() if state.outcome is not None else None
        return isinstance(failure, _RetryableFailure) and self._too_long(failure.retry_after)

    def _wait_seconds(self, state: tenacity.RetryCallState) -> float:
        """The server's ``Retry-After`` if it gave one, else exponential backoff."""
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _RetryableFailure) and failure.retry_after is not None:
            return failure.retry_after
        backoff = self.backoff_seconds * 2 ** (state.attempt_number - 1)
        return float(min(backoff, self.max_wait_seconds))

    def close(self) -> None:
        self._client.close()


def refusal(url: str, response: httpx.Response) -> PastebinError:
    """The one-line error for a paste the server refused, with the first line of its answer."""
    lines = response.text.strip().splitlines()
    detail = lines[0][:200] if lines else ""
    return PastebinError(f"{url} refused the paste: HTTP {response.status_code} {detail}".rstrip())


class HttpPastebin(Pastebin):
    """A pastebin reached over HTTP whose raw view is ``<url>/raw/<id>``: the shared plumbing.

    The session is built on first use (so ``md5steg plan`` stays offline and
    httpx is imported only when a network adapter is really used), unless one is
    passed in, as tests do to record the waits.
    """

    def __init__(
        self,
        url: str,
        *,
        what: str,
        session: Optional[HttpSession] = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_retry: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.url = normalise_base_url(url, what)
        self._session = session
        self._timeout = timeout
        self._on_retry = on_retry

    @property
    def session(self) -> HttpSession:
        if self._session is None:
            self._session = HttpSession(timeout=self._timeout, on_retry=self._on_retry)
        return self._session

    def fetch(self, paste_id: str) -> bytes:
        if not self.is_valid_id(paste_id):  # "../" would fetch the index page, and find it "there"
            raise PastebinError(f"{paste_id!r} is not a {self.kind} paste id")
        raw_url = f"{self.url}/raw/{paste_id}"
        response = self.session.request("GET", raw_url, idempotent=True)
        if response.status_code == 410:  # md5bin's operator removed it, and retired the id
            raise PasteRemovedError(f"{raw_url} was removed (HTTP 410)")
        if response.status_code == 404:
            raise PasteMissingError(f"{raw_url} is not there (HTTP 404)")
        if response.status_code != 200:
            raise PastebinError(f"{raw_url} answered HTTP {response.status_code}")
        return bytes(response.content)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
