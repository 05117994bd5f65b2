"""One contract per repository, the same test run on the in-memory fake, SQLite and
PostgreSQL: what a later read returns after a write, and what a rollback loses. The fake's
behaviour is held to the database's here, so that use-case tests on the fake mean something.
(Appointments, notices and waitlists: test_repository_contracts_booking.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.catalogue.model import Part
from booking.catalogue.ports import SessionFilter
from booking.catalogue.schedule import PlaceStatus, PlannedSession, SessionStatus
from booking.errors import UsernameTaken
from booking.patients.model import BlacklistEntry, BlacklistSource, Changes, HospitalEntry
from booking.staff.model import AuditEntry, AuditFilter, Role
from booking.staff.ports import NewStaff
from tests.integration.contracts import BACKENDS, DOCTOR, NOW, WED, Store, at, open_store, ward
from tests.support import demo_catalogue

store = pytest.fixture(params=BACKENDS)(open_store)


async def test_catalogue_reads_back_what_was_loaded_and_loads_again_in_place(store: Store) -> None:
    catalogue = demo_catalogue()
    async with store() as uow:
        first = await uow.catalogue.upsert(catalogue)
        await uow.commit()
    async with store() as uow:
        again = await uow.catalogue.upsert(catalogue)
        await uow.commit()
    assert first == again
    assert (first.hospitals, first.doctors) == (len(catalogue.hospitals), len(catalogue.doctors))
    async with store(readonly=True) as uow:
        loaded = await uow.catalogue.load()
        doctor = next(d for d in loaded.doctors if d.work_no == DOCTOR)
        found = await uow.catalogue.hospital_and_department(
            doctor.hospital_code, doctor.department_code
        )
        missing = await uow.catalogue.hospital_and_department(doctor.hospital_code, "NOPE")
    assert {d.work_no for d in loaded.doctors} == {d.work_no for d in catalogue.doctors}
    assert len(loaded.departments) == len(catalogue.departments)
    assert doctor.templates and doctor.id is not None
    assert found is not None and found[1].code == doctor.department_code
    assert missing is None


async def test_sessions_are_made_once_with_one_place_per_capacity(store: Store) -> None:
    w = await ward(store, capacity=4)
    again = [PlannedSession(WED, Part.PM, 4), PlannedSession(WED, Part.AM, 2)]
    async with store() as uow:
        made = await uow.sessions.ensure(w.hospital_code, DOCTOR.lower(), again, NOW)
        await uow.commit()
    assert made == 1  # the afternoon existed already
    s = w.session
    assert (s.capacity, s.status, s.doctor_work_no, s.visit_date) == (
        4, SessionStatus.OPEN, DOCTOR, WED,
    )  # fmt: skip
    assert s.starts_at == at(13, 30)
    async with store(readonly=True) as uow:
        assert await uow.sessions.free_places(s.id, NOW) == 4
        assert (await uow.sessions.get(s.id)) == s
        found = await uow.sessions.search(SessionFilter(doctor_work_nos=(DOCTOR,)), NOW)
        first = await uow.sessions.place_times(s.id, 1)
        last = await uow.sessions.place_times(s.id, 4)
    assert [(a.session.part, a.free) for a in found] == [(Part.AM, 2), (Part.PM, 4)]
    assert found[1].session == s
    assert first is not None and last is not None
    assert (first.starts_at, last.ends_at) == (s.starts_at, s.ends_at)


async def test_claiming_never_exceeds_capacity_nor_takes_a_place_already_begun(
    store: Store,
) -> None:
    w = await ward(store, capacity=3)
    sid = w.session.id
    async with store() as uow:
        first = await uow.sessions.place_times(sid, 1)
        assert first is not None
        # Only places starting after `after` may be claimed.
        one = await uow.sessions.claim_place(sid, first.starts_at, None)
        two = await uow.sessions.claim_place(sid, NOW, None)
        asked = await uow.sessions.claim_place(sid, NOW, 2)
        three = await uow.sessions.claim_place(sid, NOW, None)
        none = await uow.sessions.claim_place(sid, NOW, None)
        await uow.commit()
    assert [p.queue_no if p else None for p in (one, two, asked, three, none)] == [
        2, 1, None, 3, None,
    ]  # fmt: skip
    async with store(readonly=True) as uow:
        assert await uow.sessions.free_places(sid, NOW) == 0
        assert await uow.sessions.busy_places(sid) == 3
        [line] = await uow.sessions.search(SessionFilter(doctor_work_nos=(DOCTOR,)), NOW)
        assert line.free == 0


async def test_a_place_changes_only_from_the_status_it_still_has(store: Store) -> None:
    sid = (await ward(store, capacity=2)).session.id
    async with store() as uow:
        held = await uow.sessions.hold_free_place(sid, NOW)
        assert held is not None and held.queue_no == 1
        assert not await uow.sessions.set_place(sid, 1, PlaceStatus.BUSY, PlaceStatus.FREE)
        assert await uow.sessions.set_place(sid, 1, PlaceStatus.BUSY_TENTATIVE, PlaceStatus.BUSY)
        await uow.commit()
    async with store(readonly=True) as uow:
        assert (await uow.sessions.free_places(sid, NOW), await uow.sessions.busy_places(sid)) == (
            1, 1,
        )  # fmt: skip


async def test_a_stopped_session_stops_once_and_withdraws_its_places(store: Store) -> None:
    sid = (await ward(store, capacity=2)).session.id
    async with store() as uow:
        assert await uow.sessions.stop(sid, "ill")
        assert not await uow.sessions.stop(sid, "again")
        await uow.sessions.withdraw_places(sid)
        await uow.commit()
    async with store(readonly=True) as uow:
        session = await uow.sessions.get(sid)
        assert session is not None
        assert (session.status, session.stop_reason) == (SessionStatus.STOPPED, "ill")
        assert await uow.sessions.free_places(sid, NOW) == 0
        assert await uow.sessions.claim_place(sid, NOW, None) is None
        assert await uow.sessions.search(SessionFilter(doctor_work_nos=(DOCTOR,)), NOW) == []


async def test_a_unit_of_work_left_without_commit_changes_nothing(store: Store) -> None:
    w = await ward(store, capacity=2)
    with pytest.raises(RuntimeError):
        async with store() as uow:
            assert await uow.sessions.claim_place(w.session.id, NOW, None) is not None
            await uow.patients.link((await uow.patients.account("web", "u1", NOW)).id,
                                    w.patient.id, NOW)  # fmt: skip
            raise RuntimeError("boom")
    async with store() as uow:
        await uow.sessions.claim_place(w.session.id, NOW, None)  # no commit
    async with store(readonly=True) as uow:
        assert await uow.sessions.free_places(w.session.id, NOW) == 2
        assert await uow.patients.find_account("web", "u1") is None


async def test_staff_accounts_by_username_once(store: Store) -> None:
    new = NewStaff("wang", Role.ADMIN, None, "hash")
    async with store() as uow:
        added = await uow.staff.add(new, NOW)
        await uow.commit()
    with pytest.raises(UsernameTaken):
        async with store() as uow:
            await uow.staff.add(new, NOW)
    async with store(readonly=True) as uow:
        assert await uow.staff.by_username("wang") == added
        assert await uow.staff.get(added.id) == added
        assert [a.username for a in await uow.staff.everyone()] == ["wang"]


async def test_the_audit_counts_a_repeated_entry_and_pages_newest_first(store: Store) -> None:
    def entry(action: str, minutes: int) -> AuditEntry:
        return AuditEntry(NOW + timedelta(minutes=minutes), action, None, "wang", "x", None,
                          None, "10.0.0.1")  # fmt: skip

    async with store() as uow:
        await uow.audit.add(entry("login", 0))
        await uow.audit.add_or_count(entry("refused", 1), NOW)
        await uow.audit.add_or_count(entry("refused", 2), NOW)
        await uow.audit.add(entry("logout", 3))
        await uow.commit()
    async with store(readonly=True) as uow:
        page = await uow.audit.page(AuditFilter(per_page=2))
        refused = await uow.audit.page(AuditFilter(action="refused"))
    assert [e.action for e in page] == ["logout", "refused", "login"]  # one more: a next page
    assert [(e.times, e.at) for e in refused] == [(2, NOW + timedelta(minutes=1))]


async def test_accounts_are_made_once_and_hold_their_patients(store: Store) -> None:
    w = await ward(store, patients=2)
    async with store() as uow:
        acct = await uow.patients.account("telegram", "42", NOW)
        assert await uow.patients.account("telegram", "42", NOW) == acct
        await uow.patients.link(acct.id, w.patient.id, NOW)
        await uow.patients.set_quiet(acct.id, True)
        await uow.commit()
    async with store() as uow:
        patient = await uow.patients.by_id_hash("id-hash-1")
        assert patient == w.patient == await uow.patients.get(w.patient.id)
        assert await uow.patients.is_linked(acct.id, w.patient.id)
        assert [p.id for p in await uow.patients.of_account(acct.id)] == [w.patient.id]
        assert await uow.patients.is_quiet(acct.id)
        assert await uow.patients.phone_cipher(w.patient.id) == "phone-cipher-1"
        assert await uow.patients.unlink(acct.id, w.patient.id)
        assert not await uow.patients.unlink(acct.id, w.patient.id)
        await uow.commit()
    async with store(readonly=True) as uow:
        assert await uow.patients.of_account(acct.id) == []
        assert await uow.patients.by_id_hash("nobody") is None


async def test_blacklist_entries_by_id_hash(store: Store) -> None:
    ban = BlacklistEntry(
        "id-hash-1", BlacklistSource.NOSHOW, "3 no-shows", WED, WED + timedelta(90)
    )
    async with store() as uow:
        await uow.blacklist.add(ban, NOW)
        await uow.commit()
    async with store(readonly=True) as uow:
        assert await uow.blacklist.entries("id-hash-1") == [ban]
        assert await uow.blacklist.entries("id-hash-2") == []
        assert await uow.blacklist.hospital_entries() == []


async def test_the_hospitals_list_is_changed_as_synchronised(store: Store) -> None:
    def listed(n: int, reason: str) -> HospitalEntry:
        return HospitalEntry(f"id-hash-{n}", f"1101**{n}", reason, WED, None)

    noshow = BlacklistEntry("id-hash-1", BlacklistSource.NOSHOW, "3 no-shows", WED, None)
    async with store() as uow:
        await uow.blacklist.add(noshow, NOW)
        await uow.blacklist.lock_hospital_list()
        await uow.blacklist.apply_hospital_changes(
            Changes(added=[listed(1, "倒号"), listed(2, "倒号"), listed(3, "倒号")]), NOW
        )
        await uow.commit()
    async with store() as uow:
        await uow.blacklist.apply_hospital_changes(
            Changes(added=[listed(4, "新")], updated=[listed(2, "改")], removed=["id-hash-1"]), NOW
        )
        await uow.commit()
    async with store(readonly=True) as uow:
        entries = sorted(await uow.blacklist.hospital_entries(), key=lambda e: e.id_hash)
        assert await uow.blacklist.entries("id-hash-1") == [noshow]  # only the hospital's go
    assert entries == [listed(2, "改"), listed(3, "倒号"), listed(4, "新")]
