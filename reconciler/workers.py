"""A pool of threads that never keeps the process alive once its command has ended.

`concurrent.futures.ThreadPoolExecutor` joins its threads when the interpreter exits, so a request still on the wire
when SIGTERM or Ctrl-C stopped a command (an API slow to answer: up to the 60 s read timeout) held the process that
long after it had said it stopped. These threads are daemons, joined only by `shutdown(wait=True)`: a command that
has said what it did ends at once, and a request still on the wire is dropped with it.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

_Work = tuple[Future, Callable[..., Any], tuple, dict] | None  # None: the thread that takes it ends


class Workers(Executor):
    """Up to `max_workers` daemon threads, started as work comes and no thread is idle (as ThreadPoolExecutor)."""

    def __init__(self, max_workers: int, name: str = "worker") -> None:
        self._max = max(1, max_workers)
        self._name = name
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # a release per thread waiting for work
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            future: Future = Future()
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # noqa: BLE001 (the caller gets it from the future, as from any pool)
                    future.set_exception(exc)
            del item, future  # a finished future is not kept alive by an idle thread
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
