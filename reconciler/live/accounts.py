"""Several accounts as one Api: each request goes to the Api of the account that serves the project its path names.

Read, plan and apply talk to one Api and build paths `/cloud/project/{project}/...`; this router sends each to the
account's own endpoint, signed with that account's credentials and paced by its own request budget (the API's rate
limit is per key). A project no Account document names goes to the default Api (--endpoint and python-ovh's own
credentials), as without accounts.
"""

import re
from collections.abc import Mapping
from typing import Any

from reconciler.errors import AuthError
from reconciler.live.client import Api

_PROJECT = re.compile(r"^/cloud/project/([^/?]+)")


class Budgets:
    """The request budgets of every account, closed together (apply closes its budget when it stops)."""

    def __init__(self, apis: list[Api]) -> None:
        self._budgets = [api.budget for api in apis]

    def close(self) -> None:
        for budget in self._budgets:
            budget.close()

    def by_time(self) -> None:
        for budget in self._budgets:
            budget.by_time()

    @property
    def refusals(self) -> int:
        return sum(budget.refusals for budget in self._budgets)

    @property
    def waited(self) -> float:
        return sum(budget.waited for budget in self._budgets)


class AccountsApi:
    """An ApiClient (live/api.py) like one account's Api, each request routed by its project."""

    def __init__(
        self,
        by_account: dict[str, Api],
        projects: dict[str, str],
        default: Api | None,
        default_error: BaseException | None,
        read_only: bool,
    ) -> None:
        self._by_account = by_account  # account name -> its Api
        self._projects = projects  # project -> account name
        self._default = default
        self._default_error = default_error  # why there is no default Api, raised when a path needs it
        self.read_only = read_only
        parts = [f"{name}={api.endpoint_label}" for name, api in sorted(by_account.items())]
        if default is not None:
            parts.append(f"default={default.endpoint_label}")
        self.endpoint_label = "accounts: " + ", ".join(parts)
        self.budget = Budgets(self._apis())

    def _apis(self) -> list[Api]:
        return [*self._by_account.values(), *([self._default] if self._default else [])]

    def api_for(self, path: str) -> Api:
        match = _PROJECT.match(path)
        account = self._projects.get(match[1]) if match else None
        if account is not None:
            return self._by_account[account]
        if self._default is None:
            what = f"project {match[1]}" if match else path
            raise AuthError(
                f"no Account document serves {what}, and the default connection failed: {self._default_error}"
            )
        return self._default

    def connections(self, projects: list[str]) -> list[tuple[str | None, str, tuple[str, ...]]]:
        """(account name, or None for the default connection; its endpoint label; those of `projects` it serves):
        every account, and the default connection where it serves one of them."""
        served: dict[str | None, list[str]] = {name: [] for name in sorted(self._by_account)}
        for project in sorted(set(projects)):
            served.setdefault(self._projects.get(project), []).append(project)
        return [
            (name, (self._by_account[name] if name is not None else self._default_api()).endpoint_label, tuple(found))
            for name, found in served.items()
        ]

    def _default_api(self) -> Api:
        if self._default is None:  # a project of the plan was read through it: it was open
            raise AuthError(f"the default connection failed: {self._default_error}")
        return self._default

    def accounts(self) -> dict[str, Api]:
        """Each account's Api, by name; the default one (if any) as `default`."""
        return dict(self._by_account) | ({"default": self._default} if self._default else {})

    def get(self, path: str) -> Any:
        return self.api_for(path).get(path)

    def get_with_headers(self, path: str, headers: dict[str, str]) -> tuple[Any, Mapping[str, str]]:
        return self.api_for(path).get_with_headers(path, headers)

    def put(self, path: str, body: dict | None) -> Any:
        return self.api_for(path).put(path, body)

    def post(self, path: str, body: dict | None = None) -> Any:
        return self.api_for(path).post(path, body)

    def delete(self, path: str) -> Any:
        return self.api_for(path).delete(path)

    def note_once(self, text: str) -> None:
        self._apis()[0].note_once(text)

    def account(self) -> str:
        return "; ".join(f"{name}: {api.account()}" for name, api in self.accounts().items())
