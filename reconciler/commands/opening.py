"""The API opened in a background thread while the main thread loads the files.

Before its first read a command spends about 0.1 s opening the API: importing python-ovh and requests, making the
session, and asking the server's clock (GET /auth/time, one round trip). None of it depends on the files, so plan,
drift and apply start it first (the imports in the main thread, see ApiOpening; the client and the clock in a
thread) and take the Api once the files are valid. The embedded sandbox is opened when taken: it has no round trip
to hide. Users see what they saw before:
- the files' problems come first and alone: an error of the opening (no credentials, an unknown endpoint, an API that
  does not answer) is raised only when the Api is taken, after the files are valid, and never said otherwise;
- what the opening logs (-v lines, the retry notice) is held until the Api is taken, then printed whole, after the
  files' warnings; when the command stops before (bad files, a --target that matches nothing, Ctrl-C) the held lines
  are printed under -v only, and the opening is not waited for;
- the one request that may be sent before the files are found bad is GET /auth/time: unsigned (no credential goes
  with it) and reading nothing of the clusters. No signed request is ever sent before the files are valid.
"""

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from reconciler.commands.settings import Settings
from reconciler.live.api import ApiClient

if TYPE_CHECKING:  # the client loads ovh and requests: only for the type checker
    from reconciler.live.client import Api

THREAD_NAME = "ovhkube-open-api"


class ApiOpening:
    """One Api being opened for one command; `api()` waits for it, `abandon()` lets it go unwaited."""

    def __init__(self, settings: Settings, *, read_only: bool, parallelism: int):
        self._settings, self._read_only, self._parallelism = settings, read_only, parallelism
        self._lock = threading.Lock()
        self._held: list[str] | None = []  # None once taken: lines go straight to stderr
        self._abandoned = self._finished = False
        self._stack = ExitStack()
        self._api: Api | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._accounts: tuple = ()  # the files' Account documents: each its own Api beside the default one
        # python-ovh and requests are imported here, in the main thread: the opening's thread imports nothing. A signal
        # (Ctrl-C, SIGTERM) handled while the main thread runs one of the import system's own callbacks can leave
        # Python's import lock held (the interrupt is then "ignored"); a thread that imports after that waits for the
        # lock forever, and the command with it. Importing costs the same CPU in either thread (one runs at a time);
        # what the thread hides is the round trip.
        from reconciler.commands.connect import open_api

        self._open_api = open_api
        if _embedded_sandbox(settings):  # no round trip to hide, and starting it imports: opened when taken
            return
        # A daemon: a command that stops on bad files does not wait for an API that may take seconds to answer.
        self._thread = threading.Thread(target=self._open, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            opened = self._open_api(
                self._settings, read_only=self._read_only, parallelism=self._parallelism, log=self._log
            )
            self._api = self._stack.enter_context(opened)
        except BaseException as exc:  # raised in the main thread when it takes the Api
            self._error = exc
        with self._lock:
            self._finished = True
            abandoned = self._abandoned
        self._done.set()
        if abandoned:  # nobody will take it: close it here (its lines are dropped)
            self._stack.close()

    def _log(self, line: str) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append(line)
                return
            if self._abandoned:
                return
        _write_line(line)

    @property
    def accounts(self) -> tuple:
        """The Account documents given to use_accounts (none: one connection for every project)."""
        return self._accounts

    def use_accounts(self, accounts) -> None:
        """The files declare Account documents: api() gives an AccountsApi that routes each project to its own."""
        self._accounts = tuple(accounts)

    @contextmanager
    def api(self) -> Iterator[ApiClient]:
        """The open Api (one account's, or AccountsApi: both are an ApiClient), closed when the block ends; the
        opening's error, raised here."""
        if self._thread is None:
            self._open()
        self._done.wait()
        self._print_held()
        if self._accounts:
            with self._stack:
                yield from self._accounts_api()
            return
        if self._error is not None:
            raise self._error
        assert self._api is not None  # opened without an error
        with self._stack:
            yield self._api

    def _accounts_api(self) -> Iterator[ApiClient]:
        """Every account's Api, routed by project; the default one serves the rest, and its failure (no
        credentials, say) matters only to a project no account serves."""
        from reconciler.commands.connect import open_account_api
        from reconciler.errors import ApiError, UserError
        from reconciler.live.accounts import AccountsApi

        if self._error is not None and not isinstance(self._error, ApiError | UserError):
            raise self._error
        with ExitStack() as stack:
            by_account = {
                account.name: stack.enter_context(
                    open_account_api(account, self._settings, read_only=self._read_only, parallelism=self._parallelism)
                )
                for account in self._accounts
            }
            projects = {project: account.name for account in self._accounts for project in account.projects}
            yield AccountsApi(by_account, projects, self._api, self._error, self._read_only)

    def abandon(self) -> None:
        """The command stops before taking the Api: do not wait; close it now if it is open, else when it is."""
        with self._lock:
            if self._held is None or self._abandoned:
                return  # taken (the api() block closes it), or abandoned already
            self._abandoned = True
            finished, held, self._held = self._finished, self._held, None
        if self._settings.verbose:  # -v promised a line per call: those already made are said
            for line in held:
                _write_line(line)
        if finished:
            self._stack.close()

    def _print_held(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
        for line in held:
            _write_line(line)


def _embedded_sandbox(settings: Settings) -> bool:
    from reconciler.commands.connect import chosen_endpoint

    try:
        return chosen_endpoint(settings) == "sandbox"
    except Exception:  # an unreadable ovh.conf: the opening says so, after the files
        return False


def _write_line(line: str) -> None:
    from reconciler.live.client import whole_line_to_stderr

    whole_line_to_stderr(line)


@contextmanager
def opening_api(settings: Settings, *, read_only: bool, parallelism: int) -> Iterator[ApiOpening]:
    """An ApiOpening for the block; abandoned if the block ends without taking its Api."""
    opening = ApiOpening(settings, read_only=read_only, parallelism=parallelism)
    try:
        yield opening
    finally:
        opening.abandon()
