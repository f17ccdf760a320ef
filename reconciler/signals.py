"""SIGTERM (how CI cancels a job) and Ctrl-C in the main thread: raised as Terminated and KeyboardInterrupt, so that
every wait stops at once, and noted as they land (typer turns an interrupt that escapes a command into a bare exit
code 130: cli._run gives back SIGTERM's 143). Once a run is stopping (`stopping()`), and while an account is written
(`signals_noted_only()`), a signal is noted, not raised: a key pressed twice or a runner that signals twice must not
cut the account of what was sent short."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.errors import Terminated

STOPPED_BY: list[int] = []  # the signals that stopped the command, as they landed
_raising = [True]


def _stop(signum: int, frame: object) -> None:
    STOPPED_BY.append(signum)
    if _raising[0]:
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    STOPPED_BY.clear()
    _raising[0] = True
    # Ctrl-C only where Python raises KeyboardInterrupt for it (a job started with SIGINT ignored keeps ignoring it).
    ctrl_c = [signal.SIGINT] if signal.getsignal(signal.SIGINT) is signal.default_int_handler else []
    try:
        previous = {signum: signal.signal(signum, _stop) for signum in [signal.SIGTERM, *ctrl_c]}
    except ValueError:  # not the main thread (an in-process caller): leave signals alone
        yield
        return
    try:
        yield
    finally:
        _raising[0] = True
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stopping() -> None:
    """The run is stopping on a signal: the next ones are noted, not raised, until the command ends."""
    _raising[0] = False


@contextmanager
def signals_noted_only() -> Iterator[list[int]]:
    """The signals that land meanwhile, noted in the list it gives, not raised."""
    landed, raising = len(STOPPED_BY), _raising[0]
    _raising[0] = False
    noted: list[int] = []
    try:
        yield noted
    finally:
        _raising[0] = raising
        noted += STOPPED_BY[landed:]
