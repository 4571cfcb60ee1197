"""The reference platform's HTTP face (aiohttp): FHIR transactions, search, health.

Endpoints (JSON is `application/fhir+json`):
- `POST /` a transaction Bundle → a transaction-response Bundle, or an
  OperationOutcome (400 unparsable/invalid, 412 several matches, 422
  unprocessable);
- `GET /{Type}?identifier=system|value` (or `_tag=`) → a searchset Bundle;
  `GET /{Type}` lists every resource of that type;
- `GET /{Type}/{id}` → the resource, or 404;
- `GET /metadata` → a small CapabilityStatement;
- `GET /health` → `{"status": "ok"}` (503 when switched off by a test).

Other rooms add routes (signalling, the doctor's console) through
`extensions`: callables that receive the application before it starts.
Resource routes only match capitalised type names, so lowercase paths stay
free for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from devtools.platform import jsontext
from devtools.platform.outcome import PlatformError, operation_outcome
from devtools.platform.storage import PlatformStore
from devtools.platform.transaction import parse_token_query, process_transaction, search

FHIR_JSON = "application/fhir+json"
STORE_KEY = web.AppKey("platform_store", PlatformStore)
HEALTH_KEY = web.AppKey("platform_health", dict)
STATS_KEY = web.AppKey("platform_stats", dict)

Extension = Callable[[web.Application], None]


def fhir_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=jsontext.dumps(body).encode("utf-8"),
        content_type=FHIR_JSON,
        charset="utf-8",
    )


def _error_response(error: PlatformError) -> web.Response:
    return fhir_response(error.outcome(), error.status)


async def transaction_handler(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    stats = request.app[STATS_KEY]
    stats["posts"] = stats.get("posts", 0) + 1
    raw = await request.read()
    try:
        try:
            bundle = jsontext.loads(raw)
        except ValueError as exc:
            raise PlatformError(400, "structure", "The body is not valid JSON.") from exc
        response = process_transaction(store, bundle)
    except PlatformError as error:
        stats[f"status_{error.status}"] = stats.get(f"status_{error.status}", 0) + 1
        return _error_response(error)
    stats["committed"] = stats.get("committed", 0) + 1
    return fhir_response(response, 200)


async def search_handler(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    rtype = request.match_info["type"]
    base = str(request.url.origin())
    try:
        if request.query_string:
            ids = search(store, rtype, parse_token_query(request.query_string))
            resources = [r for r in (store.read(rtype, i) for i in ids) if r is not None]
        else:
            resources = store.of_type(rtype)
    except PlatformError as error:
        return _error_response(error)
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "entry": [
                {"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                for r in resources
            ],
        }
    )


async def read_handler(request: web.Request) -> web.Response:
    rtype, rid = request.match_info["type"], request.match_info["id"]
    resource = request.app[STORE_KEY].read(rtype, rid)
    if resource is None:
        return fhir_response(operation_outcome("not-found", f"{rtype}/{rid} is not known."), 404)
    return fhir_response(resource)


async def health_handler(request: web.Request) -> web.Response:
    if not request.app[HEALTH_KEY]["ok"]:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def metadata_handler(request: web.Request) -> web.Response:
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-23",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [{"mode": "server", "interaction": [{"code": "transaction"}]}],
        }
    )


def create_app(db_path: str | Path, *, extensions: Sequence[Extension] = ()) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    store = PlatformStore(db_path)
    app[STORE_KEY] = store
    app[HEALTH_KEY] = {"ok": True}
    app[STATS_KEY] = {}
    app.router.add_post("/", transaction_handler)
    app.router.add_get("/health", health_handler)
    app.router.add_get("/metadata", metadata_handler)
    app.router.add_get("/{type:[A-Z][A-Za-z]+}", search_handler)
    app.router.add_get("/{type:[A-Z][A-Za-z]+}/{id:[A-Za-z0-9.-]+}", read_handler)

    async def close_store(_app: web.Application) -> None:
        store.close()

    app.on_cleanup.append(close_store)
    for extend in extensions:
        extend(app)
    return app
