#!/bin/bash -eu
# OSS-Fuzz entry point (https://google.github.io/oss-fuzz/getting-started/
# new-project-guide/): builds the static libimsafe with the engine's flags
# and one binary per harness, each with its dictionary and seed corpus:
#
#   $OUT/fuzz_<target>                 the libFuzzer binary
#   $OUT/fuzz_<target>.dict            fuzz/<target>.dict
#   $OUT/fuzz_<target>_seed_corpus.zip ../shared/corpus (when present), the
#                                      fixtures of tests/gen (when Pillow is
#                                      there) and fuzz/gen_seeds.py's texts
#
# Environment (OSS-Fuzz sets all of it; the defaults build locally):
#   CC, CFLAGS          e.g. -fsanitize=address -fsanitize=fuzzer-no-link
#   LIB_FUZZING_ENGINE  e.g. -fsanitize=fuzzer
#   OUT, WORK           output and scratch directories
#   IMSAFE_CORPUS       the third-party corpus (../shared/corpus)
# The dependencies (libpng, libjpeg-turbo, giflib, zlib, lcms2, libwebp) come from
# pkg-config; under MemorySanitizer they must be instrumented builds.
top=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${WORK:=$top/build-ossfuzz}"
: "${OUT:=$WORK/out}"
corpus=${IMSAFE_CORPUS:-$top/../shared/corpus}
targets="sanitize png jpeg gif sniff zip filename policy icc tar vp8l multipart ooxml pdf frame webp"
build=$WORK/imsafe
mkdir -p "$build" "$OUT"

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
(cd "$build" && CC="$CC" CFLAGS="$CFLAGS" "$top/configure" -q --disable-shared \
    --enable-static --without-corpus)
make -C "$build" -j"$(nproc)" libimsafe.la
# python3 (with Pillow, for the fixtures) as configure found it: never a
# bare name (see configure.ac)
py=$(sed -n 's/^IMSAFE_PYTHON = //p' "$build/Makefile")
[ -x "$py" ] || { echo "configure found no python3 with Pillow (python3-pil)" >&2; exit 1; }

deps_cflags=$(pkg-config --cflags libpng libjpeg zlib lcms2 libwebp libwebpdemux libwebpmux)
deps_libs="$(pkg-config --libs libpng libjpeg zlib lcms2 libwebp libwebpdemux libwebpmux) -lgif -lm"
for t in $targets; do
    # shellcheck disable=SC2086
    $CC $CFLAGS -I"$top/include" -I"$top/libimsafe" -I"$build" $deps_cflags \
        -c "$top/fuzz/fuzz_$t.c" -o "$build/fuzz_$t.o"
    extra=""
    if [ "$t" = multipart ]; then # the ICAP service's form reader
        # shellcheck disable=SC2086
        $CC $CFLAGS -c "$top/icap/multipart.c" -o "$build/multipart.o"
        extra=$build/multipart.o
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS "$build/fuzz_$t.o" $extra -o "$OUT/fuzz_$t" $LIB_FUZZING_ENGINE \
        "$build/.libs/libimsafe.a" $deps_libs
    cp "$top/fuzz/$t.dict" "$OUT/fuzz_$t.dict"
done

# Seed corpora: the file sets each harness can use, zipped flat with
# names made from their paths (OSS-Fuzz unpacks them into one directory).
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
export IMSAFE_CORPUS="$corpus"
for g in "$top"/tests/gen/*.py; do
    "$py" "$g" "$seeds/fixtures" >/dev/null 2>&1 || true
done
# after the fixtures: fuzz_ooxml's seeds are parts of the Office fixtures
IMSAFE_FIXTURES="$seeds/fixtures" "$py" "$top/fuzz/gen_seeds.py" "$seeds/text"
zip_dirs() { # zip_dirs OUTZIP DIR...
    "$py" - "$@" <<'PY'
import os, sys, zipfile
out, dirs = sys.argv[1], sys.argv[2:]
skip = (".tsv", ".md", ".txt", "SHA256SUMS", "LICENSE", "COPYING")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith(skip) or "LICENSE" in f:
                    continue
                p = os.path.join(root, f)
                if os.path.getsize(p) <= 4 << 20:
                    z.write(p, os.path.relpath(p, os.path.dirname(d)).replace("/", "__"))
PY
}
for t in $targets; do
    case $t in
    png) set -- "$corpus/pngsuite" "$corpus/png-extra" "$corpus/exploits" "$seeds/fixtures/png" ;;
    jpeg) set -- "$corpus/jpeg" "$seeds/fixtures/jpeg" ;;
    gif) set -- "$corpus/gif" "$corpus/exploits" "$seeds/fixtures/gif" ;;
    webp) set -- "$corpus/webp" "$seeds/fixtures/webp" ;;
    zip) set -- "$seeds/fixtures/zip" "$seeds/fixtures/types" ;;
    tar) set -- "$seeds/fixtures/tar" "$seeds/fixtures/zip" ;;
    vp8l) set -- "$corpus/webp" "$seeds/fixtures/vp8l" ;;
    pdf) set -- "$seeds/fixtures/pdf" "$seeds/fixtures/types" ;;
    filename | policy | icc | multipart | ooxml | frame) set -- "$seeds/text/$t" ;;
    *) set -- "$corpus" "$seeds/fixtures" ;;
    esac
    [ -d "$top/fuzz/regress/$t" ] && set -- "$@" "$top/fuzz/regress/$t"
    zip_dirs "$OUT/fuzz_${t}_seed_corpus.zip" "$@"
done
