"""The per-server rate limiter, on a fake clock so no test sleeps on real time."""

from __future__ import annotations

import math
import threading

import pytest

from zonewarden.whois.client import RateLimiter


class FakeClock:
    """Stand in for time.monotonic and time.sleep: sleeping moves the clock on at once."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter_on(clock: FakeClock, interval: float = 1.5) -> RateLimiter:
    """Return a limiter that reads and sleeps on the fake clock."""
    return RateLimiter(interval, clock=clock, sleep=clock.sleep)


def test_the_first_query_to_a_server_does_not_wait() -> None:
    clock = FakeClock()

    assert limiter_on(clock).wait("whois.nic.kz:43") == 0
    assert clock.slept == []


def test_a_second_query_waits_out_the_rest_of_the_interval() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    limiter.wait("whois.nic.kz:43")
    clock.advance(0.5)

    assert limiter.wait("whois.nic.kz:43") == pytest.approx(1.0)
    assert clock.slept == [pytest.approx(1.0)]


def test_no_wait_once_the_interval_has_passed() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    limiter.wait("whois.nic.kz:43")
    clock.advance(1.5)

    assert limiter.wait("whois.nic.kz:43") == 0


def test_each_server_has_its_own_interval() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    limiter.wait("whois.nic.kz:43")

    assert limiter.wait("127.0.0.1:4343") == 0
    assert limiter.wait("whois.nic.kz:43") == pytest.approx(1.5)


def test_concurrent_callers_get_distinct_slots() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock, interval=2.0)
    waits: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        waited = limiter.wait("whois.nic.kz:43")
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert sorted(waits) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]


@pytest.mark.parametrize("interval", [-1.0, math.nan])
def test_a_negative_or_nan_interval_is_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="min_interval_s"):
        RateLimiter(interval)
