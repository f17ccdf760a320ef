"""The Rollout document: which wave each cluster's disruptive changes go in (the schema's `$defs/rollout`).

Rules a reader can predict:
- The rollout orders the cluster documents its `spec.selector` picks (default: all of those given); the others are
  not held back by it. At most one Rollout among the files given (two would leave their relative order unsaid).
- Each ordered cluster goes in the first wave whose selector picks it (waves are an ordered list, so a last wave
  with `selector: {}` takes "the rest"); a cluster picked by no wave is an error, naming it: a change to it would
  otherwise have no place in the order.
- A wave that ends up with no cluster is a warning (its selector, or earlier waves took them all).
The selectors are those of ClusterDefaults (reconciler/files/defaults.py `selects`).
"""

from dataclasses import replace

from reconciler.durations import is_duration, to_seconds
from reconciler.escape import quoted
from reconciler.files.defaults import selects
from reconciler.files.load import Document
from reconciler.files.problem import WARNING, Problem, dotted
from reconciler.model import MAX_ROLLOUT_WAIT, MAX_ROLLOUT_WAIT_SECONDS, DesiredCluster, RolloutSpec, WaveSpec

KIND = "Rollout"
DEFAULT_GATE_TIMEOUT = 900.0  # seconds (PT15M)
NAMES_SHOWN = 3
ONLY_ROLLOUT = "no Cluster documents, only a Rollout: give the files or folder that hold the clusters it orders too"


def is_rollout(document: Document) -> bool:
    return document.data.get("kind") == KIND


def _problem(document: Document, path: tuple, message: str, severity: str = "error") -> Problem:
    line, column = document.position(path)
    return Problem(document.file, line, column, dotted(path), message, severity)


def _names(documents: list[Document]) -> str:
    names = [quoted(d.data["metadata"]["name"], 60) for d in documents]
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def wave_of_clusters(rollout: Document, clusters: list[Document]) -> tuple[dict[int, str], list[Problem]]:
    """id(cluster document) -> the name of its wave, for every cluster the rollout orders; and the problems."""
    spec = rollout.data["spec"]
    ordered = [c for c in clusters if selects(spec.get("selector") or {}, c)]
    waves: list[dict] = spec["waves"]
    problems: list[Problem] = []
    first_wave: dict[str, int] = {}
    for index, wave in enumerate(waves):
        name = wave["name"]
        if name in first_wave:
            where = rollout.position(("spec", "waves", first_wave[name], "name"))[0]
            message = f"wave {quoted(name)} is already named at {rollout.file}:{where}: each wave needs its own name"
            problems.append(_problem(rollout, ("spec", "waves", index, "name"), message))
        first_wave.setdefault(name, index)
    timeout = (spec.get("gate") or {}).get("timeout")
    if _too_long(timeout):
        problems.append(
            _problem(rollout, ("spec", "gate", "timeout"), f"must be at most {MAX_ROLLOUT_WAIT}; got {timeout}")
        )
    assigned: dict[int, str] = {}
    for index, wave in enumerate(waves):
        if _too_long(wave.get("pauseAfter")):
            message = f"must be at most {MAX_ROLLOUT_WAIT}; got {wave['pauseAfter']}"
            problems.append(_problem(rollout, ("spec", "waves", index, "pauseAfter"), message))
        cap = wave["maxInFlight"]
        if isinstance(cap, float):  # JSON Schema takes 2.0 as an integer; a count is written without a decimal point
            message = f"must be a count written without a decimal point: {int(cap)}, not {cap}"
            problems.append(_problem(rollout, ("spec", "waves", index, "maxInFlight"), message))
        picked = [c for c in ordered if selects(wave["selector"], c)]
        mine = [c for c in picked if id(c) not in assigned]
        for cluster in mine:
            assigned[id(cluster)] = wave["name"]
        if not mine:
            why = (
                f"earlier waves took all it picks ({_names(picked)})"
                if picked
                else "its selector picks none of the clusters the rollout orders"
            )
            message = f"wave {quoted(wave['name'])} has no cluster: {why}"
            problems.append(_problem(rollout, ("spec", "waves", index, "selector"), message, WARNING))
    left = [c for c in ordered if id(c) not in assigned]
    if left:
        message = (
            f"{len(left)} cluster(s) the rollout orders are in no wave: {_names(left)}; a change to them would have "
            "no place in the order. Add a last wave with selector {} for the rest, or narrow spec.selector"
        )
        problems.append(_problem(rollout, ("spec", "waves"), message))
    return assigned, problems


def _too_long(duration: object) -> bool:
    return isinstance(duration, str) and is_duration(duration) and to_seconds(duration) > MAX_ROLLOUT_WAIT_SECONDS


def rollout_problems(rollouts: list[Document], clusters: list[Document]) -> tuple[dict[int, str], list[Problem]]:
    """The wave of each ordered cluster, and what is wrong: a second Rollout, wave names, clusters in no wave."""
    if not rollouts or not clusters:  # no cluster at all is said once, for the input
        return {}, []
    first, problems = rollouts[0], []
    for other in rollouts[1:]:
        where = f"{first.file}:{first.line}"
        message = (
            f"a second Rollout: only one may order the files given (the first is at {where}); make it one document "
            "with more waves"
        )
        problems.append(_problem(other, ("kind",), message))
    assigned, found = wave_of_clusters(first, clusters)
    return assigned, problems + found


def to_rollout(document: Document) -> RolloutSpec:
    spec = document.data["spec"]
    gate = spec.get("gate") or {}
    waves = tuple(
        WaveSpec(
            name=wave["name"],
            max_in_flight=str(wave["maxInFlight"]),
            pause_after=float(to_seconds(wave["pauseAfter"])) if wave.get("pauseAfter") else 0.0,
            source=f"{document.file}:{document.position(('spec', 'waves', index))[0]}",
        )
        for index, wave in enumerate(spec["waves"])
    )
    return RolloutSpec(
        name=document.data["metadata"]["name"],
        source=f"{document.file}:{document.line}",
        waves=waves,
        all_changes=spec.get("changes") == "all",
        gate_timeout=float(to_seconds(gate["timeout"])) if gate.get("timeout") else DEFAULT_GATE_TIMEOUT,
        gate_api_server=bool(gate.get("apiServer", False)),
    )


def in_waves(cluster: DesiredCluster, rollout: RolloutSpec | None, wave: str | None) -> DesiredCluster:
    return replace(cluster, rollout=rollout, wave=wave) if rollout and wave else cluster
