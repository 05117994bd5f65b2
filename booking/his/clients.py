"""The hospital information system (HIS) as a client of /fhir: its bearer tokens, stored as
hashes and told once, and who it acts as in the audit log ("his:NAME")."""

from __future__ import annotations

import hashlib
import re
import secrets

from booking.clock import Clock
from booking.errors import BookingError, InvalidInput, NotFound
from booking.his.ports import HisClient, HisWork
from booking.staff import audit
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,27}")


class ClientNameTaken(BookingError):
    reason = "client_name_taken"


def token_hash(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 cannot be reversed by guessing."""
    return hashlib.sha256(token.encode()).hexdigest()


def his_actor(name: str | None, address: str | None) -> Actor:
    """A HIS in the audit log; None: a request whose token nobody holds."""
    return Actor(staff_id=None, username=None if name is None else f"his:{name}", address=address)


def check_client_name(name: str) -> str:
    clean = name.strip().lower()
    if not _NAME.fullmatch(clean):
        raise InvalidInput(
            "a client name is 1-28 lowercase letters, digits, '.', '_' or '-'", field="name"
        )
    return clean


async def add_client(
    uows: UnitOfWorkFactory[HisWork], clock: Clock, name: str
) -> tuple[HisClient, str]:
    """A new client and its token, which is shown this once and never kept."""
    name = check_client_name(name)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    async with uows() as uow:
        client = await uow.his.add_client(name, token_hash(token), now)
        if client is None:
            raise ClientNameTaken(f"there is already a client called {name}", name=name)
        await uow.audit.add(COMMAND_LINE.did(now, audit.HIS_CLIENT_ADD, f"his:{name}"))
        await uow.commit()
    return client, token


async def list_clients(uows: UnitOfWorkFactory[HisWork]) -> list[HisClient]:
    async with uows(readonly=True) as uow:
        return await uow.his.clients()


async def revoke_client(uows: UnitOfWorkFactory[HisWork], clock: Clock, name: str) -> None:
    """The client's token stops working at once; the name stays taken (the audit log)."""
    now, name = clock.now(), name.strip().lower()
    async with uows() as uow:
        if not await uow.his.revoke(name, now):
            raise NotFound("no such active client", what="his_client")
        await uow.audit.add(
            COMMAND_LINE.did(
                now, audit.HIS_CLIENT_REVOKE, f"his:{name}", {"active": True}, {"active": False}
            )
        )
        await uow.commit()


async def client_for(uows: UnitOfWorkFactory[HisWork], token: str | None) -> HisClient | None:
    """The active client holding this bearer token (refused: see bad_token)."""
    if not token:
        return None
    async with uows(readonly=True) as uow:
        return await uow.his.client_by_token(token_hash(token))


async def bad_token(
    uows: UnitOfWorkFactory[HisWork], clock: Clock, token: str | None, address: str | None,
    *, throttled: bool = False,
) -> None:  # fmt: skip
    """Audits a refused token; `throttled`: the address has now refused too many."""
    after: dict[str, object] = {"token": "missing" if not token else "unknown"}
    if throttled:
        after["throttled"] = True
    entry = his_actor(None, address).did(clock.now(), audit.HIS_BAD_TOKEN, None, None, after)
    await audit.record_repeated(uows, entry)
