/*
 * test_filename.c - the claimed-name checks (libimsafe/filename.c) through
 * the public API: every filename.* finding, names that must not be
 * findings, the file-system findings repaired in the display name with
 * note.filename, the policy downgrade to note.filename, the length limit,
 * the display name (never a name the library would reject, the true
 * extension of a rebuilt image, the detected type of a payload rejected
 * for its name, on fixtures made by tests/gen/gen_types.py), and the
 * dangerous-extension list as seen through ZIP entry names (zip.c rejects
 * an entry whose name it flags, but never a directory entry by its name).
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
    {"invoice.pdf.exe", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    /* judged as a file system stores the name: a trailing dot or a device
     * name does not hide what deceives */
    {"invoice.pdf.exe.", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"invoice.pdf.exe . ", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"con.pdf.exe", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"photo.jpg      .exe.", IMSAFE_R_FILENAME_PADDING},
    {"photos/con.txt", IMSAFE_R_FILENAME_SEPARATOR},
    {"con\xe2\x80\xae.txt", IMSAFE_R_FILENAME_BIDI},
    {"photo.JPG.scr", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"report.docx.js", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"song.mp3.lnk", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"invoice.pdf_.exe", IMSAFE_R_FILENAME_HIDDEN_EXTENSION},
    {"invoice.pdf      .exe", IMSAFE_R_FILENAME_PADDING},
    {"photo.jpg___________.exe", IMSAFE_R_FILENAME_PADDING},
    {"photo.jpg\xe3\x80\x80.exe", IMSAFE_R_FILENAME_PADDING}, /* U+3000 */
    {"photo.jpg\xe2\x80\x8b.txt", IMSAFE_R_FILENAME_INVISIBLE}, /* U+200B */
    {"a        b.txt", IMSAFE_R_FILENAME_PADDING},            /* 8 blanks */
    {"notes....txt", IMSAFE_R_FILENAME_PADDING},
    /* invisible and format characters: "Invoice.pdf<SHY>.reg" shows as
     * "Invoice.pdf.reg" while "pdf<SHY>" is no extension anyone knows */
    {"Invoice.pdf\xc2\xad.reg", IMSAFE_R_FILENAME_INVISIBLE},       /* U+00AD */
    {"a\xcd\x8f.txt", IMSAFE_R_FILENAME_INVISIBLE},                 /* U+034F */
    {"a\xe1\x85\x9f.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+115F */
    {"a\xe1\x85\xa0.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+1160 */
    {"a\xe1\x9e\xb4.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+17B4 */
    {"a\xe1\x9e\xb5.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+17B5 */
    {"a\xe1\xa0\x8e.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+180E */
    {"invoice.pdf\xe2\x80\x8b.exe", IMSAFE_R_FILENAME_INVISIBLE},   /* U+200B */
    {"a\xe2\x80\xa8.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+2028 */
    {"a\xe2\x80\xa9.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+2029 */
    {"a\xe2\x81\xa0.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+2060 */
    {"a\xe2\x81\xa4.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+2064 */
    {"a\xe2\x81\xaf.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+206F */
    {"a\xe3\x85\xa4.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+3164 */
    {"x\xef\xb8\x80.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+FE00 */
    {"\xe2\x9d\xa4\xef\xb8\x8d.txt", IMSAFE_R_FILENAME_INVISIBLE}, /* U+FE0D */
    {"a\xef\xbb\xbf.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+FEFF */
    {"a\xef\xbe\xa0.txt", IMSAFE_R_FILENAME_INVISIBLE},             /* U+FFA0 */
    {"a\xf3\xa0\x80\x81.txt", IMSAFE_R_FILENAME_INVISIBLE},        /* U+E0001 tag */
    {"a\xf3\xa0\x81\xbf.txt", IMSAFE_R_FILENAME_INVISIBLE},        /* U+E007F */
    /* joiners where no word needs them: beside ASCII letters ("p<ZWJ>df"
     * is not "pdf"), touching a dot, in the extension, at either end */
    {"invoice.p\xe2\x80\x8d" "df.exe", IMSAFE_R_FILENAME_INVISIBLE},
    {"invoice.pdf\xe2\x80\x8c.exe", IMSAFE_R_FILENAME_INVISIBLE},
    {"\xd9\x86\xd8\xa7\xd9\x85\xd9\x87\xe2\x80\x8c.pdf", IMSAFE_R_FILENAME_INVISIBLE},
    {"\xd9\x86\xd8\xa7\xe2\x80\x8c.\xd9\x85\xd9\x87.txt", IMSAFE_R_FILENAME_INVISIBLE},
    {"notes.t\xe2\x80\x8dxt", IMSAFE_R_FILENAME_INVISIBLE},
    {"\xe2\x80\x8d\xd9\x86.txt", IMSAFE_R_FILENAME_INVISIBLE},
    {"a\xef\xb8\x8f.txt", IMSAFE_R_FILENAME_INVISIBLE}, /* FE0F after a letter */
    {"\xf0\x9f\x98\x80.\xef\xb8\x8ftxt", IMSAFE_R_FILENAME_INVISIBLE},
};

/* Findings only a file system minds: repaired in the display name with
 * note.filename.  want: the call's reason (the content check still judges
 * the repaired name: a text file named .exe or .bat is still refused). */
static const struct {
    const char *name, *display;
    imsafe_reason finding, want;
} repaired[] = {
    {"CON", "CON_", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"con.txt", "con_.txt", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"Nul.tar.gz", "Nul_.tar.gz", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_TYPE_MISMATCH},
    {"aux .txt", "aux_.txt", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"COM1.txt", "COM1_.txt", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"lpt9", "lpt9_", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"COM\xc2\xb9.txt", "COM\xc2\xb9_.txt", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"prn.doc", "prn_.doc", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_TYPE_MISMATCH},
    {"con.txt.", "con_.txt", IMSAFE_R_FILENAME_RESERVED, IMSAFE_R_NONE},
    {"notes.txt.", "notes.txt", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_NONE},
    {"notes.txt ", "notes.txt", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_NONE},
    {"notes.txt. . ", "notes.txt", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_NONE},
    {"notes.txt          ", "notes.txt", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_NONE},
    {"...", "_", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_NONE},
    {"evil.exe...", "evil.exe", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_TYPE_MISMATCH},
    {"run.bat.", "run.bat", IMSAFE_R_FILENAME_TRAILING, IMSAFE_R_TYPE_SCRIPT},
};

/* Ordinary names: no filename finding (the type check may still object to
 * a name that says image for a text payload; that is not this file's). */
static const char *const ordinary[] = {
    "notes.txt", "photo.jpg", "IMG_2024-01-01.jpeg", "\xd0\xa4\xd0\xbe\xd1\x82\xd0\xbe 2024.jpg",
    "r\xc3\xa9sum\xc3\xa9.pdf", "README", "a.b", ".bashrc", "archive.tar.gz", "draft_.pdf",
    "notes .txt", "my file (1).txt", "100%.txt", "100% done.txt", "a%zz.txt",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", "\xf0\x9f\x98\x80 party.png", "setup.exe",
    "CONSOLE.txt", "com10.txt", "lpt.txt", "x.y.z.txt", "notes.exe.txt", "a.. b.txt",
    /* real names that need joiners: Persian with ZWNJ ("mi-khaham
     * gozaresh", "nameh-ha"), Hindi with ZWJ and ZWNJ (the half forms of
     * "ksha", the eyelash ra), Thai, emoji ZWJ sequences and selectors
     * (family, heart on fire, keycap one, rainbow flag, red heart) */
    "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85 "
    "\xda\xaf\xd8\xb2\xd8\xa7\xd8\xb1\xd8\xb4.txt",
    "\xd9\x86\xd8\xa7\xd9\x85\xd9\x87\xe2\x80\x8c\xd9\x87\xd8\xa7.pdf",
    "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7 \xe0\xa4\xb0\xe0\xa4\xbf\xe0\xa4\xaa"
    "\xe0\xa5\x8b\xe0\xa4\xb0\xe0\xa5\x8d\xe0\xa4\x9f.txt",
    "\xe0\xa4\xb0\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xaf.txt",
    "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7.txt",
    "\xe0\xb8\xa3\xe0\xb8\xb2\xe0\xb8\xa2\xe0\xb8\x87\xe0\xb8\xb2\xe0\xb8\x99"
    "\xe0\xb8\x9b\xe0\xb8\xa3\xe0\xb8\xb0\xe0\xb8\x88\xe0\xb8\xb3\xe0\xb8\x9b\xe0\xb8\xb5.txt",
    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 family.txt",
    "\xe2\x9d\xa4\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x94\xa5 fire.txt",
    "1\xef\xb8\x8f\xe2\x83\xa3 first.txt",
    "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88 pride.txt",
    "\xe2\x9d\xa4\xef\xb8\x8f.txt",
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

/* A display name is never a name the library would object to: claimed
 * again, it draws no filename finding and no note.filename. */
static void check_clean(imsafe_ctx *ctx, const imsafe_policy *p, const char *display,
                        const char *from)
{
    imsafe_result *r = judge(ctx, p, display);
    TU_CHECK(!is_filename_reason(imsafe_result_reason(r)) &&
                 !tu_has_note(r, IMSAFE_R_NOTE_FILENAME),
             "display name \"%s\" (of \"%s\") draws %s", display, from,
             tu_has_note(r, IMSAFE_R_NOTE_FILENAME) ? "note.filename"
                                                    : imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
}

static void test_repaired(imsafe_ctx *ctx, const imsafe_policy *p)
{
    for (size_t i = 0; i < sizeof repaired / sizeof repaired[0]; i++) {
        imsafe_result *r = judge(ctx, p, repaired[i].name);
        TU_CHECK(imsafe_result_reason(r) == repaired[i].want, "repaired %zu: got %s, want %s", i,
                 imsafe_reason_name(imsafe_result_reason(r)),
                 imsafe_reason_name(repaired[i].want));
        if (imsafe_result_verdict(r) != IMSAFE_REJECTED) {
            TU_CHECK(tu_has_note(r, IMSAFE_R_NOTE_FILENAME), "repaired %zu: no note.filename", i);
            TU_CHECK(strstr(imsafe_result_detail(r), imsafe_reason_name(repaired[i].finding)),
                     "repaired %zu: detail \"%s\" lacks %s", i, imsafe_result_detail(r),
                     imsafe_reason_name(repaired[i].finding));
        }
        TU_CHECK(strcmp(imsafe_result_display_name(r), repaired[i].display) == 0,
                 "repaired %zu: display \"%s\", want \"%s\"", i, imsafe_result_display_name(r),
                 repaired[i].display);
        check_clean(ctx, p, imsafe_result_display_name(r), repaired[i].name);
        imsafe_result_free(r);
    }
    /* the display names of rejected and ordinary names are clean too */
    for (size_t i = 0; i < sizeof findings / sizeof findings[0]; i++) {
        imsafe_result *r = judge(ctx, p, findings[i].name);
        check_clean(ctx, p, imsafe_result_display_name(r), findings[i].name);
        imsafe_result_free(r);
    }
    for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++)
        check_clean(ctx, p, ordinary[i], ordinary[i]);
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

/* A name over the limit: accepted with note.filename (filename.too_long),
 * its display name exactly want_len bytes, ending in tail. */
static void check_long(imsafe_ctx *ctx, const imsafe_policy *p, const char *name,
                       const char *tail, size_t want_len)
{
    imsafe_result *r = judge(ctx, p, name);
    const char *d = imsafe_result_display_name(r);
    size_t l = strlen(d), tl = strlen(tail);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED && tu_has_note(r, IMSAFE_R_NOTE_FILENAME) &&
                 strstr(imsafe_result_detail(r), "filename.too_long") != NULL,
             "%zu-byte name: %s (%s)", strlen(name), imsafe_reason_name(imsafe_result_reason(r)),
             imsafe_result_detail(r));
    TU_CHECK(l == want_len && l >= tl && strcmp(d + l - tl, tail) == 0,
             "%zu-byte name: display name of %zu bytes, want %zu ending \"%s\"", strlen(name), l,
             want_len, tail);
    check_clean(ctx, p, d, "a long name");
    imsafe_result_free(r);
}

static void test_length(imsafe_ctx *ctx, const imsafe_policy *p)
{
    char name[700];
    imsafe_policy *p16 = tu_policy("max_filename_bytes = 16\n");
    memset(name, 'a', sizeof name);
    strcpy(name + 251, ".txt"); /* 255 bytes: the default limit exactly */
    imsafe_result *r = judge(ctx, p, name);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "255-byte name: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    strcpy(name + 252, ".txt"); /* 256: repaired, cut keeping the extension */
    check_long(ctx, p, name, "aaaa.txt", 255);
    r = judge(ctx, p16, "sixteen-byte.txt");
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "16 bytes under limit 16: %s",
             imsafe_reason_name(imsafe_result_reason(r)));
    imsafe_result_free(r);
    check_long(ctx, p16, "seventeen-by.txt1", "seventeen-b.txt1", 16);
    /* the cut never leaves padding before the extension */
    memset(name, 'a', 249);
    strcpy(name + 249, "     bbbbbbbbbb.txt");
    check_long(ctx, p, name, "aaaa.txt", 253);
    memset(name, 'a', 248);
    strcpy(name + 248, "\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80" "bbbbbbbbbb.txt"); /* U+3000 */
    check_long(ctx, p, name, "aaaa.txt", 252);
    /* 300 two-byte characters: cut on a character boundary, .txt kept */
    for (int i = 0; i < 300; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    strcpy(name + 600, ".txt");
    check_long(ctx, p, name, "\xc3\xa9.txt", 254);
    /* a policy allowing long names: no finding, but the display name still
     * fits the result (255 bytes) and keeps its extension */
    imsafe_policy *p4k = tu_policy("max_filename_bytes = 4096\n");
    memset(name, 'a', 296);
    strcpy(name + 296, ".txt");
    r = judge(ctx, p4k, name);
    TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED && !tu_has_note(r, IMSAFE_R_NOTE_FILENAME),
             "300 bytes under limit 4096: %s", imsafe_reason_name(imsafe_result_reason(r)));
    TU_CHECK(strlen(imsafe_result_display_name(r)) == 255 &&
                 strcmp(imsafe_result_display_name(r) + 251, ".txt") == 0,
             "300 bytes under limit 4096: display name of %zu bytes",
             strlen(imsafe_result_display_name(r)));
    imsafe_result_free(r);
    imsafe_policy_unref(p4k);
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
    /* names that deceive keep their last extension, nothing else that
     * deceives: dots but the last, '%' and padding become '_' */
    check_display(ctx, p, "../../etc/passwd", "_._etc_passwd");
    check_display(ctx, p, "invoice.pdf.exe", "invoice_pdf.exe");
    check_display(ctx, p, "invoice.pdf      .exe", "invoice_pdf_.exe");
    check_display(ctx, p, "photo.jpg___________.exe", "photo_jpg_.exe");
    check_display(ctx, p, "notes....txt", "notes_.txt");
    check_display(ctx, p, "a%2Fb.txt", "a_2Fb.txt");
    check_display(ctx, p, "..", "_");
    check_display(ctx, p, "a\x01\x1b[2Jb.txt", "a[2Jb.txt");
    check_display(ctx, p, "a\xc2\x85z.txt", "az.txt");
    check_display(ctx, p, "a\xff\xfe.txt", "a__.txt");
    check_display(ctx, p, "a\xc0\xae.txt", "a__.txt");
    check_display(ctx, p, "x\xe2\x80\x8by\xef\xbb\xbf.txt", "xy.txt"); /* ZWSP, BOM */
    check_display(ctx, p, "\xe2\x80\xae", "_");                        /* only RTLO */
    check_display(ctx, p, "\x01\x02", "_");
    check_display(ctx, p, "r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf");

    /* 300 two-byte characters, no extension: cut on a character boundary */
    char name[700];
    for (int i = 0; i < 300; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[600] = '\0';
    imsafe_result *r = judge(ctx, p, name);
    const char *got = imsafe_result_display_name(r);
    size_t l = strlen(got);
    TU_CHECK(l == 254 && printable_utf8(got), "long display name: %zu bytes", l);
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
        "docs/", "a.bat.txt", "js/", "shell", "archive.tar.gz", "x.jsx", "x.shx",
        /* directory entries run nothing, whatever their names look like */
        "vendor/github.com/", "setup.exe/", "golang.org/x/sys.bat/"};
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
    /* a trailing backslash is a directory to some readers and part of a
     * file name to others: one archive must read the same everywhere */
    size_t nb = one_entry_zip(z, "a\\b.com\\");
    imsafe_result *rb = tu_sanitize(ctx, p, z, nb, zipname, NULL);
    TU_CHECK(imsafe_result_reason(rb) == IMSAFE_R_ARCHIVE_AMBIGUOUS,
             "entry a\\b.com\\: %s, want archive.ambiguous",
             imsafe_reason_name(imsafe_result_reason(rb)));
    imsafe_result_free(rb);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = one_entry_zip(z, good[i]);
        imsafe_result *r = tu_sanitize(ctx, p, z, n, zipname, NULL);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "entry \"%s\": %s (%s)", good[i],
                 imsafe_reason_name(imsafe_result_reason(r)), imsafe_result_detail(r));
        imsafe_result_free(r);
    }
}

/*
 * One table for every level.  Each name runs (or is rendered as markup)
 * when opened: a text payload under it is refused at the top level for
 * what the name does, and as a ZIP entry it is a dangerous entry.  The
 * first rows are the names the two former lists disagreed on.
 */
static void test_one_table(imsafe_ctx *ctx, const imsafe_policy *p)
{
    const imsafe_reason S = IMSAFE_R_TYPE_SCRIPT, A = IMSAFE_R_TYPE_ACTIVE_CONTENT;
    static const struct named runs[] = {
        {"x.reg", IMSAFE_R_TYPE_SCRIPT}, {"x.url", IMSAFE_R_TYPE_SCRIPT},
        {"x.scf", IMSAFE_R_TYPE_SCRIPT}, {"setup.inf", IMSAFE_R_TYPE_SCRIPT},
        {"app.desktop", IMSAFE_R_TYPE_SCRIPT}, {"x.command", IMSAFE_R_TYPE_SCRIPT},
        {"x.bash", IMSAFE_R_TYPE_SCRIPT}, {"x.psm1", IMSAFE_R_TYPE_SCRIPT},
        {"x.mjs", IMSAFE_R_TYPE_SCRIPT}, {"x.wsh", IMSAFE_R_TYPE_SCRIPT},
        {"x.appref-ms", IMSAFE_R_TYPE_EXECUTABLE}, {"x.py", IMSAFE_R_TYPE_SCRIPT},
        {"x.pyw", IMSAFE_R_TYPE_SCRIPT}, {"x.pl", IMSAFE_R_TYPE_SCRIPT},
        {"x.wsb", IMSAFE_R_TYPE_SCRIPT}, {"x.website", IMSAFE_R_TYPE_SCRIPT},
        /* web shells (PayloadsAllTheThings "Upload Insecure Files") */
        {"shell.php", IMSAFE_R_TYPE_SCRIPT}, {"shell.PHP5", IMSAFE_R_TYPE_SCRIPT},
        {"x.php3", IMSAFE_R_TYPE_SCRIPT}, {"x.php4", IMSAFE_R_TYPE_SCRIPT},
        {"x.php7", IMSAFE_R_TYPE_SCRIPT}, {"x.php8", IMSAFE_R_TYPE_SCRIPT},
        {"x.phtml", IMSAFE_R_TYPE_SCRIPT}, {"x.phar", IMSAFE_R_TYPE_SCRIPT},
        {"x.phpt", IMSAFE_R_TYPE_SCRIPT}, {"x.pht", IMSAFE_R_TYPE_SCRIPT},
        {"x.asp", IMSAFE_R_TYPE_SCRIPT}, {"x.aspx", IMSAFE_R_TYPE_SCRIPT},
        {"x.ashx", IMSAFE_R_TYPE_SCRIPT}, {"x.asmx", IMSAFE_R_TYPE_SCRIPT},
        {"x.soap", IMSAFE_R_TYPE_SCRIPT}, {"x.xamlx", IMSAFE_R_TYPE_SCRIPT},
        {"x.cer", IMSAFE_R_TYPE_EXECUTABLE}, {"x.jsp", IMSAFE_R_TYPE_SCRIPT},
        {"x.jspx", IMSAFE_R_TYPE_SCRIPT}, {"x.cfm", IMSAFE_R_TYPE_SCRIPT},
        {"x.shtml", IMSAFE_R_TYPE_SCRIPT}, {"x.stm", IMSAFE_R_TYPE_SCRIPT},
        {".htaccess", IMSAFE_R_TYPE_SCRIPT}, {"web.config", IMSAFE_R_TYPE_SCRIPT},
        /* Outlook Level 1 and Gmail */
        {"x.hta", IMSAFE_R_TYPE_ACTIVE_CONTENT}, {"disk.iso", IMSAFE_R_TYPE_EXECUTABLE},
        {"pkg.msi", IMSAFE_R_TYPE_EXECUTABLE}, {"x.chm", IMSAFE_R_TYPE_EXECUTABLE},
        {"x.settingcontent-ms", IMSAFE_R_TYPE_EXECUTABLE}, {"page.ps", IMSAFE_R_TYPE_SCRIPT},
    };
    /* names that mean markup: a browser renders the text as HTML or SVG */
    static const char *const markup[] = {"x.htm", "x.html", "x.shtm", "x.xht", "x.xhtml",
                                         "x.mht", "x.mhtml", "x.svg", "x.svgz", "x.xml"};
    unsigned char z[1024];
    char zipname[] = "test.zip";
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        imsafe_result *r = judge(ctx, p, runs[i].name);
        TU_CHECK(imsafe_result_reason(r) == runs[i].want, "text named %s: %s, want %s",
                 runs[i].name, imsafe_reason_name(imsafe_result_reason(r)),
                 imsafe_reason_name(runs[i].want));
        imsafe_result_free(r);
        size_t n = one_entry_zip(z, runs[i].name);
        r = tu_sanitize(ctx, p, z, n, zipname, NULL);
        TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY,
                 "entry %s: %s, want archive.dangerous_entry", runs[i].name,
                 imsafe_reason_name(imsafe_result_reason(r)));
        imsafe_result_free(r);
    }
    for (size_t i = 0; i < sizeof markup / sizeof markup[0]; i++) {
        imsafe_result *r = judge(ctx, p, markup[i]);
        TU_CHECK(imsafe_result_reason(r) == (i == 2 ? S : A), "text named %s: %s", markup[i],
                 imsafe_reason_name(imsafe_result_reason(r)));
        imsafe_result_free(r);
    }
    /* a double extension hides a web shell at the top level too */
    static const char *const hidden[] = {"shell.jpg.php", "shell.png.phtml", "a.pdf.reg",
                                         "a.txt.url", "a.docx.hta"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        imsafe_result *r = judge(ctx, p, hidden[i]);
        TU_CHECK(imsafe_result_reason(r) == IMSAFE_R_FILENAME_HIDDEN_EXTENSION, "%s: %s",
                 hidden[i], imsafe_reason_name(imsafe_result_reason(r)));
        imsafe_result_free(r);
    }
}

/* ------------------------------------------------------------- fixtures */

/* Real payloads from tests/gen/gen_types.py under claimed names: the
 * verdict, the detected type (reported even when the name rejects) and the
 * display name (the output's extension for a rebuilt image). */
static const struct {
    const char *fixture, *name, *mime, *policy;
    imsafe_verdict verdict;
    imsafe_type type, out_type;
    const char *display;
} fixture_names[] = {
    {"favicon.ico", "favicon.ico", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_PNG,
     IMSAFE_TYPE_PNG, "favicon.png"},
    {"sticker.webp", "sticker.webp", "image/webp", NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG,
     IMSAFE_TYPE_JPEG, "sticker.jpg"},
    {"photo.jpg", "sticker.webp.", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG,
     IMSAFE_TYPE_JPEG, "sticker.jpg"},
    {"photo.jpg", "con.webp", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG, IMSAFE_TYPE_JPEG,
     "con_.jpg"},
    {"photo.jpg", "con.jpg", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG, IMSAFE_TYPE_JPEG,
     "con_.jpg"},
    {"photo.jpg", "photo.jpg. ", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG,
     IMSAFE_TYPE_JPEG, "photo.jpg"},
    {"photo.jpg", "PHOTO.JFIF", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG, IMSAFE_TYPE_JPEG,
     "PHOTO.JFIF"},
    {"photo.jpg", "photo.jpeg", "image/png", NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG,
     IMSAFE_TYPE_JPEG, "photo.jpeg"},
    {"photo.jpg", "photo", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG, IMSAFE_TYPE_JPEG,
     "photo"},
    {"photo.jpg", "photo.holiday", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_JPEG,
     IMSAFE_TYPE_JPEG, "photo.holiday"},
    {"anim.gif", "anim.gif", NULL, NULL, IMSAFE_SANITIZED, IMSAFE_TYPE_GIF, IMSAFE_TYPE_GIF,
     "anim.gif"},
    {"anim.gif", "anim.gif", NULL, "gif_to_png = yes\n", IMSAFE_SANITIZED, IMSAFE_TYPE_GIF,
     IMSAFE_TYPE_PNG, "anim.png"},
    {"anim.gif", "anim.webp", NULL, "gif_to_png = yes\n", IMSAFE_SANITIZED, IMSAFE_TYPE_GIF,
     IMSAFE_TYPE_PNG, "anim.png"},
    /* passed as is: the name is the sender's (one HEIF family) */
    {"nokia.heif", "nokia.heif", "image/heif", "action heic = pass\n", IMSAFE_PASSED,
     IMSAFE_TYPE_HEIC, IMSAFE_TYPE_HEIC, "nokia.heif"},
    {"mif1_as.heic", "IMG_0001.HEIC", NULL, "action heif = pass\n", IMSAFE_PASSED,
     IMSAFE_TYPE_HEIF, IMSAFE_TYPE_HEIF, "IMG_0001.HEIC"},
    /* rejected for the name, by type or by policy: the type is still known */
    {"photo.png", "photo\xe2\x80\xaegnp.exe", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_PNG,
     IMSAFE_TYPE_PNG, "photognp.exe"},
    {"document.pdf", "invoice.pdf.exe", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_PDF,
     IMSAFE_TYPE_PDF, "invoice_pdf.exe"},
    {"notes.txt", "../../notes.txt", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_TEXT,
     IMSAFE_TYPE_TEXT, ".._.._notes.txt"},
    {"exe_as_png.png", "a/photo.png", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_PE,
     IMSAFE_TYPE_PE, "a_photo.png"},
    {"pdf_as_ico.ico", "pdf_as_ico.ico", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_PDF,
     IMSAFE_TYPE_PDF, "pdf_as_ico.ico"},
    {"photo.png", "photo.png", "text/html", NULL, IMSAFE_REJECTED, IMSAFE_TYPE_PNG,
     IMSAFE_TYPE_PNG, "photo.png"},
    {"nokia.heif", "nokia.heif", NULL, NULL, IMSAFE_REJECTED, IMSAFE_TYPE_HEIC,
     IMSAFE_TYPE_HEIC, "nokia.heif"},
};

static void test_fixture_names(imsafe_ctx *ctx)
{
    const char *dir = tu_env("IMSAFE_FIXTURES");
    for (size_t i = 0; i < sizeof fixture_names / sizeof fixture_names[0]; i++) {
        char path[4096];
        size_t n;
        tu_fmt(path, "%s/types/%s", dir, fixture_names[i].fixture);
        unsigned char *in = tu_read_file(path, &n);
        if (in == NULL)
            tu_die("cannot read a fixture made by tests/gen/gen_types.py");
        imsafe_policy *p = tu_policy(fixture_names[i].policy);
        imsafe_result *r = tu_sanitize(ctx, p, in, n, fixture_names[i].name,
                                       fixture_names[i].mime);
        TU_CHECK(imsafe_result_verdict(r) == fixture_names[i].verdict,
                 "fixture row %zu (%s): %s %s (%s)", i, fixture_names[i].fixture,
                 imsafe_verdict_name(imsafe_result_verdict(r)),
                 imsafe_reason_name(imsafe_result_reason(r)), imsafe_result_detail(r));
        TU_CHECK(imsafe_result_type(r) == fixture_names[i].type &&
                     imsafe_result_output_type(r) == fixture_names[i].out_type,
                 "fixture row %zu (%s): type %s, output type %s", i, fixture_names[i].fixture,
                 imsafe_type_name(imsafe_result_type(r)),
                 imsafe_type_name(imsafe_result_output_type(r)));
        TU_CHECK(strcmp(imsafe_result_display_name(r), fixture_names[i].display) == 0,
                 "fixture row %zu (%s): display \"%s\", want \"%s\"", i,
                 fixture_names[i].fixture, imsafe_result_display_name(r),
                 fixture_names[i].display);
        imsafe_result_free(r);
        imsafe_policy_unref(p);
        free(in);
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
    test_repaired(ctx, p);
    test_note_policy(ctx);
    test_length(ctx, p);
    test_display(ctx, p);
    test_dangerous_names(ctx, p);
    test_one_table(ctx, p);
    test_fixture_names(ctx);
    imsafe_policy_unref(p);
    imsafe_ctx_free(ctx);
    return tu_finish();
}
