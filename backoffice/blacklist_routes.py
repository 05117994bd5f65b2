"""The blacklist: the hospital's list synchronised, and the bans from no-shows.

GET  {prefix}/blacklist         the page (?sync=report id, ?hp= / ?np= pages of the two lists)
POST {prefix}/blacklist/upload  multipart: csrf + file (CSV or XLSX, 2 MB at most), and
                                confirm_removal: the bans staff agree it lifts, when it was held
POST {prefix}/blacklist/pull    fetch the list from GUAHAO_BLACKLIST_URL now (CSRF)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from backoffice import blacklist_pages
from backoffice.console import Services, Staff, page, same_token
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, ServicesDep, may
from booking.files.blacklist import read_list
from booking.patients.blacklist import (
    REMOVAL_SHARE,
    ListFetcher,
    latest_syncs,
    listed_page,
    pull,
    sync_file,
)
from booking.patients.model import BlacklistSource, ListFile, SyncOrigin
from booking.staff.model import Permission

MAX_UPLOAD = 2 * 1024 * 1024
_MULTIPART_OVERHEAD = 16 * 1024  # the boundaries, the part headers and the CSRF field
LATEST = 10


class UploadTooLarge(Exception):
    pass


def removal_share_of(s: Services) -> float:
    """GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE, from the application (bot.runtime.services)."""
    found = getattr(s, "blacklist_removal_share", REMOVAL_SHARE)
    return found if isinstance(found, float | int) else REMOVAL_SHARE


def pull_of(s: Services) -> ListFetcher | None:
    """The hospital's list server, when the application has one configured (bot.runtime.services);
    the back office itself knows no settings."""
    found = getattr(s, "blacklist_pull", None)
    return found if callable(found) else None


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise UploadTooLarge
        yield chunk


async def read_upload(request: Request) -> tuple[dict[str, str], bytes | None]:
    """The multipart form's fields and file, reading no more than MAX_UPLOAD (413)."""
    limit = MAX_UPLOAD + _MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, "the file is larger than 2 MB")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(400, "a multipart form is expected")
    parser = MultiPartParser(
        request.headers, _capped(request, limit), max_files=1, max_fields=3, max_part_size=1024
    )
    try:
        form = await parser.parse()
    except UploadTooLarge:
        raise HTTPException(413, "the file is larger than 2 MB") from None
    except MultiPartException:
        raise HTTPException(400, "not a valid multipart form") from None
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else None
    finally:
        await form.close()
    return fields, data


def confirmed_count(fields: dict[str, str]) -> int:
    """The bans the ticked box agreed to lift (the count the held upload showed), or 0."""
    given = fields.get("confirm_removal", "").strip()
    return int(given) if given.isdigit() and len(given) <= 7 else 0


router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayManageBlacklist = Annotated[Staff, Depends(may(Permission.MANAGE_BLACKLIST))]


@router.get("/blacklist")
async def blacklist(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageBlacklist,
    sync: Annotated[int | None, Query(ge=1)] = None,
    hp: Annotated[int, Query(ge=1, le=100_000)] = 1,
    np: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    syncs = await latest_syncs(s.uows, LATEST)
    shown = next((r for r in syncs if r.id == sync), None) if sync else None
    per = blacklist_pages.PER_PAGE
    html = blacklist_pages.blacklist(
        console.prefix,
        (staff.account, staff.csrf),
        syncs=syncs,
        shown=shown,
        hospital=await listed_page(s.uows, BlacklistSource.HOSPITAL.value, hp, per),
        noshow=await listed_page(s.uows, BlacklistSource.NOSHOW.value, np, per),
        pages=(hp, np),
        can_pull=pull_of(s) is not None,
    )
    return page(html)


@router.post("/blacklist/upload", max_body_size=MAX_UPLOAD + _MULTIPART_OVERHEAD)
async def upload(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageBlacklist,
) -> Response:
    # Who it is and what they may do are dependencies: a 2 MB body is read only for those allowed.
    fields, data = await read_upload(request)
    if not same_token(fields.get("csrf"), staff.csrf):  # the multipart form's own field
        return await console.deny(request, staff.actor, staff, why="csrf")
    if data is None:
        raise HTTPException(400, "no file was sent")
    report = await sync_file(
        s.uows,
        s.clock,
        s.protector,
        ListFile(data),
        read=read_list,
        origin=SyncOrigin.UPLOAD,
        actor=staff.actor,
        removal_share=removal_share_of(s),
        removals_confirmed=confirmed_count(fields),
    )
    return RedirectResponse(f"{console.prefix}/blacklist?sync={report.id}", status_code=303)


@router.post("/blacklist/pull", dependencies=[CSRF])
async def pull_now(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageBlacklist,
) -> Response:
    fetch = pull_of(s)
    if fetch is None:
        raise HTTPException(404, "no blacklist URL is configured")
    report = await pull(
        s.uows, s.clock, s.protector, fetch, read=read_list, actor=staff.actor,
        removal_share=removal_share_of(s),
    )  # fmt: skip
    return RedirectResponse(f"{console.prefix}/blacklist?sync={report.id}", status_code=303)
