#!/usr/bin/env bash
# Documentation checks: the API docs of every workspace crate build without a single
# rustdoc warning (broken intra-doc links, bad code-block attributes, ...); every relative
# link in the repository's Markdown resolves; ARCHITECTURE.md's module map names every
# source file of the engine, runtime, seccomp and CLI crates. The doc examples themselves
# run as doctests in `cargo test`, and the examples of docs/*.md run in the crates' tests;
# docs/c.md, go.md and python.md show the capability examples (run by tests/run.sh and the
# Python tests) verbatim.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -Dwarnings" cargo doc --no-deps --workspace --quiet
python3 tests/docs/links.py
python3 tests/docs/modules.py
python3 tests/examples/check.py --docs
