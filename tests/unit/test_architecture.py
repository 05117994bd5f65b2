"""The house's rules that import-linter cannot state: no import circles anywhere in the
production packages (counting imports inside functions and under TYPE_CHECKING, which only hide
a circle), and no production module longer than a reader can hold in mind."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("booking", "nlu", "channels", "bot", "backoffice")
MAX_LINES = 400


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=False)


def test_no_import_circles(graph: grimp.ImportGraph) -> None:
    assert circles(graph) == []


def test_a_circle_is_found(graph: grimp.ImportGraph) -> None:
    """The check itself: two modules importing each other, however the import is written."""
    graph.add_import(importer="booking.clock", imported="booking.appointments.book")
    try:
        assert any({"booking.clock", "booking.appointments.book"} <= set(g) for g in circles(graph))
    finally:
        graph.remove_import(importer="booking.clock", imported="booking.appointments.book")


def test_no_production_module_is_too_long() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
