#!/usr/bin/env bash
# Packs what the Python bridge of a moved binary needs into DEST/python: the shipped modules and the embedded interpreter's stdlib.
# Usage: scripts/pack-python.sh BUILD_DIR DEST   (called by package-device.sh; does nothing for a build without the bridge)
# libpython itself is one of the binary's ldd libraries (packed into DEST/lib with the others). The stdlib is
# carried because it must match that libpython: the device's own Python may be another patch release or a
# static build (python-build-standalone, as uv installs) whose lib-dynload lacks math, _ctypes, ... .
# Site-packages (numpy, torch) are not carried: they come from the device's venv (scripts/device-python-env.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:?usage: pack-python.sh BUILD_DIR DEST}"
dest="${2:?usage: pack-python.sh BUILD_DIR DEST}/python"
cache="$build/CMakeCache.txt"
grep -q '^ATTNBENCH_WITH_PYTHON:BOOL=ON' "$cache" 2>/dev/null || { echo "pack-python: $build has no Python bridge"; exit 0; }
py="$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$cache")"
[ -x "$py" ] || { echo "pack-python: the embedded interpreter $py (from $cache) is gone" >&2; exit 2; }

# The embedded interpreter's version and folders, as it sees them.
read -r version stdlib dynload prefix < <("$py" -c '
import sys, sysconfig
print("%d.%d" % sys.version_info[:2], sysconfig.get_paths()["stdlib"], sysconfig.get_config_var("DESTSHARED"),
      sys.base_prefix)')
rm -rf "$dest"
mkdir -p "$dest/home/lib/python$version/lib-dynload" "$dest/deps"

# 1. The shipped modules ($ATTNBENCH_PYTHON_PATH on the device).
tar cf - -C "$root/backends/python" --exclude=__pycache__ modules | tar xf - -C "$dest"

# 2. The pure-Python stdlib ($PYTHONHOME/lib/pythonX.Y), without tests, GUIs and installers.
tar cf - -C "$stdlib" --exclude=__pycache__ --exclude=./test --exclude='*/tests' --exclude=./idlelib \
  --exclude=./tkinter --exclude=./turtledemo --exclude=./ensurepip --exclude=./lib2to3 \
  --exclude=./site-packages --exclude=./dist-packages --exclude='./config-*' --exclude=./lib-dynload . |
  tar xf - -C "$dest/home/lib/python$version"

# 3. The extension modules, stripped, and the libraries they need that are not glibc's (the device
#    uses its own copy of any it has: device-python-env.sh links only the missing ones).
skip_re='^(_test|_tkinter|_curses|readline|xx|_xx|_ctypes_test|nis|spwd|ossaudiodev)'
for so in "$dynload"/*.so; do
  name="$(basename "$so")"
  [[ "$name" =~ $skip_re ]] && continue
  cp -L "$so" "$dest/home/lib/python$version/lib-dynload/"
  while read -r lib arrow path _; do
    [ "$arrow" = "=>" ] && [ -f "$path" ] || continue
    [[ "$lib" =~ ^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv)(\.|-) ]] && continue
    [[ "$lib" =~ ^libpython ]] && continue
    [ -e "$dest/deps/$lib" ] || cp -L "$path" "$dest/deps/$lib"
  done < <(ldd "$so")
done
if command -v strip >/dev/null; then
  strip --strip-unneeded "$dest/home/lib/python$version/lib-dynload"/*.so "$dest/deps"/* 2>/dev/null || true
fi
echo "$version" > "$dest/VERSION"
echo "$prefix" > "$dest/BUILT_FROM"  # the build machine's install (check-device-python.sh hides it)
du -sh "$dest" | awk '{print "pack-python: Python '"$version"' bridge files, " $1 " in '"$dest"'"}'
