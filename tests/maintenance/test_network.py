"""The network page's checks against a real HTTP server on loopback (and a closed port)."""

from __future__ import annotations

import socket
from pathlib import Path

from aiohttp import web

from app.maintenance.network import check_network
from kiosk_config import KioskConfig
from tests.maintenance.world import load, write_site


def _config(tmp_path: Path, url: str) -> KioskConfig:
    site = write_site(tmp_path)
    site.write_text(site.read_text().replace('url = "http://127.0.0.1:9"', f'url = "{url}"'))
    return load(site)


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_the_platform_answers_every_step_ok(tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_get("/health", _health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        report = await check_network(_config(tmp_path, f"http://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()
    assert report.ok
    assert [(s.name, s.detail) for s in report.steps] == [
        ("dns", "addresses=1"),
        ("tcp", f"port={port}"),
        ("health", "HTTP 200"),
    ]


async def test_a_closed_port_stops_at_tcp_with_a_code(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = await check_network(_config(tmp_path, f"http://127.0.0.1:{port}"))
    assert not report.ok
    assert [(s.name, s.ok, s.detail) for s in report.steps] == [
        ("dns", True, "addresses=1"),
        ("tcp", False, "refused"),
    ]


async def test_tls_shows_the_certificate_end_date_or_why_it_is_refused(tmp_path: Path) -> None:
    import ssl

    from tests.sync.test_tls import NOW, issue, make_ca, write_pair

    folder = tmp_path / "pki"
    folder.mkdir()
    ca = make_ca("Telecabine test CA")
    ca_path, _ = write_pair(folder, "ca", ca)
    other_path, _ = write_pair(folder, "other", make_ca("Somebody else's CA"))
    cert, key = write_pair(folder, "server", issue(ca, "platform", server=True))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/health", _health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]

    def with_ca(ca_file: Path) -> KioskConfig:
        config = _config(tmp_path, f"https://127.0.0.1:{port}")
        platform = config.platform.model_copy(update={"ca_file": ca_file})
        return config.model_copy(update={"platform": platform})

    try:
        good = await check_network(with_ca(ca_path))
        refused = await check_network(with_ca(other_path))
    finally:
        await runner.cleanup()
    assert good.ok, good.steps
    assert good.certificate_not_after is not None
    assert (
        good.certificate_not_after.date() == (NOW + __import__("datetime").timedelta(days=1)).date()
    )
    assert [s.name for s in good.steps] == ["dns", "tcp", "tls", "health"]
    tls = refused.steps[-1]
    assert (tls.name, tls.ok) == ("tls", False) and tls.detail.startswith("certificate-refused")
