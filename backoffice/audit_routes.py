"""The audit log, for administrators.

GET {prefix}/audit     the audit log (?staff=&action=&page=)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from backoffice import pages
from backoffice.console import Staff, page
from backoffice.deps import SIGNED_IN, ConsoleDep, OfficeRoute, ServicesDep, may
from booking.staff.audit import audit_page
from booking.staff.model import AuditFilter, Permission

router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
Auditor = Annotated[Staff, Depends(may(Permission.READ_AUDIT))]


@router.get("/audit")
async def audit_log(
    console: ConsoleDep,
    s: ServicesDep,
    staff: Auditor,
    username: Annotated[str, Query(alias="staff", max_length=32)] = "",
    action: Annotated[str, Query(max_length=32)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    f = AuditFilter(
        username=username.strip().lower() or None, action=action.strip() or None, page=number
    )
    found = await audit_page(s.uows, f)
    html = pages.audit_log(
        console.prefix,
        (staff.account, staff.csrf),
        found,
        staff=username,
        action=action,
        number=number,
    )
    return page(html)
