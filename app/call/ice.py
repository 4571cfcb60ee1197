"""ICE servers from the site configuration, as aiortc wants them.

A TURN URL without a username and credential is left out: on a TURN REST site (the
demo, and any platform minting per-call credentials, docs/call.md "TURN") the site
lists the relay's URL alone and the call uses the platform's minted answer; if that
answer could not be had, an Allocate without a credential would only be refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from kiosk_config.schema import IceServer


def _usable_urls(server: IceServer) -> list[str]:
    credentialed = bool(server.username) and bool(server.credential)
    return [u for u in map(str, server.urls) if credentialed or not u.startswith("turn")]


def rtc_configuration(
    servers: Sequence[IceServer], *, relay_only: bool = False
) -> RTCConfiguration:
    """relay_only forces every packet through TURN (sites whose firewall wants it, and tests)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=urls, username=s.username, credential=s.credential)
            for s in servers
            if (urls := _usable_urls(s))
        ],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL,
    )
