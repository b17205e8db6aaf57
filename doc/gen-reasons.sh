#!/bin/sh
# gen-reasons.sh - write libimsafe-reasons(3) from the reason table.
#
# libimsafe/reason.c holds the one table of reasons (value, dotted name,
# one-line meaning).  This script turns it into the mdoc page, so the page
# cannot drift from the code:
#
#     sh doc/gen-reasons.sh > doc/libimsafe-reasons.3
#
# With --check it compares the committed page with a fresh one and exits 1
# when they differ (tests/test_symbols.sh runs it that way).
#
# A reason added after the first release gets a line "name version" in the
# ADDED list below; every other reason is marked as added in FIRST.
# Bump DATE when the generated text changes.
#
# POSIX sh, sed and awk only.

set -eu

DATE='December 7, 2026'
FIRST='0.1.0'
ADDED='note.repaired 0.2.0
malformed.gif.no_image 0.2.0
polyglot.output 0.2.0
note.reencoded 0.2.0
archive.ambiguous 0.2.0
archive.link 0.2.0
unsupported.archive.format 0.2.0
filename.invisible 0.2.0
unsupported.jpeg.sampling 0.2.0
unsupported.jpeg.arithmetic 0.2.0
limit.ratio 0.2.0
limit.work 0.2.0
limit.time 0.2.0
malformed.apng.frame_data 0.2.0
malformed.webp.huffman 0.2.0
malformed.webp.vp8l 0.2.0
type.macro 0.2.0
malformed.office 0.2.0
type.encrypted 0.2.0
malformed.pdf 0.2.0
isolation.crash 0.2.0
isolation.syscall 0.2.0
isolation.protocol 0.2.0
isolation.output 0.2.0
malformed.webp.riff 0.2.0
malformed.webp.huffman 0.2.0
malformed.webp.vp8l 0.2.0
malformed.webp.frame 0.2.0
malformed.webp.vp8 0.2.0
malformed.webp.alpha 0.2.0
malformed.webp.chunk 0.2.0'    # lines "name version"

here=$(dirname "$0")
src="$here/../libimsafe/reason.c"
page="$here/libimsafe-reasons.3"
check=no
while [ $# -gt 0 ]; do
    case $1 in
    --check) check=yes ;;
    --source) src=$2; shift ;;
    --page) page=$2; shift ;;
    *) echo "usage: $0 [--check] [--source reason.c] [--page libimsafe-reasons.3]" >&2
       exit 2 ;;
    esac
    shift
done
[ -r "$src" ] || { echo "$0: cannot read $src" >&2; exit 2; }

# One "CONSTANT<TAB>name<TAB>meaning" line per entry of the table.  Entries
# may span lines, and a meaning may be split into adjacent string literals,
# so the table is joined into one line first.
entries() {
    sed -n '/^static const struct reason_def reasons\[/,/^};/p' "$src" |
    awk '
        { gsub(/^[ \t]+|[ \t]+$/, ""); all = all " " $0 }
        END {
            # "abc" "def" is one C string
            while (match(all, /"[ \t]+"/))
                all = substr(all, 1, RSTART - 1) substr(all, RSTART + RLENGTH)
            n = 0
            while (match(all, /R\([A-Z0-9_]+, *"[^"]*", *"[^"]*"\)/)) {
                e = substr(all, RSTART + 2, RLENGTH - 3)
                all = substr(all, RSTART + RLENGTH)
                c = index(e, ",")
                const = substr(e, 1, c - 1)
                rest = substr(e, c + 1)
                sub(/^ *"/, "", rest)
                q = index(rest, "\"")
                name = substr(rest, 1, q - 1)
                rest = substr(rest, q + 1)
                sub(/^, *"/, "", rest)
                sub(/"$/, "", rest)
                printf "IMSAFE_R_%s\t%s\t%s\n", const, name, rest
                n++
            }
            if (n == 0)
                exit 1
        }'
}

generate() {
    tab=$(printf '\t')
    list=$(entries) || { echo "$0: no reasons found in $src" >&2; exit 2; }
    printf '%s\n' "$list" | awk -F "$tab" -v date="$DATE" -v first="$FIRST" \
        -v added="$ADDED" '
    function esc(s) {
        gsub(/\\/, "\\e", s)
        return "\\&" s
    }
    BEGIN {
        nadd = split(added, a, /[ \t\n]+/)
        for (i = 1; i + 1 <= nadd; i += 2)
            since[a[i]] = a[i + 1]
        nclass = split("limit malformed unsupported type filename archive polyglot policy note", order, " ")
        title["limit"] = "Limits"
        text["limit"] = "The payload exceeds a limit of the policy.\n" \
            "Each limit is an option described in\n.Xr libimsafe 3 ;\n" \
            "the detail gives the value found and the limit."
        title["malformed"] = "Malformed data"
        text["malformed"] = "The payload breaks the rules of its format.\n" \
            "Nothing is repaired: a malformed payload is rejected whole."
        title["unsupported"] = "Unsupported variants"
        text["unsupported"] = "The payload may be valid, but it uses a variant of its format\n" \
            "that libimsafe does not rebuild or inspect."
        title["type"] = "Types"
        text["type"] = "The content is of a type that is refused,\n" \
            "or is not what the sender claimed it to be."
        title["filename"] = "Claimed file names"
        text["filename"] = "The name the sender claimed is unsafe to show or to save.\n" \
            "When the option\n.Dv IMSAFE_OPT_FILENAME_FINDINGS\nis\n" \
            ".Dv IMSAFE_FINDINGS_NOTE ,\nsuch a finding becomes the note\n" \
            ".Sy note.filename\ninstead of a rejection."
        title["archive"] = "Archives"
        text["archive"] = "An entry of a ZIP archive or ZIP-based document\n" \
            "would be dangerous to extract."
        title["polyglot"] = "Polyglots"
        text["polyglot"] = "Bytes after the end of an image hold another type\n" \
            "that some other program would open."
        title["policy"] = "Policy"
        text["policy"] = "The policy, not the content, refused the payload."
        title["note"] = "Notes"
        text["note"] = "Notes never reject.\n" \
            "An accepted result carries zero or more of them, each at most once,\n" \
            "saying what was dropped or changed."
    }
    {
        const[NR] = $1; name[NR] = $2; meaning[NR] = $3; n = NR
        c = name[NR]; sub(/\..*/, "", c)
        cls[NR] = c
    }
    END {
        print ".\\\" Generated by doc/gen-reasons.sh from libimsafe/reason.c; do not edit."
        print ".Dd " date
        print ".Dt LIBIMSAFE-REASONS 3"
        print ".Os"
        print ".Sh NAME"
        print ".Nm libimsafe-reasons"
        print ".Nd reasons and notes reported by libimsafe"
        print ".Sh LIBRARY"
        print "libimsafe"
        print ".Pq Fl limsafe"
        print ".Sh SYNOPSIS"
        print ".In imsafe.h"
        print ".Ft const char *"
        print ".Fn imsafe_reason_name \"imsafe_reason reason\""
        print ".Ft const char *"
        print ".Fn imsafe_reason_meaning \"imsafe_reason reason\""
        print ".Ft int"
        print ".Fn imsafe_reason_from_name \"const char *name\""
        print ".Sh DESCRIPTION"
        print "A rejected payload carries exactly one reason, available from"
        print ".Fn imsafe_result_reason ."
        print "An accepted payload carries zero or more notes from the"
        print ".Sy note"
        print "class, available from"
        print ".Fn imsafe_result_note ."
        print "Each value of"
        print ".Vt imsafe_reason"
        print "has a stable dotted name of the form"
        print ".Ar class . Ns Ar what"
        print "or"
        print ".Ar class . Ns Ar format . Ns Ar what ,"
        print "which is what logs and the JSON output of"
        print ".Xr imsafe-check 1"
        print "carry, and a one-line meaning in English."
        print "The enumeration constant is"
        print ".Dv IMSAFE_R_"
        print "followed by the name in upper case with dots replaced by underscores."
        print "Names never change and values are never renumbered;"
        print "new ones are added at the end."
        print "Match reasons by name or constant, never by number."
        print ".Pp"
        print "The detail text of a result"
        print ".Pq Fn imsafe_result_detail"
        print "adds numbers to the reason, such as the size found and the limit;"
        print "it is printable ASCII and never repeats bytes of the input."
        print ".Pp"
        print "The value"
        print ".Dv IMSAFE_R_NONE"
        print "is what"
        print ".Fn imsafe_result_reason"
        print "returns for an accepted payload:"
        print ".Bl -tag -width Ds"
        for (i = 1; i <= n; i++)
            if (cls[i] !~ /^(limit|malformed|unsupported|type|filename|archive|polyglot|policy|note)$/)
                item(i)
        print ".El"
        for (k = 1; k <= nclass; k++) {
            c = order[k]
            print ".Ss " title[c]
            print text[c]
            print ".Bl -tag -width Ds"
            for (i = 1; i <= n; i++)
                if (cls[i] == c)
                    item(i)
            print ".El"
        }
        print ".Sh RETURN VALUES"
        print ".Fn imsafe_reason_name"
        print "and"
        print ".Fn imsafe_reason_meaning"
        print "return a static string, or"
        print ".Dv NULL"
        print "for a value out of range."
        print ".Fn imsafe_reason_from_name"
        print "returns the value whose name is"
        print ".Fa name ,"
        print "or \\-1 when there is none or"
        print ".Fa name"
        print "is"
        print ".Dv NULL ."
        print "All three are safe to call from any thread."
        print ".Sh SEE ALSO"
        print ".Xr imsafe-check 1 ,"
        print ".Xr libimsafe 3 ,"
        print ".Xr imsafe-policy 5"
        print ".Sh HISTORY"
        print "The functions and every reason above without an"
        print ".Dq Added in"
        print "note first appeared in libimsafe " first "."
    }
    function item(i) {
        print ".It Sy " name[i]
        print esc(meaning[i])
        print ".Pq Dv " const[i]
        if (name[i] in since)
            print "Added in " since[name[i]] "."
    }'
}

if [ "$check" = yes ]; then
    tmp=${TMPDIR:-/tmp}/gen-reasons.$$
    trap 'rm -f "$tmp"' EXIT
    generate > "$tmp"
    if cmp -s "$tmp" "$page"; then
        exit 0
    fi
    echo "$0: $page differs from $src; run: sh doc/gen-reasons.sh > doc/libimsafe-reasons.3" >&2
    diff "$page" "$tmp" >&2 || :
    exit 1
fi
generate
