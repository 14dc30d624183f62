#!/usr/bin/env bash
# Cross-language tests of the C ABI (called by .ci/test):
#  - install the library under a temporary prefix with capi/install.sh;
#  - the exported symbols and soname against capi/abi.txt;
#  - the C programs in tests/c compiled with -std=c11 -Wall -Wextra -Werror against the
#    installed shared library through pkg-config, shell.c again statically against
#    libhakoniwa.a, the header as C++17; the README's C example is tests/c/readme.c;
#  - the capability examples of docs/c.md (tests/c/examples/NAME.c, compiled as docs/c.md
#    says: cc FILE $(pkg-config --cflags --libs hakoniwa)), each run as each user below and
#    its output checked by tests/examples/check.py against tests/examples/NAME.expected;
#  - each program run as the caller and, when the caller is root, as the unprivileged
#    user hkuser; the JSON status document validated against docs/status.schema.json;
#  - valgrind memcheck (zero errors, zero definitely lost) on the programs that do not spawn;
#  - the Go test (tests/go) through cgo and pkg-config.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/hakoniwa-xlang.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
prefix=$work/prefix
bin=$work/bin
mkdir -p "$bin"

echo "== install the C library under $prefix"
"$root/capi/install.sh" "$prefix" --debug >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

echo "== ABI: soname and exported symbols"
readelf -d "$prefix/lib/libhakoniwa.so.0" | grep -q 'Library soname: \[libhakoniwa.so.0\]'
if ! nm -D --defined-only "$prefix/lib/libhakoniwa.so.0" | awk '$3 != "HAKONIWA_0" {print $3}' | sort \
    | diff -u "$root/capi/abi.txt" -; then
  echo "the exported symbols differ from capi/abi.txt (update it when the ABI changes on purpose)" >&2
  exit 1
fi

echo "== C: compile"
cflags=(-std=c11 -Wall -Wextra -Werror -g)
for src in "$root"/tests/c/*.c; do
  name=$(basename "$src" .c)
  # shellcheck disable=SC2046
  cc "${cflags[@]}" -o "$bin/$name" "$src" $(pkg-config --cflags --libs hakoniwa) \
    -Wl,-rpath,"$prefix/lib"
done
mkdir -p "$bin/examples"
for src in "$root"/tests/c/examples/*.c; do
  # shellcheck disable=SC2046
  cc "${cflags[@]}" -o "$bin/examples/$(basename "$src" .c)" "$src" \
    $(pkg-config --cflags --libs hakoniwa) -Wl,-rpath,"$prefix/lib"
done
# Statically: the archive plus what the Rust standard library needs (Libs.private).
# shellcheck disable=SC2046
cc "${cflags[@]}" -o "$bin/shell-static" "$root/tests/c/shell.c" $(pkg-config --cflags hakoniwa) \
  "$prefix/lib/libhakoniwa.a" $(pkg-config --static --libs-only-l hakoniwa | sed 's/-lhakoniwa//')
if ldd "$bin/shell-static" | grep -q libhakoniwa; then
  echo "shell-static links libhakoniwa.so" >&2
  exit 1
fi
# shellcheck disable=SC2046
# Every C program again with AddressSanitizer, whose LeakSanitizer checks the whole heap
# (the library's allocations included) at exit: the leak check for the programs that
# spawn, which valgrind cannot run (see README).
mkdir -p "$bin/asan"
for src in "$root"/tests/c/*.c; do
  # shellcheck disable=SC2046
  cc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer -o "$bin/asan/$(basename "$src" .c)" \
    "$src" $(pkg-config --cflags --libs hakoniwa) -Wl,-rpath,"$prefix/lib"
done
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Werror -o "$bin/header-cpp" "$root/tests/c/header.cpp" \
  $(pkg-config --cflags --libs hakoniwa) -Wl,-rpath,"$prefix/lib"
python3 - "$root" <<'PY'
import sys
root = sys.argv[1]
read = lambda p: open(f"{root}/{p}").read()
for page, example in [("README.md", "tests/c/readme.c"), ("docs/c.md", "tests/c/readme.c"),
                      ("README.md", "tests/go/readme/main.go"), ("docs/go.md", "tests/go/readme/main.go")]:
    if read(example) not in read(page):
        sys.exit(f"{page} does not contain {example} verbatim")
PY

# The shell commands of docs/c.md and of the README's "C and Go" section, run as printed
# from a scratch directory holding hello.c (tests/c/readme.c) and a link to tests/. The
# install line is what the "install the C library" step above does, under $prefix instead
# of /usr/local; LD_LIBRARY_PATH stands in for its `ldconfig` (nothing is installed on the host).
mkdir -p "$work/doc-commands"
cp "$root/tests/c/readme.c" "$work/doc-commands/hello.c"
ln -s "$root/tests" "$work/doc-commands/tests"
python3 - "$root" >"$work/doc-commands.txt" <<'PY'
import re, sys
root = sys.argv[1]
readme = open(f"{root}/README.md").read().split("\n## C and Go\n")[1].split("\n## ")[0]
for text in (readme, open(f"{root}/docs/c.md").read()):
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            print(line.split("  #")[0].strip())
PY
while read -r line; do
  case "$line" in
    "capi/install.sh /usr/local && ldconfig" | "") continue ;;
    capi/install.sh*) echo "docs: an install line this test does not mirror: $line" >&2; exit 1 ;;
  esac
  name=$(sed -n 's|.*&& \./\([a-z]*\)$|\1|p' <<<"$line")
  (cd "$work/doc-commands" && LD_LIBRARY_PATH="$prefix/lib" sh -c "$line") >"$work/doc-command.out" 2>&1 || {
    echo "-- a command of docs/c.md or README.md failed: $line" >&2
    cat "$work/doc-command.out" >&2
    exit 1
  }
  case "$name" in
    hello) grep -qx 'hello from pid 2' "$work/doc-command.out" || { cat "$work/doc-command.out" >&2; exit 1; } ;;
    *) python3 "$root/tests/examples/check.py" "$name" "$work/doc-command.out" ;;
  esac
  echo "doc command ran as printed: $line"
done <"$work/doc-commands.txt"

# The header is plain enough for pycparser/cffi (the Python binding's generator): no #if
# inside declarations, only integer #defines. Only the guard and extern "C" lines go.
py=python3
python3 -c 'import cffi' 2>/dev/null || py=/usr/bin/python3 # Debian's python3-cffi
"$py" - "$root/include/hakoniwa.h" <<'PY'
import re, sys
import cffi
lines = [l for l in open(sys.argv[1]).read().splitlines()
         if not re.match(r'\s*#\s*(include|if|ifdef|ifndef|endif|define HAKONIWA_H\b)', l)
         and l.strip() not in ('extern "C" {', '}  // extern "C"')]
cffi.FFI().cdef("\n".join(lines))
print("header: readable by cffi")
PY

users=("$(id -un)")
if [ "$(id -u)" = 0 ] && id hkuser >/dev/null 2>&1; then
  users+=(hkuser)
  d=$work
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  chmod -R a+rX "$work"
fi
as_user() {
  local user=$1
  shift
  if [ "$user" = "$(id -un)" ]; then
    "$@"
  else
    (cd / && runuser -u "$user" -- env HOME="/home/$user" PATH="$PATH" "$@")
  fi
}

for user in "${users[@]}"; do
  echo "== C: run as $user"
  for prog in shell shell-static setup_failure walltime seccomp landlock pipes features terminal hostile signals readme header-cpp; do
    as_user "$user" "$bin/$prog" >"$work/$prog.$user.out" 2>&1 || {
      echo "-- $prog failed as $user:" >&2
      cat "$work/$prog.$user.out" >&2
      exit 1
    }
    tail -n1 "$work/$prog.$user.out"
  done
  echo "== C: the capability examples of docs/c.md as $user"
  for prog in "$bin"/examples/*; do
    name=$(basename "$prog")
    as_user "$user" "$prog" >"$work/example.$name.$user.out" 2>&1 || {
      echo "-- example $name failed as $user:" >&2
      cat "$work/example.$name.$user.out" >&2
      exit 1
    }
    python3 "$root/tests/examples/check.py" "$name" "$work/example.$name.$user.out"
  done
  echo "examples: $(ls "$bin/examples" | wc -l) programs print what tests/examples/*.expected says"
  as_user "$user" "$bin/json_status" >"$work/status.$user.json"
  python3 "$root/tests/schema_check.py" "$root/docs/status.schema.json" "$work/status.$user.json"
  echo "json_status: valid against docs/status.schema.json"

  echo "== AddressSanitizer + LeakSanitizer as $user"
  for prog in "$bin"/asan/*; do
    as_user "$user" env ASAN_OPTIONS=detect_leaks=1:exitcode=98 "$prog" >"$work/asan.out" 2>&1 || {
      echo "-- $(basename "$prog") under ASan failed as $user:" >&2
      cat "$work/asan.out" >&2
      exit 1
    }
  done
  echo "asan: $(ls "$bin/asan" | wc -l) programs, no memory error, no leak"

  echo "== valgrind as $user"
  for prog in "hostile --no-spawn" header-cpp; do
    # shellcheck disable=SC2086
    as_user "$user" valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite $bin/$prog >/dev/null
    echo "valgrind $prog: no errors, nothing definitely lost"
  done
done

if [ -d "$root/tests/go" ]; then
  echo "== Go"
  bash "$root/tests/go/run.sh" "$prefix" "$work" "${users[@]}"
fi
echo "== cross-language tests passed"
