#!/usr/bin/env bash
# The fuzz harnesses (tests/fuzz/) build with clang, every regression
# input under tests/fuzz/regress/ still passes, and a few seconds of
# fuzzing each finds nothing. The fuzzing starts from the seeds alone,
# with a fixed seed and a fixed number of inputs per harness, so that
# it does the same work on a slow machine as on a fast one and mostly
# tries the same inputs (libFuzzer does not promise the same sequence).
# Long, random runs: scripts/fuzz --time 600.
# A failure repeats what the sanitizer said and the input itself (hex)
# on FAIL lines, so a CI excerpt is enough to reproduce it.
. "$top_srcdir/tests/integration/common.sh"
CLANG=${CLANG:-$(command -v clang || true)}
[ -n "$CLANG" ] || skip "needs clang (libFuzzer)"
export CLANG
config_h=()
[ -f "$top_builddir/config.h" ] && config_h=(--config-h "$top_builddir/config.h")
out="$top_builddir/fuzz/smoke.out"
mkdir -p "$top_builddir/fuzz"
rm -rf "$top_builddir/fuzz/corpus" "$top_builddir/fuzz/artifacts"
# inputs per harness: about 4 s each on a 2-vCPU VM (the slow harnesses
# parse whole audit streams)
rc=0
"$top_srcdir/scripts/fuzz" --builddir "$top_builddir/fuzz" "${config_h[@]}" \
	--runs "${FUZZ_SMOKE_RUNS:-150000}" --runs fuzz_stream=4000 \
	--runs fuzz_verify=6000 --runs fuzz_netlink=25000 \
	--seed "${FUZZ_SMOKE_SEED:-1}" --jobs 2 --no-save >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" = 77 ] && skip "scripts/fuzz could not build the harnesses"
if [ "$rc" != 0 ]; then
	# the reports and the project's own stack frames
	# (sed, not head: a pipe closed early is a failure under pipefail)
	grep -E 'CRASH|FAILED|ERROR|SUMMARY|error:|: input |#[0-9]+ .*/(src|tests/fuzz)/' "$out" |
		sed -n 's/^ */FAIL: /; 1,40p' >&2 || true
	for f in "$top_builddir"/fuzz/artifacts/*/*; do
		[ -f "$f" ] || continue
		echo "FAIL: input $(basename "$(dirname "$f")")/$(basename "$f"):" \
			"$(head -c 2048 "$f" | od -An -tx1 -v | tr -d ' \n')" >&2
	done
	fail "a fuzz harness failed (exit $rc)"
fi
note "every harness built, replayed its regressions and fuzzed cleanly"
