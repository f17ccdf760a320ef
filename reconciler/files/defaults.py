"""ClusterDefaults: settings shared by the cluster documents a selector picks, merged under each cluster's own.

Rules a reader can predict:
- A selector picks cluster documents among the files given: every criterion written must match (projects, regions,
  name globs, matchLabels on metadata.labels); a list matches when any of its items does; `{}` picks them all.
- Mappings merge key by key. Everything else is a value that replaces: scalars, lists, null, and an empty mapping
  (`apiServer: {}` enforces "no customization", so it is a value, not an empty merge).
- The cluster's own value always wins, wherever it stands on the way down to a default's field.
- Two defaults documents that select one cluster and write different values for one field (or one writes a value
  where the other goes on inside it) are an error naming both places: no hidden precedence.
- Permissions (lifecycle.allow*) are refused in defaults by the schema: a reset is allowed cluster by cluster.
Every effective value remembers the document that wrote it (EffectiveDocument.origin_of), for messages and plans.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from reconciler.escape import quoted
from reconciler.files.load import Document
from reconciler.files.problem import WARNING, Problem, dotted, shown

KIND = "ClusterDefaults"
SPEC = ("spec",)
NAMES_SHOWN = 3  # clusters named in a message about many
NO_CLUSTERS = (
    "no Cluster documents, only ClusterDefaults: defaults apply to the cluster documents given with them; "
    "give the files or folder that hold both"
)


def is_defaults(document: Document) -> bool:
    return document.data.get("kind") == KIND


@dataclass(eq=False)
class Defaults:
    """One valid ClusterDefaults document, with its spec flattened to the values it writes."""

    document: Document
    name: str
    selector: dict
    values: dict  # path from the document root ("spec", ...) -> value, for every value it writes
    selected: list[Document] = field(default_factory=list)

    @classmethod
    def of(cls, document: Document) -> "Defaults":
        data = document.data
        return cls(document, data["metadata"]["name"], data["selector"], dict(written_values(data["spec"], SPEC)))

    @property
    def source(self) -> str:
        return f"{self.document.file}:{self.document.line}"

    def at(self, path: tuple) -> str:
        return f"{self.document.file}:{self.document.position(path)[0]}"

    def selects(self, cluster: Document) -> bool:
        return selects(self.selector, cluster)


def selects(selector: dict, cluster: Document) -> bool:
    """Whether a selector (of ClusterDefaults, or of a Rollout and its waves) picks this cluster document."""
    data = cluster.data
    spec, metadata = data["spec"], data["metadata"]
    if "projects" in selector and spec["project"] not in selector["projects"]:
        return False
    if "regions" in selector and spec.get("region") not in selector["regions"]:
        return False
    if "names" in selector and not any(fnmatchcase(metadata["name"], glob) for glob in selector["names"]):
        return False
    labels = metadata.get("labels") or {}
    return all(labels.get(key) == wanted for key, wanted in (selector.get("matchLabels") or {}).items())


def written_values(node: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of every value a spec writes: descend into non-empty mappings only."""
    for key, child in node.items():
        if isinstance(child, dict) and child:
            yield from written_values(child, path + (key,))
        else:
            yield path + (key,), child


@dataclass(eq=False)
class EffectiveDocument(Document):
    """A cluster document with the defaults that select it merged in; `origins` says which defaults wrote what."""

    origins: dict = field(default_factory=dict)  # path -> Defaults, for every node the defaults added
    defaults: list[Defaults] = field(default_factory=list)
    from_defaults: set = field(default_factory=set)  # (file, line, column) places `where` pointed into defaults

    def origin_of(self, path: tuple) -> "Defaults | None":
        """The defaults that wrote the value at path (or its nearest written parent); None: the cluster's own."""
        path = tuple(path)
        while path:
            if path in self.origins:
                return self.origins[path]
            if self._written_here(path):
                return None
            path = path[:-1]
        return None

    def _written_here(self, path: tuple) -> bool:
        return path in self.values

    def where(self, path: tuple) -> tuple[str, int, int]:
        origin = self.origin_of(path)
        if origin is None:
            return super().where(path)
        place = (origin.document.file, *origin.document.position(path))
        self.from_defaults.add(place)
        return place


@dataclass
class Fleet:
    clusters: list[Document] = field(default_factory=list)  # effective documents, in the order of the files
    defaults: list[Defaults] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def apply_defaults(documents: list[Document], invalid_clusters: Sequence[Document] = ()) -> Fleet:
    """Valid documents of both kinds -> the effective cluster documents, and what is wrong with the defaults.
    `invalid_clusters` (cluster documents the schema refused) only keep a selector that would pick one of them
    from being reported as selecting nothing: their own errors say what to fix."""
    fleet = Fleet()
    cluster_documents = []
    for document in documents:
        if is_defaults(document):
            fleet.defaults.append(Defaults.of(document))
        else:
            cluster_documents.append(document)
    fleet.problems += _duplicate_names(fleet.defaults)
    conflicts: dict = {}  # (first defaults, second defaults) -> ([(path, first value, second value)], clusters)
    for document in cluster_documents:
        chosen = [defaults for defaults in fleet.defaults if defaults.selects(document)]
        for index, second in enumerate(chosen):
            second.selected.append(document)
            for first in chosen[:index]:
                pair = conflicts.setdefault((id(first), id(second)), (first, second, _conflicts(first, second), []))
                pair[3].append(document)
        fleet.clusters.append(_merged(document, chosen) if chosen else document)
    for first, second, found, selected in conflicts.values():
        fleet.problems += [_conflict_problem(first, second, path, selected) for path in found]
    # With no cluster document at all, the error for the input (NO_CLUSTERS) says it once, not once per selector.
    for defaults in fleet.defaults if cluster_documents or invalid_clusters else ():
        if not defaults.selected and not any(_might_select(defaults, d) for d in invalid_clusters):
            line, column = defaults.document.position(("selector",))
            message = "selects no cluster document among the files given: these defaults apply to nothing"
            fleet.problems.append(Problem(defaults.document.file, line, column, "selector", message, WARNING))
    return fleet


def _might_select(defaults: Defaults, document: Document) -> bool:
    try:
        return defaults.selects(document)
    except (KeyError, TypeError, AttributeError):  # a shape the schema refused: it cannot be told
        return False


def _duplicate_names(all_defaults: list[Defaults]) -> list[Problem]:
    problems: list[Problem] = []
    first_by_name: dict[str, Defaults] = {}
    for defaults in all_defaults:
        first = first_by_name.setdefault(defaults.name, defaults)
        if first is not defaults:
            path = ("metadata", "name")
            message = f"ClusterDefaults {quoted(defaults.name)} is already declared at {first.at(path)}"
            problems.append(Problem(*defaults.document.where(path), dotted(path), message))
    return problems


def same_value(a: Any, b: Any) -> bool:
    """Written the same: true is not 1, and lists compare item by item."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _conflicts(first: Defaults, second: Defaults) -> list[tuple]:
    """Paths (in the second document) where the two write different things."""
    found = []
    for path, value in second.values.items():
        if path in first.values:
            if not same_value(first.values[path], value):
                found.append(path)
            continue
        if any(path[:end] in first.values for end in range(len(SPEC) + 1, len(path))):
            found.append(path)  # the first writes a value where the second goes on inside it
        elif any(other[: len(path)] == path for other in first.values):
            found.append(path)  # the second writes a value where the first goes on inside it
    return found


def _conflict_problem(first: Defaults, second: Defaults, path: tuple, selected: list[Document]) -> Problem:
    inside = next((path[:end] for end in range(len(SPEC) + 1, len(path)) if path[:end] in first.values), path)
    theirs = shown(first.values[inside]) if inside in first.values else "a mapping"
    what = "sets it" if inside == path else f"sets {dotted(inside)}"
    message = (
        f"conflicts with ClusterDefaults {quoted(first.name)} at {first.at(inside)}, which {what} to {theirs}; "
        f"both select {_clusters(selected)}. Set it in one of them, or make their selectors disjoint"
    )
    return Problem(*second.document.where(path), dotted(path), message)


def _one_line(name: str) -> str:
    return name if name.isprintable() else quoted(name)


def _clusters(documents: list[Document]) -> str:
    names = [_one_line(d.data["metadata"]["name"]) for d in documents]
    shown = ", ".join(names[:NAMES_SHOWN]) + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > 3 else "")
    return f"cluster{'s' if len(names) > 1 else ''} {shown}"


def _merged(document: Document, chosen: list[Defaults]) -> EffectiveDocument:
    data = dict(document.data)
    spec = data["spec"] = _copy(data["spec"])
    effective = EffectiveDocument(
        document.file, document.line, document.column, data, document.values, document.keys, document.raw
    )
    effective.defaults = chosen
    for defaults in chosen:
        for path, value in defaults.values.items():
            _place(effective, spec, path, value, defaults)
    return effective


def _copy(node: Any) -> Any:
    """The mappings of a spec copied (defaults are merged into them); values are shared, never changed."""
    return {key: _copy(child) if isinstance(child, dict) else child for key, child in node.items()}


def _place(effective: EffectiveDocument, spec: dict, path: tuple, value: Any, defaults: Defaults) -> None:
    node = spec
    for depth in range(len(SPEC), len(path)):
        key, here = path[depth], path[: depth + 1]
        last = depth == len(path) - 1
        if key not in node:
            node[key] = _copy(value) if last and isinstance(value, dict) else value if last else {}
            effective.origins[here] = defaults
            if last:
                return
        elif last or not isinstance(node[key], dict) or (not node[key] and here not in effective.origins):
            return  # a value is already there: the cluster's own, or the same from other defaults
        node = node[key]


def locate_for_clusters(effective: list[Document], rule: Any) -> list[Problem]:
    """Run a per-document rule (the meaning rules) on the effective documents. A problem at a value some defaults
    wrote is said once, naming the clusters it concerns; a warning there is dropped (defaults may well hold what
    only some of the clusters they select use, such as workerNodesPolicy for those that allow a reset)."""
    problems: list[Problem] = []
    at_defaults: dict = {}
    for document in effective:
        for problem in rule(document):
            if not isinstance(document, EffectiveDocument) or (
                (problem.file, problem.line, problem.column) not in document.from_defaults
            ):
                problems.append(problem)
            elif problem.is_error:
                at_defaults.setdefault(problem, []).append(document)
    for problem, documents in at_defaults.items():
        message = f"{problem.message} (in the effective settings of {_clusters(documents)})"
        problems.append(Problem(problem.file, problem.line, problem.column, problem.path, message))
    return problems
