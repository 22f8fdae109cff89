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


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(produce: Callable[[], Iterator[T]], *, ahead: int = 1) -> Iterator[T]:
    """Yield the items of `produce()`, computed in a daemon thread at most `ahead` items before they are taken.

    Memory holds at most `ahead` + 2 items (one queued per `ahead`, one being produced, one being consumed). An
    exception of the producer is raised here, at the item where it happened. When the caller stops early (an
    exception, a `break`), the producer is told to stop and is waited for before this generator returns.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        iterator = produce()
        try:
            for item in iterator:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Failed(exc))
        else:
            put(_DONE)
        finally:
            close = getattr(iterator, "close", None)  # a generator's files and buffers go with the thread
            if close is not None:
                close()

    thread = threading.Thread(target=run, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]  # everything else in the queue came from produce()
    finally:
        stop.set()
        thread.join()
