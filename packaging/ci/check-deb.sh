#!/usr/bin/env bash
# The cabin package, checked as CI does (issue 14):
#
#   packaging/ci/check-deb.sh [--deb FILE] [--keep]
#
# 1. build it (packaging/build-deb.sh) unless --deb is given;
# 2. lintian, with the package's overrides (each one explained in
#    packaging/debian/lintian-overrides): any other warning or error fails
#    (in the background, while step 3 makes the root);
# 3. a throwaway Debian 13 (trixie) root from the Debian archive (mmdebstrap),
#    the package installed in it with apt (its dependencies from the archive),
#    then, chrooted: `kiosk --help`; `kiosk config check` on the cabin template
#    filled as a technician would; a cold start of `kiosk run` offscreen, as the
#    telecabine user, to READY on a notify socket, with the store opened from a
#    credentials directory laid out as systemd lays it out (the key the
#    postinst sealed, unsealed by systemd-creds); and the store checked after.
#
# Needs root (mmdebstrap, chroot, mounts). Prints the time of each step.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
deb=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$(realpath "$2")"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: check-deb.sh [--deb FILE] [--keep]" >&2; exit 2 ;;
  esac
done
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
t0=$(date +%s)
step() { echo "check-deb: [$(( $(date +%s) - t0 )) s] $*"; }

need=()
for tool in lintian mmdebstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  step "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work="$(mktemp -d /var/tmp/check-deb.XXXXXX)"
root="$work/root"
lintian_pid=""
cleanup() {
  if [ -n "$lintian_pid" ]; then kill "$lintian_pid" 2>/dev/null || true; fi
  for m in dev/pts dev sys proc; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  if [ "$keep" = 1 ]; then echo "check-deb: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [ -z "$deb" ]; then
  step "building the package"
  packaging/build-deb.sh "$work/dist"
  deb="$(ls "$work"/dist/telecabine-kiosk_*_amd64.deb)"
fi

# lintian reads every file of a ~700 MB venv (minutes of one core): it runs in the
# background while mmdebstrap and apt (mostly network and disk) make the root; its
# verdict is read after the checks in the root.
# An unexplained warning or error (an E: or W: line) fails the check; overridden tags
# (packaging/debian/lintian-overrides, shipped in the package) are counted, not failed.
# Not `--fail-on error,warning`: with --show-overrides, lintian 2.116 counts the
# overridden warnings too and exits 2 on a clean package.
step "lintian $(basename "$deb") (in the background)"
lintian_started=$(date +%s)
lintian --fail-on none --show-overrides --tag-display-limit 0 "$deb" \
  > "$work/lintian.txt" 2>&1 &
lintian_pid=$!
lintian_verdict() {
  local rc=0
  wait "$lintian_pid" || rc=$?
  lintian_pid=""
  local seconds=$(( $(stat -c %Y "$work/lintian.txt") - lintian_started ))
  # The report went to a file first: a pipe into `head` closed early killed lintian
  # (SIGPIPE) and, under pipefail, the whole check. One line per tag, with its count.
  grep -v -e '^N:' -e 'running with root privileges' "$work/lintian.txt" | sed -E 's/ \[.*\]$//' \
    | sort | uniq -c | sed -E 's/^ *([0-9]+) /  \1 × /' || true
  step "lintian: $(grep -c '^[EW]:' "$work/lintian.txt" || true) unexplained, $(grep -c '^O:' "$work/lintian.txt" || true) overridden (exit $rc, ${seconds} s)"
  if [ "$rc" != 0 ] || grep -q '^[EW]:' "$work/lintian.txt"; then
    grep -v '^[NO]:' "$work/lintian.txt" | head -n 40 || true
    echo "check-deb: lintian failed" >&2
    exit 1
  fi
}

step "making a throwaway $SUITE root ($MIRROR)"
mmdebstrap --quiet --variant=apt --include=ca-certificates "$SUITE" "$root" "$MIRROR"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# A failed expectation says which one (a bare `test` under set -e stopped the check silently).
expect() { "$@" || { echo "check-deb: FAILED: $*" >&2; exit 1; }; }
# Owner names are the root's (the telecabine user exists there, not on the build machine).
owner_mode() { in_root stat -c "$1" "$2"; }

step "installing the package and its dependencies with apt"
cp "$deb" "$root/tmp/"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/tmp/$(basename "$deb")" > "$work/apt.log" 2>&1 || { tail -n 40 "$work/apt.log"; exit 1; }
grep -i "telecabine-kiosk:" "$work/apt.log" | sed 's/^/  /' || true
expect test -s "$root/etc/telecabine/store.key.cred"
expect test "$(owner_mode '%a %U' /var/lib/telecabine)" = "700 telecabine"
expect test ! -e "$root/var/lib/telecabine/store.key"
expect test -L "$root/etc/systemd/system/ctrl-alt-del.target"
du -sh "$root/opt/telecabine" | sed 's/^/  installed: /'
# No demo, reference platform or test data on a cabin (docs/architecture.md, "Two installs").
site_dir=("$root"/opt/telecabine/venv/lib/python3*/site-packages)
expect test ! -e "${site_dir[0]}/kiosk_demo"
expect test ! -e "${site_dir[0]}/devtools"
expect test -z "$(find "${site_dir[0]}/app" "${site_dir[0]}/drivers" "${site_dir[0]}/kiosk_config" "${site_dir[0]}/vocabulary" -name 'test_*.py' -o -name '*demo*.py')"

step "kiosk --help"
in_root /opt/telecabine/bin/kiosk --help > "$work/help.txt"
grep -q "config" "$work/help.txt"
step "kiosk demo on a cabin: one sentence, exit 2"
if in_root /opt/telecabine/bin/kiosk demo --headless > /dev/null 2> "$work/demo.txt"; then exit 1; fi
grep -q "The demo is not installed" "$work/demo.txt"

step "kiosk config check on the cabin template, filled"
in_root /opt/telecabine/bin/kiosk config check /usr/share/telecabine-kiosk/site.toml.template \
  > "$work/template-check.txt" 2>&1 && { echo "the unfilled template must be refused"; exit 1; }
sed 's/^/  (unfilled, refused as it must be) /' "$work/template-check.txt" | head -n 3
cp packaging/ci/fill-site.py "$root/tmp/fill-site.py"
in_root /opt/telecabine/venv/bin/python3.13 /tmp/fill-site.py /etc/telecabine \
  /usr/share/telecabine-kiosk/site.toml.template /var/lib/telecabine >/dev/null
chmod 0640 "$root/etc/telecabine/cabin.key"
in_root chgrp telecabine /etc/telecabine/cabin.key
if [ -e "$root/etc/telecabine/cabin-secret" ]; then  # the provisioning secret: 0600, the kiosk's
  in_root chown telecabine:telecabine /etc/telecabine/cabin-secret
fi
in_root /opt/telecabine/bin/kiosk config check /etc/telecabine/site.toml | sed 's/^/  /'

step "cold start: kiosk run offscreen as telecabine, to READY"
creds=/run/credentials/telecabine-kiosk.service
in_root install -d -m 0500 -o telecabine -g telecabine "$creds"
in_root systemd-creds decrypt --name=store.key /etc/telecabine/store.key.cred "$creds/store.key"
in_root chown telecabine:telecabine "$creds/store.key"
in_root chmod 0400 "$creds/store.key"
cat > "$root/tmp/ready.py" <<'EOF'
import os, socket, subprocess, sys, time
path = "/run/telecabine-notify"
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
env = {
    "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/var/lib/telecabine",
    "QT_QPA_PLATFORM": "offscreen", "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000",
    "CREDENTIALS_DIRECTORY": sys.argv[1],
}
started = time.monotonic()
kiosk = subprocess.Popen(
    ["/usr/sbin/runuser", "-u", "telecabine", "--", "/opt/telecabine/bin/kiosk", "run", "--config",
     "/etc/telecabine/site.toml"],
    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
)
sock.settimeout(1)
ready = None
while ready is None and kiosk.poll() is None and time.monotonic() - started < 120:
    try:
        data = sock.recv(4096).decode()
    except TimeoutError:
        continue
    if "READY=1" in data:
        ready = time.monotonic() - started
time.sleep(1)
kiosk.terminate()
out = kiosk.communicate(timeout=30)[0].decode(errors="replace")
if ready is None:
    print(out[-3000:])
    sys.exit(f"no READY within 120 s (kiosk exit {kiosk.returncode})")
print(f"  READY after {ready:.2f} s (cold start, offscreen, in the {sys.argv[2]} root); exit {kiosk.returncode}")
EOF
in_root /usr/bin/python3.13 /tmp/ready.py "$creds" "$SUITE"
expect test ! -e "$root/var/lib/telecabine/store.key"
expect test -e "$root/var/lib/telecabine/store.db"
expect test "$(owner_mode '%U %a' /var/lib/telecabine/store.db)" = "telecabine 600"

step "kiosk store verify as root (the sealed key, unsealed; then run as telecabine)"
in_root /opt/telecabine/bin/kiosk store verify --config /etc/telecabine/site.toml | sed 's/^/  /'
expect test -z "$(find "$root/var/lib/telecabine" -user root)"

step "upgrade in place: the same package again keeps the store and the key"
before="$(sha256sum "$root/etc/telecabine/store.key.cred" | cut -c1-64)"
in_root env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/$(basename "$deb")" > "$work/upgrade.log" 2>&1
expect test "$(sha256sum "$root/etc/telecabine/store.key.cred" | cut -c1-64)" = "$before"
expect test -e "$root/var/lib/telecabine/store.db"

lintian_verdict

step "ok"
