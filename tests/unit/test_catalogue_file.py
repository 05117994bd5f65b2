from pathlib import Path
from typing import Any

import pytest
import yaml

from booking.catalogue.model import Part
from booking.errors import InvalidInput
from booking.files.catalogue import catalogue_from_data
from tests.support import DEMO_FILE, ROOT, demo_catalogue

SHARED_DEMO = ROOT.parent / "shared" / "demo_hospital.yaml"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _contains(ours: Any, theirs: Any) -> bool:
    """Everything in ``theirs`` is in ``ours`` (ours may add entries and keys)."""
    if isinstance(theirs, dict):
        return isinstance(ours, dict) and all(
            k in ours and _contains(ours[k], v) for k, v in theirs.items()
        )
    if isinstance(theirs, list):
        return isinstance(ours, list) and all(any(_contains(o, t) for o in ours) for t in theirs)
    return bool(ours == theirs)


@pytest.mark.skipif(not SHARED_DEMO.exists(), reason="the shared/ folder is not beside the repo")
def test_the_demo_data_carries_everything_of_the_shared_demo_hospital() -> None:
    assert _contains(_load(DEMO_FILE), _load(SHARED_DEMO))


def test_the_demo_catalogue_reads_with_weekly_duties() -> None:
    catalogue = demo_catalogue()
    assert {h.code for h in catalogue.hospitals} == {"H01", "H02"}
    zhang = next(d for d in catalogue.doctors if d.work_no == "00868")
    assert (zhang.department_code, zhang.clinic_type, zhang.title) == ("CARD", "expert", "主任医师")
    assert [(t.weekday, t.part, t.capacity) for t in zhang.templates] == [
        (1, Part.AM, 20),
        (3, Part.PM, 20),
        (5, Part.AM, 20),
    ]
    assert catalogue.clinic_types["special"].consultation_fee_fen == 30000
    emergency = next(d for d in catalogue.departments if d.code == "EMER")
    assert not emergency.bookable
    assert "心内科" in next(d for d in catalogue.departments if d.code == "CARD").aliases


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["hospitals"][0]["doctors"][0].update(sessions=["8am"]), "8am"),
        (lambda d: d["hospitals"][0]["doctors"][0].update(dept="NOPE"), "unknown department"),
        (lambda d: d["hospitals"][0]["doctors"][0].update(clinic="vip"), "unknown clinic type"),
        (lambda d: d["hospitals"][0]["doctors"][0].update(capacity=0), "capacity"),
        (lambda d: d["hospitals"][0].update(timezone="Mars/Base"), "time zone"),
        (lambda d: d["hospitals"][0].update(policy={"window_days": -1}), "negative"),
        (lambda d: d["hospitals"][0].update(policy={"free_lunch": 1}), "unknown policy"),
        (lambda d: d["hospitals"][0]["doctors"][0].pop("work_no"), "work_no"),
    ],
)
def test_a_broken_catalogue_is_refused_with_a_clear_message(change: Any, message: str) -> None:
    data = _load(DEMO_FILE)
    change(data)
    with pytest.raises(InvalidInput, match=message):
        catalogue_from_data(data)


def test_a_file_that_is_not_a_catalogue_is_refused() -> None:
    with pytest.raises(InvalidInput):
        catalogue_from_data(["not", "a", "mapping"])  # type: ignore[arg-type]
