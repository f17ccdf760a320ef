"""Open an `Api` for the endpoint the user named: a name python-ovh knows, an http(s) URL, or `sandbox` (an embedded
sandbox on a free loopback port). Credentials are read as python-ovh reads them (a consumer key, or an OAuth2
service account's client id and secret); an Account document names its own endpoint and where its credentials
come from. This is the only module of the engine's side that starts a sandbox.
"""

import hashlib
import ipaddress
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import ovh
import ovh.client
import ovh.config

from reconciler.commands.settings import Settings
from reconciler.errors import ApiError, AuthError, UserError
from reconciler.escape import one_line, quoted, without_userinfo
from reconciler.files.accounts import Account, endpoint_url_problem
from reconciler.live.budget import RequestBudget
from reconciler.live.client import TIMEOUT, Api, prepare_session

if TYPE_CHECKING:
    import requests

NAMED_ENDPOINTS = ("ovh-eu", "ovh-ca", "ovh-us")


def register_endpoint(url: str) -> str:
    """python-ovh takes endpoint names only: give a URL a private name in its table."""
    url = url.rstrip("/")
    name = "ovhkube-" + hashlib.sha1(url.encode()).hexdigest()[:12]
    ovh.client.ENDPOINTS[name] = url
    return name


@dataclass(frozen=True)
class Keys:
    """One set of credentials: a consumer key (application key, secret, consumer key) or an OAuth2 service account
    (client id and secret). Never printed."""

    application_key: str | None = None
    application_secret: str | None = None
    consumer_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def oauth2(self) -> bool:
        return bool(self.client_id or self.client_secret) and not self.application_key

    @property
    def complete(self) -> bool:
        if self.oauth2:
            return bool(self.client_id and self.client_secret)
        return bool(self.application_key and self.application_secret and self.consumer_key)


KEY_NAMES = tuple(field.name for field in fields(Keys))  # python-ovh's names, in ovh.conf and as OVH_* variables
# An Account's environment fields -> Keys' fields.
ACCOUNT_FIELDS = {
    "applicationKey": "application_key",
    "applicationSecret": "application_secret",
    "consumerKey": "consumer_key",
    "clientId": "client_id",
    "clientSecret": "client_secret",
}


def _credentials(configuration, section: str) -> Keys:
    return Keys(*(configuration.get(section, name) for name in KEY_NAMES))


def _sandbox_credentials(configuration) -> Keys:
    from reconciler.sandbox import DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY

    if any(os.environ.get(f"OVH_{name.upper()}") for name in KEY_NAMES):
        return _credentials(configuration, "sandbox")
    return Keys(DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY)


def account_keys(account: Account, configuration) -> Keys:
    """An Account's credentials, from the environment variables or the ovh.conf section it names (and nothing else:
    python-ovh's own OVH_* variables belong to the default connection)."""
    if account.config_section:
        parser = configuration.config
        if not parser.has_section(account.config_section):
            raise AuthError(
                f'account "{account.name}" ({account.where}): ovh.conf has no section [{account.config_section}]'
            )
        return Keys(*(parser.get(account.config_section, name, fallback=None) for name in KEY_NAMES))
    # Named by field, never by the variable: a name that matches the pattern may still be a pasted secret.
    unset = [
        f"spec.credentials.environment.{name}" for name, variable in account.environment if not os.environ.get(variable)
    ]
    if unset:
        # UserError: python-ovh's OVH_* variables, which AuthError's hint names, are not an Account's.
        raise UserError(
            f'account "{account.name}" ({account.where}): not set: the environment variable(s) named by '
            + ", ".join(unset)
        )
    return Keys(**{ACCOUNT_FIELDS[name]: os.environ[variable] for name, variable in account.environment})


class _NoConfiguration:
    """python-ovh's configuration while an Account's client is made: it reads nothing for the keys it is not given
    (not OVH_* variables, not ovh.conf), which belong to the default connection."""

    class ConfigurationManager:
        def get(self, section: str, name: str) -> None:
            return None

        def read(self, config_file: str) -> None:
            return None


_MAKING_CLIENT = threading.Lock()  # python-ovh reads its configuration through a module global


def _make_client(name: str, keys: Keys, only_these: bool, whose: str) -> ovh.Client:
    """An ovh.Client with these keys; `only_these`: python-ovh fills nothing in from OVH_* or ovh.conf."""
    arguments = {field: getattr(keys, field) for field in KEY_NAMES}
    if keys.oauth2:
        _register_token_url(name, whose)
    if not only_these:
        return ovh.Client(name, timeout=TIMEOUT, **arguments)
    with _MAKING_CLIENT:  # python-ovh makes its ConfigurationManager from its module `config` in Client()
        saved, ovh.client.config = ovh.client.config, _NoConfiguration
        try:
            return ovh.Client(name, timeout=TIMEOUT, **arguments)
        finally:
            ovh.client.config = saved


def _register_token_url(name: str, whose: str) -> None:
    """python-ovh knows the OAuth2 token URLs of ovh-eu, ovh-ca and ovh-us; another endpoint (a URL, the sandbox)
    serves its own at /auth/oauth2/token, beside /1.0."""
    if name in ovh.client.OAUTH2_TOKEN_URLS:
        return
    parts = urlsplit(ovh.client.ENDPOINTS[name])
    host = parts.hostname or ""
    if parts.scheme != "https" and not _loopback(host):
        raise UserError(
            f"{whose}: the endpoint {without_userinfo(ovh.client.ENDPOINTS[name])} is plain HTTP, which would send "
            f"the OAuth2 client secret and tokens in clear: use https:// (plain HTTP is for this machine only: "
            f"127.0.0.0/8, ::1, localhost)"
        )
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{parts.port}" if parts.port else ""
    ovh.client.OAUTH2_TOKEN_URLS[name] = f"{parts.scheme}://{netloc}/auth/oauth2/token"
    if parts.scheme == "http":
        # oauthlib refuses plain HTTP through a flag of the whole process; it is set only once a loopback server (the
        # sandbox) needs it, and every other plain-HTTP OAuth2 endpoint is refused above, whatever the flag says.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _start_embedded_sandbox(stack: ExitStack) -> str:
    from reconciler.sandbox import default_state_path, put_replaces_customization
    from reconciler.sandbox.clusters import Behaviour
    from reconciler.sandbox.server import SandboxServer
    from reconciler.sandbox.state import StateError

    transition = float(os.environ.get("OVHKUBE_SANDBOX_TRANSITION_SECONDS") or 2)
    request_log = os.environ.get("OVHKUBE_SANDBOX_REQUEST_LOG") or None  # what a command costs, counted
    behaviour = Behaviour(transition_seconds=transition, put_replaces_customization=put_replaces_customization())
    try:
        server = SandboxServer(default_state_path(), "127.0.0.1", 0, behaviour=behaviour, request_log=request_log)
    except StateError as exc:
        raise UserError(str(exc)) from None
    server.start()
    stack.callback(server.stop)
    return server.url


def _userinfo(url: str) -> tuple[str, str] | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.username is None:
        return None
    return unquote(parts.username), unquote(parts.password or "")


def chosen_endpoint(settings: Settings, configuration=None) -> str:
    """The endpoint a run talks to: --endpoint (or OVH_ENDPOINT), else ovh.conf's, else ovh-eu."""
    configuration = configuration or ovh.config.ConfigurationManager()
    return settings.endpoint or configuration.get("default", "endpoint") or "ovh-eu"


def endpoint_label(endpoint: str) -> str:
    """How plans and reports name an endpoint: its name, `sandbox`, or its URL without a user:password@."""
    if endpoint.startswith(("http://", "https://")):
        return without_userinfo(endpoint).rstrip("/")
    return endpoint


@contextmanager
def open_api(settings: Settings, *, read_only: bool = False, parallelism: int = 10, log=None) -> Iterator[Api]:
    """An Api for the endpoint the settings (or OVH_ENDPOINT, or ovh.conf) name; default ovh-eu. `log` takes its
    lines (-v, the retry notice); stderr by default."""
    configuration = ovh.config.ConfigurationManager()
    endpoint = chosen_endpoint(settings, configuration)
    with ExitStack() as stack:
        yield _open(stack, settings, endpoint, None, configuration, read_only, parallelism, log)


@contextmanager
def open_account_api(
    account: Account, settings: Settings, *, read_only: bool, parallelism: int, log=None
) -> Iterator[Api]:
    """The Api of one Account: its endpoint, its credentials, its own request budget (the API's limit is per key)."""
    with ExitStack() as stack:
        yield _open(
            stack, settings, account.endpoint, account, ovh.config.ConfigurationManager(), read_only, parallelism, log
        )


def _open(stack: ExitStack, settings: Settings, endpoint: str, account: Account | None, configuration,
          read_only: bool, parallelism: int, log) -> Api:  # fmt: skip
    gateway_auth = None
    if endpoint == "sandbox":
        name, label = register_endpoint(_start_embedded_sandbox(stack)), "sandbox"
    elif endpoint.startswith(("http://", "https://")):
        why = endpoint_url_problem(endpoint)
        if why:
            raise UserError(
                f"the endpoint {quoted(without_userinfo(endpoint), 200)} {why}: give an http(s)://HOST/1.0 URL"
            )
        # user:password@ is for a gateway in front of the API (HTTP basic auth): the API signs and sees the URL
        # without it, and it is shown nowhere.
        gateway_auth, label = _userinfo(endpoint), endpoint_label(endpoint)
        name = register_endpoint(label)
    elif endpoint in ovh.client.ENDPOINTS:
        name, label = endpoint, endpoint
    else:
        choices = f"{', '.join(NAMED_ENDPOINTS)}, sandbox or an http(s)://.../1.0 URL"
        raise ApiError(f"unknown endpoint {quoted(without_userinfo(endpoint))}: use {choices}")
    if account is not None:
        keys = account_keys(account, configuration)
    elif endpoint == "sandbox":
        keys = _sandbox_credentials(configuration)
    else:
        keys = _credentials(configuration, endpoint)
    whose = f'account "{account.name}" ({account.where})' if account else label
    if gateway_auth and keys.oauth2:
        # Both are the Authorization header: the gateway's Basic would replace the service account's Bearer.
        raise UserError(
            f"{whose}: a user:password@ in the endpoint (HTTP basic auth to a gateway) cannot be used with an OAuth2 "
            f"service account, whose token takes the same Authorization header: remove it from the URL"
        )
    if not keys.complete:
        raise AuthError(f"missing API credentials for {whose}")
    try:
        client = _make_client(name, keys, only_these=account is not None, whose=whose)
    except ovh.exceptions.InvalidConfiguration as exc:
        raise AuthError(f"invalid API configuration for {whose}: {one_line(exc)}") from None
    prepare_session(client._session, ovh.client.ENDPOINTS[name], parallelism)
    if gateway_auth:
        client._session.auth = gateway_auth
    budget = RequestBudget(settings.max_requests_per_second, max_window=parallelism)
    api = Api(client, endpoint_label=label, read_only=read_only, verbose=settings.verbose, budget=budget, log=log)
    stack.callback(client._session.close)
    if settings.verbose:  # the run's cost, last, whatever the outcome
        stack.callback(lambda: api._log(api.account()))
    try:
        api.learn_clock_offset()
    except ApiError as exc:
        if not exc.network:
            raise
        url = without_userinfo(ovh.client.ENDPOINTS[name])
        where = f"{whose}'s endpoint" if account else "--endpoint (or OVH_ENDPOINT)"
        raise UserError(f"cannot reach the API at {url}: {exc}; check {where} and the network") from None
    if keys.oauth2:
        # python-ovh sends a service account's calls through its OAuth2 session, not client._session: the same
        # preparation (answer size cap, pool, proxies and CA read once) applies to it.
        session = _fetch_token(client, whose)
        prepare_session(session, ovh.client.ENDPOINTS[name], parallelism)
        stack.callback(session.close)
    return api


def _fetch_token(client: ovh.Client, whose: str) -> "requests.Session":
    """The service account's token, asked once before the threads start (each would otherwise ask its own); the
    session python-ovh then sends every call through."""
    import requests

    try:
        return client._oauth2.session  # the property fetches the token
    except ovh.exceptions.APIError as exc:
        raise AuthError(f"OAuth2 token refused for {whose}: {one_line(exc)}") from None
    except requests.RequestException as exc:
        raise UserError(f"cannot reach the OAuth2 token endpoint of {whose}: {type(exc).__name__}") from None
