"""The GHDH line the bot writes (at the end of a receipt) is one the parser takes back as it
is: the same doctor, day, time and patient."""

from datetime import date, datetime

import pytest

from nlu.quick_command import parse_quick_command, write_quick_command


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "Zhang San", "Mary O'Neil"])
@pytest.mark.parametrize("work_no", ["00868", "N0001"])
def test_a_written_command_reads_back_as_written(name: str, work_no: str) -> None:
    """Issue 15: work numbers as the hospital writes them, letters too (read in small letters;
    the catalogue tells which doctor)."""
    at = datetime(2026, 12, 2, 13, 30)
    command = write_quick_command(work_no, at, name)
    assert command == f"GHDH{work_no},12021330,{name}"
    parsed = parse_quick_command(command.lower(), date(2026, 11, 25))
    assert parsed is not None and parsed.error is None
    assert (parsed.work_no, parsed.visit_date, parsed.time) == (work_no.lower(), at.date(), "13:30")
    assert parsed.name == name.lower()


@pytest.mark.parametrize(
    ("work_no", "name"),
    [
        ("00 868", "张三"),
        ("N-0001", "张三"),
        ("0" * 17, "张三"),
        ("00868", "张"),
        ("00868", "3号床"),
    ],
)
def test_no_command_is_written_that_the_parser_would_refuse(work_no: str, name: str) -> None:
    assert write_quick_command(work_no, datetime(2026, 12, 2, 8, 0), name) is None
