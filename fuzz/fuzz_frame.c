/*
 * fuzz_frame.c - the host's parser of an isolated worker's answer
 * (imsafe__frame_parse) and the structural walks it runs on a returned
 * image (imsafe__walk_image).  In isolation mode these read bytes written
 * by a process an attacker may own, so they are the host's attack surface.
 *
 * The input is used two ways, picked by its first byte:
 *   - raw: the bytes after it are a frame as the worker sent it;
 *   - fields: they fill a struct imsafe__frame (status, verdict, type,
 *     reason, notes, lengths, detail), which imsafe__frame_write() turns
 *     into a frame, so the fuzzer reaches the value checks without first
 *     guessing the magic and the version.
 * The bytes are also walked as a PNG, a JPEG and a GIF.
 *
 * Properties: the parser accepts a frame only when every field is in range
 * (checked again here, independently: verdict and status agree, a
 * rejection has a named non-note reason, notes are note.* reasons, lengths
 * and peak within the budget, the detail printable ASCII and zero-padded);
 * an accepted frame written again is the same bytes (there is one encoding
 * of each answer); a refusal says why in printable text; a walk is
 * deterministic and accepts only bytes that start with the format's
 * signature and end with its end marker.
 */
#include "fuzz_common.h"

#define BUDGET (64u << 20)

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static int is_note(uint32_t r)
{
    const char *n = r < IMSAFE_REASON_COUNT ? imsafe_reason_name((imsafe_reason)r) : NULL;
    return n != NULL && strncmp(n, "note.", 5) == 0;
}

/* An accepted frame, checked without the parser's own helpers. */
static void check_accepted(const struct imsafe__frame *f)
{
    if (f->status != IMSAFE_OK && f->status != IMSAFE_ENOMEM && f->status != IMSAFE_EINTERNAL)
        fuzz_fail("accepted status %u", f->status);
    if (f->status != IMSAFE_OK && (f->verdict != 0 || f->out_len != 0 || f->reason != 0 ||
                                   f->note_count != 0 || f->out_type != 0))
        fuzz_fail("a failed status with a verdict, reason, notes or output");
    if (f->status == IMSAFE_OK && (f->verdict < 1 || f->verdict > 3))
        fuzz_fail("accepted verdict %u", f->verdict);
    if (f->type >= IMSAFE_TYPE_COUNT || f->out_type >= IMSAFE_TYPE_COUNT)
        fuzz_fail("accepted type %u / %u", f->type, f->out_type);
    if (f->verdict == IMSAFE_REJECTED &&
        (f->reason == 0 || f->reason >= IMSAFE_REASON_COUNT ||
         imsafe_reason_name((imsafe_reason)f->reason) == NULL || is_note(f->reason)))
        fuzz_fail("a rejection with reason %u", f->reason);
    if (f->verdict != IMSAFE_REJECTED && f->reason != 0)
        fuzz_fail("an accepted answer with reason %u", f->reason);
    if (f->note_count > IMSAFE_MAX_NOTES)
        fuzz_fail("%u notes", f->note_count);
    for (uint32_t i = 0; i < f->note_count; i++)
        if (!is_note(f->notes[i]))
            fuzz_fail("note %u is reason %u", i, f->notes[i]);
    if (f->peak > BUDGET || f->out_len > BUDGET)
        fuzz_fail("peak %llu or output %llu over the budget", (unsigned long long)f->peak,
                  (unsigned long long)f->out_len);
    if ((f->verdict == IMSAFE_SANITIZED) != (f->out_len > 0))
        fuzz_fail("output length %llu for verdict %u", (unsigned long long)f->out_len,
                  f->verdict);
    if (strnlen(f->detail, IMSAFE_DETAIL_MAX) == IMSAFE_DETAIL_MAX || !printable(f->detail))
        fuzz_fail("the detail is not printable text");
}

static void check_frame(const uint8_t *p, size_t n)
{
    struct imsafe__frame f, g;
    uint8_t again[IMSAFE__FRAME_SIZE];
    const char *why = NULL;
    if (imsafe__frame_parse(p, n, BUDGET, &f, &why) != 0) {
        if (why == NULL || !printable(why))
            fuzz_fail("a refused frame without a printable reason");
        return;
    }
    if (why != NULL)
        fuzz_fail("an accepted frame with a reason");
    check_accepted(&f);
    imsafe__frame_write(&f, again);
    if (n != IMSAFE__FRAME_SIZE || memcmp(again, p, n) != 0)
        fuzz_fail("an accepted frame is not written back to the same bytes");
    if (imsafe__frame_parse(again, sizeof again, BUDGET, &g, NULL) != 0 ||
        memcmp(&f, &g, sizeof f) != 0)
        fuzz_fail("a written frame does not parse back to the same answer");
    fuzz_fold(&f, sizeof f);
}

/* Fill a frame's fields from the input, write it, check it. */
static void check_fields(const uint8_t *p, size_t n)
{
    struct imsafe__frame f;
    uint8_t buf[IMSAFE__FRAME_SIZE];
    memset(&f, 0, sizeof f);
    memcpy(&f, p, n < sizeof f ? n : sizeof f);
    f.detail[IMSAFE_DETAIL_MAX - 1] = '\0';
    /* small values most of the time, so the checks past the ranges run */
    if (n > 0 && (p[0] & 2)) {
        f.status %= 8;
        f.verdict %= 4;
        f.type %= IMSAFE_TYPE_COUNT + 1;
        f.out_type %= IMSAFE_TYPE_COUNT + 1;
        f.reason %= IMSAFE_REASON_COUNT + 1;
        f.note_count %= IMSAFE_MAX_NOTES + 2;
        for (size_t i = 0; i < IMSAFE_MAX_NOTES; i++)
            f.notes[i] %= IMSAFE_REASON_COUNT + 1;
        f.peak %= 2ull * BUDGET;
        f.out_len %= 2ull * BUDGET;
    }
    imsafe__frame_write(&f, buf);
    check_frame(buf, sizeof buf);
}

static void check_walk(imsafe_type t, const uint8_t *p, size_t n)
{
    const char *a = imsafe__walk_image(t, p, n), *b = imsafe__walk_image(t, p, n);
    if ((a == NULL) != (b == NULL))
        fuzz_fail("the walk is not deterministic");
    if (a != NULL) {
        if (!printable(a))
            fuzz_fail("a walk's reason is not printable");
        return;
    }
    int ok = 0;
    if (t == IMSAFE_TYPE_PNG)
        ok = n >= 20 && memcmp(p, "\x89PNG", 4) == 0 && memcmp(p + n - 8, "IEND", 4) == 0;
    else if (t == IMSAFE_TYPE_JPEG)
        ok = n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[n - 2] == 0xff && p[n - 1] == 0xd9;
    else if (t == IMSAFE_TYPE_GIF)
        ok = n >= 14 && memcmp(p, "GIF8", 4) == 0 && p[n - 1] == 0x3b;
    if (!ok)
        fuzz_fail("the %s walk accepted bytes without its signature and end",
                  imsafe_type_name(t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    if (data[0] & 1)
        check_fields(data + 1, size - 1);
    else
        check_frame(data + 1, size - 1);
    check_walk(IMSAFE_TYPE_PNG, data, size);
    check_walk(IMSAFE_TYPE_JPEG, data, size);
    check_walk(IMSAFE_TYPE_GIF, data, size);
    return 0;
}
