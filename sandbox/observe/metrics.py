"""Prometheus metrics at ``GET /__sandbox/metrics``, on prometheus-client.

Request counts and latencies are kept per process; under gunicorn with several workers the
CLI sets ``PROMETHEUS_MULTIPROC_DIR`` so every worker's figures add up in one scrape. Webhook
delivery figures are read from the outbox at scrape time, so they are the same whichever
worker answers.

prometheus-client picks its storage when first imported, from that environment variable, so
it is imported here only once a Metrics is made: after the CLI has set it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _Deliveries:
    """A collector (prometheus-client calls ``collect``) reading the shared outbox."""

    def __init__(self, figures: Callable[[], tuple[dict[str, int], dict[str, int]]]) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        by_status, attempts = self.figures()
        current = GaugeMetricFamily(
            "sandbox_webhook_deliveries", "Webhook deliveries by state", labels=["state"]
        )
        for state, count in sorted(by_status.items()):
            current.add_metric([state], count)
        yield current
        tried = CounterMetricFamily(
            "sandbox_webhook_attempts", "Webhook delivery attempts by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(attempts.items()):
            tried.add_metric([outcome], count)
        yield tried


class Metrics:
    def __init__(self, deliveries: Callable[[], tuple[dict[str, int], dict[str, int]]]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sandbox_requests", "API requests answered, by operation and status",
            ["operation", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "sandbox_request_duration_seconds", "Time to answer an API request",
            ["operation"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.rate_limited = Counter(
            "sandbox_rate_limit_rejections", "Requests refused with 429 by the rate limiter",
            ["plan"], registry=self.registry,
        )  # fmt: skip
        self.scenarios = Counter(
            "sandbox_scenarios_applied", "Requests answered by a scenario or chaos",
            ["scenario"], registry=self.registry,
        )  # fmt: skip
        self._deliveries = _Deliveries(deliveries)
        # the labelled children per (operation, method, status): labels() takes a lock and
        # builds its key on every call, and a request needs two of them
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, operation: str, method: str, status: int, seconds: float) -> None:
        children = self._children.get((operation, method, status))
        if children is None:
            children = (
                self.requests.labels(operation, method, str(status)),
                self.latency.labels(operation),
            )
            if len(self._children) < 10_000:  # methods and statuses come from clients
                self._children[(operation, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        body = generate_latest(registry)
        extra = CollectorRegistry()
        extra.register(self._deliveries)
        return body + generate_latest(extra), CONTENT_TYPE_LATEST
