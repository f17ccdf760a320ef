"""SIGTERM and Ctrl-C in the main thread: raised where the work is, noted only while an account is written."""

import os
import signal

import pytest

from reconciler.errors import Terminated
from reconciler.signals import STOPPED_BY, signals_noted_only, sigterm_as_interrupt, stopping


def test_a_sigterm_stops_the_work_and_is_noted():
    with sigterm_as_interrupt(), pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()  # not reached: the handler raises as the signal lands
    assert STOPPED_BY == [signal.SIGTERM]


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C as an interactive run has it, whatever runs the tests (a worker may ignore SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_signal_while_the_account_is_written_is_noted_and_the_writing_goes_on(ctrl_c_raises):
    written = []
    with sigterm_as_interrupt():
        with signals_noted_only() as landed:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
            written.append("the whole account")
        assert landed == [signal.SIGTERM, signal.SIGINT]
        assert written == ["the whole account"]
        with pytest.raises(KeyboardInterrupt):  # raised again once the account is written
            os.kill(os.getpid(), signal.SIGINT)
            signal.pause()


def test_the_handlers_are_given_back():
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_once_the_run_is_stopping_a_second_signal_is_noted_and_the_next_command_raises_again(ctrl_c_raises):
    with sigterm_as_interrupt():
        stopping()
        os.kill(os.getpid(), signal.SIGINT)  # a key pressed twice: the stop goes on
        with signals_noted_only() as landed:  # the account written after it
            os.kill(os.getpid(), signal.SIGTERM)
        assert landed == [signal.SIGTERM]
        assert STOPPED_BY == [signal.SIGINT, signal.SIGTERM]
    with sigterm_as_interrupt(), pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
