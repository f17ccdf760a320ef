"""The JSON Schema of desired-state files: the one definition of the format.

An installed wheel carries it as package data (reconciler/cluster.schema.json, force-included by
pyproject.toml); an editable checkout reads the repository's schemas/cluster.schema.json.
"""

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

PACKAGED_NAME = "cluster.schema.json"
CHECKOUT_PATH = Path(__file__).resolve().parent.parent / "schemas" / "cluster.schema.json"


@lru_cache(maxsize=1)
def schema_text() -> str:
    """The schema exactly as shipped (what `ovhkube schema` prints)."""
    packaged = files("reconciler").joinpath(PACKAGED_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return CHECKOUT_PATH.read_text(encoding="utf-8")


def load_schema() -> dict:
    """A fresh copy of the schema as a dict (callers may change it freely)."""
    return json.loads(schema_text())
