"""Open an `Api` for the endpoint the user named: a name python-ovh knows, an http(s) URL, or `sandbox` (an embedded
sandbox on a free loopback port). Credentials are read as python-ovh reads them; this is the only module of the
engine's side that starts a sandbox.
"""

import hashlib
import os
from contextlib import ExitStack, contextmanager

import ovh
import ovh.client
import ovh.config

from reconciler.commands.settings import Settings
from reconciler.errors import ApiError, AuthError, UserError
from reconciler.escape import quoted, without_userinfo
from reconciler.live.budget import RequestBudget
from reconciler.live.client import TIMEOUT, Api, prepare_session

NAMED_ENDPOINTS = ("ovh-eu", "ovh-ca", "ovh-us")


def register_endpoint(url: str) -> str:
    """python-ovh takes endpoint names only: give a URL a private name in its table."""
    url = url.rstrip("/")
    name = "ovhkube-" + hashlib.sha1(url.encode()).hexdigest()[:12]
    ovh.client.ENDPOINTS[name] = url
    return name


def _credentials(configuration, section: str) -> tuple[str | None, str | None, str | None]:
    return tuple(configuration.get(section, key) for key in ("application_key", "application_secret", "consumer_key"))


def _sandbox_credentials(configuration) -> tuple:
    from reconciler.sandbox import DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY

    if any(os.environ.get(f"OVH_{key}") for key in ("APPLICATION_KEY", "APPLICATION_SECRET", "CONSUMER_KEY")):
        return _credentials(configuration, "sandbox")
    return DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY


def _start_embedded_sandbox(stack: ExitStack) -> str:
    from reconciler.sandbox import default_state_path
    from reconciler.sandbox.clusters import Behaviour
    from reconciler.sandbox.server import SandboxServer
    from reconciler.sandbox.state import StateError

    transition = float(os.environ.get("OVHKUBE_SANDBOX_TRANSITION_SECONDS") or 2)
    request_log = os.environ.get("OVHKUBE_SANDBOX_REQUEST_LOG") or None  # what a command costs, counted
    behaviour = Behaviour(transition_seconds=transition)
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
def open_api(settings: Settings, *, read_only: bool = False, parallelism: int = 10, log=None):
    """An Api for the endpoint the settings (or OVH_ENDPOINT, or ovh.conf) name; default ovh-eu. `log` takes its
    lines (-v, the retry notice); stderr by default."""
    configuration = ovh.config.ConfigurationManager()
    endpoint = chosen_endpoint(settings, configuration)
    gateway_auth = None
    with ExitStack() as stack:
        if endpoint == "sandbox":
            name, label = register_endpoint(_start_embedded_sandbox(stack)), "sandbox"
            keys = _sandbox_credentials(configuration)
        elif endpoint.startswith(("http://", "https://")):
            keys = _credentials(configuration, endpoint)
            # user:password@ is for a gateway in front of the API (HTTP basic auth): the API signs and sees the URL
            # without it, and it is shown nowhere.
            gateway_auth, label = _userinfo(endpoint), endpoint_label(endpoint)
            name = register_endpoint(label)
        elif endpoint in ovh.client.ENDPOINTS:
            name, label = endpoint, endpoint
            keys = _credentials(configuration, endpoint)
        else:
            choices = f"{', '.join(NAMED_ENDPOINTS)}, sandbox or an http(s)://.../1.0 URL"
            raise ApiError(f"unknown endpoint {quoted(without_userinfo(endpoint))}: use {choices}")
        if not all(keys):
            raise AuthError(f"missing API credentials for {label}")
        application_key, application_secret, consumer_key = keys
        try:
            client = ovh.Client(name, application_key, application_secret, consumer_key, timeout=TIMEOUT)
        except ovh.exceptions.InvalidConfiguration as exc:
            raise AuthError(f"invalid API configuration for {label}: {exc}") from None
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
            raise UserError(
                f"cannot reach the API at {url}: {exc}; check --endpoint (or OVH_ENDPOINT) and the network"
            ) from None
        yield api
