"""Fetching the hospital's blacklist from its server (GUAHAO_BLACKLIST_URL): CSV, or XLSX
when the server says so or the body is one. What is not a list — an HTTP error, a web page
(a login or error page of a proxy), a body too large — is refused here with a reason, so
that the sync reports it as failed and the blacklist stays as it was.

The URL may hold a key; it is never logged or kept in a report.
"""

from __future__ import annotations

import httpx

from booking.patients.blacklist import ListFetcher
from booking.patients.model import BrokenList, ListFile

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_BYTES = 8 * 1024 * 1024  # a list of 100,000 people is about 5 MB of CSV


def http_list(
    url: str,
    *,
    token: str | None = None,
    max_bytes: int = MAX_BYTES,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ListFetcher:
    """A fetcher of the list at ``url`` (``token``: sent as a bearer token)."""
    headers = {"Accept": "text/csv, application/vnd.openxmlformats-officedocument"
               ".spreadsheetml.sheet;q=0.9, */*;q=0.1"}  # fmt: skip
    if token:
        headers["Authorization"] = f"Bearer {token}"

    async def fetch() -> ListFile:
        try:
            async with (
                httpx.AsyncClient(
                    timeout=TIMEOUT, headers=headers, transport=transport, follow_redirects=True
                ) as client,
                client.stream("GET", url) as answer,
            ):
                if answer.status_code != 200:
                    raise BrokenList(
                        f"the server answered HTTP {answer.status_code}",
                        f"http_{answer.status_code}",
                    )
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise BrokenList("the list is larger than allowed", "too_large")
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise BrokenList("the list is larger than allowed", "too_large")
                return ListFile(bytes(body), answer.headers.get("content-type", ""))
        except httpx.TimeoutException:
            raise BrokenList("the server did not answer in time", "timeout") from None
        except httpx.HTTPError as error:
            # The message may quote the URL (and a key in it): only the kind is said.
            raise BrokenList(f"could not reach the server ({type(error).__name__})",
                             "unreachable") from None  # fmt: skip

    return fetch
