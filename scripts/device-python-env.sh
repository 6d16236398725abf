#!/usr/bin/env bash
# Sourced: device_python_env DEV [PYTHON] sets up the environment for the Python bridge packed in DEV/python (pack-python.sh).
# PYTHON is the machine's interpreter whose packages the bridge should see (default: $ATTNBENCH_DEVICE_PYTHON,
# else the first python3 on PATH); it must have the packed bridge's X.Y version. Exports:
#   ATTNBENCH_PYTHON_PATH  the packed modules (the binary's compiled-in path is the build machine's)
#   PYTHONHOME             the packed stdlib (matches the packed libpython); else PYTHON's sys.base_prefix
#   PYTHONPATH             PYTHON's site-packages folders (its venv's, and the base's when the venv includes them)
#   VIRTUAL_ENV            PYTHON's venv, if it is one (the bridge adds its site-packages with .pth files)
#   LD_LIBRARY_PATH        plus a folder linking the packed extension-module libraries this machine lacks
# Prints one line saying what it chose; returns 1 with the reason on stderr when the bridge cannot work here.
device_python_env() {
  local dev="${1:?usage: device_python_env DEV [PYTHON]}"
  local py="${2:-${ATTNBENCH_DEVICE_PYTHON:-$(command -v python3 || true)}}"
  local pack="$dev/python"
  if [ ! -f "$pack/VERSION" ]; then
    echo "device_python_env: no Python bridge packed in $dev (package-device.sh of a build with ATTNBENCH_WITH_PYTHON)" >&2
    return 1
  fi
  if [ -z "$py" ] || [ ! -x "$py" ]; then
    echo "device_python_env: no Python interpreter to take packages from (set ATTNBENCH_DEVICE_PYTHON)" >&2
    return 1
  fi
  local want have prefix base sites
  want="$(cat "$pack/VERSION")"
  {
    read -r have; read -r prefix; read -r base; read -r sites
  } < <("$py" -c '
import sys
print("%d.%d" % sys.version_info[:2]); print(sys.prefix); print(sys.base_prefix)
print(":".join(p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))))')
  if [ "$have" != "$want" ]; then
    echo "device_python_env: the packed bridge embeds Python $want but $py is Python $have" \
         "(build the bridge against $have, see docs/gpu.md)" >&2
    return 1
  fi
  pack="$(cd "$pack" && pwd)"
  export ATTNBENCH_PYTHON_PATH="$pack/modules"
  if [ -f "$pack/home/lib/python$want/os.py" ]; then
    export PYTHONHOME="$pack/home"
  else
    export PYTHONHOME="$base"
  fi
  export PYTHONPATH="$sites${PYTHONPATH:+:$PYTHONPATH}"
  if [ "$prefix" != "$base" ]; then export VIRTUAL_ENV="$prefix"; fi
  # The extension modules' libraries (libffi, libssl, ...): the machine's own where it has them.
  local have_libs linked="$pack/deps-linked" lib
  have_libs="$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk 'NR > 1 {print $1}')"
  rm -rf "$linked" && mkdir -p "$linked"
  for lib in "$pack/deps"/*; do
    [ -e "$lib" ] || continue
    grep -qxF "$(basename "$lib")" <<< "$have_libs" || ln -s "$lib" "$linked/$(basename "$lib")"
  done
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$linked"
  echo "python bridge: Python $want, PYTHONHOME=$PYTHONHOME, packages of $py (${VIRTUAL_ENV:-no venv})," \
       "extension libraries linked: $(ls "$linked" | tr '\n' ' ')"
}
