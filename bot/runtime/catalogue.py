"""The catalogue file a hospital is loaded from (``GUAHAO_DEMO_FILE``, ``guahao demo load``):
read by the command line, and by the application for what the database does not keep yet."""

from __future__ import annotations

from pathlib import Path

import yaml

from booking.catalogue.model import Catalogue
from booking.errors import InvalidInput
from booking.files.catalogue import catalogue_from_data


def read_catalogue(path: Path) -> Catalogue:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InvalidInput(f"{path} is not valid YAML: {first}", field="file") from None
    return catalogue_from_data(data)
