"""Run an iterator one step ahead in a background thread, so that producing the next item overlaps with the
caller's work on the current one.

An import reads, reduces and estimates a chunk in Python while the database ingests the previous chunk's COPY; on
two cores the two then run side by side instead of each waiting for the other. The producer must not touch the
caller's database connection (Django gives a thread its own, outside the caller's transaction): hand it
everything it needs up front.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_S = 0.1  # how often a waiting producer checks whether the caller has gone


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Yield the items of `produce()`, each made in a daemon thread while the caller works on the one before.

    At most two items are alive at a time: the one the caller holds and the next one. The producer starts on the
    item after that only once the caller has taken the next one, so memory stays at two items, not a queue's
    worth. An exception of the producer is raised here, at the item where it happened. When the caller stops
    early (an exception, a `break`), the producer is told to stop and is waited for before this generator returns.
    """
    handed: queue.Queue[object] = queue.Queue(maxsize=1)
    taken = threading.Semaphore(0)
    stop = threading.Event()

    def hand_over(item: object) -> None:
        handed.put(item)  # never blocks: the previous item was taken before this one was made
        while not taken.acquire(timeout=_POLL_S):
            if stop.is_set():
                return

    def run() -> None:
        iterator = produce()
        try:
            for item in iterator:
                hand_over(item)
                if stop.is_set():
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            handed.put(_Failed(exc))
        else:
            handed.put(_DONE)
        finally:
            close = getattr(iterator, "close", None)  # a generator's files and buffers go with the thread
            if close is not None:
                close()

    thread = threading.Thread(target=run, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = handed.get()
            taken.release()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]  # everything else in the queue came from produce()
            item = None  # the caller is done with it: not kept alive while the next one is awaited
    finally:
        stop.set()
        thread.join()
