"""Booking on behalf of a caller, transfers and closing expired bookings."""

from __future__ import annotations

from fastapi import APIRouter

from backoffice.console import Console


def add_routes(web: APIRouter, console: Console) -> None:
    """(Being written in this session.)"""
