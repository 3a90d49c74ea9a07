#!/usr/bin/env bash
# The fuzz harnesses (tests/fuzz/) build with clang, every regression
# input under tests/fuzz/regress/ still passes, and a few seconds of
# fuzzing each finds nothing. Long runs: scripts/fuzz --time 600.
. "$top_srcdir/tests/integration/common.sh"
CLANG=${CLANG:-$(command -v clang || true)}
[ -n "$CLANG" ] || skip "needs clang (libFuzzer)"
export CLANG
config_h=()
[ -f "$top_builddir/config.h" ] && config_h=(--config-h "$top_builddir/config.h")
rc=0
"$top_srcdir/scripts/fuzz" --builddir "$top_builddir/fuzz" "${config_h[@]}" \
	--time "${FUZZ_SMOKE_SECONDS:-4}" --jobs 2 --no-save || rc=$?
[ "$rc" = 77 ] && skip "scripts/fuzz could not build the harnesses"
[ "$rc" = 0 ] || fail "a fuzz harness failed (see above)"
note "every harness built, replayed its regressions and fuzzed cleanly"
