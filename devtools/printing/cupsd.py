"""A private, real CUPS scheduler: the printing tests' and the headless demo's PDF printer.

`cupsd` from Debian's `cups` package runs in the foreground on its own
configuration, spool and Unix socket in a temporary folder, never touching the
machine's CUPS. Its queues print through the cups-filters "Generic PDF
Printer" driver (the real pdftopdf filter) into a small backend of ours,
`kioskpdf`, that writes each job's PDF to a folder — the PDF printer. The same
backend plays a printer out of paper when a file `paper-out` sits in that
folder: it says `STATE: +media-empty-error` and fails, as a printer's backend
does. Needs root (cupsd drops to the `lp` user for filters).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYSTEM_SERVERBIN = Path("/usr/lib/cups")
PDF_PPD = "lsb/usr/cupsfilters/Generic-PDF_Printer-PDF.ppd"

BACKEND = """#!/bin/sh
# kioskpdf backend (tests): argv 1 job id, 6 the file (else stdin); DEVICE_URI kioskpdf:/dir
if [ $# -eq 0 ]; then echo 'direct kioskpdf "Unknown" "Kiosk test PDF printer"'; exit 0; fi
dir="${DEVICE_URI#kioskpdf:}"
if [ -e "$dir/paper-out" ]; then
  echo "STATE: +media-empty-error" >&2
  echo "ERROR: out of paper" >&2
  exit 1
fi
if [ -n "$6" ]; then cat "$6" > "$dir/job-$1.pdf"; else cat > "$dir/job-$1.pdf"; fi
echo "STATE: -media-empty-error" >&2
exit 0
"""


def cupsd_missing_reason() -> str | None:
    """Why a private cupsd cannot run here, or None."""
    if shutil.which("cupsd") is None or shutil.which("lp") is None:
        return "CUPS is not installed (apt: cups cups-client cups-filters poppler-utils)"
    if os.geteuid() != 0:
        return "a private cupsd needs root (it drops to the lp user for its filters)"
    if not (Path("/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd").exists()):
        return "cups-filters' Generic PDF Printer driver is missing (apt: cups-filters)"
    return None


@dataclass
class Cups:
    root: Path
    socket: Path
    out: Path  # where the PDF printer writes each job's PDF

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": str(self.socket)}

    def admin(self, *args: str) -> str:
        done = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def add_pdf_queue(self, name: str) -> None:
        self.admin(
            "lpadmin", "-p", name, "-v", f"kioskpdf:{self.out}", "-m", PDF_PPD, "-E",
            "-o", "printer-error-policy=abort-job", "-o", "job-sheets-default=none",
        )  # fmt: skip

    def pdfs(self) -> list[Path]:
        return sorted(self.out.glob("job-*.pdf"))

    def spool_data_files(self) -> list[Path]:
        """The spooled documents (d*), which must be gone after each job."""
        return sorted((self.root / "spool").glob("d*"))


@contextlib.contextmanager
def private_cupsd() -> Iterator[Cups]:
    root = Path(tempfile.mkdtemp(prefix="kiosk-cups-"))
    root.chmod(0o755)  # the filters run as lp and must reach the spool
    try:
        for sub in ("etc", "spool", "cache", "run", "log", "bin", "bin/backend"):
            (root / sub).mkdir(parents=True, exist_ok=True)
            (root / sub).chmod(0o755)  # whatever the umask (the demo's is 0077): lp's filters
        out = root / "out"
        out.mkdir()
        out.chmod(0o755)
        (root / "spool").chmod(0o770)
        shutil.chown(root / "spool", group="lp")
        for entry in SYSTEM_SERVERBIN.iterdir():
            if entry.name != "backend":
                (root / "bin" / entry.name).symlink_to(entry)
        backend = root / "bin/backend/kioskpdf"
        backend.write_text(BACKEND)
        backend.chmod(0o700)  # 0700: cupsd runs it as root, so it may write the out folder
        socket = root / "run/cups.sock"
        (root / "etc/cupsd.conf").write_text(
            f"Listen {socket}\nLogLevel warn\nBrowsing No\nWebInterface No\n"
            "DefaultAuthType None\n"
            "PreserveJobFiles No\nPreserveJobHistory Yes\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  JobPrivateAccess default\n  JobPrivateValues default\n"
            "  SubscriptionPrivateAccess default\n  SubscriptionPrivateValues default\n"
            "  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        (root / "etc/cups-files.conf").write_text(
            f"ServerRoot {root}/etc\nServerBin {root}/bin\nRequestRoot {root}/spool\n"
            f"CacheDir {root}/cache\nStateDir {root}/run\nTempDir {root}/spool\n"
            f"ErrorLog {root}/log/error_log\nAccessLog {root}/log/access_log\n"
            f"PageLog {root}/log/page_log\nUser lp\nGroup lp\nSystemGroup root\n"
            "DataDir /usr/share/cups\n"
        )
        process = subprocess.Popen(
            [
                "cupsd", "-f", "-c", str(root / "etc/cupsd.conf"),
                "-s", str(root / "etc/cups-files.conf"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        cups = Cups(root, socket, out)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                ok = subprocess.run(
                    ["lpstat", "-r"], env=cups.env, capture_output=True, text=True, check=False
                )
                if "is running" in ok.stdout and "not" not in ok.stdout:
                    break
                if process.poll() is not None:
                    log = (root / "log/error_log").read_text(errors="replace")[-800:]
                    raise RuntimeError(f"cupsd stopped at start: {log}")
                time.sleep(0.1)
            else:
                raise RuntimeError("cupsd did not answer within 15 s")
            yield cups
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)
