#!/bin/sh
# libimsafe set-up, build and test on Debian 12 (run as root on a fresh machine;
# it installs what is missing with apt-get).
#
#   ./build.sh samples   build, then judge the bundled samples in examples/samples
#                        (exits 1: the hostile samples are rejected, as they must be);
#                        needs no test corpus and installs only the build packages
#   ./build.sh check     build, then run every test suite; ends with "N passed, N failed";
#                        needs the corpus (IMSAFE_CORPUS, default ../shared/corpus)
set -eu

# What building needs.  libssl-dev: c-icap's net_io.h includes
# <openssl/bio.h>, and Debian's libicapapi-dev does not depend on it.
BUILD_PACKAGES="autoconf automake libtool pkg-config make gcc
  libpng-dev libjpeg62-turbo-dev libgif-dev zlib1g-dev libmd-dev liblcms2-dev
  libicapapi-dev libssl-dev
  libseccomp-dev
  libwebp-dev"
# What the tests need: every program or library configure.ac declares with
# IMSAFE_TEST_PROG / IMSAFE_TEST_LIB has its package here, plus clang for the
# ASan and libFuzzer builds.  One line per package.
TEST_PACKAGES="
  clang libclang-rt-14-dev llvm-14
  libspng-dev
  python3 python3-pil
  libjpeg-turbo-progs
  imagemagick-6.q16
  mandoc
  binutils
  valgrind
  zip unzip libarchive-tools 7zip
  php-cli
  webp
  libwebp-dev
  c-icap
  squid
  curl
  python3-docx
  python3-openpyxl
  python3-odf
  qpdf
"

top=$(cd "$(dirname "$0")" && pwd)
corpus=${IMSAFE_CORPUS:-$top/../shared/corpus}
jobs=$(nproc 2>/dev/null || echo 2)

install_missing() { # install_missing PACKAGE...
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "== installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # squid and c-icap are daemons whose packages start them: the tests
    # start their own on loopback ports, so keep the system ones off
    # (policy-rc.d 101: "action forbidden", see invoke-rc.d(8))
    rcd=/usr/sbin/policy-rc.d
    made_rcd=
    if [ ! -e "$rcd" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$rcd" && chmod 755 "$rcd" && made_rcd=1
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    [ -z "$made_rcd" ] || rm -f "$rcd"
}

# configure DIR [configure options...]: an out-of-tree build in $top/DIR
configure_in() {
    dir=$1
    shift
    mkdir -p "$top/$dir"
    (cd "$top/$dir" && "$top/configure" -q "$@")
}

bootstrap() { # bootstrap CONFIGURE-OPTION...: set up and build in $top/build
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || (cd "$top" && autoreconf -fi)
    configure_in build --enable-werror "$@"
    make -s -C "$top/build" -j"$jobs"
}

# Sum automake's per-suite counts into one closing line.
summary=""
# run_suite NAME DIR TARGET: a skipped test counts as failed (CI must run all).
run_suite() {
    name=$1
    dir=$2
    target=$3
    echo "== $name (make $target)"
    rm -f "$top/$dir/test-suite.log"
    if make -s -C "$top/$dir" -j"$jobs" "$target"; then status=ok; else status=FAILED; fi
    log="$top/$dir/test-suite.log"
    [ -f "$log" ] || { summary="$summary $name:0:1"; return 0; }
    pass=$(sed -n 's/^# PASS: *//p' "$log" | head -n1)
    fail=$(sed -n 's/^# FAIL: *//p' "$log" | head -n1)
    err=$(sed -n 's/^# ERROR: *//p' "$log" | head -n1)
    skip=$(sed -n 's/^# SKIP: *//p' "$log" | head -n1)
    [ "$status" = ok ] || grep -B2 -A40 '^FAIL:\|^ERROR:' "$log" | head -n 200 || true
    [ "${skip:-0}" -eq 0 ] || grep '^SKIP:' "$log" || true
    summary="$summary $name:${pass:-0}:$((${fail:-0} + ${err:-0} + ${skip:-0}))"
}

case "${1:-}" in
samples)
    install_missing $BUILD_PACKAGES
    bootstrap --without-corpus
    echo "== imsafe-check examples/samples/*"
    exec "$top/build/tools/imsafe-check" "$top"/examples/samples/*.*
    ;;
check)
    install_missing $BUILD_PACKAGES $TEST_PACKAGES
    [ -d "$corpus/pngsuite" ] || {
        echo "test corpus not found at $corpus (set IMSAFE_CORPUS; see README.md)" >&2
        exit 2
    }
    # --with-c-icap: the ICAP service module and its end-to-end test
    # (not in the ASan build below: c-icap itself is not instrumented)
    bootstrap --with-corpus="$corpus" --with-c-icap
    # The default suite runs with PATH reduced to the programs configure
    # declared and Makefile.am's TEST_UTILS: a test running anything else fails.
    run_suite default build check-reduced-path
    configure_in build-asan --with-corpus="$corpus" --enable-werror --enable-sanitizers CC=clang
    make -s -C "$top/build-asan" -j"$jobs"
    run_suite asan build-asan check
    echo "== valgrind (every harness replayed under memcheck, errors fatal; reduced PATH)"
    (PATH=$top/build/tests/reduced-path && export PATH &&
        make -s -C "$top/build" check-valgrind) | tee "$top/build-valgrind.log" || true
    line=$(tail -n 1 "$top/build-valgrind.log")
    case $line in
    *" passed, "*" failed") summary="$summary valgrind:$(echo "$line" | awk '{print $1}'):$(echo "$line" | awk '{print $3}')" ;;
    *) summary="$summary valgrind:0:1" ;;
    esac
    echo "== fuzz smoke (libFuzzer, every harness)"
    IMSAFE_CORPUS="$corpus" sh "$top/fuzz/smoke.sh" | tee "$top/build-fuzz.log" || true
    line=$(tail -n 1 "$top/build-fuzz.log")
    case $line in
    *" passed, "*" failed") summary="$summary fuzz:$(echo "$line" | awk '{print $1}'):$(echo "$line" | awk '{print $3}')" ;;
    *) summary="$summary fuzz:0:1" ;; # the fuzz build itself failed
    esac
    passed=0
    failed=0
    for s in $summary; do
        p=$(echo "$s" | awk -F: '{print $(NF-1)}')
        f=$(echo "$s" | awk -F: '{print $NF}')
        passed=$((passed + p))
        failed=$((failed + f))
    done
    echo "== suites: $summary"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    ;;
*)
    echo "usage: $0 samples|check" >&2
    exit 2
    ;;
esac
