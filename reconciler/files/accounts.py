"""Account documents: which endpoint and which credentials serve which projects (the schema's `$defs/account`).

A fleet spread over several OVHcloud accounts (an EU and a CA account, one account per customer) is one set of
files: each Account names the projects it serves, its endpoint, and where its credentials come from (environment
variable names or an ovh.conf section), never the secrets. The schema checks each document's shape; the rules
here are those across documents and between fields, each reported at its FILE:LINE.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.files.load import Document
from reconciler.files.problem import Problem, dotted, shown

KIND = "Account"
CONSUMER_KEY_FIELDS = ("applicationKey", "applicationSecret", "consumerKey")
OAUTH2_FIELDS = ("clientId", "clientSecret")
ONLY_ACCOUNTS = "no Cluster documents, only Account documents: give the files or folder that hold the clusters too"


@dataclass(frozen=True)
class Account:
    name: str
    endpoint: str  # ovh-eu | ovh-ca | ovh-us | sandbox | an http(s) URL
    projects: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]  # (field, variable name): consumer-key or OAuth2 fields; () with a section
    config_section: str | None
    where: str  # FILE:LINE of the document, for messages
    file: str = ""  # the file it is in (apply --plan --accounts FILE)

    @property
    def oauth2(self) -> bool:
        return any(name == "clientId" for name, _ in self.environment)

    def variable(self, name: str) -> str | None:
        return dict(self.environment).get(name)


def endpoint_url_problem(url: str) -> str | None:
    """Why an http(s) endpoint URL cannot be connected to (said before any request), or None. A host with control
    characters or brackets, a port that is no port, no host at all: the URL library would fail on it half-way."""
    if not url.isprintable():
        return "holds control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed [, a port that is no number or past 65535
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "names no host"
    if port == 0:
        return "has port 0"
    return None


def is_account(document: Document) -> bool:
    return document.data.get("kind") == KIND


def account_problems(documents: list[Document]) -> list[Problem]:
    """What the schema cannot say of schema-valid Account documents: the credential fields come as a set, a project
    belongs to one account, an account's name is used once."""
    problems: list[Problem] = []
    project_owner: dict[str, Document] = {}
    name_owner: dict[str, Document] = {}

    def problem(document: Document, path: tuple, message: str) -> None:
        line, column = document.position(path)
        problems.append(Problem(document.file, line, column, dotted(path), message))

    for document in documents:
        name, spec = document.data["metadata"]["name"], document.data["spec"]
        if name in name_owner:
            other = name_owner[name]
            problem(document, ("metadata", "name"), f'account "{name}" is already declared at {_at(other)}')
        name_owner.setdefault(name, document)
        endpoint = spec["endpoint"]
        why = endpoint_url_problem(endpoint) if endpoint.startswith(("http://", "https://")) else None
        if why:
            problem(document, ("spec", "endpoint"), f"the endpoint URL {why}; got {shown(endpoint)}")
        environment = spec["credentials"].get("environment")
        if environment is not None and tuple(sorted(environment)) not in (
            tuple(sorted(CONSUMER_KEY_FIELDS)),
            tuple(sorted(OAUTH2_FIELDS)),
        ):
            problem(
                document,
                ("spec", "credentials", "environment"),
                "give applicationKey, applicationSecret and consumerKey (a consumer key), or clientId and "
                f"clientSecret (an OAuth2 service account); got {', '.join(sorted(environment))}",
            )
        for index, project in enumerate(spec["projects"]):
            if project in project_owner:
                other = project_owner[project]
                owner = other.data["metadata"]["name"]
                message = f'project {project} is already served by account "{owner}" ({_at(other)})'
                problem(document, ("spec", "projects", index), message)
            project_owner.setdefault(project, document)
    return problems


def _at(document: Document) -> str:
    return f"{document.file}:{document.position(('metadata', 'name'))[0]}"


def to_account(document: Document) -> Account:
    spec = document.data["spec"]
    environment = spec["credentials"].get("environment") or {}
    return Account(
        name=document.data["metadata"]["name"],
        endpoint=spec["endpoint"],
        projects=tuple(spec["projects"]),
        environment=tuple(sorted(environment.items())),
        config_section=spec["credentials"].get("configSection"),
        where=f"{document.file}:{document.line}",
        file=document.file,
    )


def load_accounts(paths: list[str]) -> tuple[list[Account], list[Problem]]:
    """The Account documents of these files (other documents are left alone), or their problems."""
    from reconciler.files.load import load_paths
    from reconciler.files.validate import schema_problems_of

    loaded = load_paths(paths)
    documents = [document for document in loaded.documents if is_account(document)]
    problems = list(loaded.problems)
    for document in documents:
        problems.extend(schema_problems_of(document))
    if not problems:
        problems.extend(account_problems(documents))
    accounts = [] if problems else [to_account(document) for document in documents]
    return accounts, sorted(problems, key=lambda problem: problem.sort_key)
