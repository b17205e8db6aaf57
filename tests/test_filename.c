/*
 * test_filename.c - the claimed-name checks (libimsafe/filename.c) through
 * the public API: every filename.* finding, names that must not be
 * findings, the policy downgrade to note.filename, the length limit, the
 * display name, and the dangerous-extension list as seen through ZIP entry
 * names (zip.c rejects an entry whose name it flags).
 *
 * The payload is plain text, which the default policy passes, so a
 * rejection of a ".txt" name can only come from the name.
 */
#include <stdint.h>

#include "testutil.h"

static const char TEXT[] = "Minutes of the meeting.\nNothing to report.\n";

struct named {
    const char *name;
    imsafe_reason want;
};

/* Every finding, several spellings each. */
static const struct named findings[] = {
    {"a\xc0\xae.txt", IMSAFE_R_FILENAME_INVALID_UTF8},         /* overlong '.' */
    {"a\xed\xa0\x80.txt", IMSAFE_R_FILENAME_INVALID_UTF8},     /* surrogate D800 */
    {"a\xf4\x90\x80\x80.txt", IMSAFE_R_FILENAME_INVALID_UTF8}, /* U+110000 */
    {"a\xff.txt", IMSAFE_R_FILENAME_INVALID_UTF8},
    {"caf\xc3.txt", IMSAFE_R_FILENAME_INVALID_UTF8}, /* cut sequence */
    {"a\x01.txt", IMSAFE_R_FILENAME_CONTROL},
    {"a\x1b[31m.txt", IMSAFE_R_FILENAME_CONTROL},
    {"a\x7f.txt", IMSAFE_R_FILENAME_CONTROL},
    {"a\xc2\x85.txt", IMSAFE_R_FILENAME_CONTROL}, /* C1 NEL */
    {"photo\xe2\x80\xaegnp.exe", IMSAFE_R_FILENAME_BIDI}, /* RTLO */
    {"invoice\xe2\x80\xaetxt.scr", IMSAFE_R_FILENAME_BIDI},
    {"a\xe2\x81\xa6x\xe2\x81\xa9.txt", IMSAFE_R_FILENAME_BIDI}, /* LRI .. PDI */
    {"a\xe2\x80\x8f.txt", IMSAFE_R_FILENAME_BIDI},              /* RLM */
    {"a\xd8\x9c.txt", IMSAFE_R_FILENAME_BIDI},                  /* ALM U+061C */
    {"a\xe2\x80\xaa.txt", IMSAFE_R_FILENAME_BIDI},              /* LRE */
    {"../x.txt", IMSAFE_R_FILENAME_TRAVERSAL},
    {"..\\..\\x.txt", IMSAFE_R_FILENAME_TRAVERSAL},
    {"a/../../x.txt", IMSAFE_R_FILENAME_TRAVERSAL},
    {"..", IMSAFE_R_FILENAME_TRAVERSAL},
    {"/etc/passwd", IMSAFE_R_FILENAME_ABSOLUTE},
    {"\\\\server\\share\\x.txt", IMSAFE_R_FILENAME_ABSOLUTE},
    {"C:x.txt", IMSAFE_R_FILENAME_ABSOLUTE},
    {"c:\\x.txt", IMSAFE_R_FILENAME_ABSOLUTE},
    {"a/b.txt", IMSAFE_R_FILENAME_SEPARATOR},
    {"a\\b.txt", IMSAFE_R_FILENAME_SEPARATOR},
    {"notes.txt:evil.exe", IMSAFE_R_FILENAME_SEPARATOR}, /* NTFS stream */
    {"a%00.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED},
    {"a%2Fb.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED},
    {"a%5cb.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED},
    {"%2e%2e.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED},
    {"%2E.x.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED}, /* "%2E." = ".." */
    {"a%0a.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED},
    {"a%252f.txt", IMSAFE_R_FILENAME_PERCENT_ENCODED}, /* double encoding */
    {"CON", IMSAFE_R_FILENAME_RESERVED},
    {"con.txt", IMSAFE_R_FILENAME_RESERVED},
    {"Nul.tar.gz", IMSAFE_R_FILENAME_RESERVED},
    {"aux .txt", IMSAFE_R_FILENAME_RESERVED},
    {"COM1.txt", IMSAFE_R_FILENAME_RESERVED},
    {"lpt9", IMSAFE_R_FILENAME_RESERVED},
    {"COM\xc2\xb9.txt", IMSAFE_R_FILENAME_RESERVED}, /* COM superscript one */
    {"prn.doc", IMSAFE_R_FILENAME_RESERVED},
    {"notes.txt.", IMSAFE_R_FILENAME_TRAILING},
    {"notes.txt ", IMSAFE_R_FILENAME_TRAILING},
    {"evil.exe...", IMSAFE_R_FILENAME_TRAILING},
    {"invoice.pdf.exe", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"photo.JPG.scr", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"report.docx.js", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"song.mp3.lnk", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"invoice.pdf_.exe", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"invoice.pdf      .exe", IMSAFE_R_FILENAME_PADDING},
    {"photo.jpg___________.exe", IMSAFE_R_FILENAME_PADDING},
    {"photo.jpg\xe3\x80\x80.exe", IMSAFE_R_FILENAME_PADDING}, /* U+3000 */
    {"photo.jpg\xe2\x80\x8b.txt", IMSAFE_R_FILENAME_PADDING}, /* U+200B */
    {"a        b.txt", IMSAFE_R_FILENAME_PADDING},            /* 8 blanks */
    {"notes....txt", IMSAFE_R_FILENAME_PADDING},
};

/* Ordinary names: no filename finding (the type check may still object to
 * a name that says image for a text payload; that is not this file's). */
static const char *const ordinary[] = {
    "notes.txt", "photo.jpg", "IMG_2024-01-01.jpeg", "\xd0\xa4\xd0\xbe\xd1\x82\xd0\xbe 2024.jpg",
    "r\xc3\xa9sum\xc3\xa9.pdf", "README", "a.b", ".bashrc", "archive.tar.gz", "draft_.pdf",
    "notes .txt", "my file (1).txt", "100%.txt", "100% done.txt", "a%zz.txt",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", "\xf0\x9f\x98\x80 party.png", "setup.exe",
    "CONSOLE.txt", "com10.txt", "lpt.txt", "x.y.z.txt", "notes.exe.txt", "a.. b.txt",
};

static imsafe_result *judge(imsafe_ctx *ctx, const imsafe_policy *p, const char *name)
{
    return tu_sanitize(ctx, p, TEXT, sizeof TEXT - 1, name, NULL);
}

static int is_filename_reason(imsafe_reason r)
{
    const char *n = imsafe_reason_name(r);
    return n != NULL && strncmp(n, "filename.", 9) == 0;
}

static void test_findings(imsafe_ctx *ctx, const imsafe_policy *p)
{
    for (size_t i = 0; i < sizeof findings / sizeof findings[0]; i++) {
        imsafe_result *r = judge(ctx, p, findings[i].name);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_REJECTED &&
                     imsafe_result_reason(r) == findings[i].want,
                 "finding %zu: got %s, want %s", i, imsafe_reason_name(imsafe_result_reason(r)),
                 imsafe_reason_name(findings[i].want));
        /* the detail never echoes the name */
        TU_CHECK(strlen(findings[i].name) < 4 ||
                     strstr(imsafe_result_detail(r), findings[i].name) == NULL,
                 "finding %zu: detail echoes the name", i);
        imsafe_result_free(r);
    }
}

static void test_ordinary(imsafe_ctx *ctx, const imsafe_policy *p)
{
    for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++) {
        imsafe_result *r = judge(ctx, p, ordinary[i]);
        TU_CHECK(!is_filename_reason(imsafe_result_reason(r)), "ordinary name %zu: %s", i,
                 imsafe_reason_name(imsafe_result_reason(r)));
        /* a clean name is shown as it is */
        TU_CHECK(strcmp(imsafe_result_display_name(r), ordinary[i]) == 0,
                 "ordinary name %zu: display name changed", i);
        size_t l = strlen(ordinary[i]);
        if (l > 4 && strcmp(ordinary[i] + l - 4, ".txt") == 0)
            TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "ordinary %s not passed (%s)",
                     ordinary[i], imsafe_reason_name(imsafe_result_reason(r)));
        imsafe_result_free(r);
    }
    /* no name at all is no finding */
    imsafe_result *r = judge(ctx, p, NULL);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "NULL name: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    TU_CHECK(strcmp(imsafe_result_display_name(r), "") == 0, "NULL name: display not empty");
    imsafe_result_free(r);
    r = judge(ctx, p, "");
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "empty name: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
}

static void test_note_policy(imsafe_ctx *ctx)
{
    imsafe_policy *p = tu_policy("filename_findings = note\n");
    static const char *const names[] = {"a%2fb.txt", "notes.txt.", "con.txt", "a/b.txt",
                                        "x\xe2\x80\xaetxt.txt"};
    static const char *const which[] = {"filename.percent_encoded", "filename.trailing",
                                        "filename.reserved", "filename.separator",
                                        "filename.bidi"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        imsafe_result *r = judge(ctx, p, names[i]);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "note policy %zu: %s", i,
                 imsafe_reason_name(imsafe_result_reason(r)));
        TU_CHECK(tu_has_note(r, IMSAFE_R_NOTE_FILENAME), "note policy %zu: no note.filename", i);
        TU_CHECK(strstr(imsafe_result_detail(r), which[i]) != NULL,
                 "note policy %zu: detail \"%s\" lacks %s", i, imsafe_result_detail(r), which[i]);
        imsafe_result_free(r);
    }
    /* a clean name gets no note */
    imsafe_result *r = judge(ctx, p, "notes.txt");
    TU_CHECK(!tu_has_note(r, IMSAFE_R_NOTE_FILENAME), "clean name noted");
    imsafe_result_free(r);
    imsafe_policy_unref(p);
}

static void test_length(imsafe_ctx *ctx, const imsafe_policy *p)
{
    char name[600];
    imsafe_policy *p16 = tu_policy("max_filename_bytes = 16\n");
    memset(name, 'a', sizeof name);
    strcpy(name + 251, ".txt"); /* 255 bytes: the default limit exactly */
    imsafe_result *r = judge(ctx, p, name);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "255-byte name: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    strcpy(name + 252, ".txt"); /* 256 */
    r = judge(ctx, p, name);
    TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_FILENAME_TOO_LONG, "256-byte name: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    r = judge(ctx, p16, "sixteen-byte.txt");
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "16 bytes under limit 16: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    r = judge(ctx, p16, "seventeen-by.txt1");
    TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_FILENAME_TOO_LONG, "17 bytes: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    imsafe_policy_unref(p16);
}

/* Is s valid UTF-8 without controls (what a display name promises)? */
static int printable_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
        if (*p < 0xc2 || *p > 0xf4)
            return 0;
        if (*p == 0xc2 && p[1] < 0xa0)
            return 0; /* C1 control */
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        p += n + 1;
    }
    return 1;
}

static void check_display(imsafe_ctx *ctx, const imsafe_policy *p, const char *in,
                          const char *want)
{
    imsafe_result *r = judge(ctx, p, in);
    const char *got = imsafe_result_display_name(r);
    TU_CHECK(strcmp(got, want) == 0, "display name: got \"%s\", want \"%s\"", got, want);
    TU_CHECK(printable_utf8(got), "display name \"%s\" not printable UTF-8", got);
    imsafe_result_free(r);
}

static void test_display(imsafe_ctx *ctx, const imsafe_policy *p)
{
    check_display(ctx, p, "photo\xe2\x80\xaegnp.exe", "photognp.exe");
    check_display(ctx, p, "a/b\\c:d.txt", "a_b_c_d.txt");
    check_display(ctx, p, "../../etc/passwd", ".._.._etc_passwd");
    check_display(ctx, p, "a\x01\x1b[2Jb.txt", "a[2Jb.txt");
    check_display(ctx, p, "a\xc2\x85z.txt", "az.txt");
    check_display(ctx, p, "a\xff\xfe.txt", "a__.txt");
    check_display(ctx, p, "a\xc0\xae.txt", "a__.txt");
    check_display(ctx, p, "x\xe2\x80\x8by\xef\xbb\xbf.txt", "xy.txt"); /* ZWSP, BOM */
    check_display(ctx, p, "\xe2\x80\xae", "_");                        /* only RTLO */
    check_display(ctx, p, "\x01\x02", "_");
    check_display(ctx, p, "r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf");

    /* 300 two-byte characters: cut on a character boundary */
    char name[700];
    for (int i = 0; i < 300; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[600] = '\0';
    imsafe_result *r = judge(ctx, p, name);
    const char *got = imsafe_result_display_name(r);
    size_t l = strlen(got);
    TU_CHECK(l > 200 && l < 256 && l % 2 == 0 && printable_utf8(got),
             "long display name: %zu bytes", l);
    imsafe_result_free(r);
}

/* ------------------------------------------------- dangerous entry names */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static unsigned char *put16(unsigned char *p, unsigned v)
{
    p[0] = v & 0xff, p[1] = (v >> 8) & 0xff;
    return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    return put16(put16(p, v & 0xffff), v >> 16);
}

/* A one-entry stored ZIP holding TEXT under the given name. */
static size_t one_entry_zip(unsigned char *z, const char *name)
{
    size_t nl = strlen(name), dl = sizeof TEXT - 1;
    uint32_t crc = crc32_of((const unsigned char *)TEXT, dl);
    unsigned char *p = z;
    p = put32(p, 0x04034b50), p = put16(p, 10), p = put16(p, 0), p = put16(p, 0);
    p = put32(p, 0), p = put32(p, crc), p = put32(p, dl), p = put32(p, dl);
    p = put16(p, nl), p = put16(p, 0);
    memcpy(p, name, nl), p += nl;
    memcpy(p, TEXT, dl), p += dl;
    unsigned char *cd = p;
    p = put32(p, 0x02014b50), p = put16(p, 0x31e), p = put16(p, 10), p = put16(p, 0);
    p = put16(p, 0), p = put32(p, 0), p = put32(p, crc), p = put32(p, dl), p = put32(p, dl);
    p = put16(p, nl), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0);
    p = put32(p, 0), p = put32(p, 0);
    memcpy(p, name, nl), p += nl;
    uint32_t cd_size = (uint32_t)(p - cd), cd_off = (uint32_t)(cd - z);
    p = put32(p, 0x06054b50), p = put16(p, 0), p = put16(p, 0), p = put16(p, 1);
    p = put16(p, 1), p = put32(p, cd_size), p = put32(p, cd_off), p = put16(p, 0);
    return (size_t)(p - z);
}

static void test_dangerous_names(imsafe_ctx *ctx, const imsafe_policy *p)
{
    static const char *const bad[] = {
        "setup.exe", "SETUP.EXE", "lib.dll", "screen.scr", "run.bat", "run.cmd", "x.ps1",
        "x.vbs", "x.js", "x.jse", "x.wsf", "x.hta", "link.lnk", "pkg.msi", "app.jar",
        "app.apk", "Main.class", "x/classes.dex", "install.sh", "x.com", "x.pif", "x.cpl",
        "Tool.app/", "a/b/run.sh", "a\\b\\run.bat", "evil.exe.", "evil.exe ", "photo.jpg.exe",
        "site.url", "disk.iso", ".exe", "x.reg", "x.jnlp", "x.command"};
    static const char *const good[] = {
        "readme.txt", "photo.jpg", "exe", "notes.exe.txt", "example.com/index.html",
        "docs/", "a.bat.txt", "js/", "shell", "archive.tar.gz", "x.jsx", "x.shx"};
    unsigned char z[1024];
    char zipname[] = "test.zip";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = one_entry_zip(z, bad[i]);
        imsafe_result *r = tu_sanitize(ctx, p, z, n, zipname, NULL);
        TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY,
                 "entry \"%s\": %s, want archive.dangerous_entry", bad[i],
                 imsafe_reason_name(imsafe_result_reason(r)));
        imsafe_result_free(r);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = one_entry_zip(z, good[i]);
        imsafe_result *r = tu_sanitize(ctx, p, z, n, zipname, NULL);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "entry \"%s\": %s (%s)", good[i],
                 imsafe_reason_name(imsafe_result_reason(r)), imsafe_result_detail(r));
        imsafe_result_free(r);
    }
}

int main(void)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx == NULL)
        tu_die("imsafe_ctx_new");
    imsafe_policy *p = tu_policy(NULL);
    test_findings(ctx, p);
    test_ordinary(ctx, p);
    test_note_policy(ctx);
    test_length(ctx, p);
    test_display(ctx, p);
    test_dangerous_names(ctx, p);
    imsafe_policy_unref(p);
    imsafe_ctx_free(ctx);
    return tu_finish();
}
