"""greenesg.lib.prefetch: an iterator run one step ahead in a thread (the codecarbon import reads and estimates the
next chunk while the database ingests the current one)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from greenesg.lib.prefetch import prefetched


def test_items_arrive_in_order_and_all_of_them() -> None:
    assert list(prefetched(lambda: iter(range(100)))) == list(range(100))


def test_items_are_produced_in_another_thread() -> None:
    def produce() -> Iterator[str]:
        yield threading.current_thread().name

    assert list(prefetched(produce)) == ["prefetch"]


def test_a_producer_error_is_raised_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3: bad cell")

    items = prefetched(produce)
    assert (next(items), next(items)) == (1, 2)
    with pytest.raises(ValueError, match="line 3: bad cell"):
        next(items)


def test_at_most_two_items_are_alive_at_a_time() -> None:
    """The caller holds one item while the next one is made; the one after waits until that one is taken."""
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(10):
            produced.append(i)
            yield i

    items = prefetched(produce)
    assert next(items) == 0
    time.sleep(0.3)  # the producer has had all the time it wants
    assert produced == [0, 1]
    assert next(items) == 1
    time.sleep(0.3)
    assert produced == [0, 1, 2]
    items.close()


def test_stopping_early_stops_and_closes_the_producer() -> None:
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    for item in prefetched(produce):
        if item == 3:
            break
    assert closed.wait(2)


def test_a_consumer_error_stops_the_producer() -> None:
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            while True:
                yield 1
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for _ in prefetched(produce):
            raise RuntimeError("the COPY failed")
    assert closed.wait(2)
