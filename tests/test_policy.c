/*
 * test_policy.c - the policy text format (policy_parse.c) and the policy
 * object's setters: every statement form; every kind of error, with its
 * line number and an unchanged policy afterwards; print -> parse round
 * trips; EINVAL/EBUSY from the setters; the kill switch and per-type
 * actions as imsafe_sanitize() applies them to real payloads
 * ($IMSAFE_FIXTURES/policy/, made by tests/gen/gen_policy.py); and every
 * option key documented in doc/imsafe-policy.5.
 *
 * The policy struct is compared field by field through imsafe_private.h
 * (a plain struct); no internal function is called.
 */
#include <stdint.h>

#include "imsafe_private.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

static int same_kill(const struct imsafe__kill *a, const struct imsafe__kill *b)
{
    if (a->active != b->active)
        return 0;
    return !a->active || (a->expires == b->expires && strcmp(a->message, b->message) == 0);
}

/* Same options, actions, kills and label. */
static int same_policy(const imsafe_policy *a, const imsafe_policy *b)
{
    if (memcmp(a->opt, b->opt, sizeof a->opt) != 0 ||
        memcmp(a->action, b->action, sizeof a->action) != 0 || strcmp(a->label, b->label) != 0)
        return 0;
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++)
        if (!same_kill(&a->kill_type[t], &b->kill_type[t]))
            return 0;
    for (int f = 0; f < IMSAFE_FEATURE_COUNT; f++)
        if (!same_kill(&a->kill_feature[f], &b->kill_feature[f]))
            return 0;
    return 1;
}

static imsafe_status parse(imsafe_policy *p, const char *text, char *err, size_t n)
{
    return imsafe_policy_parse(p, text, strlen(text), "t.pol", err, n);
}

static int64_t get(const imsafe_policy *p, imsafe_opt o)
{
    int64_t v = -1;
    if (imsafe_policy_get(p, o, &v) != IMSAFE_OK)
        return -999;
    return v;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* -------------------------------------------------------------- forms */

static const char forms_text[] =
    "# every statement form\n"
    "\n"
    "   label = \"ops \\\"night\\\" \\\\ #1\"   # quote, backslash and '#' in a string\n"
    "max_pixels = 50_000_000\n"
    "max_input_bytes = 64 MiB\n"
    "max_memory_bytes=1GiB\n"
    "\tmax_icc_bytes = 1000\t\n"
    "max_archive_bytes = 1 TiB\r\n"
    "max_chunk_bytes = 16KiB # trailing comment\n"
    "jpeg_quality = 75\n"
    "tolerate_warnings = yes\n"
    "keep_icc = off\n"
    "keep_colorspace = false\n"
    "keep_orientation = 0\n"
    "gif_flatten = on\n"
    "gif_to_png = true\n"
    "allow_encrypted = 1\n"
    "jpeg_mode = pixels\n"
    "png_filters = fast\n"
    "filename_findings = note\n"
    "jpeg_progressive = baseline\n"
    "jpeg_arithmetic = allow\n"
    "max_work = 1_000_000\n"
    "apng = flatten\n"
    "office_macros = pass\n"
    "office_active = pass\n"
    "pdf_active = pass\n"
    "pdf_encrypted = pass\n"
    "isolation = process\n"
    "isolation_reuse = 64\n"
    "action pdf = reject\n"
    "action webp = pass\n"
    "action png = reject\n"
    "action unknown = pass\n"
    "kill gif message \"CVE-2099-0001\" until 2099-01-02T03:04:05Z\n"
    "kill feature apng\n"
    "kill feature jpeg_progressive until 2000-02-29T23:59:59Z message \"x\"\n"
    "kill jpeg until 1970-01-01T00:00:01Z\n"
    "kill feature archives message \"\"\n"
    "# no newline at the end\n"
    "max_frames = 7";

static void test_forms(void)
{
    imsafe_policy *p = imsafe_policy_new();
    char err[256];
    imsafe_status st = parse(p, forms_text, err, sizeof err);
    TU_CHECK(st == IMSAFE_OK, "forms: %s (%s)", imsafe_strerror(st), err);
    TU_CHECK(strcmp(imsafe_policy_label(p), "ops \"night\" \\ #1") == 0, "label: [%s]",
             imsafe_policy_label(p));
    TU_CHECK(get(p, IMSAFE_OPT_MAX_PIXELS) == 50000000, "max_pixels");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_INPUT_BYTES) == 64LL << 20, "max_input_bytes");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_MEMORY_BYTES) == 1LL << 30, "max_memory_bytes");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_ICC_BYTES) == 1000, "max_icc_bytes");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_ARCHIVE_BYTES) == 1LL << 40, "max_archive_bytes");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_CHUNK_BYTES) == 16LL << 10, "max_chunk_bytes");
    TU_CHECK(get(p, IMSAFE_OPT_JPEG_QUALITY) == 75, "jpeg_quality");
    TU_CHECK(get(p, IMSAFE_OPT_TOLERATE_WARNINGS) == 1, "tolerate_warnings");
    TU_CHECK(get(p, IMSAFE_OPT_KEEP_ICC) == 0, "keep_icc");
    TU_CHECK(get(p, IMSAFE_OPT_KEEP_COLORSPACE) == 0, "keep_colorspace");
    TU_CHECK(get(p, IMSAFE_OPT_KEEP_ORIENTATION) == 0, "keep_orientation");
    TU_CHECK(get(p, IMSAFE_OPT_GIF_FLATTEN) == 1, "gif_flatten");
    TU_CHECK(get(p, IMSAFE_OPT_GIF_TO_PNG) == 1, "gif_to_png");
    TU_CHECK(get(p, IMSAFE_OPT_ALLOW_ENCRYPTED) == 1, "allow_encrypted");
    TU_CHECK(get(p, IMSAFE_OPT_JPEG_MODE) == IMSAFE_JPEG_PIXELS, "jpeg_mode");
    TU_CHECK(get(p, IMSAFE_OPT_PNG_FILTERS) == IMSAFE_PNG_FILTERS_FAST, "png_filters");
    TU_CHECK(get(p, IMSAFE_OPT_FILENAME_FINDINGS) == IMSAFE_FINDINGS_NOTE, "filename_findings");
    TU_CHECK(get(p, IMSAFE_OPT_JPEG_PROGRESSIVE) == IMSAFE_JPEG_PROGRESSIVE_BASELINE,
             "jpeg_progressive");
    TU_CHECK(get(p, IMSAFE_OPT_JPEG_ARITHMETIC) == IMSAFE_JPEG_ARITHMETIC_ALLOW,
             "jpeg_arithmetic");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_WORK) == 1000000, "max_work");
    TU_CHECK(get(p, IMSAFE_OPT_APNG) == IMSAFE_APNG_FLATTEN, "apng");
    TU_CHECK(get(p, IMSAFE_OPT_OFFICE_MACROS) == IMSAFE_OFFICE_PASS, "office_macros");
    TU_CHECK(get(p, IMSAFE_OPT_OFFICE_ACTIVE) == IMSAFE_OFFICE_PASS, "office_active");
    TU_CHECK(get(p, IMSAFE_OPT_PDF_ACTIVE) == IMSAFE_PDF_ACTIVE_PASS, "pdf_active");
    TU_CHECK(get(p, IMSAFE_OPT_PDF_ENCRYPTED) == IMSAFE_PDF_ENCRYPTED_PASS, "pdf_encrypted");
    TU_CHECK(get(p, IMSAFE_OPT_ISOLATION) == IMSAFE_ISOLATION_PROCESS, "isolation");
    TU_CHECK(get(p, IMSAFE_OPT_ISOLATION_REUSE) == 64, "isolation_reuse");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_FRAMES) == 7, "max_frames on the last line");
    TU_CHECK(get(p, IMSAFE_OPT_MAX_WIDTH_PX) == 32768, "an unnamed option keeps its value");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_PDF) == IMSAFE_ACTION_REJECT, "action pdf");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_WEBP) == IMSAFE_ACTION_PASS, "action webp");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_PNG) == IMSAFE_ACTION_REJECT, "action png");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_UNKNOWN) == IMSAFE_ACTION_PASS, "action unknown");
    TU_CHECK(imsafe_policy_action(p, IMSAFE_TYPE_GIF) == IMSAFE_ACTION_SANITIZE, "action gif");
    const struct imsafe__kill *k = &p->kill_type[IMSAFE_TYPE_GIF];
    TU_CHECK(k->active && k->expires == 4071006245LL && strcmp(k->message, "CVE-2099-0001") == 0,
             "kill gif: active %d expires %lld [%s]", k->active, (long long)k->expires,
             k->message);
    k = &p->kill_type[IMSAFE_TYPE_JPEG];
    TU_CHECK(k->active && k->expires == 1 && k->message[0] == '\0', "kill jpeg until epoch+1");
    k = &p->kill_feature[IMSAFE_FEATURE_APNG];
    TU_CHECK(k->active && k->expires == 0 && k->message[0] == '\0', "kill feature apng");
    k = &p->kill_feature[IMSAFE_FEATURE_JPEG_PROGRESSIVE];
    TU_CHECK(k->active && k->expires == 951868799LL && strcmp(k->message, "x") == 0,
             "kill feature jpeg_progressive (clauses reversed, leap day): %lld",
             (long long)k->expires);
    TU_CHECK(p->kill_feature[IMSAFE_FEATURE_ARCHIVES].active, "kill feature archives");
    TU_CHECK(!p->kill_type[IMSAFE_TYPE_PNG].active && !p->kill_feature[IMSAFE_FEATURE_ICC_PROFILE].active,
             "nothing else killed");

    /* A second text applies on top: values it names change, others stay. */
    st = parse(p, "max_pixels = 1\nlabel = \"\"\n", err, sizeof err);
    TU_CHECK(st == IMSAFE_OK && get(p, IMSAFE_OPT_MAX_PIXELS) == 1 &&
                 get(p, IMSAFE_OPT_JPEG_QUALITY) == 75 && imsafe_policy_label(p)[0] == '\0',
             "second text on top: %s", err);
    /* empty text, and only comments: fine, nothing changes */
    TU_CHECK(imsafe_policy_parse(p, "", 0, "e", err, sizeof err) == IMSAFE_OK, "empty text");
    TU_CHECK(parse(p, "\n\n   # c\n\t\n", err, sizeof err) == IMSAFE_OK, "comments only");
    imsafe_policy_unref(p);
}

/* A line of exactly 1024 bytes is allowed; the limit is inclusive. */
static void test_long_lines(void)
{
    char text[1200], err[256];
    imsafe_policy *p = imsafe_policy_new();
    memset(text, ' ', 1024);
    memcpy(text, "jpeg_quality = 12 #", 19);
    text[1024] = '\0';
    TU_CHECK(parse(p, text, err, sizeof err) == IMSAFE_OK && get(p, IMSAFE_OPT_JPEG_QUALITY) == 12,
             "1024-byte line: %s", err);
    memset(text, '#', 1024); /* CRLF: the CR is not counted */
    memcpy(text + 1024, "\r\n", 3);
    TU_CHECK(parse(p, text, err, sizeof err) == IMSAFE_OK, "1024 bytes + CRLF: %s", err);
    imsafe_policy_unref(p);
}

/* ------------------------------------------------------------- errors */

struct bad {
    const char *text;
    size_t len; /* 0: strlen */
    unsigned long line;
    const char *what; /* substring of the message */
};

static const struct bad bad_texts[] = {
    {"max_pixel = 5", 0, 1, "unknown key 'max_pixel'"},
    {"max_frames = 7\n\nmax_frames = 6", 0, 3, "max_frames: set twice (first on line 1)"},
    {"label = \"a\"\nlabel = \"b\"", 0, 2, "label: set twice"},
    {"action pdf = pass\naction pdf = reject", 0, 2, "action pdf: set twice"},
    {"kill png\nkill png message \"b\"", 0, 2, "kill png: given twice"},
    {"kill feature apng\nkill feature apng", 0, 2, "kill feature apng: given twice"},
    {"jpeg_quality = 7\nmax_frames = many", 0, 2, "max_frames: expected a decimal number"},
    {"max_frames = -1", 0, 1, "max_frames: expected a decimal number"},
    {"max_frames = 1__0", 0, 1, "max_frames: expected a decimal number"},
    {"max_frames = 10_", 0, 1, "max_frames: expected a decimal number"},
    {"max_input_bytes = 1_0_", 0, 1, "max_input_bytes: expected a decimal number"},
    {"max_frames = _10", 0, 1, "max_frames: expected a decimal number"},
    {"keep_icc = maybe", 0, 1, "keep_icc: expected yes or no"},
    {"keep_icc = 2", 0, 1, "keep_icc: expected yes or no"},
    {"jpeg_mode = fast", 0, 1, "jpeg_mode: expected one of lossless, pixels"},
    {"png_filters = 1", 0, 1, "png_filters: expected one of none, adaptive, fast"},
    {"filename_findings = ignore", 0, 1, "filename_findings: expected one of reject, note"},
    {"jpeg_progressive = yes", 0, 1, "jpeg_progressive: expected one of keep, baseline"},
    {"jpeg_arithmetic = yes", 0, 1, "jpeg_arithmetic: expected one of reject, allow"},
    {"apng = drop", 0, 1, "apng: expected one of keep, flatten"},
    {"office_macros = allow", 0, 1, "office_macros: expected one of reject, pass"},
    {"office_active = yes", 0, 1, "office_active: expected one of reject, pass"},
    {"pdf_active = allow", 0, 1, "pdf_active: expected one of reject, pass"},
    {"pdf_encrypted = 1", 0, 1, "pdf_encrypted: expected one of reject, pass"},
    {"isolation = thread", 0, 1, "isolation: expected one of none, process"},
    {"isolation_reuse = 0", 0, 1, "isolation_reuse: 0 is out of range 1..100000"},
    {"jpeg_quality = 101", 0, 1, "jpeg_quality: 101 is out of range 1..100"},
    {"jpeg_quality = 0", 0, 1, "jpeg_quality: 0 is out of range 1..100"},
    {"max_memory_bytes = 1 KiB", 0, 1, "max_memory_bytes: 1024 is out of range"},
    {"max_archive_depth = 33", 0, 1, "max_archive_depth: 33 is out of range 0..32"},
    {"max_pixels = 99999999999999999999", 0, 1, "max_pixels: value too large"},
    {"max_input_bytes = 9999999999 TiB", 0, 1, "max_input_bytes: value too large"},
    {"max_pixels = 5 MiB", 0, 1, "max_pixels: expected a plain decimal number"},
    {"max_input_bytes = 5 MB", 0, 1, "max_input_bytes: unknown unit"},
    {"max_input_bytes = 5kib", 0, 1, "max_input_bytes: unknown unit"},
    {"max_frames = 5 6", 0, 1, "max_frames: unexpected text after the value"},
    {"max_input_bytes = 5 MiB MiB", 0, 1, "max_input_bytes: unexpected text"},
    {"keep_icc = yes please", 0, 1, "keep_icc: unexpected text"},
    {"label = \"a\" b", 0, 1, "label: unexpected text"},
    {"action png = sanitize now", 0, 1, "action png: unexpected text"},
    {"kill png message \"a\" extra", 0, 1, "kill png: expected 'message"},
    {"max_frames 5", 0, 1, "max_frames: expected '='"},
    {"max_frames =", 0, 1, "max_frames: missing value"},
    {"max_frames = = 5", 0, 1, "max_frames: missing value"},
    {"label \"x\"", 0, 1, "label: expected '='"},
    {"label = x", 0, 1, "label: expected a quoted string"},
    {"= 5", 0, 1, "expected a key"},
    {"\"max_frames\" = 5", 0, 1, "expected a key"},
    {"max_frames = 5;", 0, 1, "unexpected character ';' at column 15"},
    {"jpeg_quality = 80\nlabel = \"abc", 0, 2, "unterminated string"},
    {"label = \"abc\\\"", 0, 1, "unterminated string"},
    {"label = \"a\\n\"", 0, 1, "unknown escape"},
    {"label = \"a\tb\"", 0, 1, "tab inside a string"},
    {"jpeg_quality = 80\n# caf\xc3\xa9\n", 0, 2, "non-ASCII byte 0xC3 at column 6"},
    {"label = \"\xe2\x80\xae" "gnp.exe\"", 0, 1, "non-ASCII byte 0xE2"},
    {"max_frames = 5\x01", 0, 1, "control character 0x01 at column 15"},
    {"max_frames = 5\x1b[2J", 0, 1, "control character 0x1B"},
    {"max_frames = 5\x7f", 0, 1, "control character 0x7F"},
    {"max_frames = 5\rjpeg_quality = 3", 0, 1, "control character 0x0D"},
    {"jpeg_quality = 80\nmax_frames = 5\0\n", 34, 2, "NUL byte at column 15"},
    {"\0", 1, 1, "NUL byte at column 1"},
    {"action foo = reject", 0, 1, "action: unknown type 'foo'"},
    {"action = reject", 0, 1, "action: expected a type name"},
    {"action PNG = reject", 0, 1, "action: unknown type 'PNG'"},
    {"action pdf = sanitize", 0, 1, "action pdf: only png, jpeg and gif can be sanitized"},
    {"action png = pass", 0, 1, "action png: an image that can be sanitized is never passed"},
    {"action pdf = maybe", 0, 1, "action pdf: expected sanitize, pass or reject"},
    {"action pdf reject", 0, 1, "action pdf: expected '='"},
    {"kill", 0, 1, "kill: expected a type name"},
    {"kill foo", 0, 1, "kill: unknown type 'foo'"},
    {"kill unknown", 0, 1, "kill: unrecognised payloads are governed by 'action unknown'"},
    {"kill feature", 0, 1, "kill feature: expected one of all_images"},
    {"kill feature nope", 0, 1, "kill feature: expected one of"},
    {"kill feature png", 0, 1, "kill feature: expected one of"},
    {"kill png until 2024-13-01T00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2023-02-29T00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2100-02-29T00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-04-31T00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-01-01T24:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-01-01T00:00:60Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-01-01 00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-01-01T00:00:00", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 2024-01-01T00:00:00+01:00", 0, 1, "unexpected character '+'"},
    {"kill png until 24-01-01T00:00:00Z", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until tomorrow", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until \"2030-01-01T00:00:00Z\"", 0, 1, "kill png: until needs a UTC time"},
    {"kill png until 1970-01-01T00:00:00Z", 0, 1, "kill png: until must lie after 1970"},
    {"kill png until 1969-12-31T23:59:59Z", 0, 1, "kill png: until must lie after 1970"},
    {"kill png until 999999999999-01-01T00:00:00Z", 0, 1, "kill png: until is too far"},
    {"kill png until 2030-01-01T00:00:00Z until 2031-01-01T00:00:00Z", 0, 1,
     "kill png: expected 'message"},
    {"kill png message \"a\" message \"b\"", 0, 1, "kill png: expected 'message"},
    {"kill png message", 0, 1, "kill png: message needs a quoted string"},
    {"kill png message x", 0, 1, "kill png: message needs a quoted string"},
    {"kill png message \"123456789012345678901234567890123456789012345678901234567890"
     "1234567890123456789012345678901234567890123456789012345678901234567890"
     "12345678901234567890123456789012345678901234567890123456789012345678901\"",
     0, 1, "kill png: message longer than 200 bytes"},
    {"label = \"1234567890123456789012345678901234567890123456789012345678901234\"", 0, 1,
     "label: longer than 63 bytes"},
    {"max_frames = 1\nmax_frames=2 max_frames=3", 0, 2, "max_frames: set twice"},
};

/* A policy that differs from the defaults, to see that errors change
 * nothing (not even the statements before the bad line). */
static imsafe_policy *modified_policy(void)
{
    imsafe_policy *p = imsafe_policy_new();
    char err[256];
    if (parse(p, "label = \"before\"\njpeg_quality = 33\nkill gif message \"old\"\n"
                 "action pdf = reject\nmax_frames = 9\n", err, sizeof err) != IMSAFE_OK)
        tu_die(err);
    return p;
}

static void test_errors(void)
{
    imsafe_policy *p = modified_policy();
    struct imsafe_policy before = *p;
    char *printed = imsafe_policy_print(p);
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        const struct bad *b = &bad_texts[i];
        char err[256], prefix[64];
        memset(err, 'Z', sizeof err);
        imsafe_status st = imsafe_policy_parse(p, b->text, b->len ? b->len : strlen(b->text),
                                               "site.pol", err, sizeof err);
        snprintf(prefix, sizeof prefix, "site.pol:%lu: ", b->line);
        TU_CHECK(st == IMSAFE_ESYNTAX, "bad text %zu: status %s", i, imsafe_strerror(st));
        TU_CHECK(strncmp(err, prefix, strlen(prefix)) == 0, "bad text %zu: [%s], expected %s",
                 i, err, prefix);
        TU_CHECK(strstr(err, b->what) != NULL, "bad text %zu: [%s] lacks [%s]", i, err, b->what);
        TU_CHECK(printable(err), "bad text %zu: message not printable ASCII", i);
        TU_CHECK(same_policy(p, &before) && p->refs == before.refs && p->frozen == 0,
                 "bad text %zu: the policy changed", i);
    }
    char *again = imsafe_policy_print(p);
    TU_CHECK(printed && again && strcmp(printed, again) == 0, "printed policy changed by errors");
    free(printed);
    free(again);

    /* a line over 1024 bytes, on line 3 */
    char big[1200], err[64];
    memset(big, 'x', sizeof big);
    memcpy(big, "max_frames = 3\n\n#", 17);
    big[17 + 1024] = '\0'; /* the third line: '#' + 1024 bytes */
    TU_CHECK(parse(p, big, err, sizeof err) == IMSAFE_ESYNTAX &&
                 strstr(err, "t.pol:3: line longer than 1024 bytes"),
             "long line: %s", err);
    TU_CHECK(same_policy(p, &before), "long line changed the policy");
    /* the message is cut to err_size and stays NUL-terminated; err may be NULL */
    char tiny[8];
    TU_CHECK(parse(p, "nope = 1", tiny, sizeof tiny) == IMSAFE_ESYNTAX && strlen(tiny) == 7,
             "small err buffer: [%s]", tiny);
    TU_CHECK(parse(p, "nope = 1", NULL, 0) == IMSAFE_ESYNTAX, "NULL err");
    /* the origin is the caller's and gets the same treatment as input */
    TU_CHECK(imsafe_policy_parse(p, "nope", 4, "bad\x1b]0;x\x07name", err, sizeof err) ==
                     IMSAFE_ESYNTAX &&
                 printable(err) && strncmp(err, "bad?]0;x?name:1: ", 17) == 0,
             "origin made printable: [%s]", err);
    TU_CHECK(imsafe_policy_parse(p, "nope", 4, NULL, err, sizeof err) == IMSAFE_ESYNTAX &&
                 strncmp(err, "policy:1: ", 10) == 0,
             "NULL origin: [%s]", err);
    TU_CHECK(same_policy(p, &before), "policy changed");
    imsafe_policy_unref(p);
}

/* ---------------------------------------------------------- round trips */

static void check_round_trip(const imsafe_policy *p, const char *what)
{
    char *text = imsafe_policy_print(p);
    TU_CHECK(text != NULL, "%s: print failed", what);
    if (text == NULL)
        return;
    imsafe_policy *q = imsafe_policy_new();
    char err[256];
    imsafe_status st = parse(q, text, err, sizeof err);
    TU_CHECK(st == IMSAFE_OK, "%s: printed text does not parse: %s", what, err);
    TU_CHECK(same_policy(p, q), "%s: parse(print(p)) differs from p", what);
    char *text2 = imsafe_policy_print(q);
    TU_CHECK(text2 && strcmp(text, text2) == 0, "%s: print is not stable", what);
    free(text2);
    free(text);
    imsafe_policy_unref(q);
}

/* How many options the library has (every value _get accepts). */
static int option_count(const imsafe_policy *p)
{
    int n = 0;
    int64_t v;
    for (int o = 0; o < 256; o++)
        n += imsafe_policy_get(p, (imsafe_opt)o, &v) == IMSAFE_OK;
    return n;
}

static void test_round_trip(void)
{
    imsafe_policy *p = imsafe_policy_new();
    check_round_trip(p, "defaults");
    char *text = imsafe_policy_print(p);
    /* every option, every type and the label appear in the printed text */
    int keys = 0, actions = 0;
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (strncmp(l, "action ", 7) == 0)
            actions++;
        else if (*l != '#' && *l != '\n' && strncmp(l, "label ", 6) != 0 &&
                 strncmp(l, "kill ", 5) != 0)
            keys++;
    }
    TU_CHECK(keys == option_count(p), "printed %d options, the library has %d", keys,
             option_count(p));
    TU_CHECK(actions == IMSAFE_TYPE_COUNT, "printed %d actions", actions);
    TU_CHECK(text && strstr(text, "label = \"\"\n") && strstr(text, "max_input_bytes = 100 MiB\n") &&
                 strstr(text, "jpeg_mode = lossless\n") && strstr(text, "keep_icc = yes\n") &&
                 strstr(text, "jpeg_progressive = keep\n") &&
                 strstr(text, "jpeg_arithmetic = reject\n") && strstr(text, "apng = keep\n") &&
                 strstr(text, "office_macros = reject\n") &&
                 strstr(text, "office_active = reject\n") &&
                 strstr(text, "jpeg_arithmetic = reject\n") &&
                 strstr(text, "pdf_active = reject\n") && strstr(text, "pdf_encrypted = reject\n") &&
                 strstr(text, "action png = sanitize\n") && strstr(text, "action unknown = reject\n"),
             "printed defaults:\n%s", text ? text : "(null)");
    free(text);

    /* Every option away from its default (to the far end of its range), a
     * changed action for every type that allows one, kills with awkward
     * messages and expiries, a label needing escapes. */
    int64_t v;
    for (int o = 0; o < 256; o++) {
        if (imsafe_policy_get(p, (imsafe_opt)o, &v) != IMSAFE_OK)
            continue;
        int64_t try[] = {INT64_MAX, 1LL << 40, 1000001, 4096, 100, 33, 9, 2, 1, 0};
        for (size_t i = 0; i < sizeof try / sizeof try[0]; i++)
            if (try[i] != v && imsafe_policy_set(p, (imsafe_opt)o, try[i]) == IMSAFE_OK)
                break;
        int64_t nv;
        imsafe_policy_get(p, (imsafe_opt)o, &nv);
        TU_CHECK(nv != v, "option %d could not be changed from %lld", o, (long long)v);
    }
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++) {
        imsafe_action a = imsafe_policy_action(p, (imsafe_type)t);
        imsafe_action na = a == IMSAFE_ACTION_REJECT
                               ? (t >= 1 && t <= 3 ? IMSAFE_ACTION_SANITIZE : IMSAFE_ACTION_PASS)
                               : IMSAFE_ACTION_REJECT;
        TU_CHECK(imsafe_policy_set_action(p, (imsafe_type)t, na) == IMSAFE_OK, "action %d", t);
    }
    TU_CHECK(imsafe_policy_set_label(p, "x \"y\" \\z\\ # w") == IMSAFE_OK, "label");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, "CVE-2099-1 \"quoted\" \\ # not a comment",
                                1) == IMSAFE_OK, "kill png");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_DEX, 0, NULL, INT64_MAX) == IMSAFE_OK, "kill dex");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PDF, 0, "", 951868799) == IMSAFE_OK, "kill pdf");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_JPEG, 0, "x", 253402300799LL) == IMSAFE_OK, "kill jpeg");
    for (int f = 1; f < IMSAFE_FEATURE_COUNT; f++)
        TU_CHECK(imsafe_policy_kill(p, 0, (imsafe_feature)f, f % 2 ? "feature off" : NULL,
                                    (int64_t)f * 1000003) == IMSAFE_OK, "kill feature %d", f);
    check_round_trip(p, "modified");
    text = imsafe_policy_print(p);
    TU_CHECK(text && strstr(text, "until 9999-12-31T23:59:59Z") &&
                 strstr(text, "until 292277026596-12-04T15:30:07Z") &&
                 strstr(text, "kill png message \"CVE-2099-1 \\\"quoted\\\" \\\\ # not a comment\""
                              " until 1970-01-01T00:00:01Z\n"),
             "printed kills:\n%s", text ? text : "(null)");
    free(text);
    /* printing a frozen policy is fine (imsafe-check --print-policy) */
    imsafe_policy_freeze(p);
    check_round_trip(p, "frozen");
    TU_CHECK(imsafe_policy_print(NULL) == NULL, "print(NULL)");
    imsafe_policy_unref(p);
}

/* ------------------------------------------------------------ setters */

static void test_setters(void)
{
    imsafe_policy *p = imsafe_policy_new();
    char msg201[202], lbl64[65], err[128];
    memset(msg201, 'm', 201);
    msg201[201] = '\0';
    memset(lbl64, 'l', 64);
    lbl64[64] = '\0';
    struct imsafe_policy before = *p;
    TU_CHECK(imsafe_policy_set(p, (imsafe_opt)0, 1) == IMSAFE_EINVAL, "set opt 0");
    TU_CHECK(imsafe_policy_set(p, (imsafe_opt)999, 1) == IMSAFE_EINVAL, "set opt 999");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_JPEG_QUALITY, 101) == IMSAFE_EINVAL, "quality 101");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, 1024) == IMSAFE_EINVAL, "memory 1 KiB");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_KEEP_ICC, 2) == IMSAFE_EINVAL, "bool 2");
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_MAX_PIXELS, -1) == IMSAFE_EINVAL, "negative");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, IMSAFE_ACTION_SANITIZE) == IMSAFE_EINVAL,
             "sanitize pdf");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PNG, IMSAFE_ACTION_PASS) == IMSAFE_EINVAL,
             "pass png");
    TU_CHECK(imsafe_policy_set_action(p, (imsafe_type)IMSAFE_TYPE_COUNT, IMSAFE_ACTION_REJECT) ==
                 IMSAFE_EINVAL, "type out of range");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, (imsafe_action)7) == IMSAFE_EINVAL,
             "action 7");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, IMSAFE_FEATURE_APNG, NULL, 0) == IMSAFE_EINVAL,
             "kill type and feature");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_UNKNOWN, 0, NULL, 0) == IMSAFE_EINVAL, "kill nothing");
    TU_CHECK(imsafe_policy_kill(p, 0, (imsafe_feature)IMSAFE_FEATURE_COUNT, NULL, 0) == IMSAFE_EINVAL,
             "feature out of range");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, "a\nb", 0) == IMSAFE_EINVAL, "message ctl");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, msg201, 0) == IMSAFE_EINVAL, "message 201");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, NULL, -5) == IMSAFE_EINVAL, "expiry < 0");
    TU_CHECK(imsafe_policy_set_label(p, lbl64) == IMSAFE_EINVAL, "label 64");
    TU_CHECK(imsafe_policy_set_label(p, "caf\xc3\xa9") == IMSAFE_EINVAL, "label non-ASCII");
    TU_CHECK(imsafe_policy_set_label(p, NULL) == IMSAFE_EINVAL, "label NULL");
    TU_CHECK(same_policy(p, &before), "EINVAL changed the policy");
    msg201[200] = '\0';
    lbl64[63] = '\0';
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_PNG, 0, msg201, 0) == IMSAFE_OK, "message 200");
    TU_CHECK(imsafe_policy_set_label(p, lbl64) == IMSAFE_OK, "label 63");
    TU_CHECK(imsafe_policy_parse(NULL, "x", 1, "o", err, sizeof err) == IMSAFE_EINVAL, "parse NULL");
    TU_CHECK(imsafe_policy_parse(p, NULL, 0, "o", err, sizeof err) == IMSAFE_EINVAL,
             "parse NULL text");

    TU_CHECK(!imsafe_policy_is_frozen(p), "not frozen yet");
    TU_CHECK(imsafe_policy_freeze(p) == IMSAFE_OK && imsafe_policy_freeze(p) == IMSAFE_OK &&
                 imsafe_policy_is_frozen(p), "freeze twice");
    before = *p;
    TU_CHECK(imsafe_policy_set(p, IMSAFE_OPT_JPEG_QUALITY, 50) == IMSAFE_EBUSY, "set frozen");
    TU_CHECK(imsafe_policy_set_action(p, IMSAFE_TYPE_PDF, IMSAFE_ACTION_REJECT) == IMSAFE_EBUSY,
             "action frozen");
    TU_CHECK(imsafe_policy_kill(p, IMSAFE_TYPE_GIF, 0, NULL, 0) == IMSAFE_EBUSY, "kill frozen");
    TU_CHECK(imsafe_policy_set_label(p, "x") == IMSAFE_EBUSY, "label frozen");
    TU_CHECK(parse(p, "jpeg_quality = 50", err, sizeof err) == IMSAFE_EBUSY, "parse frozen");
    TU_CHECK(parse(p, "bad bad bad", err, sizeof err) == IMSAFE_EBUSY, "bad text, frozen");
    TU_CHECK(same_policy(p, &before), "EBUSY changed the policy");
    TU_CHECK(get(p, IMSAFE_OPT_JPEG_QUALITY) == 90, "get on a frozen policy");
    int64_t v;
    TU_CHECK(imsafe_policy_get(p, (imsafe_opt)0, &v) == IMSAFE_EINVAL &&
                 imsafe_policy_get(NULL, IMSAFE_OPT_MAX_PIXELS, &v) == IMSAFE_EINVAL,
             "get EINVAL");
    TU_CHECK(imsafe_policy_ref(p) == p && p->refs == 2, "ref");
    imsafe_policy_unref(p);
    TU_CHECK(p->refs == 1, "unref");
    imsafe_policy_unref(p);
    imsafe_policy_ref(NULL);
    imsafe_policy_unref(NULL);
}

/* ------------------------------------------------- through imsafe_sanitize */

struct payload {
    unsigned char *data;
    size_t len;
};

static struct payload load(const char *name)
{
    char path[4096];
    struct payload pl;
    snprintf(path, sizeof path, "%s/policy/%s", tu_env("IMSAFE_FIXTURES"), name);
    pl.data = tu_read_file(path, &pl.len);
    if (pl.data == NULL)
        tu_die("cannot read a fixture made by tests/gen/gen_policy.py");
    return pl;
}

/* Sanitize under policy text; check verdict, reason and a detail substring. */
static void judge(imsafe_ctx *ctx, const char *text, const struct payload *pl, const char *name,
                  imsafe_verdict verdict, imsafe_reason reason, const char *detail)
{
    imsafe_policy *p = tu_policy(text);
    imsafe_result *r = tu_sanitize(ctx, p, pl->data, pl->len, name, NULL);
    TU_CHECK(imsafe_result_verdict(r) == verdict && imsafe_result_reason(r) == reason,
             "[%s] %s: %s %s (%s), expected %s %s", text ? text : "defaults", name,
             imsafe_verdict_name(imsafe_result_verdict(r)),
             imsafe_reason_name(imsafe_result_reason(r)), imsafe_result_detail(r),
             imsafe_verdict_name(verdict), imsafe_reason_name(reason));
    if (detail != NULL)
        TU_CHECK(strstr(imsafe_result_detail(r), detail) != NULL, "[%s]: detail [%s] lacks [%s]",
                 text, imsafe_result_detail(r), detail);
    TU_CHECK(strcmp(imsafe_result_policy_label(r), imsafe_policy_label(p)) == 0,
             "result label [%s]", imsafe_result_policy_label(r));
    size_t olen;
    const void *out = imsafe_result_output(r, &olen);
    TU_CHECK((verdict == IMSAFE_SANITIZED) == (out != NULL && olen > 0),
             "[%s] %s: output present iff sanitized", text ? text : "defaults", name);
    imsafe_result_free(r);
    imsafe_policy_unref(p);
}

static void test_kill_switch(void)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    struct payload png = load("tiny.png"), pdf = load("tiny.pdf"), gif = load("tiny.gif");
    if (ctx == NULL)
        tu_die("imsafe_ctx_new");
    /* the payloads are fine by default: what rejects them below is policy */
    judge(ctx, NULL, &png, "tiny.png", IMSAFE_SANITIZED, IMSAFE_R_NONE, NULL);
    judge(ctx, NULL, &gif, "tiny.gif", IMSAFE_SANITIZED, IMSAFE_R_NONE, NULL);
    judge(ctx, NULL, &pdf, "tiny.pdf", IMSAFE_PASSED, IMSAFE_R_NONE, NULL);
    judge(ctx, "label = \"emergency\"\nkill png message \"CVE-XXXX\"", &png, "tiny.png",
          IMSAFE_REJECTED, IMSAFE_R_POLICY_KILLED_TYPE, "CVE-XXXX");
    judge(ctx, "kill png message \"CVE-XXXX\"", &gif, "tiny.gif", IMSAFE_SANITIZED,
          IMSAFE_R_NONE, NULL);
    /* a kill switch whose time has passed is off; one still to come is on */
    judge(ctx, "kill png message \"old\" until 2001-01-01T00:00:00Z", &png, "tiny.png",
          IMSAFE_SANITIZED, IMSAFE_R_NONE, NULL);
    judge(ctx, "kill png message \"until 9999\" until 9999-12-31T23:59:59Z", &png, "tiny.png",
          IMSAFE_REJECTED, IMSAFE_R_POLICY_KILLED_TYPE, "until 9999");
    judge(ctx, "kill feature all_images message \"images off\"", &png, "tiny.png",
          IMSAFE_REJECTED, IMSAFE_R_POLICY_KILLED_FEATURE, "images off");
    judge(ctx, "kill feature all_images message \"images off\"", &gif, "tiny.gif",
          IMSAFE_REJECTED, IMSAFE_R_POLICY_KILLED_FEATURE, "images off");
    judge(ctx, "kill feature all_images", &pdf, "tiny.pdf", IMSAFE_PASSED, IMSAFE_R_NONE, NULL);
    judge(ctx, "kill feature all_images until 2001-01-01T00:00:00Z", &png, "tiny.png",
          IMSAFE_SANITIZED, IMSAFE_R_NONE, NULL);
    judge(ctx, "kill pdf message \"pdf off\"", &pdf, "tiny.pdf", IMSAFE_REJECTED,
          IMSAFE_R_POLICY_KILLED_TYPE, "pdf off");
    judge(ctx, "action pdf = reject", &pdf, "tiny.pdf", IMSAFE_REJECTED,
          IMSAFE_R_POLICY_TYPE_REJECTED, NULL);
    judge(ctx, "action pdf = reject", &png, "tiny.png", IMSAFE_SANITIZED, IMSAFE_R_NONE, NULL);
    judge(ctx, "action png = reject", &png, "tiny.png", IMSAFE_REJECTED,
          IMSAFE_R_POLICY_TYPE_REJECTED, NULL);
    free(png.data);
    free(pdf.data);
    free(gif.data);
    imsafe_ctx_free(ctx);
}

/* ----------------------------------------------------------- man page */

static void test_man_page(void)
{
    char path[4096];
    size_t n;
    snprintf(path, sizeof path, "%s/doc/imsafe-policy.5", tu_env("IMSAFE_SRCDIR"));
    unsigned char *raw = tu_read_file(path, &n);
    TU_CHECK(raw != NULL, "cannot read %s", path);
    if (raw == NULL)
        return;
    char *page = malloc(n + 1);
    if (page == NULL)
        tu_die("malloc");
    memcpy(page, raw, n);
    page[n] = '\0';
    /* the keys as the library prints them: one per option, table order */
    imsafe_policy *p = imsafe_policy_new();
    char *text = imsafe_policy_print(p), key[80], want[100];
    int keys = 0;
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (sscanf(l, "%79[a-z_0-9] = ", key) != 1 || strcmp(key, "label") == 0 ||
            strcmp(key, "action") == 0 || strcmp(key, "kill") == 0)
            continue;
        keys++;
        snprintf(want, sizeof want, "\n.It Cm %s ", key);
        TU_CHECK(strstr(page, want) != NULL, "imsafe-policy.5 lacks \".It Cm %s\"", key);
    }
    TU_CHECK(keys == option_count(p) && keys > 0, "%d keys for %d options", keys,
             option_count(p));
    for (int f = 1; f < IMSAFE_FEATURE_COUNT; f++) {
        snprintf(want, sizeof want, "\n.It Cm %s\n", imsafe_feature_name((imsafe_feature)f));
        TU_CHECK(strstr(page, want) != NULL, "imsafe-policy.5 lacks feature %s",
                 imsafe_feature_name((imsafe_feature)f));
    }
    free(text);
    imsafe_policy_unref(p);
    /* the example policy in the page parses */
    char *ex = strstr(page, "\n.Sh EXAMPLES\n");
    char *bd = ex ? strstr(ex, "\n.Bd -literal -offset indent\n") : NULL;
    char *ed = bd ? strstr(bd, "\n.Ed\n") : NULL;
    TU_CHECK(ed != NULL, "imsafe-policy.5 has no example policy");
    if (ed != NULL) {
        char err[256];
        bd += strlen("\n.Bd -literal -offset indent\n");
        p = imsafe_policy_new();
        imsafe_status st = imsafe_policy_parse(p, bd, (size_t)(ed - bd), "imsafe-policy.5",
                                               err, sizeof err);
        TU_CHECK(st == IMSAFE_OK, "example policy: %s", err);
        TU_CHECK(st != IMSAFE_OK || (p->kill_type[IMSAFE_TYPE_GIF].active &&
                                     p->kill_type[IMSAFE_TYPE_GIF].expires == 1796256000LL),
                 "example policy: kill gif until 2026-12-03");
        imsafe_policy_unref(p);
    }
    free(page);
    free(raw);
}

/* WebP is sanitized by default only for programs built against the 0.2.0
 * header: a 0.1.0 binary keeps its default (reject).  Either may still
 * pass it as 0.1.0 allowed, and webp_to / webp_quality round-trip. */
static void test_webp_defaults(void)
{
    imsafe_policy *old = imsafe_policy_new_v(1000), *cur = imsafe_policy_new_v(2000);
    TU_CHECK(imsafe_policy_action(old, IMSAFE_TYPE_WEBP) == IMSAFE_ACTION_REJECT,
             "0.1.0 header: webp rejected");
    TU_CHECK(imsafe_policy_action(cur, IMSAFE_TYPE_WEBP) == IMSAFE_ACTION_SANITIZE,
             "0.2.0 header: webp sanitized");
    TU_CHECK(imsafe_policy_action(old, IMSAFE_TYPE_PNG) == IMSAFE_ACTION_SANITIZE,
             "0.1.0 header: png still sanitized");
    TU_CHECK(imsafe_policy_set_action(old, IMSAFE_TYPE_WEBP, IMSAFE_ACTION_PASS) == IMSAFE_OK &&
                 imsafe_policy_set_action(old, IMSAFE_TYPE_WEBP, IMSAFE_ACTION_SANITIZE) ==
                     IMSAFE_OK,
             "webp may be passed or sanitized");
    TU_CHECK(imsafe_policy_set(cur, IMSAFE_OPT_WEBP_QUALITY, 0) == IMSAFE_EINVAL &&
                 imsafe_policy_set(cur, IMSAFE_OPT_WEBP_QUALITY, 101) == IMSAFE_EINVAL &&
                 imsafe_policy_set(cur, IMSAFE_OPT_WEBP_TO, 2) == IMSAFE_EINVAL,
             "webp options out of range");
    char err[128];
    const char *text = "webp_to = png\nwebp_quality = 75\nkill feature webp_animated\n";
    TU_CHECK(imsafe_policy_parse(cur, text, strlen(text), "t", err, sizeof err) == IMSAFE_OK,
             "webp options parse: %s", err);
    int64_t v = 0;
    TU_CHECK(imsafe_policy_get(cur, IMSAFE_OPT_WEBP_TO, &v) == IMSAFE_OK &&
                 v == IMSAFE_WEBP_TO_PNG, "webp_to = png");
    char *printed = imsafe_policy_print(cur);
    TU_CHECK(printed && strstr(printed, "webp_to = png\n") && strstr(printed, "webp_quality = 75\n") &&
                 strstr(printed, "kill feature webp_animated"),
             "webp options printed");
    free(printed);
    TU_CHECK(strcmp(imsafe_feature_name(IMSAFE_FEATURE_WEBP_ANIMATED), "webp_animated") == 0,
             "feature name");
    imsafe_policy_unref(old);
    imsafe_policy_unref(cur);
}

int main(void)
{
    test_webp_defaults();
    test_forms();
    test_long_lines();
    test_errors();
    test_round_trip();
    test_setters();
    test_kill_switch();
    test_man_page();
    return tu_finish();
}
