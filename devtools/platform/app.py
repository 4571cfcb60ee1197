"""The reference platform's HTTP face (aiohttp): FHIR transactions, search, health.

Endpoints (JSON is `application/fhir+json`):
- `POST /` a transaction Bundle → a transaction-response Bundle, or an
  OperationOutcome (400 unparsable/invalid, 412 several matches, 422
  unprocessable);
- `GET /{Type}?identifier=system|value` (or `_tag=`) → a searchset Bundle;
  `GET /{Type}` lists every resource of that type;
- `GET /{Type}/{id}` → the resource, or 404;
- `GET /metadata` → a CapabilityStatement (update-create when enabled);
- `GET /CodeSystem[?url=...]`, `GET /CodeSystem/{id}` → the kiosk's local code
  systems (`codesystems.json`, generated from `app.sync.vendor` and checked
  against it by the tests: the platform does not import the kiosk);
- `PUT /Binary/{id}` (update-create only) → a document's bytes as they are;
- `GET /health` → `{"status": "ok"}` (503 when switched off by a test).

`FhirOptions` (see `transaction`) make it answer like real servers: strict
isolation limits, entry-level outcomes, update as create. Response entries
carry their resource unless the client sent `Prefer: return=minimal`.

Other rooms add routes (signalling, the doctor's console) through
`extensions`: callables that receive the application before it starts.
Resource routes only match capitalised type names, so lowercase paths stay
free for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from devtools.platform import jsontext
from devtools.platform.cabins import (
    CABIN_OF_REQUEST,
    CABINS_KEY,
    OPEN_TEST_MODE_KEY,
    OPEN_TEST_MODE_REFUSAL,
    CabinRegistry,
    OpenTestModeNotAsked,
    warn_open_test_mode,
)
from devtools.platform.diagnostics import add_diagnostics_routes
from devtools.platform.fleet import add_fleet_routes
from devtools.platform.onsite import add_onsite_routes
from devtools.platform.outcome import PlatformError, operation_outcome
from devtools.platform.storage import PlatformStore
from devtools.platform.transaction import (
    FhirOptions,
    parse_token_query,
    process_transaction,
    search,
)

FHIR_JSON = "application/fhir+json"
STORE_KEY = web.AppKey("platform_store", PlatformStore)
HEALTH_KEY = web.AppKey("platform_health", dict)
STATS_KEY = web.AppKey("platform_stats", dict)
OPTIONS_KEY = web.AppKey("platform_fhir_options", FhirOptions)
BINARIES_KEY = web.AppKey("platform_binaries", dict)
CODE_SYSTEMS: list[dict[str, Any]] = json.loads(
    (Path(__file__).with_name("codesystems.json")).read_text(encoding="utf-8")
)

Extension = Callable[[web.Application], None]

# What a kiosk alone may do, so what needs its cabin token when cabins are enrolled:
# FHIR writes and reads, the heartbeat, the INSi relay. Signalling and document links
# check the token themselves (devtools.platform.signalling); /health, /metadata,
# /CodeSystem, the console and the patient's document page stay open.
_OPEN_PREFIXES = (
    "/health",
    "/metadata",
    "/CodeSystem",
    "/auth/",
    "/console",
    "/signalling/",
    "/cabin/documents/",
    "/patient/documents/",
    "/fleet",
    "/counter",  # the on-site staff's page: its own login (devtools.platform.onsite)
)


@web.middleware
async def cabin_auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    cabins = request.app.get(CABINS_KEY)
    path = request.path
    if cabins is None or (path != "/" and path.startswith(_OPEN_PREFIXES)):
        response: web.StreamResponse = await handler(request)
        return response
    cabin = cabins.cabin_of_header(request.headers.get("Authorization", ""))
    if cabin is None:
        stats = request.app[STATS_KEY]
        stats["status_401"] = stats.get("status_401", 0) + 1
        return fhir_response(
            operation_outcome("security", "A cabin token is required (Bearer)."), 401
        )
    request[CABIN_OF_REQUEST] = cabin  # the handlers check what the body claims against it
    response = await handler(request)
    return response


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
        response = process_transaction(store, bundle, options=request.app[OPTIONS_KEY])
    except PlatformError as error:
        stats[f"status_{error.status}"] = stats.get(f"status_{error.status}", 0) + 1
        return _error_response(error)
    stats["committed"] = stats.get("committed", 0) + 1
    if "return=minimal" in request.headers.get("Prefer", "") or "return=representation" not in (
        request.headers.get("Prefer", "")
    ):
        for item in response["entry"]:
            if "outcome" not in item["response"]:
                item.pop("resource", None)
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


SENT_TYPES = (
    "Location",
    "Device",
    "Patient",
    "Encounter",
    "Consent",
    "Observation",
    "DocumentReference",
    "Provenance",
    "AuditEvent",
    "Binary",
)


async def metadata_handler(request: web.Request) -> web.Response:
    options = request.app[OPTIONS_KEY]
    interactions = ["create", "read", "search-type"]
    if options.update_create:
        interactions.append("update")
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-23",
            "kind": "instance",
            "software": {"name": "Télécabine reference platform", "version": "2"},
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "interaction": [{"code": "transaction"}],
                    "resource": [
                        {
                            "type": rtype,
                            "interaction": [{"code": code} for code in interactions],
                            "updateCreate": options.update_create,
                            "conditionalCreate": True,
                        }
                        for rtype in SENT_TYPES
                    ],
                }
            ],
        }
    )


async def code_system_search(request: web.Request) -> web.Response:
    url = request.query.get("url")
    found = [cs for cs in CODE_SYSTEMS if url is None or cs["url"] == url]
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": cs, "search": {"mode": "match"}} for cs in found],
        }
    )


async def code_system_read(request: web.Request) -> web.Response:
    rid = request.match_info["id"]
    for cs in CODE_SYSTEMS:
        if cs["id"] == rid:
            return fhir_response(cs)
    return fhir_response(operation_outcome("not-found", f"CodeSystem/{rid} is not known."), 404)


async def binary_put(request: web.Request) -> web.Response:
    if not request.app[OPTIONS_KEY].update_create:
        return fhir_response(operation_outcome("not-supported", "PUT is not supported."), 405)
    rid = request.match_info["id"]
    body = await request.read()
    binaries = request.app[BINARIES_KEY]
    status = 200 if rid in binaries else 201
    binaries[rid] = (request.content_type, body)
    resource = {"resourceType": "Binary", "id": rid, "contentType": request.content_type}
    return fhir_response(resource, status)


def create_app(
    db_path: str | Path,
    *,
    extensions: Sequence[Extension] = (),
    fhir: FhirOptions | None = None,
    cabins: CabinRegistry | None = None,
    open_test_mode: bool = False,
) -> web.Application:
    """`cabins`: the enrolled cabins; every kiosk channel needs a cabin token.

    Without them the platform refuses to be built (`OpenTestModeNotAsked`) unless the
    open test mode is asked by name, `open_test_mode=True`: anonymous kiosks, said
    loudly at start. Only tests and the demo ask for it (docs/threat-model.md).
    """
    if cabins is None and not open_test_mode:
        raise OpenTestModeNotAsked(OPEN_TEST_MODE_REFUSAL)
    if cabins is not None and open_test_mode:
        raise ValueError("Enrolled cabins and the open test mode exclude each other.")
    app = web.Application(client_max_size=32 * 1024 * 1024, middlewares=[cabin_auth_middleware])
    if cabins is not None:
        app[CABINS_KEY] = cabins
    else:
        app[OPEN_TEST_MODE_KEY] = True
        warn_open_test_mode("platform")
    store = PlatformStore(db_path)
    app[STORE_KEY] = store
    app[HEALTH_KEY] = {"ok": True}
    app[STATS_KEY] = {}
    app[OPTIONS_KEY] = fhir or FhirOptions()
    app[BINARIES_KEY] = {}
    app.router.add_post("/", transaction_handler)
    app.router.add_get("/health", health_handler)
    app.router.add_get("/metadata", metadata_handler)
    app.router.add_get("/CodeSystem", code_system_search)
    app.router.add_get("/CodeSystem/{id:[A-Za-z0-9.-]+}", code_system_read)
    app.router.add_put("/Binary/{id:[A-Za-z0-9.-]+}", binary_put)
    app.router.add_get("/{type:[A-Z][A-Za-z]+}", search_handler)
    app.router.add_get("/{type:[A-Z][A-Za-z]+}/{id:[A-Za-z0-9.-]+}", read_handler)
    add_fleet_routes(app, store.path)  # POST /v1/metrics (heartbeats), GET /fleet
    add_diagnostics_routes(app, store.path.parent / "diagnostics")  # POST /cabin/diagnostics
    add_onsite_routes(app)  # /cabin/help, /cabin/preparation, the staff's /counter page

    async def close_store(_app: web.Application) -> None:
        store.close()

    app.on_cleanup.append(close_store)
    for extend in extensions:
        extend(app)
    return app
