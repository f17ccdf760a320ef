"""The JSON Schema of desired-state files: the one definition of the format.

An installed wheel carries it as package data (reconciler/cluster.schema.json, force-included by
pyproject.toml); an editable checkout reads the repository's schemas/cluster.schema.json.
"""

import json
from functools import cache
from pathlib import Path

PACKAGED_NAME = "cluster.schema.json"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # reconciler/
PACKAGED_PATH = PACKAGE_DIR / PACKAGED_NAME
CHECKOUT_PATH = PACKAGE_DIR.parent / "schemas" / "cluster.schema.json"


@cache
def schema_text() -> str:
    """The schema exactly as shipped (what `ovhkube schema` prints)."""
    for path in (PACKAGED_PATH, CHECKOUT_PATH):  # plain files first: importlib.resources costs start-up time
        if path.is_file():
            return path.read_text(encoding="utf-8")
    from importlib.resources import files  # a zipped install

    return files("reconciler").joinpath(PACKAGED_NAME).read_text(encoding="utf-8")


def load_schema() -> dict:
    """A fresh copy of the schema as a dict (callers may change it freely)."""
    return json.loads(schema_text())
