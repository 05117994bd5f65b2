"""Work numbers (工号) compared as the hospital writes them, in any case: N0001 is n0001, so a
doctor added as N0001 is found whoever types n0001 (issue 15). Work numbers are ASCII letters
and digits (booking.roster.doctors.WORK_NO), for which SQL's lower() and Python's agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func


def same_work_no(column: Any, work_no: str) -> ColumnElement[bool]:
    return func.lower(column) == work_no.lower()


def work_no_in(column: Any, work_nos: Iterable[str]) -> ColumnElement[bool]:
    return func.lower(column).in_(sorted({w.lower() for w in work_nos}))
