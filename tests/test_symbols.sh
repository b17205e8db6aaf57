#!/bin/sh
# test_symbols.sh - the exported ABI and its documentation agree.
#
# Like curl's test 1119 (every symbol documented) and test 1167 (only
# prefixed names): the imsafe_* symbols the shared library exports, the
# IMSAFE_API functions include/imsafe.h declares and the names doc/SYMBOLS
# lists must be one set; nothing else may be exported (a leaked internal
# becomes ABI the day someone links against it); every public function and
# every option is documented in libimsafe.3 with the range and default of
# libimsafe/policy.c's option table; libimsafe-reasons.3 is what
# doc/gen-reasons.sh makes from libimsafe/reason.c; and every man page is
# clean under `mandoc -T lint -W warning`.
#
# Environment (set by `make check`): IMSAFE_SRCDIR, IMSAFE_BUILDDIR, and
# the programs configure found: IMSAFE_NM, IMSAFE_MANDOC.
# Ends with "N passed, N failed"; exit 1 when anything failed, 99 when the
# test cannot run at all.

set -u

srcdir=${IMSAFE_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${IMSAFE_BUILDDIR:-.}
lib=$builddir/.libs/libimsafe.so
header=$srcdir/include/imsafe.h
symbols=$srcdir/doc/SYMBOLS
policy_c=$srcdir/libimsafe/policy.c
page3=$srcdir/doc/libimsafe.3

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_symbols.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
hard() { echo "hard error: $1" >&2; exit 99; }

# Compare two sorted name lists; on a difference print which side has what.
same_set() { # label file_a name_a file_b name_b
    if cmp -s "$2" "$4"; then
        pass "$1"
    else
        fail "$1"
        comm -23 "$2" "$4" | sed "s/^/    only in $3: /"
        comm -13 "$2" "$4" | sed "s/^/    only in $5: /"
    fi
}

for f in "$header" "$symbols" "$policy_c" "$page3"; do
    [ -r "$f" ] || hard "cannot read $f"
done
[ -r "$lib" ] || hard "no shared library at $lib (configure with --enable-shared)"
[ -x "${IMSAFE_NM:-}" ] || hard "IMSAFE_NM='${IMSAFE_NM:-}' is not nm (run through make check)"
[ -x "${IMSAFE_MANDOC:-}" ] ||
    hard "IMSAFE_MANDOC='${IMSAFE_MANDOC:-}' is not mandoc (run through make check)"

# ---------------------------------------------------------------- the sets

# IMSAFE_API declarations may span lines: join each up to its ';'.
awk '/^IMSAFE_API/ { f = 1; d = "" }
     f { d = d " " $0; if (index($0, ";")) { print d; f = 0 } }' "$header" |
    sed -n 's/.*[ *]\(imsafe_[a-z0-9_]*\) *(.*/\1/p' | LC_ALL=C sort > "$tmp/header"
[ -s "$tmp/header" ] || hard "no IMSAFE_API function found in $header"

grep -v '^#' "$symbols" | awk 'NF { print $1 }' | LC_ALL=C sort > "$tmp/symbols"

"$IMSAFE_NM" -D --defined-only "$lib" > "$tmp/nm" || hard "nm failed on $lib"
awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' "$tmp/nm" | sed 's/@.*//' |
    LC_ALL=C sort -u > "$tmp/dynsyms"
grep '^imsafe_' "$tmp/dynsyms" > "$tmp/exported"
grep -v '^imsafe_' "$tmp/dynsyms" |
    grep -Ev '^(_init|_fini|_edata|_end|__bss_start|__bss_start__|__bss_end__|__end__|_bss_end__)$' \
    > "$tmp/foreign"

# doc/SYMBOLS: one line per name, no repeats, a version on each.
if [ "$(uniq -d "$tmp/symbols")" = "" ]; then
    pass "doc/SYMBOLS lists each name once"
else
    fail "doc/SYMBOLS lists names twice: $(uniq -d "$tmp/symbols" | tr '\n' ' ')"
fi
bad=$(grep -v '^#' "$symbols" | awk 'NF && ($2 !~ /^[0-9]+\.[0-9]+\.[0-9]+$/ || NF > 4)')
if [ -z "$bad" ]; then
    pass "doc/SYMBOLS gives a release version for each name"
else
    fail "doc/SYMBOLS lines without a version: $bad"
fi

same_set "exported symbols = IMSAFE_API functions of imsafe.h" \
    "$tmp/exported" "libimsafe.so" "$tmp/header" "imsafe.h"
same_set "doc/SYMBOLS = IMSAFE_API functions of imsafe.h" \
    "$tmp/symbols" "doc/SYMBOLS" "$tmp/header" "imsafe.h"

if [ -s "$tmp/foreign" ]; then
    fail "libimsafe.so exports only imsafe_* names"
    sed 's/^/    also exported: /' "$tmp/foreign"
else
    pass "libimsafe.so exports only imsafe_* names"
fi

# A cross-file internal (imsafe__*) must never leak: it matches imsafe_ but
# -export-symbols-regex '^imsafe_[a-z]' and -fvisibility=hidden keep it in.
if grep -q '^imsafe__' "$tmp/exported"; then
    fail "no imsafe__ internal is exported: $(grep '^imsafe__' "$tmp/exported" | tr '\n' ' ')"
else
    pass "no imsafe__ internal is exported"
fi

# -------------------------------------------------------- libimsafe.3 text

# Every public function has a .Fn in the SYNOPSIS and an entry in the text.
sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$page3" |
    sed -n 's/^\.F[no] \(imsafe_[a-z0-9_]*\).*/\1/p' | LC_ALL=C sort -u > "$tmp/synopsis"
same_set "libimsafe.3 SYNOPSIS = IMSAFE_API functions" \
    "$tmp/synopsis" "libimsafe.3" "$tmp/header" "imsafe.h"
missing=$(while read -r f; do
    grep -q "^\.It Fn $f\$" "$page3" || printf ' %s' "$f"
done < "$tmp/header")
if [ -z "$missing" ]; then
    pass "libimsafe.3 has an .It Fn entry for every function"
else
    fail "libimsafe.3 has no .It Fn entry for:$missing"
fi

# Options: every IMSAFE_OPT_* of the header has an entry whose
# "Range MIN to MAX, default DEF." line matches policy.c's table.
sed -n 's/^ *\(IMSAFE_OPT_[A-Z0-9_]*\) *=.*/\1/p' "$header" | LC_ALL=C sort > "$tmp/opts_h"
awk -v hdr="$header" '
    BEGIN {
        # numeric #defines of the header, for table entries such as
        # IMSAFE_JPEG_LOSSLESS
        while ((getline l < hdr) > 0)
            if (l ~ /^#define IMSAFE_[A-Z0-9_]+ [0-9]+/) {
                split(l, w, /[ \t]+/)
                val[w[2]] = w[3] + 0
            }
        val["KiB"] = 1024; val["MiB"] = 1048576
        val["GiB"] = 1073741824; val["TiB"] = 1099511627776
    }
    function ev(e,   t, n, i, r, x) {
        gsub(/[ \t()]/, "", e)
        n = split(e, t, "*")
        r = 1
        for (i = 1; i <= n; i++) {
            x = t[i]; sub(/LL$/, "", x)
            if (x ~ /^[0-9]+$/) r *= x
            else if (x in val) r *= val[x]
            else return "?" t[i]
        }
        return sprintf("%.0f", r)
    }
    /^const struct imsafe__optdef imsafe__optdefs\[\]/ { on = 1; next }
    on && /^};/ { on = 0 }
    on { buf = buf " " $0 }
    END {
        while (match(buf, /\{IMSAFE_OPT_[A-Z0-9_]+,[^}]*\}/)) {
            e = substr(buf, RSTART + 1, RLENGTH - 2)
            buf = substr(buf, RSTART + RLENGTH)
            n = split(e, f, ",")
            gsub(/[ \t]/, "", f[1])
            printf "%s %s to %s, default %s\n", f[1], ev(f[3]), ev(f[4]), ev(f[5])
        }
    }' "$policy_c" | LC_ALL=C sort > "$tmp/opts_c"
awk '/^\.It Dv IMSAFE_OPT_/ { o = $3; next }
     o != "" && /^Range [0-9]+ to [0-9]+, default [0-9]+/ {
         line = $0; sub(/\.$/, "", line); sub(/ \(.*/, "", line)
         sub(/^Range /, "", line)
         print o " " line; o = "" }' "$page3" | LC_ALL=C sort > "$tmp/opts_3"
cut -d' ' -f1 "$tmp/opts_c" > "$tmp/opts_c_names"
same_set "options of imsafe.h = options of policy.c's table" \
    "$tmp/opts_h" "imsafe.h" "$tmp/opts_c_names" "policy.c"
same_set "libimsafe.3 ranges and defaults = policy.c's table" \
    "$tmp/opts_3" "libimsafe.3" "$tmp/opts_c" "policy.c"

# ----------------------------------------------------------- reason page

if [ ! -r "$srcdir/doc/gen-reasons.sh" ]; then
    fail "doc/gen-reasons.sh is present (is it in EXTRA_DIST?)"
elif sh "$srcdir/doc/gen-reasons.sh" --check > "$tmp/gen.out" 2>&1; then
    pass "libimsafe-reasons.3 is what gen-reasons.sh makes from reason.c"
else
    fail "libimsafe-reasons.3 is what gen-reasons.sh makes from reason.c"
    sed 's/^/    /' "$tmp/gen.out"
fi

# ------------------------------------------------------------- man lint

for m in "$srcdir"/doc/*.[1-9]; do
    [ -e "$m" ] || continue
    name=${m##*/}
    if "$IMSAFE_MANDOC" -T lint -W warning "$m" > "$tmp/lint" 2>&1 && [ ! -s "$tmp/lint" ]; then
        pass "mandoc lint $name"
    else
        fail "mandoc lint $name"
        sed 's/^/    /' "$tmp/lint"
    fi
done

# An empty string must show as "": `.Pq Qq when ...` quotes the words that
# follow and loses the empty string without a lint warning, so the
# accessors documented as returning "" are checked in the rendered text.
"$IMSAFE_MANDOC" -T ascii -O width=400 "$page3" 2>/dev/null | sed 's/.\x08//g' > "$tmp/page3.txt"
missing=""
for phrase in '("" when there is nothing to say)' '("" when no name was claimed)' \
    '("" if none was set)' 'Returns the label, "" when none was set'; do
    grep -F -q "$phrase" "$tmp/page3.txt" || missing="$missing [$phrase]"
done
if [ -z "$missing" ]; then
    pass "libimsafe.3 renders the empty string as \"\""
else
    fail "libimsafe.3 renders the empty string as \"\": not found:$missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
