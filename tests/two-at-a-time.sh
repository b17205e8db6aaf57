# shellcheck shell=sh
# two-at-a-time.sh - sourced by tests/fuzz-replay.sh and fuzz/smoke.sh.
#
# two_at_a_time FN ITEM...: run "FN ITEM" for every item, two at a time in
# the background (CI has two cores), in the order given; returns when all
# have ended.  FN reports through files of its own, not its exit status.
two_at_a_time() {
    tat_fn=$1
    shift
    while [ $# -gt 0 ]; do
        "$tat_fn" "$1" &
        if [ $# -gt 1 ]; then
            "$tat_fn" "$2" &
            shift
        fi
        shift
        wait
    done
}
