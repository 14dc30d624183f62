#!/usr/bin/env bash
# Prints the start and end (hex) of BIN's executable segment: a static, non-PIE executable
# has its code at fixed addresses. `bash bench/hot-text/text-range.sh BIN`
set -euo pipefail
readelf -lW "${1:?usage: text-range.sh BIN}" | python3 -c 'import sys
for l in sys.stdin:
    f = l.split()
    if f[:1] == ["LOAD"] and "E" in f[6:-1]:
        print("%x %x" % (int(f[2], 16), int(f[2], 16) + int(f[5], 16)))
        break'
