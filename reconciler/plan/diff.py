"""Field-level differences between desired and live, by meaning (reconciler.plan.normalize), shown as written."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.plan.normalize import comparable, shown


@dataclass(frozen=True)
class FieldChange:
    path: str  # dotted, from the cluster: "customization.kubeProxy.iptables.syncPeriod", "kubeProxyMode"
    before: Any  # the live value as the API answered it; None: not set
    after: Any  # the desired value as the file wrote it; None: not set
    source: str | None = None  # "FILE:LINE" that wrote the desired value (or its nearest written parent)
    defaults: str | None = None  # the ClusterDefaults document's name when the value comes from one

    @property
    def sign(self) -> str:
        if self.before is None:
            return "+"
        return "-" if self.after is None else "~"

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "source": self.source,
            "defaults": self.defaults,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "FieldChange":
        return cls(data["path"], data.get("before"), data.get("after"), data.get("source"), data.get("defaults"))

    @property
    def origin(self) -> str:
        """Where to edit it, for people: 'FILE:LINE' or 'FILE:LINE (defaults "NAME")'."""
        return f'{self.source} (ClusterDefaults "{self.defaults}")' if self.defaults else str(self.source or "")


def diff_customization(desired: dict, live: dict | None, blocks: Iterable[str]) -> list[FieldChange]:
    """Changes inside the given top-level blocks; `live` is the customization as the API answered it."""
    live = live or {}
    changes = []
    for block in blocks:
        written, answered = shown(block, desired.get(block)), shown(block, live.get(block))
        wanted, actual = comparable(written), comparable(answered)
        for path in sorted(wanted.keys() | actual.keys()):
            if wanted.get(path) != actual.get(path):
                changes.append(FieldChange(f"customization.{path}", answered.get(path), written.get(path)))
    return changes


def changed_blocks(changes: list[FieldChange]) -> list[str]:
    """Top-level customization blocks touched by the changes, in a stable order."""
    blocks = {c.path.split(".")[1] for c in changes if c.path.startswith("customization.")}
    return sorted(blocks)
