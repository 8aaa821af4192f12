"""One httpx session for pastebin adapters: timeouts, retries with backoff, ``Retry-After``.

Whether a failed request may be sent again depends on whether repeating it is
harmless. ``idempotent=True`` (reads; md5bin's content-addressed POST) retries
connection errors, timeouts, 429 and 5xx. ``idempotent=False`` (a POST that
creates a new paste each time) retries only what certainly did not create
anything: connection failures before the request was sent, and 429 (the server
refused it). Anything else is reported as ``AmbiguousRequestError`` so the
caller can say that a copy may exist.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, Callable, Optional

import httpx

from .._version import __version__
from .base import PastebinError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)


class PastebinUnreachableError(PastebinError):
    """The pastebin did not answer usefully after every retry."""


class AmbiguousRequestError(PastebinError):
    """A non-idempotent request failed in a way that leaves unknown whether the server acted on it."""


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
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpSession:
    """An httpx client plus the retry policy; adapters own one each."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
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

    def _wait(self, attempt: int, retry_after: Optional[float]) -> None:
        delay = self.backoff_seconds * (2**attempt) if retry_after is None else retry_after
        self._sleep(min(delay, self.max_wait_seconds))

    def request(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying as the policy allows; returns the final response (any status)."""
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            final = attempt == self.max_retries
            try:
                response = self._client.request(method, url, **kwargs)
            except NOT_SENT_ERRORS as exc:
                last_problem = f"cannot connect ({exc})"
                if final:
                    break
                self._wait(attempt, None)
                continue
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__} ({exc})"
                if not idempotent:
                    raise AmbiguousRequestError(
                        f"{method} {url} failed after the request was sent: {last_problem}"
                    ) from None
                if final:
                    break
                self._wait(attempt, None)
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            last_problem = f"HTTP {response.status_code}"
            if response.status_code != 429 and not idempotent:
                raise AmbiguousRequestError(f"{method} {url} answered {last_problem}")
            if final:
                return response
            self._wait(attempt, retry_after_seconds(response.headers.get("Retry-After")))
        raise PastebinUnreachableError(
            f"{method} {url} failed {self.max_retries + 1} times, last: {last_problem}; "
            f"check that the pastebin is running and reachable"
        )

    def close(self) -> None:
        self._client.close()
