"""A stand-in for the kiosk whose event loop freezes: `frozen_kiosk.py FREEZE_AFTER_S FOR_S`.

The kiosk's own notifier (`app.sdnotify.Notifier`) says READY and pings from
the asyncio loop; after FREEZE_AFTER_S the loop is blocked (as a hung Qt slot
or a blocking call on the UI thread would block it) for FOR_S seconds.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.sdnotify import Notifier  # noqa: E402


async def main(freeze_after: float, freeze_for: float) -> None:
    notifier = Notifier()
    notifier.ready("stand-in ready")
    pinger = asyncio.create_task(notifier.run_watchdog())
    await asyncio.sleep(freeze_after)
    notifier.notify("STATUS=freezing")
    time.sleep(freeze_for)  # the loop is stuck: no ping can be sent
    pinger.cancel()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
