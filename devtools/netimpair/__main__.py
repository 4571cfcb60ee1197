"""`python -m devtools.netimpair --target-port 3478 [--port 3479] [--profile loss-5] [--loss 0.05]
[--delay-ms 150] [--jitter-ms 10] [--rate-kbps 500] [--seed 17]`: an impaired UDP relay on loopback."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from devtools.netimpair.core import PROFILES
from devtools.netimpair.relay import ImpairmentRelay


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.netimpair", description=__doc__)
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="clean")
    parser.add_argument("--loss", type=float, help="fraction lost each way, 0..1")
    parser.add_argument("--delay-ms", type=float, help="one-way added delay")
    parser.add_argument("--jitter-ms", type=float)
    parser.add_argument("--rate-kbps", type=float, help="cap each way, kbit/s")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    if args.loss is not None:
        profile = replace(profile, loss=args.loss)
    if args.delay_ms is not None:
        profile = replace(profile, delay_s=args.delay_ms / 1000)
    if args.jitter_ms is not None:
        profile = replace(profile, jitter_s=args.jitter_ms / 1000)
    if args.rate_kbps is not None:
        profile = replace(profile, rate_bps=args.rate_kbps * 1000)

    async def run() -> None:
        relay = await ImpairmentRelay(
            args.target_port, profile, seed=args.seed, listen_port=args.port
        ).start()
        print(f"impairment relay 127.0.0.1:{relay.port} -> {relay.target}: {profile}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            relay.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
