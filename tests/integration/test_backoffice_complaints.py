"""The complaint desk of the back office (S1, S3, S4) on SQLite and PostgreSQL, through its
pages and its JSON API: department complaint staff see and handle only their department's
complaints (another's is a 404, the attempt audited), administrators everyone's; accepting,
replying, resolving, forwarding and escalating change the complaint, queue the answer to the
patient on the complaint's channel and are audited without what anyone wrote; a complaint
taken by phone gets its tracking number; other roles are refused.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

import backoffice
from booking.clock import FixedClock
from booking.complaints.filing import complaint_status, file_complaint, history
from booking.complaints.handling import due_answers
from booking.complaints.model import Action, AnswerTo, ComplaintCategory, ComplaintStatus
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from tests.office import PASSWORDS, as_text, audit_rows, office, signed_in_as, staff

JSON_BODY = {"Content-Type": "application/json"}
SAID = "挂号处态度很差，等了两个小时"  # what the patient wrote: never in the audit log
REPLY = "已核实，向您致歉，已对窗口人员进行培训"
RESULT = "已办结：窗口人员已调岗"


@pytest.fixture
async def desk(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    await staff(demo, clock, "resp", Role.COMPLAINTS, "RESP")
    await staff(demo, clock, "desk", Role.REGISTRATION)
    return demo


async def filed(
    db: Database, protector: Protector, clock: FixedClock, department: str, user: str = "7001"
) -> str:
    """A complaint a patient made in Telegram, as the bot files it."""
    complaint = await file_complaint(
        db, protector, clock, channel="telegram", user_id=user,
        category=ComplaintCategory.SERVICE, text=SAID, department_code=department,
    )  # fmt: skip
    return complaint.complaint_no


def listed(page: str) -> list[str]:
    return re.findall(r'href="/admin/complaints/(TS\d+)"', page)


async def post(client: httpx.AsyncClient, csrf: str, no: str, step: str, **form: str) -> str:
    """A step through the page's form; where it leads."""
    answer = await client.post(f"/admin/complaints/{no}/{step}", data={"csrf": csrf, **form})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] != "/admin/login"
    return answer.headers["location"]


async def test_department_staff_see_only_their_departments_complaints(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    cardiology = await filed(desk, protector, clock, "CARD")
    respiratory = await filed(desk, protector, clock, "RESP")
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        assert listed((await client.get("/admin/complaints")).text) == [cardiology]
        page = await client.get(f"/admin/complaints/{cardiology}")
        assert page.status_code == 200 and SAID in page.text

        other = await client.get(f"/admin/complaints/{respiratory}")
        unused = await client.get("/admin/complaints/TS0000000000")
        assert other.status_code == unused.status_code == 404
        assert SAID not in other.text
        assert other.text.replace(respiratory, "") == unused.text.replace("TS0000000000", "")
        refused = await client.post(f"/admin/complaints/{respiratory}/accept", data={"csrf": csrf})
        assert refused.status_code == 404
        api = await client.get(f"/admin/api/complaints/{respiratory}")
        assert api.status_code == 404 and api.json()["reason"] == "not_found"
        api_list = (await client.get("/admin/api/complaints")).json()["complaints"]
        assert [c["complaint_no"] for c in api_list] == [cardiology]

    assert (await complaint_status(desk, respiratory)).status is ComplaintStatus.RECEIVED
    denials = [r for r in await audit_rows(desk) if r["action"] == "denied"]
    assert [(r["target"], r["times"]) for r in denials] == [(respiratory, 3)]  # counted
    assert all(r["after"] == {"why": "department"} for r in denials)

    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "admin")
        everyone = listed((await client.get("/admin/complaints")).text)
        assert sorted(everyone) == sorted([cardiology, respiratory])


async def test_accept_reply_and_resolve_through_the_pages(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await filed(desk, protector, clock, "CARD")
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        assert await post(client, csrf, number, "accept") == (
            f"/admin/complaints/{number}?done=accept"
        )
        accepted = await complaint_status(desk, number)
        assert accepted.status is ComplaintStatus.IN_PROGRESS
        assert accepted.accepted_by is not None and accepted.accepted_by.name == "cardio"

        clock.advance(timedelta(minutes=10))
        await post(client, csrf, number, "reply", text=REPLY)
        assert (await complaint_status(desk, number)).status is ComplaintStatus.ANSWERED
        [answer] = await due_answers(desk, protector, clock)
        assert answer.text == REPLY and answer.action is Action.REPLY
        assert answer.to == AnswerTo("telegram", "7001", "zh")  # where the patient wrote from

        clock.advance(timedelta(minutes=10))
        done = await post(client, csrf, number, "resolve", text=RESULT)
        assert (await complaint_status(desk, number)).status is ComplaintStatus.CLOSED
        page = (await client.get(done)).text
        assert "已办结" in page and REPLY in page and RESULT in page
        assert 'action="/admin/complaints/' not in page  # nothing more to do
        again = await post(client, csrf, number, "reply", text="再说一句")
        assert "refused=ComplaintClosed" in again
        assert "该投诉已办结" in (await client.get(again)).text

    steps = [a.action for a in await history(desk, protector, number)]
    assert steps == [Action.ACCEPT, Action.REPLY, Action.RESOLVE]
    audited = await audit_rows(desk)
    views = [r for r in audited if r["action"] == "complaint.view"]
    assert views and {(r["target"], r["username"]) for r in views} == {(number, "cardio")}
    assert all(r["after"] is None for r in views)  # what was read is not copied
    rows = [r for r in audited if r["action"].startswith("complaint.") and r not in views]
    assert [(r["action"], r["target"], r["username"]) for r in rows] == [
        ("complaint.accept", number, "cardio"),
        ("complaint.reply", number, "cardio"),
        ("complaint.resolve", number, "cardio"),
        ("complaint.refused", number, "cardio"),
    ]
    assert rows[0]["before"]["status"] == "received"
    assert rows[0]["after"]["status"] == "in_progress"
    assert rows[2]["after"] == {"status": "closed", "level": 0, "department": "CARD"}
    assert rows[3]["after"] == {"action": "reply", "reason": "ComplaintClosed"}
    text = as_text(rows)
    assert SAID not in text and REPLY not in text and RESULT not in text


async def test_the_json_api_does_the_same_with_the_csrf_header(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await filed(desk, protector, clock, "CARD")
    other = await filed(desk, protector, clock, "CARD", user="7002")
    async with office(desk, clock, protector) as client:
        nobody = await client.get("/admin/api/complaints")
        assert nobody.status_code == 401 and nobody.json()["reason"] == "not_signed_in"
        csrf = await signed_in_as(client, "cardio")
        header = {"X-CSRF-Token": csrf}

        found = (await client.get("/admin/api/complaints", params={"status": "received"})).json()
        assert sorted(c["complaint_no"] for c in found["complaints"]) == sorted([number, other])
        one = (await client.get(f"/admin/api/complaints/{number.lower()}")).json()
        assert one["text"] == SAID and one["history"] == [] and one["overdue"] is False

        no_token = await client.post(f"/admin/api/complaints/{number}/accept", json={})
        assert no_token.status_code == 403 and no_token.json()["reason"] == "forbidden"
        assert (await complaint_status(desk, number)).accepted_by is None

        accepted = await client.post(
            f"/admin/api/complaints/{number}/accept", json={}, headers=header
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "in_progress"
        assert accepted.json()["accepted_by"] == "cardio"
        replied = await client.post(
            f"/admin/api/complaints/{number}/reply", json={"text": REPLY}, headers=header
        )
        assert replied.json()["status"] == "answered"
        empty = await client.post(
            f"/admin/api/complaints/{number}/reply", json={"text": ""}, headers=header
        )
        assert empty.status_code == 422
        resolved = await client.post(
            f"/admin/api/complaints/{number}/resolve", json={"text": RESULT}, headers=header
        )
        assert resolved.json()["status"] == "closed"
        late = await client.post(
            f"/admin/api/complaints/{number}/escalate", json={}, headers=header
        )
        assert late.status_code == 409 and late.json()["reason"] == "ComplaintClosed"

        detail = (await client.get(f"/admin/api/complaints/{number}")).json()
        assert [h["action"] for h in detail["history"]] == ["accept", "reply", "resolve"]
        assert [h["text"] for h in detail["history"]] == [None, REPLY, RESULT]
        closed = (await client.get("/admin/api/complaints", params={"status": "closed"})).json()
        assert [c["complaint_no"] for c in closed["complaints"]] == [number]

    told = await due_answers(desk, protector, clock)
    assert [(a.action, a.text) for a in told] == [(Action.REPLY, REPLY), (Action.RESOLVE, RESULT)]
    actions = [r["action"] for r in await audit_rows(desk)]
    assert actions.count("denied") == 1
    assert "complaint.accept" in actions and "complaint.resolve" in actions


async def test_forward_and_escalate_move_it_out_of_sight_and_up(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await filed(desk, protector, clock, "CARD")
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        assert await post(client, csrf, number, "forward", department="RESP") == (
            "/admin/complaints"
        )  # not theirs any more
        assert listed((await client.get("/admin/complaints")).text) == []
    moved = await complaint_status(desk, number)
    assert moved.department_code == "RESP" and moved.level == 0

    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "resp")
        assert listed((await client.get("/admin/complaints")).text) == [number]
        await post(client, csrf, number, "escalate")
        assert (await complaint_status(desk, number)).level == 1
        await post(client, csrf, number, "escalate")
        assert (await complaint_status(desk, number)).level == 2
        top = await post(client, csrf, number, "escalate")
        assert "refused=AtTopLevel" in top
        nowhere = await post(client, csrf, number, "forward", department="NOPE")
        assert "refused=UnknownDepartment" in nowhere

    rows = [r for r in await audit_rows(desk) if r["action"].startswith("complaint.")]
    rows = [r for r in rows if r["action"] != "complaint.view"]
    assert [r["action"] for r in rows] == [
        "complaint.forward",
        "complaint.escalate",
        "complaint.escalate",
        "complaint.refused",
        "complaint.refused",
    ]
    assert rows[0]["before"]["department"] == "CARD" and rows[0]["after"]["department"] == "RESP"
    assert rows[2]["after"]["level"] == 2


async def test_a_complaint_nobody_accepted_in_time_is_marked_overdue(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    late = await filed(desk, protector, clock, "CARD")
    clock.advance(timedelta(hours=20))
    fresh = await filed(desk, protector, clock, "CARD", user="7003")
    clock.advance(timedelta(hours=5))  # the first is 25 hours old: its 24 hours are up
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "cardio")
        page = (await client.get("/admin/complaints")).text
        rows = {no: row for no, row in re.findall(r"(TS\d+)</a>(.*?)</tr>", page)}
        assert "逾期 overdue" in rows[late] and "逾期" not in rows[fresh]
        api = (await client.get("/admin/api/complaints")).json()["complaints"]
        assert {c["complaint_no"]: c["overdue"] for c in api} == {late: True, fresh: False}


async def test_a_complaint_taken_by_phone_gets_a_tracking_number(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        form = await client.get("/admin/complaints/new")
        assert form.status_code == 200 and 'name="department"' not in form.text  # their own
        answer = await client.post(
            "/admin/complaints/new",
            data={"csrf": csrf, "category": "waiting", "text": SAID, "language": "zh",
                  "department": "RESP"},
        )  # fmt: skip
        assert answer.status_code == 303
        [number] = re.findall(
            r"/admin/complaints/(TS\d{10})\?done=filed", answer.headers["location"]
        )
        page = (await client.get(answer.headers["location"])).text
        assert number in page and "请将受理流水号告知来电者" in page and "phone" in page

        empty = await client.post(
            "/admin/complaints/new", data={"csrf": csrf, "category": "other", "text": " "}
        )
        assert empty.status_code == 400 and "请填写内容" in empty.text

    complaint = await complaint_status(desk, number)
    assert complaint.department_code == "CARD"  # complaint staff enter their own department's
    assert complaint.channel == "phone" and not complaint.answerable
    [taken] = await history(desk, protector, number)
    assert taken.action is Action.FILE and taken.staff is not None
    assert taken.staff.name == "cardio"
    [row] = [r for r in await audit_rows(desk) if r["action"] == "complaint.file"]
    assert row["target"] == number and row["username"] == "cardio"
    assert row["after"] == {"category": "waiting", "department": "CARD"}
    assert SAID not in as_text(await audit_rows(desk))

    async with office(desk, clock, protector) as client:  # administrators choose any
        csrf = await signed_in_as(client, "admin")
        answer = await client.post(
            "/admin/complaints/new",
            data={"csrf": csrf, "category": "fees", "text": "收费有误", "department": "gast"},
        )
        number = answer.headers["location"].split("/")[-1].split("?")[0]
    assert (await complaint_status(desk, number)).department_code == "GAST"


async def test_registration_staff_may_not_handle_complaints(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await filed(desk, protector, clock, "CARD")
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert (await client.get("/admin/complaints")).status_code == 403
        assert (await client.get(f"/admin/complaints/{number}")).status_code == 403
        step = await client.post(f"/admin/complaints/{number}/accept", data={"csrf": csrf})
        assert step.status_code == 403
        phone = await client.post(
            "/admin/complaints/new", data={"csrf": csrf, "category": "other", "text": "x"}
        )
        assert phone.status_code == 403
        api = await client.post(
            f"/admin/api/complaints/{number}/accept", json={}, headers={"X-CSRF-Token": csrf}
        )
        assert api.status_code == 403 and api.json()["reason"] == "forbidden"
    assert (await complaint_status(desk, number)).accepted_by is None
    denials = [r for r in await audit_rows(desk) if r["action"] == "denied"]
    assert len(denials) == 5
    assert all(r["after"] == {"why": "handle_complaints"} for r in denials)


async def test_the_api_is_in_the_openapi_document_and_the_pages_are_not(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    app = FastAPI()
    app.include_router(backoffice.router(lambda: None, passwords=PASSWORDS, secure_cookies=False))
    paths = app.openapi()["paths"]
    assert set(paths["/admin/api/complaints/{complaint_no}/reply"]) == {"post"}
    assert "/admin/api/complaints" in paths and "/admin/complaints" not in paths
    body = paths["/admin/api/complaints/{complaint_no}/forward"]["post"]["requestBody"]
    assert "department_code" in str(app.openapi()["components"]) and body["required"]


async def test_what_the_patient_wrote_is_shown_as_text_not_markup(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    complaint = await file_complaint(
        desk, protector, clock, channel="web", user_id="w1", category=ComplaintCategory.OTHER,
        text='<script>alert("x")</script> 太慢', department_code="CARD",
    )  # fmt: skip
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "cardio")
        page = await client.get(f"/admin/complaints/{complaint.complaint_no}")
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 太慢" in page.text


async def test_the_api_reads_no_endless_body_but_takes_the_longest_reply(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """FastAPI reads a JSON body before the route knows who is asking: unlimited, a stranger
    could make the server hold any amount in memory."""
    import json

    number = await filed(desk, protector, clock, "CARD")
    huge = b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    async with office(desk, clock, protector) as client:
        stranger = await client.post(
            f"/admin/api/complaints/{number}/reply",
            content=huge,
            headers={"Content-Type": "application/json"},
        )
        assert stranger.status_code == 413
        csrf = await signed_in_as(client, "cardio")
        longest = "回" * 2000  # MAX_TEXT characters, each sent escaped as \uXXXX
        body = json.dumps({"text": longest}).encode()
        assert len(body) > 12_000
        answer = await client.post(
            f"/admin/api/complaints/{number}/reply",
            content=body,
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "answered"


async def test_a_complaint_forwarded_away_meanwhile_is_not_changed_by_its_old_department(
    desk: Database, clock: FixedClock, protector: Protector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The department is checked on the row the step holds, not only before: a reply
    posted just as the complaint is forwarded away is refused, and the attempt audited."""
    from booking.complaints import desk as complaint_desk

    number = await filed(desk, protector, clock, "RESP")  # already the other department's

    async def looked_before_the_forward(*args: object) -> None:
        return None  # the check before the step saw it still in CARD

    monkeypatch.setattr(complaint_desk, "_must_see", looked_before_the_forward)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        answer = await client.post(
            f"/admin/complaints/{number}/reply", data={"csrf": csrf, "text": REPLY}
        )
        assert answer.status_code == 404
    unchanged = await complaint_status(desk, number)
    assert unchanged.status.value == "received" and unchanged.accepted_by is None
    assert await history(desk, protector, number) == []
    denials = [r for r in await audit_rows(desk) if r["action"] == "denied"]
    assert [(r["target"], r["username"], r["after"]) for r in denials] == [
        (number, "cardio", {"why": "department"})
    ]


async def test_a_forward_from_the_console_gives_the_hospitals_own_time_to_accept(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """GUAHAO_COMPLAINT_HOURS (here 4 hours) holds for the web console as for the groups."""
    number = await filed(desk, protector, clock, "CARD")
    async with office(desk, clock, protector, complaint_within=timedelta(hours=4)) as client:
        csrf = await signed_in_as(client, "cardio")
        await post(client, csrf, number, "forward", department="RESP")
    moved = await complaint_status(desk, number)
    assert moved.accept_by == clock.now() + timedelta(hours=4)


async def test_a_stranger_is_refused_before_the_body_is_read_and_staff_get_a_fixed_422(
    desk: Database, clock: FixedClock, protector: Protector, caplog: pytest.LogCaptureFixture
) -> None:
    """Who is asking comes first: a stranger's body is never parsed, whatever it holds, and a
    malformed body from staff is answered without quoting it, and logged nowhere."""
    number = await filed(desk, protector, clock, "CARD")
    personal = "11010519491231002X 13812345678"
    malformed = [
        b'{"text": NaN, "x": "%s"}',
        b'{"text": "%s\\ud800"}',
        b'{"text": ["%s"]}',
        b'{"text": "\xff\xfe%s"}',
        b'{"department_code": {"%s": Infinity}}',
        b"[" * 5000 + b'"%s"',
    ]
    bodies = [body % personal.encode() for body in malformed]
    async with office(desk, clock, protector) as client:
        for body in bodies:
            for step in ("reply", "forward", "accept"):
                path = f"/admin/api/complaints/{number}/{step}"
                answer = await client.post(path, content=body, headers=JSON_BODY)
                assert answer.status_code == 401, (step, body, answer.text)
        header = {**JSON_BODY, "X-CSRF-Token": await signed_in_as(client, "cardio")}
        for body in bodies:
            for step in ("reply", "forward"):
                path = f"/admin/api/complaints/{number}/{step}"
                answer = await client.post(path, content=body, headers=header)
                assert answer.status_code == 422, (step, body, answer.text)
                assert answer.json()["reason"] == "invalid_request"
                assert "1101" not in answer.text and "1381" not in answer.text
    assert (await complaint_status(desk, number)).status is ComplaintStatus.RECEIVED
    assert "1101" not in caplog.text and "1381" not in caplog.text
