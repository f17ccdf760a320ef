"""Looking again before deciding that an accepted request did not happen (the API may show it late)."""

import threading

import pytest

from reconciler.apply.waiting import Interrupted, look_again


def answers(*values):
    """A look that answers these values in turn, then the last one for ever; and the count of looks made."""
    made = []

    def look():
        made.append(1)
        return values[min(len(made) - 1, len(values) - 1)]

    return look, made


def test_a_late_answer_is_taken_as_soon_as_it_shows():
    look, made = answers("not started", "not started", "started")
    assert look_again(threading.Event(), look, "not started", window=5) == "started"
    assert len(made) == 3


def test_the_same_answer_for_the_whole_window_stands():
    look, made = answers(None)
    assert look_again(threading.Event(), look, None, window=1) is None
    assert len(made) >= 2, "it looked more than once before deciding"


def test_ctrl_c_stops_looking():
    stop = threading.Event()
    stop.set()
    look, _ = answers(None)
    with pytest.raises(Interrupted):
        look_again(stop, look, None, window=5)
