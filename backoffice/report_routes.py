"""Statistics: tables, charts and CSV/XLSX exports (B7), for administrators.

GET {prefix}/reports          the period form (?from=&to=&hospital=, visit dates) and reports
GET {prefix}/reports/export   ?kind=…&format=csv|xlsx&from=&to=&hospital=: a download (audited)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from backoffice import exports, report_pages
from backoffice.console import PAGE_HEADERS, Services, Staff, page
from backoffice.deps import SIGNED_IN, ConsoleDep, OfficeRoute, ServicesDep, may
from booking.errors import InvalidInput
from booking.reports import reading as reporting
from booking.reports.statistics import HospitalChoice, Period, parse_period
from booking.reports.tables import Kind
from booking.staff.model import Permission

HospitalCode = Annotated[str, Query(max_length=16)]
DateBasis = Annotated[str, Query(max_length=8)]  # visit (the default) or booked
KINDS = frozenset(k.value for k in Kind)
FORMATS = frozenset(("csv", "xlsx"))

router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayReadReports = Annotated[Staff, Depends(may(Permission.READ_REPORTS))]


async def period_of(
    s: Services, first: str, last: str, hospital: str, basis: str
) -> tuple[list[HospitalChoice], Period | str]:
    """The hospitals to choose from, and the period asked for (or why it is wrong)."""
    choices = await reporting.hospitals(s.uows)
    today = reporting.today(choices, s.clock.now())
    try:
        found = parse_period(first, last, hospital.strip().upper(), today, basis)
        reporting.zone_of(choices, found)
    except InvalidInput as bad:
        return choices, report_pages.period_error(str(bad.details.get("field", "")))
    return choices, found


@router.get("/reports")
async def show_reports(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayReadReports,
    first: Annotated[str, Query(alias="from", max_length=32)] = "",
    last: Annotated[str, Query(alias="to", max_length=32)] = "",
    hospital: HospitalCode = "",
    basis: DateBasis = "",
) -> Response:
    viewer = (staff.account, staff.csrf)
    choices, period = await period_of(s, first, last, hospital, basis)
    if isinstance(period, str):
        asked = {"from": first, "to": last, "hospital": hospital, "basis": basis}
        html = report_pages.reports(console.prefix, viewer, choices, asked, None, error=period)
        return page(html, status_code=400)
    report = await reporting.read_report(s.uows, period)
    asked = {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "hospital": period.hospital_code or "",
        "basis": period.basis.value,
    }
    return page(report_pages.reports(console.prefix, viewer, choices, asked, report))


@router.get("/reports/export")
async def export_report(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayReadReports,
    kind: Annotated[str, Query(max_length=16)] = "",
    file_format: Annotated[str, Query(alias="format", max_length=8)] = "xlsx",
    first: Annotated[str, Query(alias="from", max_length=32)] = "",
    last: Annotated[str, Query(alias="to", max_length=32)] = "",
    hospital: HospitalCode = "",
    basis: DateBasis = "",
) -> Response:
    # Checked here rather than by FastAPI, so that who asks is known first (a stranger is
    # sent to log in, not told what the parameters should be) and a mistake gets a page.
    choices, period = await period_of(s, first, last, hospital, basis)
    if kind not in KINDS or file_format not in FORMATS:
        period = report_pages.UNKNOWN_EXPORT
    if isinstance(period, str):
        asked = {"from": first, "to": last, "hospital": hospital, "basis": basis}
        viewer = (staff.account, staff.csrf)
        html = report_pages.reports(console.prefix, viewer, choices, asked, None, error=period)
        return page(html, status_code=400)
    chosen = Kind(kind)
    found = await reporting.export(s.uows, s.clock, period, chosen, file_format, staff.actor)
    if file_format == "csv":
        body, media_type = exports.to_csv(found), exports.CSV_TYPE
    else:
        body, media_type = exports.to_xlsx(found), exports.XLSX_TYPE
    where = f"-{period.hospital_code}" if period.hospital_code else ""
    name = f"guahao-{kind}{where}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{file_format}"
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)
