/*
 * fuzz_filename.c - the claimed-name checker (imsafe__filename_finding)
 * and the display-name builder (imsafe__filename_display), directly and
 * through imsafe_sanitize().  The input up to its first NUL is the name.
 *
 * Properties:
 *   - a name with no finding is strictly valid UTF-8 (RFC 3629) without
 *     controls, bidi formatting characters or path separators, and within
 *     the length limit (checked by an independent decoder here);
 *   - a name that passes a short limit passes a longer one;
 *   - the display name is printable valid UTF-8 without controls, bidi or
 *     invisible characters or separators, NUL-terminated inside its
 *     buffer, never written past it, never empty for a non-empty name
 *     (buffers of 2 bytes or more), has no finding of its own within its
 *     limit, and is unchanged when displayed again;
 *   - through the API the result's display name is the same; under the
 *     default policy a finding that deceives rejects with exactly that
 *     reason and a file-system finding (reserved, trailing, too_long) is
 *     repaired with note.filename; under filename_findings = note every
 *     finding is only a note.
 */
#include "fuzz_common.h"

/* Strict UTF-8 decoding, written apart from the library's.  Returns the
 * sequence length, 0 when invalid. */
static size_t u8(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t mins[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t c = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> len));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < mins[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

static int bad_char(uint32_t c, int display)
{
    int control = c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
    int bidi = (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
               c == 0x200e || c == 0x200f || c == 0x061c;
    /* ZWNJ and ZWJ (U+200C, U+200D) are not here: real Persian, Indic and
     * emoji names need them inside a word, and the display name keeps them
     * there; the finding check below (filename.invisible) judges where they
     * stand. */
    int invisible = c == 0x200b || (c >= 0x2060 && c <= 0x2064) || c == 0xfeff ||
                    c == 0x00ad;
    int sep = c == '/' || c == '\\' || (display && c == ':');
    return control || bidi || sep || (display && invisible);
}

/* 1 when s is valid UTF-8 holding none of the characters bad_char names. */
static int clean(const char *s, int display)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = u8(p + i, n - i, &c);
        if (l == 0 || bad_char(c, display))
            return 0;
        i += l;
    }
    return 1;
}

static int is_filename_reason(imsafe_reason r)
{
    const char *n = imsafe_reason_name(r);
    return n != NULL && strncmp(n, "filename.", 9) == 0;
}

static void check_finding(const char *name)
{
    imsafe_reason r16 = imsafe__filename_finding(name, 16);
    imsafe_reason r255 = imsafe__filename_finding(name, 255);
    if (r16 != IMSAFE_R_NONE && !is_filename_reason(r16))
        fuzz_fail("finding %d is not a filename.* reason", (int)r16);
    if (r16 == IMSAFE_R_NONE && r255 != IMSAFE_R_NONE)
        fuzz_fail("a name within 16 bytes fails the 255-byte limit (%s)",
                  imsafe_reason_name(r255));
    if (r255 == IMSAFE_R_NONE && (!clean(name, 0) || strlen(name) > 255))
        fuzz_fail("a name with invalid UTF-8, a control, bidi or a separator has no finding");
    fuzz_fold(name, strlen(name));
    if (imsafe__name_is_dangerous(name, strlen(name)) > 1)
        fuzz_sink++;
    if ((int)imsafe__type_from_extension(name) >= IMSAFE_TYPE_COUNT ||
        (int)imsafe__type_from_mime(name) >= IMSAFE_TYPE_COUNT)
        fuzz_fail("a type out of range from a name or MIME type");
    if (imsafe__mime_is_dangerous(name) > 1)
        fuzz_sink++;
}

static void check_display(const char *name, size_t size)
{
    char buf[256 + 16], again[256 + 16];
    memset(buf, 0xa5, sizeof buf);
    imsafe__filename_display(name, 255, IMSAFE_TYPE_UNKNOWN, buf, size);
    for (size_t i = size; i < size + 16; i++)
        if ((unsigned char)buf[i] != 0xa5)
            fuzz_fail("the display name was written past its %zu-byte buffer", size);
    if (strnlen(buf, size) == size)
        fuzz_fail("the display name is not terminated inside %zu bytes", size);
    if (!clean(buf, 1))
        fuzz_fail("the display name (buffer %zu) is not clean printable UTF-8", size);
    if (name[0] != '\0' && size >= 2 && buf[0] == '\0')
        fuzz_fail("a non-empty name has an empty display name");
    if (imsafe__filename_finding(buf, size - 1) != IMSAFE_R_NONE)
        fuzz_fail("the display name (buffer %zu) has finding %s", size,
                  imsafe_reason_name(imsafe__filename_finding(buf, size - 1)));
    fuzz_fold(buf, strlen(buf));
    imsafe__filename_display(buf, 255, IMSAFE_TYPE_UNKNOWN, again, size);
    if (strcmp(buf, again) != 0)
        fuzz_fail("displaying a display name (buffer %zu) changes it", size);
}

static void check_api(imsafe_ctx *ctx, const imsafe_policy *pol, int note, const char *name)
{
    static const char text[] = "hello\n";
    imsafe_result *res = fuzz_sanitize_once(ctx, pol, (const uint8_t *)text, 6, name, NULL);
    char disp[256];
    imsafe__filename_display(name, 255, IMSAFE_TYPE_UNKNOWN, disp, sizeof disp);
    if (strcmp(disp, imsafe_result_display_name(res)) != 0)
        fuzz_fail("the result's display name differs from imsafe__filename_display");
    imsafe_reason fs;
    imsafe_reason f = imsafe__filename_finding(name, 255);
    imsafe_reason d = imsafe__filename_judge(name, 255, &fs);
    imsafe_reason r = imsafe_result_reason(res);
    if (f == IMSAFE_R_NONE && (d != IMSAFE_R_NONE || fs != IMSAFE_R_NONE))
        fuzz_fail("a name without findings judged %s", imsafe_reason_name(d ? d : fs));
    if (!note && d != IMSAFE_R_NONE && r != d)
        fuzz_fail("deceiving finding %s but the call gave %s", imsafe_reason_name(d),
                  imsafe_reason_name(r));
    if ((note || d == IMSAFE_R_NONE) && is_filename_reason(r))
        fuzz_fail("rejected for %s without that finding under a rejecting policy",
                  imsafe_reason_name(r));
    if ((note ? f : fs) != IMSAFE_R_NONE && imsafe_result_verdict(res) != IMSAFE_REJECTED) {
        int seen = 0;
        for (size_t i = 0; i < imsafe_result_note_count(res); i++)
            seen |= imsafe_result_note(res, i) == IMSAFE_R_NOTE_FILENAME;
        if (!seen)
            fuzz_fail("an accepted finding left no note.filename");
    }
    imsafe_result_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol[2];
    static const size_t sizes[] = {1, 2, 3, 8, 17, 64, 256};
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        pol[0] = fuzz_policy_or_die(imsafe_policy_new());
        imsafe_policy *p = imsafe_policy_new();
        fuzz_set(p, IMSAFE_OPT_FILENAME_FINDINGS, IMSAFE_FINDINGS_NOTE);
        pol[1] = fuzz_policy_or_die(p);
    }
    if (size > 8192)
        return 0; /* names are short; longer ones only repeat work */
    size_t n = strnlen((const char *)data, size);
    char *name = malloc(n + 1);
    if (name == NULL)
        fuzz_fail("out of memory");
    memcpy(name, data, n);
    name[n] = '\0';
    check_finding(name);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_display(name, sizes[i]);
    check_api(ctx, pol[0], 0, name);
    check_api(ctx, pol[1], 1, name);
    free(name);
    return 0;
}
