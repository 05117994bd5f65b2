"""The web chat over real HTTP: a uvicorn server on 127.0.0.1 with the demo hospital on
SQLite, driven through its JSON API as the page (and other clients) use it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import chat_id
from tests.webserver import serving


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("web")) as base:
        yield base


def send(base: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{base}/api/webchat/messages", json=body, timeout=30)


def replies(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["replies"]
    assert found and all(reply["text"] for reply in found)
    return found


def keys(found: list[dict[str, Any]]) -> list[str]:
    return [choice["key"] for reply in found for choice in reply["choices"]]


def shown_code(found: list[dict[str, Any]]) -> str:
    """The one-time code development shows in the chat (GUAHAO_SHOW_CODES)."""
    shown = re.search(r"验证码是 (\d{6})|the code is (\d{6})", found[-1]["text"])
    assert shown, found[-1]["text"]
    return shown.group(1) or shown.group(2)


def page_and_script(server: str) -> str:
    """The page and its script (its own file: the page runs no inline code)."""
    page = httpx.get(server + "/", timeout=10)
    assert page.status_code == 200 and '<script src="/webchat.js">' in page.text
    script = httpx.get(server + "/webchat.js", timeout=10)
    assert script.status_code == 200
    return page.text + script.text


def test_the_page_and_the_api_description(server: str) -> None:
    page = page_and_script(server)
    assert "/api/webchat/messages" in page and "viewport" in page
    api = httpx.get(server + "/openapi.json", timeout=10).json()
    assert "/api/webchat/messages" in api["paths"]
    assert httpx.get(server + "/healthz", timeout=10).json() == {"status": "ok"}


def test_a_newcomer_books_by_typing_and_pressing(server: str) -> None:
    session = chat_id("newcomer-0001")
    assert "intent:book" in keys(replies(send(server, session=session, text="/start")))
    found = replies(send(server, session=session, text="帮我挂后天下午心内科张伟医生的号"))
    assert "姓名" in found[-1]["text"]  # no patient yet: registration first
    replies(send(server, session=session, text="张三"))
    replies(send(server, session=session, text="11010519491231002X"))
    found = replies(send(server, session=session, text="13812345678"))
    # No SMS gateway in development: the code proving the phone is shown in the chat.
    assert "138****5678" in found[-1]["text"] and "confirm:yes" not in keys(found)
    code = shown_code(found)
    found = replies(send(server, session=session, text=code))
    assert "confirm:yes" in keys(found)
    assert "2026-11-25" in found[-1]["text"]
    done = replies(send(server, session=session, choice="confirm:yes", id="press-1"))
    assert "预约成功" in done[-1]["text"]
    again = replies(send(server, session=session, choice="confirm:yes", id="press-1"))
    assert again == done  # a retried request: the same answer, nothing booked twice
    mine = replies(send(server, session=session, text="/my"))
    assert mine[-1]["text"].count("2026-11-25") == 1


@pytest.mark.parametrize(
    "text",
    ["x" * 100_000, "<script>alert('x')</script>", "😀😀😀", "\x00\x1b[31m", "'; DROP TABLE x; --"],
)
def test_bad_input_gets_a_polite_answer(server: str, text: str) -> None:
    found = replies(send(server, session=chat_id("bad-input-01"), text=text))
    # A polite answer with something to do next; what was typed is never echoed back.
    assert keys(found)
    assert all("<script" not in reply["text"] for reply in found)


def test_an_unknown_choice_is_answered_not_obeyed(server: str) -> None:
    found = replies(send(server, session=chat_id("stale-press-1"), choice="session:999999:00868"))
    assert "过期" in found[-1]["text"] or "expired" in found[-1]["text"]


@pytest.mark.parametrize(
    "body",
    [
        {"session": chat_id("valid-session-1")},  # neither text nor choice
        {"session": chat_id("valid-session-1"), "text": "hi", "choice": "intent:help"},
        {"text": "hi"},
        {"session": chat_id("valid-session-1"), "text": "x" * 200_001},
        {"session": "x" * 65, "text": "hi"},
    ],
)
def test_malformed_requests_are_refused_with_422(server: str, body: dict[str, Any]) -> None:
    assert send(server, **body).status_code == 422


def test_a_body_that_is_not_json(server: str) -> None:
    response = httpx.post(
        f"{server}/api/webchat/messages",
        content=b"\xff\xfe not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


def test_english_comes_from_the_patients_message(server: str) -> None:
    found = replies(
        send(server, session=chat_id("english-user-1"), text="which department for a cough")
    )
    assert "Respiratory Medicine" in found[-1]["text"]
    assert "department:RESP" in keys(found)


def test_message_ids_are_each_browsers_own(server: str) -> None:
    first = replies(send(server, session=chat_id("browser-one-1"), id="1", text="/start"))
    second = replies(send(server, session=chat_id("browser-two-1"), id="1", text="/my"))
    assert second != first
    assert "还没有" in second[-1]["text"]


def test_a_chat_sending_too_fast_is_told_to_wait_and_others_are_not(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("flood")
    with serving(folder, GUAHAO_WEBCHAT_PER_CHAT="5/minute") as base:
        answers = [send(base, session=chat_id("flooding-0001"), text="你好") for _ in range(8)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61
        assert "wait" in answers[-1].json()["detail"]
        assert replies(
            send(base, session=chat_id("patient-0002"), text="你好")
        )  # someone else: fine


def test_the_page_asks_for_notices_and_gets_the_replies_shape(server: str) -> None:
    answer = httpx.get(
        f"{server}/api/webchat/notices", params={"session": chat_id("quiet-0001")}, timeout=10
    )
    assert answer.status_code == 200 and answer.json() == {"replies": []}
    forged = httpx.get(f"{server}/api/webchat/notices", params={"session": "x"}, timeout=10)
    assert forged.status_code == 400 and forged.json()["reason"] == "new_session"
    assert "/api/webchat/notices" in page_and_script(server)


def test_the_chat_id_is_called_chat_and_its_older_name_session_still_works(server: str) -> None:
    """The page sends "chat"; clients written against the older contract send "session": both
    name the same conversation."""
    chat = chat_id("two-names")
    first = replies(send(server, chat=chat, text="挂号"))
    again = replies(send(server, session=chat, text="挂号"))
    assert keys(first) and keys(again) == keys(first)
    for params in ({"chat": chat}, {"session": chat}):
        answer = httpx.get(f"{server}/api/webchat/notices", params=params, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"replies": []}
    nameless = httpx.get(f"{server}/api/webchat/notices", timeout=10)
    assert nameless.status_code == 422
    assert '"chat"' in page_and_script(server) or "{chat," in page_and_script(server)


def test_asking_for_notices_is_limited_per_address(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Someone guessing chat ids from one address is held back (the page asks every 15 s)."""
    folder = tmp_path_factory.mktemp("polls")
    with serving(folder, GUAHAO_WEBCHAT_NOTICES_PER_ADDRESS="5/minute") as base:
        answers = [
            httpx.get(f"{base}/api/webchat/notices", params={"session": f"{n:032x}"}, timeout=10)
            for n in range(8)
        ]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61
        assert replies(send(base, session=chat_id("still-chatting"), text="你好"))  # messages: own


# What the page made before 7d76c47 when the browser lacked crypto: Math.random and the time.
OLD_FORM = ["k9x2m4q8z1lq3w7e5", "0a1b2c3d-4e5f", "7C9E6679742540DE944BE07FC1F90AE7"]


@pytest.mark.parametrize("session", OLD_FORM)
def test_an_id_not_of_the_pages_form_is_told_to_start_a_new_chat(server: str, session: str) -> None:
    said = send(server, session=session, text="你好")
    asked = httpx.get(f"{server}/api/webchat/notices", params={"session": session}, timeout=10)
    for answer in (said, asked):
        assert answer.status_code == 400, answer.text
        assert answer.json()["reason"] == "new_session"
    assert "new_session" in page_and_script(server)  # the page makes a new id then
