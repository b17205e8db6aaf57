#!/bin/sh
# install.sh - installing and linking as a packager and an embedder do it.
#
# `make install DESTDIR=STAGE` into a fresh staging tree, then, with
# pkg-config pointed at that tree only through PKG_CONFIG_SYSROOT_DIR and
# PKG_CONFIG_PATH (never at the build tree), examples/sanitize_file.c is
# compiled and linked twice: against the installed shared library, and
# statically (`pkg-config --static`, with the shared library taken out of
# the staging tree so -limsafe can only be libimsafe.a: every dependency of
# the library must then be in libimsafe.pc's Requires.private or
# Libs.private, or the link fails).  Both programs run on two bundled
# samples and must give the verdicts examples/samples/README states, with
# the same output bytes as the in-tree build; the shared one must have
# loaded the staged libimsafe.so, the static one no libimsafe.so at all.
# The installed files are the expected set, the .pc gives the release
# version, the installed imsafe-check runs, and every installed man page is
# clean under `mandoc -T lint -W warning`.
#
# Environment (set by `make check`): IMSAFE_SRCDIR, IMSAFE_BUILDDIR,
# IMSAFE_MAKE, IMSAFE_CC, IMSAFE_USER_CFLAGS, IMSAFE_PKG_CONFIG,
# IMSAFE_BINDIR, IMSAFE_LIBDIR, IMSAFE_INCLUDEDIR, IMSAFE_MANDIR,
# IMSAFE_VERSION, IMSAFE_MANDOC.
# Ends with "N passed, N failed"; exit 1 when anything failed, 99 when the
# test cannot run at all.

set -u

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
hard() { echo "hard error: $1" >&2; exit 99; }
ok_if() { # label: pass when the last command succeeded
    if [ $? -eq 0 ]; then pass "$1"; else fail "$1"; fi
}

for v in IMSAFE_SRCDIR IMSAFE_BUILDDIR IMSAFE_MAKE IMSAFE_CC IMSAFE_PKG_CONFIG \
    IMSAFE_BINDIR IMSAFE_LIBDIR IMSAFE_INCLUDEDIR IMSAFE_MANDIR IMSAFE_VERSION IMSAFE_MANDOC; do
    eval "val=\${$v:-}"
    [ -n "$val" ] || hard "$v is not set (run through make check)"
done
srcdir=$IMSAFE_SRCDIR
builddir=$IMSAFE_BUILDDIR
out=$builddir/tests/out/install
stage=$out/stage
samples=$srcdir/examples/samples
intree=$builddir/examples/sanitize_file
[ -x "$intree" ] || hard "$intree not built"
rm -rf "$out" && mkdir -p "$out" || hard "cannot create $out"

# ------------------------------------------------------------------ install

# The outer make's job server and flags are not this make's business.
unset MAKEFLAGS MFLAGS MAKELEVEL
if $IMSAFE_MAKE -s -C "$builddir" install DESTDIR="$stage" > "$out/install.log" 2>&1; then
    pass "make install DESTDIR=STAGE"
else
    sed 's/^/    /' "$out/install.log" | tail -n 30
    fail "make install DESTDIR=STAGE"
    echo "$passed passed, $failed failed"
    exit 1
fi

lib=$stage$IMSAFE_LIBDIR
missing=""
for f in "$IMSAFE_BINDIR/imsafe-check" "$IMSAFE_INCLUDEDIR/imsafe.h" \
    "$IMSAFE_LIBDIR/pkgconfig/libimsafe.pc" "$IMSAFE_LIBDIR/libimsafe.a" \
    "$IMSAFE_LIBDIR/libimsafe.so"; do
    [ -e "$stage$f" ] || missing="$missing $f"
done
for m in "$srcdir"/doc/*.[1-9]; do
    name=${m##*/}
    [ -e "$stage$IMSAFE_MANDIR/man${name##*.}/$name" ] ||
        missing="$missing $IMSAFE_MANDIR/man${name##*.}/$name"
done
[ -z "$missing" ]
ok_if "the staging tree holds the program, header, libraries, .pc and man pages${missing:+ (missing:$missing)}"
extra=$(cd "$stage$IMSAFE_INCLUDEDIR" && ls)
[ "$extra" = imsafe.h ]
ok_if "imsafe.h is the only installed header (found: $(echo $extra))"

# ------------------------------------------------------------- pkg-config
PKG_CONFIG_SYSROOT_DIR=$stage
PKG_CONFIG_PATH=$lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
pc=$IMSAFE_PKG_CONFIG

v=$($pc --modversion libimsafe 2>&1)
[ "$v" = "$IMSAFE_VERSION" ]
ok_if "pkg-config --modversion libimsafe is $IMSAFE_VERSION (got '$v')"
cflags=$($pc --cflags libimsafe) || hard "pkg-config --cflags libimsafe failed"
libs=$($pc --libs libimsafe) || hard "pkg-config --libs libimsafe failed"
slibs=$($pc --static --libs libimsafe) || hard "pkg-config --static --libs libimsafe failed"
case " $cflags " in
*" -I$stage$IMSAFE_INCLUDEDIR "*) pass "--cflags names the staged include directory" ;;
*) fail "--cflags names the staged include directory (got: $cflags)" ;;
esac
case " $libs " in
*" -L$lib "*) pass "--libs names the staged library directory" ;;
*) fail "--libs names the staged library directory (got: $libs)" ;;
esac
echo "     cflags: $cflags"
echo "     libs: $libs"
echo "     static libs: $slibs"

# --------------------------------------------------- verdicts of the samples
# examples/samples/README: "NAME: what -> VERDICT TYPE [REASON] ..."
expect() { # sample: prints "verdict type reason-or-empty"
    sed -n "s/^$1: .* -> \([a-z]*\) \([a-z0-9]*\)\( \[\([a-z0-9_.]*\)\]\)\{0,1\}.*/\1 \2 \4/p" \
        "$samples/README"
}
good=author.png
bad=gifar.png
set -- $(expect $good)
[ "$1" = sanitized ] || hard "examples/samples/README: $good is not 'sanitized' ($*)"
good_type=$2
set -- $(expect $bad)
[ "$1" = rejected ] && [ -n "$3" ] || hard "examples/samples/README: $bad is not rejected with a reason ($*)"
bad_type=$2
bad_reason=$3

# The in-tree build's output is the reference bytes.
"$intree" "$samples/$good" "$out/ref.out" > /dev/null || hard "in-tree sanitize_file failed on $good"

judge() { # label program [env assignments...]: runs both samples
    label=$1
    prog=$2
    shift 2
    rm -f "$out/good.out" "$out/bad.out"
    env "$@" "$prog" "$samples/$good" "$out/good.out" > "$out/good.txt" 2> "$out/good.err"
    rc=$?
    [ $rc -eq 0 ] && grep -q "^verdict: sanitized$" "$out/good.txt" &&
        grep -q "^type: $good_type$" "$out/good.txt" && cmp -s "$out/good.out" "$out/ref.out"
    ok_if "$label: $good is sanitized $good_type, the same bytes as the in-tree build (exit $rc)"
    env "$@" "$prog" "$samples/$bad" "$out/bad.out" > "$out/bad.txt" 2> "$out/bad.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "^verdict: rejected$" "$out/bad.txt" &&
        grep -q "^type: $bad_type$" "$out/bad.txt" &&
        grep -q "^reason: $bad_reason " "$out/bad.txt" &&
        [ ! -e "$out/bad.out" ] && [ ! -e "$out/bad.out.part" ]
    ok_if "$label: $bad is rejected $bad_type [$bad_reason], nothing written (exit $rc)"
}

# -------------------------------------------------------------- shared link
# shellcheck disable=SC2086
if $IMSAFE_CC ${IMSAFE_USER_CFLAGS:-} $cflags -o "$out/sanitize_file_shared" \
    "$srcdir/examples/sanitize_file.c" $libs > "$out/cc.log" 2>&1; then
    pass "sanitize_file.c compiles and links with --cflags --libs"
    judge "shared" "$out/sanitize_file_shared" LD_LIBRARY_PATH="$lib" LD_DEBUG=libs
    grep -q "calling init: $lib/libimsafe.so" "$out/good.err"
    ok_if "shared: the program loaded the staged $lib/libimsafe.so"
else
    sed 's/^/    /' "$out/cc.log"
    fail "sanitize_file.c compiles and links with --cflags --libs"
fi

# The installed imsafe-check runs against the installed library.
LD_LIBRARY_PATH=$lib "$stage$IMSAFE_BINDIR/imsafe-check" -q "$samples/$good" > "$out/check.txt" 2>&1
ok_if "the installed imsafe-check accepts $good"

# ... and isolated, with the installed helper (a staged tree is not where
# the library looks for it by default, so it is named)
helper=$stage${IMSAFE_LIBEXECDIR:?}/imsafe-worker
[ -x "$helper" ]
ok_if "the isolation helper is installed in libexecdir"
LD_LIBRARY_PATH=$lib "$stage$IMSAFE_BINDIR/imsafe-check" -q --isolate --isolate-helper "$helper" \
    "$samples/$good" > "$out/check-iso.txt" 2>&1
ok_if "the installed imsafe-check accepts $good with --isolate and the installed helper"

# -------------------------------------------------------------- static link
# A packager may ship only libimsafe.a: without the .so, -limsafe is the
# archive and the link needs every private dependency from the .pc file.
rm -f "$lib"/libimsafe.so* "$lib"/libimsafe.la
# shellcheck disable=SC2086
if $IMSAFE_CC ${IMSAFE_USER_CFLAGS:-} $cflags -o "$out/sanitize_file_static" \
    "$srcdir/examples/sanitize_file.c" $slibs > "$out/cc-static.log" 2>&1; then
    pass "sanitize_file.c links statically with --static --libs"
    judge "static" "$out/sanitize_file_static" LD_DEBUG=libs
    ! grep -q "calling init: .*libimsafe" "$out/good.err"
    ok_if "static: no libimsafe shared library was loaded"
else
    sed 's/^/    /' "$out/cc-static.log"
    fail "sanitize_file.c links statically with --static --libs"
fi

# ---------------------------------------------------------------- man pages
for m in "$stage$IMSAFE_MANDIR"/man*/*; do
    [ -f "$m" ] || continue
    name=${m##*/}
    if "$IMSAFE_MANDOC" -T lint -W warning "$m" > "$out/lint" 2>&1 && [ ! -s "$out/lint" ]; then
        pass "mandoc lint of the installed $name"
    else
        fail "mandoc lint of the installed $name"
        sed 's/^/    /' "$out/lint"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
