"""Sending SMS through a gateway that speaks Twilio's REST API: `POST
{base}/2010-04-01/Accounts/{account}/Messages.json` with the form fields From, To and Body,
authenticated with the account id and its auth token.

Busy (429) and failing (5xx, no connection) gateways are tried again a few times, waiting as long
as they ask; a refusal (any other 4xx: a wrong number, a blocked recipient) is not. Phone numbers
and texts are personal data: neither is logged, nor put into an error (a gateway's own error text
often quotes the number), only the gateway's message id, status and error code.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SentSms:
    sid: str  # the gateway's id of the message, e.g. "SM…"
    status: str  # e.g. "queued", "accepted"


class GatewayError(Exception):
    """The gateway did not take the message."""


class GatewayRefused(GatewayError):
    """The gateway refused the message; sending it again would not help."""

    permanent = True

    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"the SMS gateway refused the message: HTTP {status}, error code {code}")
        self.status = status
        self.code = code


class GatewayUnavailable(GatewayError):
    """The gateway stayed busy or unreachable through every attempt."""


class SmsGateway:
    def __init__(
        self,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        client: httpx.AsyncClient | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        longest_wait: float = 30.0,
    ) -> None:
        """`sender`: the gateway number (or sender id) the SMS come from. `client`: an httpx
        client of the caller's, left open by `aclose`. A failed attempt waits `backoff` seconds,
        then twice that and so on, or what the gateway's Retry-After asks, up to `longest_wait`."""
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._sender = sender
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._longest_wait = longest_wait

    async def send_sms(self, to: str, body: str) -> SentSms:
        """Hand one SMS to the gateway. Raises GatewayRefused or GatewayUnavailable."""
        form = {"From": self._sender, "To": to, "Body": body}
        for attempt in range(1, self._attempts + 1):
            wait = self._backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            try:
                response = await self._client.post(self._url, data=form, auth=self._auth)
            except httpx.TransportError as problem:
                # Possibly taken before the connection broke: a second copy of a message is
                # better than a lost confirmation or change notice.
                log.warning(
                    "SMS gateway unreachable (%s), attempt %d", type(problem).__name__, attempt
                )
            else:
                if response.is_success:
                    sent = _sent(response)
                    log.info("SMS %s %s", sent.sid, sent.status)
                    return sent
                code = _error_code(response)
                if response.status_code != 429 and response.status_code < 500:
                    log.error("SMS refused: HTTP %d, error code %s", response.status_code, code)
                    raise GatewayRefused(response.status_code, code)
                log.warning("SMS gateway busy: HTTP %d, attempt %d", response.status_code, attempt)
                asked = _retry_after(response)
                wait = wait if asked is None else asked
            if attempt < self._attempts:
                await asyncio.sleep(min(wait, self._longest_wait))
        raise GatewayUnavailable(f"the SMS gateway did not take the message in {attempt} attempts")

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _sent(response: httpx.Response) -> SentSms:
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    return SentSms(str(answer.get("sid", "?")), str(answer.get("status", "?")))


def _error_code(response: httpx.Response) -> int | None:
    """Twilio's numeric error code (e.g. 21211, an invalid 'To' number), never its message."""
    try:
        answer: Any = response.json()
    except ValueError:
        return None
    code = answer.get("code") if isinstance(answer, dict) else None
    return code if isinstance(code, int) else None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, given as a number or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
