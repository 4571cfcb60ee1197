"""`python -m devtools.faultproxy --upstream-port 8780 [--port 8781] [--seed N] [--weights forward=8,http-503=1]`"""

from __future__ import annotations

import argparse
import asyncio

from devtools.faultproxy.proxy import Fault, FaultProxy, RandomSchedule


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.faultproxy", description=__doc__)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--weights",
        default="forward=6,drop-before-request=1,forward-then-drop-response=1,http-503=1,reset=1",
    )
    args = parser.parse_args()
    weights = {Fault(k): float(v) for k, v in (p.split("=") for p in args.weights.split(","))}

    async def run() -> None:
        proxy = FaultProxy(
            args.upstream_port, RandomSchedule(args.seed, weights), listen_port=args.port
        )
        await proxy.start()
        print(
            f"fault proxy: 127.0.0.1:{proxy.port} -> 127.0.0.1:{args.upstream_port} (seed {args.seed})",
            flush=True,
        )
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
