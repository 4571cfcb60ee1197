"""The cabin's heartbeat as OpenTelemetry metrics: facts in, OTLP/JSON bytes out (pure).

Why OTLP/JSON: it is what monitoring stacks already read (the OpenTelemetry
Collector's `otlphttp` receiver, Prometheus' OTLP receiver, Grafana's),
so a fleet of thousands of cabins is watched with an existing engine, not
with a program of ours. Why a small encoder and not the opentelemetry-sdk:
the SDK's exporter runs in a thread with blocking HTTP and drops a batch it
cannot send, and its readers sample instruments on their own schedule; the
kiosk is one asyncio loop, the payload is a dozen gauges, and "the latest
state wins" is a rule of ours (see `heartbeat`). The encoding is checked
against the official protobuf definitions (`opentelemetry-proto`) in the
tests, so what a collector parses is what this writes.

Rules of the OTLP/JSON encoding followed here (OTLP specification,
"JSON Protobuf Encoding"): field names in lowerCamelCase; 64-bit integers
(`timeUnixNano`, `asInt`, `intValue`) as decimal strings; enum values as
integers, never names; a `NumberDataPoint` holds `asInt` or `asDouble`.

Codes only, never a person: the facts hold figures, device ids and kinds
from the site configuration and incident codes, each checked against a
narrow pattern when the value is built, so free text (a name, a NIR, a
sentence) cannot ride along by mistake.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.sync.errors import SyncError

SERVICE_NAME = "telecabine-kiosk"
SCOPE_NAME = "app.sync.heartbeat"
CONTENT_TYPE = "application/json"

# Metric names (the reference platform and any dashboard read these).
M_UPTIME = "process.uptime"
M_INTERVAL = "telecabine.heartbeat.interval"
M_DEVICE = "telecabine.device.state"
M_QUEUE = "telecabine.outbox.pending"
M_OLDEST = "telecabine.outbox.oldest_unsent_age"
M_QUARANTINE = "telecabine.outbox.quarantined"
M_DISK = "telecabine.disk.free"
M_LAST_SYNC = "telecabine.sync.last_success"
M_INCIDENTS = "telecabine.incident.open"

A_DEVICE_ID = "telecabine.device.id"
A_DEVICE_KIND = "telecabine.device.kind"
A_DEVICE_STATE = "telecabine.device.state"
A_INCIDENT = "incident.code"

_CABIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")  # as `site.cabin_id` in the schema
# A code: a lowercase word with dashes, no space, no run of 5 digits (a NIR, a phone number).
_CODE = re.compile(r"^(?!.*[0-9]{5})[a-z][a-z0-9._-]{0,63}$")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$")


class FactsError(SyncError, ValueError):
    """A heartbeat fact that is not a code or a figure (the kiosk's own mistake)."""


def _check(pattern: re.Pattern[str], value: str, what: str) -> None:
    if not pattern.fullmatch(value):
        # The value itself is not repeated: it might be exactly what must not leave.
        raise FactsError(f"The heartbeat's {what} is not a code (length {len(value)}).")


def _non_negative(value: float | int | None, what: str) -> None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise FactsError(f"The heartbeat's {what} must be a finite number, zero or more.")


@dataclass(frozen=True, slots=True)
class DeviceState:
    """One configured device: its id and kind from the site file, and a state code."""

    device_id: str
    kind: str
    state: str

    def __post_init__(self) -> None:
        _check(_DEVICE_ID, self.device_id, "device id")
        _check(_CODE, self.kind, "device kind")
        _check(_CODE, self.state, "device state")


@dataclass(frozen=True, slots=True)
class HeartbeatFacts:
    """What a cabin tells the platform about itself; `None` means "not known here".

    `open_incidents` holds one code per open incident (a code may repeat: the
    gauge per code carries the count).
    """

    cabin_id: str
    version: str
    observed_at: datetime
    uptime_s: float
    interval_s: float
    devices: tuple[DeviceState, ...] = ()
    queue_depth: int | None = None
    oldest_unsent_age_s: float | None = None
    quarantined: int | None = None
    disk_free_bytes: int | None = None
    last_sync_at: datetime | None = None
    open_incidents: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _check(_CABIN, self.cabin_id, "cabin id")
        _check(_VERSION, self.version, "version")
        for code in self.open_incidents:
            _check(_CODE, code, "incident code")
        for value, what in (
            (self.uptime_s, "uptime"),
            (self.interval_s, "interval"),
            (self.queue_depth, "queue depth"),
            (self.oldest_unsent_age_s, "oldest unsent age"),
            (self.quarantined, "quarantine count"),
            (self.disk_free_bytes, "free disk space"),
        ):
            _non_negative(value, what)
        for when in (self.observed_at, self.last_sync_at):
            if when is not None and when.tzinfo is None:
                raise FactsError("The heartbeat's times must be aware (UTC).")


def unix_nanos(when: datetime) -> int:
    """Nanoseconds since the Unix epoch, exact (no float rounding)."""
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _string(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _int_point(
    value: int, at: str, attributes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    point: dict[str, Any] = {"timeUnixNano": at, "asInt": str(value)}
    if attributes:
        point["attributes"] = attributes
    return point


def _double_point(value: float, at: str) -> dict[str, Any]:
    return {"timeUnixNano": at, "asDouble": float(value)}


def _gauge(name: str, unit: str, description: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "unit": unit,
        "gauge": {"dataPoints": points},
    }


def metrics_of(facts: HeartbeatFacts) -> list[dict[str, Any]]:
    """The metrics, in a fixed order; a figure that is `None` is left out."""
    at = str(unix_nanos(facts.observed_at))
    out = [
        _gauge(
            M_UPTIME, "s", "Seconds since the kiosk started.", [_double_point(facts.uptime_s, at)]
        ),
        _gauge(
            M_INTERVAL,
            "s",
            "Seconds between two heartbeats (a cabin silent for three is silent).",
            [_double_point(facts.interval_s, at)],
        ),
    ]
    if facts.devices:
        points = [
            _int_point(
                1,
                at,
                [
                    _string(A_DEVICE_ID, d.device_id),
                    _string(A_DEVICE_KIND, d.kind),
                    _string(A_DEVICE_STATE, d.state),
                ],
            )
            for d in sorted(facts.devices, key=lambda d: d.device_id)
        ]
        out.append(_gauge(M_DEVICE, "1", "1 per configured device, in its current state.", points))
    if facts.queue_depth is not None:
        out.append(
            _gauge(
                M_QUEUE,
                "{session}",
                "Sessions waiting to go to the platform (quarantined ones apart).",
                [_int_point(facts.queue_depth, at)],
            )
        )
    if facts.oldest_unsent_age_s is not None:
        out.append(
            _gauge(
                M_OLDEST,
                "s",
                "Age of the oldest session not yet acknowledged by the platform.",
                [_double_point(facts.oldest_unsent_age_s, at)],
            )
        )
    if facts.quarantined is not None:
        out.append(
            _gauge(
                M_QUARANTINE,
                "{session}",
                "Sessions the platform refused, kept for a technician.",
                [_int_point(facts.quarantined, at)],
            )
        )
    if facts.disk_free_bytes is not None:
        out.append(
            _gauge(
                M_DISK,
                "By",
                "Free bytes on the disk of the encrypted store.",
                [_int_point(facts.disk_free_bytes, at)],
            )
        )
    if facts.last_sync_at is not None:
        out.append(
            _gauge(
                M_LAST_SYNC,
                "s",
                "Unix time of the last session the platform acknowledged.",
                [_int_point(unix_nanos(facts.last_sync_at) // 1_000_000_000, at)],
            )
        )
    counts: dict[str, int] = {}
    for code in facts.open_incidents:
        counts[code] = counts.get(code, 0) + 1
    out.append(
        _gauge(
            M_INCIDENTS,
            "{incident}",
            "Open incidents, per code (no data point: none open).",
            [_int_point(n, at, [_string(A_INCIDENT, code)]) for code, n in sorted(counts.items())],
        )
    )
    return out


def export_request(facts: HeartbeatFacts) -> dict[str, Any]:
    """An `ExportMetricsServiceRequest` as the JSON object OTLP/HTTP carries."""
    return {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [
                        _string("service.name", SERVICE_NAME),
                        _string("service.version", facts.version),
                        _string("service.instance.id", facts.cabin_id),
                    ]
                },
                "scopeMetrics": [
                    {
                        "scope": {"name": SCOPE_NAME, "version": facts.version},
                        "metrics": metrics_of(facts),
                    }
                ],
            }
        ]
    }


def encode(facts: HeartbeatFacts) -> bytes:
    """The body of `POST /v1/metrics` (Content-Type `application/json`), compact UTF-8."""
    return json.dumps(export_request(facts), separators=(",", ":"), ensure_ascii=False).encode()
