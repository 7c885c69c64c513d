"""Benchmark: the checker against a bare aiohttp client, 10,000 URLs at concurrency 200.

A local aiohttp server (its own process) answers every GET after 10 ms with a small HTML page.
Measured in the same run: (a) zonewarden's checker — the guarded fetcher (address vetting,
manual redirects, capped reads) plus reading and judging each page, i.e. what `check_incidents`
does short of the database; (b) a bare aiohttp ClientSession doing the same GETs (the same
500 host names, resolved to 127.0.0.1 by a static resolver) under a semaphore of 200, reading
the bodies. Prints both rates, the ratio (target ≥ 0.5) and the median of runs.

Environment: BENCH_CHECK_URLS (default 10000), BENCH_RUNS (default 3).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path

URLS = int(os.environ.get("BENCH_CHECK_URLS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONCURRENCY = 200
PAGE = (
    b"<!DOCTYPE html><html><head><title>Shop</title></head><body><form><input type=password></form>"
    + b"x" * 800
    + b"</body></html>"
)


def serve(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(0.010)
        return web.Response(body=PAGE, content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def bare(urls: list[str]) -> float:
    import aiohttp
    from aiohttp.abc import AbstractResolver

    class Loopback(AbstractResolver):
        """The bench's names all live on 127.0.0.1 (no DNS, as for the checker's static table)."""

        async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:  # type: ignore[override,type-arg]
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": 0,
                }
            ]

        async def close(self) -> None:
            return None

    gate = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=CONCURRENCY, resolver=Loopback())
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> int:
            async with gate, session.get(url) as response:
                return len(await response.read())

        start = time.perf_counter()
        sizes = await asyncio.gather(*(one(url) for url in urls))
        elapsed = time.perf_counter() - start
    assert all(size == len(PAGE) for size in sizes)
    return elapsed


def checker(urls: list[str], hosts: dict[str, list[str]]) -> float:
    from zonewarden.checks.fetch import FetchLimits, fetch_all
    from zonewarden.checks.safety import AllowList
    from zonewarden.checks.verdict import Rule, judge, read_page

    rules = [
        Rule("credential_form", {}),
        Rule("same_title", {}),
        Rule("similar_body", {"min_similarity": 0.8}),
    ]
    limits = FetchLimits(concurrency=CONCURRENCY, per_host=CONCURRENCY, user_agent="zonewarden-bench")
    start = time.perf_counter()
    results = fetch_all(urls, limits=limits, allow=AllowList.parse(["127.0.0.1"]), hosts=hosts, use_dns=False)
    verdicts = [judge(read_page(result), rules, None, {})[0] for result in results]
    elapsed = time.perf_counter() - start
    assert all(verdicts), [r.error or r.refused for r in results if r.status != 200][:3]
    return elapsed


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    port = free_port()
    ready = multiprocessing.get_context("spawn").Event()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(30)
    try:
        names = [f"h{i}.bench.kz" for i in range(500)]
        hosts = {name: ["127.0.0.1"] for name in names}
        checked = [f"http://{names[i % 500]}:{port}/p{i}" for i in range(URLS)]
        rates: dict[str, list[float]] = {"checker": [], "bare": []}
        for run in range(1, RUNS + 1):
            bare_s = asyncio.run(bare(checked))  # the same URLs, the same 500 host names
            check_s = checker(checked, hosts)
            rates["bare"].append(URLS / bare_s)
            rates["checker"].append(URLS / check_s)
            print(
                f"  run {run}: checker {URLS / check_s:8,.0f} checks/s ({check_s:.2f} s) | "
                f"bare aiohttp {URLS / bare_s:8,.0f} GETs/s ({bare_s:.2f} s)",
                flush=True,
            )
        check_rate, bare_rate = statistics.median(rates["checker"]), statistics.median(rates["bare"])
        print(f"checks: {URLS} URLs, 10 ms server latency, concurrency {CONCURRENCY}, median of {RUNS} runs")
        print(
            f"  checker {check_rate:,.0f} checks/s; bare aiohttp {bare_rate:,.0f} GETs/s; ratio {check_rate / bare_rate:.2f}"
        )
        print(f"  target ratio >= 0.5: {'met' if check_rate / bare_rate >= 0.5 else 'NOT met'}")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
