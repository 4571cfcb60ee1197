"""`python -m devtools.netimpair.kiosk_alone --base http://127.0.0.1:PORT [--session-id S]
[--width 640 --height 480]`: the kiosk's call and nothing else, for resource figures.

A process holding only a CallSession (aiortc peer, the moving test pattern as
camera, a tone as microphone, an energy meter as speaker) joins the
platform's waiting room and stays until the call ends. No Qt, no store, no
drivers, no platform in the process: its RSS and CPU are the call's own.
Prints one line ``ended <reason>`` when the call is over.
"""

from __future__ import annotations

import argparse
import asyncio

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.messages import JsonObject
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from app.call.video import TestPatternSource

SUMMARY: JsonObject = {
    "identity": {"display_name": "TEST Ressources", "status": "PROV", "method": "manual"},
    "consent": {"teleconsultation": True, "data_sharing": False, "assistance": False},
    "cabin": {"site": "Banc de mesure", "city": "Paris", "insee_code": "75056"},
    "measurements": [],
}


async def run(base: str, session_id: str, width: int, height: int) -> str:
    session = CallSession(
        signalling=WebSocketSignalling(base),
        session_id=session_id,
        cabin_id="DEMO-CAB-01",
        camera=TestPatternSource(width=width, height=height),
        microphone=ToneMicrophone(),
        speaker=EnergyMeterSink(),
        settings=CallSettings(reconnect_s=10.0),
        summary=SUMMARY,
    )
    await session.start()
    print("waiting", flush=True)
    ended = await session.wait_ended()
    return str(ended.reason.value)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.netimpair.kiosk_alone")
    parser.add_argument("--base", required=True)
    parser.add_argument("--session-id", default="DEMO-CAB-01-alone")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    reason = asyncio.run(run(args.base, args.session_id, args.width, args.height))
    print(f"ended {reason}", flush=True)


if __name__ == "__main__":
    main()
