"""The booking log and the operation-error log, searchable by administrators (B8).

GET {prefix}/logs   ?log=bookings|errors &from=&to= (dates, Shanghai) &event= &booking_no=
                    &reason= &page=      (Permission.READ_LOGS; each search is audited)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from backoffice import log_pages
from backoffice.console import Staff, page
from backoffice.deps import SIGNED_IN, ConsoleDep, OfficeRoute, ServicesDep, may
from booking.errors import InvalidInput
from booking.staff.logs import MAX_PAGE, log_filter, search_logs
from booking.staff.model import LogKind, Permission

BAD_DATE = "日期格式应为 YYYY-MM-DD。Dates are written YYYY-MM-DD."
BAD_PERIOD = "结束日期早于开始日期。The period ends before it starts."


def _day(text: str) -> date | None:
    return date.fromisoformat(text.strip()) if text.strip() else None


router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayReadLogs = Annotated[Staff, Depends(may(Permission.READ_LOGS))]


@router.get("/logs")
async def logs(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayReadLogs,
    log: LogKind = LogKind.BOOKINGS,
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    event: Annotated[str, Query(max_length=32)] = "",
    booking_no: Annotated[str, Query(max_length=20)] = "",
    reason: Annotated[str, Query(max_length=32)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    query = {"from": first, "to": last, "event": event, "booking_no": booking_no,
             "reason": reason}  # fmt: skip
    viewer = (staff.account, staff.csrf)
    try:
        f = log_filter(
            log, first=_day(first), last=_day(last), event=event, booking_no=booking_no,
            reason=reason, page=number,
        )  # fmt: skip
    except (ValueError, InvalidInput) as bad:
        backwards = isinstance(bad, InvalidInput) and bad.details.get("field") == "to"
        error = BAD_PERIOD if backwards else BAD_DATE
        html = log_pages.logs(console.prefix, viewer, log, query, None, number, error=error)
        return page(html, status_code=400)
    found = await search_logs(s.uows, s.clock, f, staff.actor)
    return page(log_pages.logs(console.prefix, viewer, log, query, found, number))
