#!/bin/sh
# Fuzzing smoke run for CI: builds the libFuzzer harnesses in build-fuzz/
# (clang, --enable-fuzzing: ASan + UBSan + libFuzzer, static libimsafe) and
# runs every harness for FUZZ_SECONDS (default 30) seconds, two at a time,
# seeded with ../shared/corpus and the generated fixtures and text seeds
# (copied into a temporary directory, never into the tree) plus
# fuzz/regress/<target>/.  Any crash, leak, timeout, out-of-memory or
# property violation (the harnesses abort) fails the harness; its input is
# kept under the temporary directory and named in the output.
#
# Prints per harness: executions per second, edges covered in the whole
# binary (libFuzzer's final cov:) and in libimsafe's own code (from
# -print_coverage), then "N passed, N failed" over harnesses.  Exit 1 on
# any failure, 2 when the build fails.
#
#   fuzz/smoke.sh [TARGET...]      (default: every harness)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
corpus=${IMSAFE_CORPUS:-$top/../shared/corpus}
build=$top/build-fuzz
secs=${FUZZ_SECONDS:-30}
targets=${*:-sanitize png jpeg gif sniff zip filename policy icc tar vp8l multipart ooxml pdf frame webp}

# libFuzzer names functions through llvm-symbolizer (Debian package llvm-14):
# without it the libimsafe edge count below reads 0/0 and crash reports have
# no function names.
for s in llvm-symbolizer llvm-symbolizer-14; do
    p=$(command -v "$s") && { ASAN_SYMBOLIZER_PATH=$p; export ASAN_SYMBOLIZER_PATH; break; }
done
[ -n "${ASAN_SYMBOLIZER_PATH:-}" ] || { echo "llvm-symbolizer not found (apt-get install llvm-14)" >&2; exit 2; }
[ -d "$corpus/pngsuite" ] || { echo "corpus not found at $corpus" >&2; exit 2; }
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) || exit 2
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
    (cd "$build" && "$top/configure" -q --enable-fuzzing CC=clang --disable-shared \
        --with-corpus="$corpus") || exit 2
fi
progs=""
for t in $targets; do progs="$progs fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
make -s -C "$build" -j2 $progs tests/fixtures/.stamp || exit 2
# python3 as configure found it (never a bare name; see configure.ac)
py=$(sed -n 's/^IMSAFE_PYTHON = //p' "$build/Makefile")
[ -x "$py" ] || { echo "configure found no python3 with Pillow (IMSAFE_PYTHON)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/imsafe-fuzz.XXXXXX")
echo "== fuzz smoke: ${secs}s per harness, two at a time; work files in $work"

# One flat seed directory for the file-format harnesses: every corpus and
# fixture file, named after its path so nothing collides.
mkdir -p "$work/seed-files"
for d in "$corpus" "$build/tests/fixtures"; do
    (cd "$d" && find . -type f ! -name '*.tsv' ! -name SHA256SUMS ! -name '*LICENSE*' \
        ! -name '*.md' ! -name '*.txt' ! -name COPYING) |
    while IFS= read -r f; do
        flat=$(printf '%s' "$f" | sed 's|^\./||; s|/|__|g')
        cp "$d/$f" "$work/seed-files/$(basename "$d")__$flat"
    done
done
IMSAFE_CORPUS=$corpus IMSAFE_FIXTURES=$build/tests/fixtures \
    "$py" "$top/fuzz/gen_seeds.py" "$work/seed-text" || exit 2

run_one() {
    t=$1
    mkdir -p "$work/corpus-$t" "$work/crash-$t"
    maxlen=""
    case $t in
    filename | policy | icc | multipart | ooxml | frame) set -- "$work/seed-text/$t" ;;
    sniff) set -- "$work/seed-files"; maxlen=-max_len=65536 ;;
    *) set -- "$work/seed-files" ;;
    esac
    [ -d "$top/fuzz/regress/$t" ] && set -- "$@" "$top/fuzz/regress/$t"
    "$build/fuzz/fuzz_$t" -dict="$top/fuzz/$t.dict" -max_total_time="$secs" -timeout=25 \
        -rss_limit_mb=2560 -print_final_stats=1 -print_coverage=1 $maxlen \
        -artifact_prefix="$work/crash-$t/" "$work/corpus-$t" "$@" >"$work/$t.log" 2>&1
    echo $? >"$work/$t.rc"
}

. "$top/tests/two-at-a-time.sh"
# shellcheck disable=SC2086
two_at_a_time run_one $targets

passed=0
failed=0
for t in $targets; do
    log=$work/$t.log
    rc=$(cat "$work/$t.rc")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep ' cov: ' "$log" | tail -n 1 | sed 's/.* cov: \([0-9]*\).*/\1/')
    own=$(grep '^\(UN\)\{0,1\}COVERED_FUNC:.*/libimsafe/' "$log" |
        sed 's|.* edges: \([0-9]*\)/\([0-9]*\) .*|\1 \2|' |
        awk '{c += $1; n += $2} END {printf "%d/%d", c, n}')
    # slow-unit-* files are reports, not failures
    crashes=$(find "$work/crash-$t" -type f ! -name 'slow-unit-*' | wc -l)
    if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        passed=$((passed + 1))
        status=ok
    else
        failed=$((failed + 1))
        status=FAIL
    fi
    printf '%-4s %-9s exec/s %-6s cov %-6s libimsafe edges %s\n' "$status" "$t" \
        "${eps:-?}" "${cov:-?}" "$own"
    if [ "$status" = FAIL ]; then
        grep -B2 -A30 'ERROR: \|fuzz property violated\|==ERROR\|runtime error' "$log" |
            grep -v 'UNCOVERED_PC\|COVERED_FUNC' | head -n 60
        find "$work/crash-$t" -type f ! -name 'slow-unit-*' | sed 's/^/     input: /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
