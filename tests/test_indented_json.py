"""The JSON that plan, drift and apply print and save is byte for byte json.dumps(value, indent=2): the faster writer
(reconciler/indented_json.py) changes no line a script, a diff or a saved plan's FILE:LINE relies on."""

import enum
import json
import math
import random
from collections import OrderedDict, namedtuple

import pytest
from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet
from test_hostile_names import HOSTILE, hostile  # noqa: F401 (a fixture)

from reconciler.indented_json import indented
from reconciler.model import ClusterRef
from reconciler.plan.data import Action, Change, Plan

STRINGS = [
    "",
    " ",
    HOSTILE,
    'quote " backslash \\ slash / tab \t nul \x00 del \x7f',
    "é ß 日本 \u2028 \u2029 \ufeff \U0001f600 \U0010ffff",
    "\ud800 lone surrogates \udfff",
    "\n\r\b\f",
]


class Mode(enum.StrEnum):
    IPVS = "ipvs"


class Level(enum.IntEnum):
    HIGH = 3


Point = namedtuple("Point", "x y")
NUMBERS = [0, -1, 2**70, -(2**64), 0.0, -0.0, 1.5, 1e300, 5e-324, math.inf, -math.inf, math.nan, Level.HIGH]
ODD = [Mode.IPVS, Point(1, "a"), OrderedDict(b=1, a=[]), (), [], {}, [[]], {"": {}}, True, False, None]


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 5 or roll < 0.45:
        return rng.choice(STRINGS + NUMBERS + ODD)
    if roll < 0.7:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if roll < 0.8:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    keys = STRINGS + [1, -2, 1.5, True, False, None, Mode.IPVS, Level.HIGH, math.inf]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


@pytest.mark.parametrize("value", STRINGS + NUMBERS + ODD, ids=repr)
def test_every_kind_of_value_is_written_as_json_dumps_writes_it(value):
    assert indented(value) == json.dumps(value, indent=2)
    assert indented({"k": [value, {"v": value}]}) == json.dumps({"k": [value, {"v": value}]}, indent=2)


def test_random_nested_values_are_written_as_json_dumps_writes_them():
    rng = random.Random(20261127)
    for _ in range(3000):
        value = random_value(rng)
        assert indented(value) == json.dumps(value, indent=2), value


@pytest.mark.parametrize(
    "value",
    [{1, 2}, b"bytes", object(), {(1, 2): "tuple key"}, [1, {"deep": {3}}]],
    ids=["set", "bytes", "object", "tuple key", "deep set"],
)
def test_what_json_cannot_hold_fails_as_json_dumps_fails(value):
    with pytest.raises(TypeError) as expected:
        json.dumps(value, indent=2)
    with pytest.raises(TypeError) as caught:
        indented(value)
    assert str(caught.value) == str(expected.value)


def as_json_dumps_writes_it(text: str) -> bool:
    return text == json.dumps(json.loads(text), indent=2) + "\n"


def without_created_at(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith('  "created_at": ')]


@pytest.mark.parametrize("changes", [0, 1, 3])
def test_a_plan_written_a_change_at_a_time_is_json_dumps_byte_for_byte(changes):
    refs = [ClusterRef("p" * 32, f"c{index}", None, "GRA7") for index in range(changes)]
    plan = Plan([Change(ref, Action.CREATE, f"f.yaml:{index}") for index, ref in enumerate(refs)], "sandbox")
    assert "".join(plan.json_parts()) == plan.to_json() == json.dumps(plan.to_dict(), indent=2) + "\n"


def test_a_plan_its_saved_file_and_a_drift_report_are_json_dumps_byte_for_byte(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "web"), live(2, "db"))
    fleet = write_fleet(tmp_path, wanted("web", kubeProxy=IPTABLES_60S), wanted("db"), wanted("new"))
    saved = tmp_path / "plan.json"
    plan = run_ovhkube("plan", fleet, "--format", "json", "--out", saved, env=sandbox.env())
    assert plan.returncode == 0, plan.stderr
    assert as_json_dumps_writes_it(plan.stdout) and plan.stdout == saved.read_text()
    assert {c["action"] for c in json.loads(plan.stdout)["changes"]} == {"update", "noop", "create"}
    # Without --out the plan is written out a change at a time: the same text, but for when it was made.
    streamed = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())
    assert streamed.returncode == 0 and as_json_dumps_writes_it(streamed.stdout)
    assert without_created_at(streamed.stdout) == without_created_at(plan.stdout)
    drift = run_ovhkube("drift", fleet, "--format", "json", env=sandbox.env())
    assert drift.returncode == 2 and as_json_dumps_writes_it(drift.stdout)
    applied = run_ovhkube("apply", "--plan", saved, "--format", "json", env=sandbox.env())
    assert applied.returncode == 0, applied.stderr
    assert as_json_dumps_writes_it(applied.stdout)


def test_a_plan_quoting_a_hostile_live_name_is_json_dumps_byte_for_byte(sandbox, run_ovhkube, hostile):  # noqa: F811
    result = run_ovhkube("plan", hostile, "--format", "json", env=sandbox.env())
    assert result.returncode == 1 and "pwned" in result.stdout
    assert as_json_dumps_writes_it(result.stdout)
