"""The fleet: cabins' heartbeats received as OTLP/HTTP JSON, and a page that lists them.

- `POST /v1/metrics` (Content-Type `application/json`): an OTLP
  `ExportMetricsServiceRequest`. Each resource is one cabin
  (`service.instance.id`); its latest heartbeat is kept, one row per cabin.
  Malformed → 400 with a `google.rpc.Status`-shaped body, as the OTLP/HTTP
  specification asks; any other Content-Type → 415; over 1 MiB → 413.
  With cabins enrolled the request carries the cabin's token (checked by the
  platform's middleware) and may only speak for that cabin: a resource naming
  another `service.instance.id` is refused whole (403), nothing kept.
- `GET /fleet`: an HTML page (French) for the people who run the fleet: each
  cabin with when it was last heard from, version, queue, oldest unsent,
  quarantine, free disk, last sync, open incidents and devices. A cabin not
  heard from for more than three of its own intervals is "silencieuse".
  Behind the platform's staff login (`POST /fleet/login`, a form): the same
  accounts, lockout and trace as the doctor's console (`StaffLogin`), the session
  in an HttpOnly, SameSite=Strict cookie scoped to `/fleet` (or a console token as
  `Authorization: Bearer`). Without a login the page is a login form (401).

Why a table of our own in the platform's SQLite file: the latest state per
cabin survives a restart of the platform, and the FHIR store stays as it is
(this module opens its own connection). Why the platform's clock for "last
seen": a cabin's clock may be wrong; the receipt time is ours.

This is the reference platform: in production any OTLP receiver (the
OpenTelemetry Collector, Prometheus' OTLP endpoint) takes the same bytes.
The parser reads only what the page shows, ignores unknown fields (the OTLP
rule) and refuses wrong types.
"""

from __future__ import annotations

import html
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from devtools.platform.cabins import CABIN_OF_REQUEST
from devtools.platform.doctors import StaffLogin

log = logging.getLogger(__name__)

METRICS_PATH = "/v1/metrics"
FLEET_PATH = "/fleet"
MAX_BODY = 1024 * 1024
DEFAULT_INTERVAL_S = 300.0
SILENT_AFTER_INTERVALS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet_heartbeats (
    cabin_id TEXT PRIMARY KEY,
    observed_ns INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""


class OtlpFormatError(ValueError):
    """The body is not an OTLP/JSON metrics export (the sender's fault: 400)."""


@dataclass(frozen=True)
class CabinHeartbeat:
    """One cabin's latest heartbeat, as the fleet page shows it."""

    cabin_id: str
    observed_ns: int
    version: str | None = None
    service_name: str | None = None
    uptime_s: float | None = None
    interval_s: float | None = None
    queue: int | None = None
    oldest_unsent_s: float | None = None
    quarantined: int | None = None
    disk_free_bytes: int | None = None
    last_sync_unix_s: int | None = None
    incidents: dict[str, int] = field(default_factory=dict)
    devices: tuple[tuple[str, str, str], ...] = ()
    received_at: str = ""  # ISO time on the platform's clock


# ------------------------------------------------------------------ parsing


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OtlpFormatError(f"{where} must be an object.")
    return value


def _list(container: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = container.get(key, [])
    if not isinstance(value, list):
        raise OtlpFormatError(f"{where}.{key} must be an array.")
    return value


def _int64(value: Any, where: str) -> int:
    """proto3 JSON: a 64-bit integer is a decimal string (a JSON number is accepted too)."""
    if isinstance(value, bool):
        raise OtlpFormatError(f"{where} must be an integer.")
    if isinstance(value, int):
        return value
    digits = value[1:] if isinstance(value, str) and value.startswith("-") else value
    if isinstance(digits, str) and digits.isascii() and digits.isdigit() and len(digits) <= 20:
        return int(value)
    raise OtlpFormatError(f"{where} must be an integer (a decimal string).")


def _double(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise OtlpFormatError(f"{where} must be a number.")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.isascii() and len(value) <= 40:
        try:  # proto3 JSON: "NaN", "Infinity", or a number written as a string
            return float(value)
        except ValueError:
            pass
    raise OtlpFormatError(f"{where} must be a number.")


def _any_value(value: Any, where: str) -> str | int | float | bool | None:
    body = _obj(value, where)
    if "stringValue" in body:
        text = body["stringValue"]
        if not isinstance(text, str):
            raise OtlpFormatError(f"{where}.stringValue must be a string.")
        return text
    if "intValue" in body:
        return _int64(body["intValue"], f"{where}.intValue")
    if "doubleValue" in body:
        return _double(body["doubleValue"], f"{where}.doubleValue")
    if "boolValue" in body:
        flag = body["boolValue"]
        if not isinstance(flag, bool):
            raise OtlpFormatError(f"{where}.boolValue must be true or false.")
        return flag
    return None  # arrays, key-value lists, bytes: not read here


def _attributes(container: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(_list(container, "attributes", where)):
        kv = _obj(item, f"{where}.attributes[{i}]")
        key = kv.get("key")
        if not isinstance(key, str):
            raise OtlpFormatError(f"{where}.attributes[{i}].key must be a string.")
        out[key] = _any_value(kv.get("value", {}), f"{where}.attributes[{i}].value")
    return out


@dataclass(frozen=True)
class _Point:
    value: float | int
    time_ns: int
    attributes: dict[str, Any]


def _points(metric: Mapping[str, Any], where: str) -> list[_Point]:
    for kind in ("gauge", "sum"):
        if kind in metric:
            data = _obj(metric[kind], f"{where}.{kind}")
            points = []
            for i, raw in enumerate(_list(data, "dataPoints", f"{where}.{kind}")):
                at = f"{where}.{kind}.dataPoints[{i}]"
                point = _obj(raw, at)
                value: float | int
                if "asInt" in point:
                    value = _int64(point["asInt"], f"{at}.asInt")
                elif "asDouble" in point:
                    value = _double(point["asDouble"], f"{at}.asDouble")
                else:
                    continue  # no recorded value (the proto allows it)
                time_ns = _int64(point.get("timeUnixNano", "0"), f"{at}.timeUnixNano")
                points.append(_Point(value, time_ns, _attributes(point, at)))
            return points
    return []  # histograms and others: not read here


def _first(points: list[_Point]) -> float | int | None:
    return points[0].value if points else None


def _as_int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _as_float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def parse_export(body: bytes) -> list[CabinHeartbeat]:
    """Every cabin in one export request; raises `OtlpFormatError` for what is malformed."""
    try:
        root = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise OtlpFormatError("The body is not JSON.") from exc
    request = _obj(root, "The request")
    cabins = []
    for r, raw in enumerate(_list(request, "resourceMetrics", "request")):
        where = f"resourceMetrics[{r}]"
        resource_metrics = _obj(raw, where)
        resource = _attributes(_obj(resource_metrics.get("resource", {}), where), where)
        cabin = resource.get("service.instance.id")
        if not isinstance(cabin, str) or not cabin:
            raise OtlpFormatError(f"{where} has no service.instance.id (the cabin).")
        by_name: dict[str, list[_Point]] = {}
        for s, scope_raw in enumerate(_list(resource_metrics, "scopeMetrics", where)):
            scope = _obj(scope_raw, f"{where}.scopeMetrics[{s}]")
            for m, metric_raw in enumerate(_list(scope, "metrics", f"{where}.scopeMetrics[{s}]")):
                at = f"{where}.scopeMetrics[{s}].metrics[{m}]"
                metric = _obj(metric_raw, at)
                name = metric.get("name")
                if not isinstance(name, str):
                    raise OtlpFormatError(f"{at}.name must be a string.")
                by_name.setdefault(name, []).extend(_points(metric, at))
        all_points = [p for pts in by_name.values() for p in pts]
        incidents: dict[str, int] = {}
        for p in by_name.get("telecabine.incident.open", []):
            incidents[str(p.attributes.get("incident.code", "?"))] = int(p.value)
        devices = tuple(
            (
                str(p.attributes.get("telecabine.device.id", "?")),
                str(p.attributes.get("telecabine.device.kind", "?")),
                str(p.attributes.get("telecabine.device.state", "?")),
            )
            for p in by_name.get("telecabine.device.state", [])
        )
        version = resource.get("service.version")
        service = resource.get("service.name")
        cabins.append(
            CabinHeartbeat(
                cabin_id=cabin,
                observed_ns=max((p.time_ns for p in all_points), default=0),
                version=version if isinstance(version, str) else None,
                service_name=service if isinstance(service, str) else None,
                uptime_s=_as_float(_first(by_name.get("process.uptime", []))),
                interval_s=_as_float(_first(by_name.get("telecabine.heartbeat.interval", []))),
                queue=_as_int(_first(by_name.get("telecabine.outbox.pending", []))),
                oldest_unsent_s=_as_float(
                    _first(by_name.get("telecabine.outbox.oldest_unsent_age", []))
                ),
                quarantined=_as_int(_first(by_name.get("telecabine.outbox.quarantined", []))),
                disk_free_bytes=_as_int(_first(by_name.get("telecabine.disk.free", []))),
                last_sync_unix_s=_as_int(_first(by_name.get("telecabine.sync.last_success", []))),
                incidents=incidents,
                devices=devices,
            )
        )
    return cabins


# ------------------------------------------------------------------ storage


class FleetStore:
    """The latest heartbeat per cabin, in a table of its own (own connection)."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def keep(self, heartbeat: CabinHeartbeat, received_at: datetime) -> None:
        """Keep it unless a heartbeat observed later is already kept."""
        summary = dict(asdict(heartbeat), received_at=received_at.isoformat())
        self._db.execute(
            "INSERT INTO fleet_heartbeats (cabin_id, observed_ns, received_at, summary) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (cabin_id) DO UPDATE SET "
            "observed_ns = excluded.observed_ns, received_at = excluded.received_at, "
            "summary = excluded.summary WHERE excluded.observed_ns >= fleet_heartbeats.observed_ns",
            (
                heartbeat.cabin_id,
                heartbeat.observed_ns,
                received_at.isoformat(),
                json.dumps(summary),
            ),
        )

    def cabins(self) -> Iterator[CabinHeartbeat]:
        for (summary,) in self._db.execute(
            "SELECT summary FROM fleet_heartbeats ORDER BY cabin_id"
        ):
            data = json.loads(summary)
            data["devices"] = tuple(tuple(d) for d in data["devices"])
            yield CabinHeartbeat(**data)

    def get(self, cabin_id: str) -> CabinHeartbeat | None:
        return next((c for c in self.cabins() if c.cabin_id == cabin_id), None)


# --------------------------------------------------------------------- page


def is_silent(cabin: CabinHeartbeat, now: datetime) -> bool:
    """Not heard from for more than three of its own intervals (300 s when it said none)."""
    interval = cabin.interval_s or DEFAULT_INTERVAL_S
    since = (now - datetime.fromisoformat(cabin.received_at)).total_seconds()
    return since > SILENT_AFTER_INTERVALS * interval


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60:02d}"
    return f"{s // 86_400} j {s % 86_400 // 3600} h"


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("o", "Ko", "Mo", "Go"):
        if value < 1024:
            return f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return f"{value:.1f} To".replace(".", ",")


def _count(n: int | None) -> str:
    return "—" if n is None else str(n)


def _last_sync(unix_s: int | None, now: datetime) -> str:
    if unix_s is None:
        return "—"
    return "il y a " + _duration(max(0.0, now.timestamp() - unix_s))


def render_fleet(cabins: list[CabinHeartbeat], now: datetime) -> str:
    """The fleet page (every value escaped: it comes from the network)."""
    rows = []
    for c in cabins:
        silent = is_silent(c, now)
        seen = (now - datetime.fromisoformat(c.received_at)).total_seconds()
        incidents = ", ".join(
            f"{code} ×{n}" if n > 1 else code for code, n in sorted(c.incidents.items())
        )
        devices = ", ".join(f"{d} ({k}) : {s}" for d, k, s in c.devices)
        cells = [
            c.cabin_id,
            "silencieuse" if silent else "en ligne",
            "il y a " + _duration(max(0.0, seen)),
            c.version or "—",
            _count(c.queue),
            _duration(c.oldest_unsent_s),
            _count(c.quarantined),
            _bytes(c.disk_free_bytes),
            _last_sync(c.last_sync_unix_s, now),
            incidents or "aucun",
            devices or "—",
        ]
        css = ' class="silencieuse"' if silent else ""
        tds = "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
        rows.append(f'<tr data-cabin="{html.escape(c.cabin_id)}"{css}>{tds}</tr>')
    headers = (
        "Cabine",
        "État",
        "Dernier contact",
        "Version",
        "En attente",
        "Plus ancien non envoyé",
        "Quarantaine",
        "Disque libre",
        "Dernière synchro",
        "Incidents ouverts",
        "Appareils",
    )
    ths = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}">Aucune cabine.</td></tr>'
    silent_count = sum(1 for c in cabins if is_silent(c, now))
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Parc des cabines</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em .6em}"
        "tr.silencieuse{background:#fdd}</style></head><body>"
        f"<h1>Parc des cabines</h1><p>{len(cabins)} cabine(s), {silent_count} silencieuse(s) "
        f"(sans nouvelles depuis plus de {SILENT_AFTER_INTERVALS} intervalles). "
        f"Page produite le {now.strftime('%d/%m/%Y à %H:%M:%S')} UTC.</p>"
        f"<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


# --------------------------------------------------------------------- HTTP


@dataclass
class Fleet:
    store: FleetStore
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


FLEET_KEY = web.AppKey("platform_fleet", Fleet)
STAFF_KEY = web.AppKey("platform_staff_login", StaffLogin)  # set by the signalling's install
STAFF_COOKIE = "tc_staff"
FLEET_LOGIN_PATH = FLEET_PATH + "/login"


def _status(code: int, http_status: int, message: str) -> web.Response:
    """A `google.rpc.Status` as OTLP/HTTP JSON failure bodies are (code 3: INVALID_ARGUMENT)."""
    return web.json_response({"code": code, "message": message}, status=http_status)


async def metrics_handler(request: web.Request) -> web.Response:
    fleet = request.app[FLEET_KEY]
    if request.content_type != "application/json":
        return _status(3, 415, "Only application/json (OTLP/JSON) is accepted here.")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _status(3, 413, "The request is too large.")
    body = await request.read()  # bounded by the application's client_max_size
    if len(body) > MAX_BODY:
        return _status(3, 413, "The request is too large.")
    try:
        cabins = parse_export(body)
    except OtlpFormatError as exc:
        return _status(3, 400, str(exc))
    proven = request.get(CABIN_OF_REQUEST)
    if proven is not None and any(c.cabin_id != proven for c in cabins):
        log.warning("heartbeat refused: it speaks for another cabin than its token's")
        return _status(7, 403, "A cabin may only send its own heartbeat.")  # PERMISSION_DENIED
    received = fleet.now()
    for cabin in cabins:
        fleet.store.keep(cabin, received)
    return web.json_response({})  # ExportMetricsServiceResponse: everything accepted


_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _login_page(message: str | None = None) -> str:
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Parc des cabines — connexion</title></head>"
        '<body style="font-family:sans-serif;max-width:30rem;margin:2rem auto">'
        f"<h1>Parc des cabines</h1><p>Connectez-vous avec votre compte de la plateforme.</p>{note}"
        f'<form method="post" action="{FLEET_LOGIN_PATH}">'
        '<p><label>Identifiant <input name="login" autocomplete="username" required></label></p>'
        '<p><label>Mot de passe <input name="password" type="password" '
        'autocomplete="current-password" required></label></p>'
        "<p><button>Se connecter</button></p></form></body></html>"
    )


def _staff_of(request: web.Request) -> StaffLogin | None:
    return request.app.get(STAFF_KEY)


async def fleet_handler(request: web.Request) -> web.Response:
    staff = _staff_of(request)
    if staff is None:
        return web.Response(
            text="Aucune connexion du personnel sur cette plateforme.",
            status=403,
            headers=_NO_STORE,
        )
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    token = request.cookies.get(STAFF_COOKIE) or bearer
    if staff.account_of(token) is None:
        return web.Response(
            text=_login_page(), status=401, content_type="text/html", headers=_NO_STORE
        )
    fleet = request.app[FLEET_KEY]
    page = render_fleet(list(fleet.store.cabins()), fleet.now())
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=_NO_STORE)


async def fleet_login(request: web.Request) -> web.Response:
    """`POST /fleet/login` (a form): the console's login, then the fleet page's cookie."""
    staff = _staff_of(request)
    if staff is None:
        return web.Response(text="Aucune connexion du personnel.", status=403, headers=_NO_STORE)
    form = await request.post()
    login, password = str(form.get("login", ""))[:200], str(form.get("password", ""))[:1024]
    outcome, account, wait = staff.attempt(login, password, request.remote or "?")
    if outcome == "locked":
        log.warning("fleet login refused: locked (%d s left)", int(wait))
        minutes = max(1, round(wait / 60))
        return web.Response(
            text=_login_page(f"Trop d'essais : connexion bloquée. Réessayez dans {minutes} min."),
            status=429,
            content_type="text/html",
            headers={**_NO_STORE, "Retry-After": str(max(1, int(wait + 0.999)))},
        )
    if account is None:
        log.warning("fleet login refused")
        return web.Response(
            text=_login_page("Identifiant ou mot de passe incorrect."),
            status=401,
            content_type="text/html",
            headers=_NO_STORE,
        )
    log.info("fleet login accepted")
    response = web.Response(status=303, headers={**_NO_STORE, "Location": FLEET_PATH})
    response.set_cookie(
        STAFF_COOKIE,
        staff.sessions.open(account.login),
        path=FLEET_PATH,
        httponly=True,
        secure=request.secure,
        samesite="Strict",
    )
    return response


def add_fleet_routes(app: web.Application, db_path: str | Path) -> None:
    """Register `POST /v1/metrics` and `GET /fleet` (called by `create_app`)."""
    fleet = Fleet(FleetStore(db_path))
    app[FLEET_KEY] = fleet
    app.router.add_post(METRICS_PATH, metrics_handler)
    app.router.add_get(FLEET_PATH, fleet_handler)
    app.router.add_post(FLEET_LOGIN_PATH, fleet_login)

    async def close(_app: web.Application) -> None:
        fleet.store.close()

    app.on_cleanup.append(close)
