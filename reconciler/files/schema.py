"""The published JSON Schemas: desired-state files (the one definition of the format) and the plan JSON.

An installed wheel carries each as package data (reconciler/NAME, force-included by pyproject.toml); an editable
checkout reads the repository's schemas/NAME.
"""

import json
from functools import cache
from pathlib import Path

PACKAGED_NAME = "cluster.schema.json"
PLAN_SCHEMA_NAME = "plan.schema.json"  # the plan JSON (`plan --format json`, saved plans): reconciler.plan.data
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # reconciler/
CHECKOUT_DIR = PACKAGE_DIR.parent / "schemas"


@cache
def schema_text(name: str = PACKAGED_NAME) -> str:
    """A schema exactly as shipped (what `ovhkube schema` prints)."""
    for path in (PACKAGE_DIR / name, CHECKOUT_DIR / name):  # plain files first: importlib.resources costs start-up
        if path.is_file():
            return path.read_text(encoding="utf-8")
    from importlib.resources import files  # a zipped install

    return files("reconciler").joinpath(name).read_text(encoding="utf-8")


def load_schema(name: str = PACKAGED_NAME) -> dict:
    """A fresh copy of a schema as a dict (callers may change it freely)."""
    return json.loads(schema_text(name))
