"""Malformed requests: a short fixed answer, and nothing a client sent in the answer or the log.

FastAPI's own 422 copies every wrong value back (a 20 MB array, 20 MB back) and, for values
JSON cannot write (NaN, Infinity, a lone surrogate), fails itself: a 500 whose log quoted the
whole input, ID and phone numbers included.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

NOT_VALID = "the request is not valid: a field is missing, of the wrong kind or out of range"
# Only where the description is published (not in production, unless GUAHAO_API_DOCS).
SEE_DOCS = "; the API description ({docs}) says what is expected"
# Every request at most this many bytes, unless its route says otherwise (FastAPI's
# max_body_size): the body is refused (413) as soon as it is known to be larger, unread.
LARGEST_BODY = 64 * 1024


def _not_valid(docs_url: str | None) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    detail = NOT_VALID + (SEE_DOCS.format(docs=docs_url) if docs_url else "")

    async def answer(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=422)

    return answer


def where(error: BaseException) -> str:
    """An exception without its message (which may quote the input): its kind and the last
    lines of code it went through, and the same for the exceptions it came from."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 4:
        frames = traceback.extract_tb(seen.__traceback__)[-4:]
        trail = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
        parts.append(f"{type(seen).__name__} at {trail or '?'}")
        seen = seen.__cause__ or seen.__context__
    return "; from ".join(parts)


class WithoutMessages(logging.Filter):
    """On the server's error log: an unexpected failure is logged with where it happened, not
    with its message or traceback text, which may quote what a client sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {where(record.exc_info[1])}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = WithoutMessages()


def guard_errors(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _not_valid(app.docs_url))
    for name in ("uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
