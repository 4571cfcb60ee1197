"""A cage-like parent: `python cage_standin.py [-d] [-s] -- COMMAND…`.

What matters of cage for systemd: cage is the unit's main process, it forks
the client given after `--` and waits for it, passing its environment on
(NOTIFY_SOCKET, WATCHDOG_USEC, CREDENTIALS_DIRECTORY…); it ends when the
client ends, and SIGTERM reaches the client. No screen here: the client runs
offscreen. The options are accepted and ignored, as cage's would be.
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: cage_standin.py [-d] [-s] -- COMMAND", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    pid = os.fork()
    if pid == 0:
        os.execvp(command[0], command)

    def forward(signum: int, _frame: object) -> None:
        os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
