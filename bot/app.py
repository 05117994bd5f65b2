"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000
uvicorn --factory bot.app:create_app --no-access-log --no-proxy-headers
    # back-office search addresses carry what staff typed: keep them out of logs; who sent a
    # request is decided by GUAHAO_TRUSTED_PROXIES (bot.addresses), not by uvicorn
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import FastAPI

import backoffice
from booking.staff.model import LoginLimits
from bot.addresses import ClientAddresses
from bot.fhir_handler import his_handlers
from bot.runtime.build import build
from bot.runtime.channels import channels_for
from bot.runtime.front import Front
from bot.runtime.lifecycle import running
from bot.settings import Settings
from bot.texts import Texts
from bot.web_errors import LARGEST_BODY, guard_errors
from channels.fhir_api import bad_token_gate, fhir_router
from channels.flood import FloodGate
from channels.webchat import webchat_router

if TYPE_CHECKING:
    import uvicorn


def login_gate(per_address: str, storage: str) -> Callable[[str | None], Awaitable[int | None]]:
    """The back-office logins one network address may try (GUAHAO_ADMIN_LOGINS_PER_ADDRESS):
    the seconds to wait, or None."""
    gate = FloodGate(per_address, "1000000/minute", storage)

    async def wait(address: str | None) -> int | None:
        refused = await gate.admit("admin-login", address or "unknown", None)
        return None if refused is None else refused.retry_after

    return wait


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    front, texts = Front(), Texts.load()
    channels = channels_for(settings, front, texts)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        application = await build(settings, channels, texts=texts)
        front.attach(application)
        try:
            async with running(application, channels):
                yield
        finally:
            front.detach()

    docs = settings.api_docs_served
    app = FastAPI(
        title="guahao",
        summary="Hospital outpatient booking by chat (预约挂号)",
        lifespan=lifespan,
        max_body_size=LARGEST_BODY,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    guard_errors(app)
    app.add_middleware(ClientAddresses, proxies=settings.proxy_networks())
    gate = FloodGate(
        settings.webchat_per_chat, settings.webchat_per_address, settings.rate_limit_storage
    )
    # A page asks for notices every 15 s: its own count, generous for a lobby behind one address.
    polls = FloodGate(
        "60/minute", settings.webchat_notices_per_address, settings.rate_limit_storage
    )
    app.include_router(webchat_router(front.handle, front.now, gate, front.collect_web, polls))
    app.include_router(
        backoffice.router(
            front.services,
            passwords=backoffice.Argon2Passwords(),
            secure_cookies=settings.env == "production",
            limits=LoginLimits(
                idle=timedelta(minutes=settings.admin_idle_minutes),
                absolute=timedelta(hours=settings.admin_login_hours),
            ),
            prefix="/admin",
            login_gate=login_gate(settings.admin_logins_per_address, settings.rate_limit_storage),
            complaint_within=timedelta(hours=settings.complaint_hours),
        )
    )
    bad_tokens = bad_token_gate(settings.fhir_bad_tokens_per_address, settings.rate_limit_storage)
    app.include_router(fhir_router(his_handlers(front.services), bad_tokens=bad_tokens))  # the HIS
    if channels.telegram is not None:
        app.include_router(channels.telegram.router())
    if channels.sms is not None:
        app.include_router(channels.sms.router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def server_config(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Config:
    """How uvicorn serves the app: without its own reading of X-Forwarded-For (which believes
    anyone at 127.0.0.1; bot.addresses decides instead) and without access logs (search
    addresses carry what staff typed)."""
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, proxy_headers=False, access_log=False
    )
