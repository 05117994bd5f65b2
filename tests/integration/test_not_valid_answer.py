"""Issue 15: the fixed answer to a malformed request points to the API description only where
it is published: in production /docs is 404, so the answer does not send anyone there."""

from __future__ import annotations

import secrets

import httpx
import pytest

from bot.app import create_app
from bot.settings import Settings

SECRET = secrets.token_urlsafe(32)  # production refuses a guessable key


async def malformed(settings: Settings) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://guahao.test") as web:
        return await web.post("/api/webchat/messages", json={"session": ["not", "text"]})


async def test_production_does_not_point_to_an_api_description_it_does_not_publish() -> None:
    answer = await malformed(Settings(GUAHAO_ENV="production", GUAHAO_SECRET_KEY=SECRET))
    assert answer.status_code == 422
    assert "not valid" in answer.json()["detail"]
    assert "/docs" not in answer.text


@pytest.mark.parametrize(
    "settings",
    [
        {"GUAHAO_SECRET_KEY": SECRET},  # development
        {"GUAHAO_ENV": "production", "GUAHAO_SECRET_KEY": SECRET, "GUAHAO_API_DOCS": True},
    ],
)
async def test_where_the_description_is_published_the_answer_points_to_it(
    settings: dict[str, object],
) -> None:
    answer = await malformed(Settings(**settings))  # type: ignore[arg-type]
    assert answer.status_code == 422
    assert "/docs" in answer.json()["detail"]
