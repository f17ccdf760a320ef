"""What the engine asks of an API client, as a type: read, plan, apply, drift and export are given one account's
`Api` (live/client.py) or several accounts routed by project (`AccountsApi`, live/accounts.py), and use only this.

Structural (a Protocol): neither client names it, and mypy holds both to it where the commands hand them to the
engine (commands/opening.py). Imports nothing, so any module may name the type without loading python-ovh.
"""

from collections.abc import Mapping
from typing import Any, Protocol


class SharedBudget(Protocol):
    """The request budget every thread of a client shares (live/budget.py), or those of every account together."""

    def close(self) -> None:
        """No request waiting for its slot is sent any more."""
        ...

    def by_time(self) -> None:
        """The pace ramps up over time from now on (writes and polls after the reads)."""
        ...


class ApiClient(Protocol):
    """Thread-safe; paths are the API's (steps.py makes them); answers are decoded JSON, checked against their
    shape (live/shapes.py); failures raise ApiError and its kinds (errors.py)."""

    # Properties: read-only here, so a plain attribute of either client satisfies them.
    @property
    def endpoint_label(self) -> str:
        """How plans and reports name the endpoint (or the accounts' endpoints)."""
        ...

    @property
    def read_only(self) -> bool:
        """Every method but GET is refused (ReadOnlyError) before anything is sent."""
        ...

    @property
    def budget(self) -> SharedBudget: ...

    def get(self, path: str) -> Any: ...

    def get_with_headers(self, path: str, headers: dict[str, str]) -> tuple[Any, Mapping[str, str]]:
        """The answer and its response headers (a case-insensitive mapping)."""
        ...

    def put(self, path: str, body: dict | None) -> Any: ...

    def post(self, path: str, body: dict | None = None) -> Any: ...

    def delete(self, path: str) -> Any: ...

    def note_once(self, text: str) -> None:
        """A line under -v, said once per run."""
        ...
