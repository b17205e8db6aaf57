/*
 * filename.c - checks on the name a sender claims for an attachment, and
 * the safe display name the result carries.
 *
 * The claimed name never decides the type (sniff.c does), but a receiving
 * client shows it, saves under it and may open by its extension.  Each
 * finding below is an attack seen through messengers and mail:
 *
 *   filename.invalid_utf8       overlongs ("%c0%ae" style "."), surrogates
 *                               and > U+10FFFF decode differently per client
 *   filename.control            C0, DEL and C1 controls: terminal escapes,
 *                               log injection, names cut at a NUL
 *   filename.bidi               U+202A-202E, U+2066-2069, U+200E/200F, U+061C:
 *                               "photo\u202Egnp.exe" shows as "photoexe.png"
 *   filename.invisible          soft hyphen, zero width space, word joiner,
 *                               fillers, variation selectors, tag characters:
 *                               "Invoice.pdf\u00AD.reg" shows as
 *                               "Invoice.pdf.reg"; joiners that Persian,
 *                               Indic and emoji names need are allowed
 *                               inside a word (joiner_ok)
 *   filename.traversal          a ".." component ("../../.bashrc")
 *   filename.absolute           "/etc/x", "\\server\share", "C:x"
 *   filename.separator          '/', '\' or ':' (':' is NTFS's stream
 *                               separator: "notes.txt:evil.exe")
 *   filename.percent_encoded    %00, controls, %2f, %5c, %3a, %2e%2e: decoded
 *                               by a web front end after our check
 *   filename.reserved           CON PRN AUX NUL COM0-9 LPT0-9 (and the
 *                               superscript digits), CONIN$ CONOUT$ CLOCK$,
 *                               with any extension: Windows opens the device
 *   filename.trailing           trailing dots or spaces, stripped by Windows
 *                               ("evil.exe." saves as "evil.exe")
 *   filename.padding            spaces, dots, underscores or Unicode blanks
 *                               pushing the real extension out of view
 *   filename.hidden_extension   an executable extension behind a harmless
 *                               one ("invoice.pdf.exe")
 *   filename.too_long           over IMSAFE_OPT_MAX_FILENAME_BYTES
 *
 * Three of them are about file systems only and deceive no one: reserved,
 * trailing and too_long.  They are repaired in the display name ("con.jpg"
 * shows as "con_.jpg", "photo.jpg. " as "photo.jpg", a long name is cut
 * keeping its extension) with note.filename, unless the name as a file
 * system stores it also deceives ("invoice.pdf.exe." hides an executable).
 * The others reject under the default policy (imsafe__filename_judge).
 *
 * The display name (imsafe__filename_display) is what a host may show and
 * save under: it never has a finding of its own, and a rebuilt image's
 * name carries the output's extension ("sticker.webp" that is a JPEG shows
 * as "sticker.jpg").  The pipeline compares its extension, not the raw
 * name's, with the content, so "run.bat." is judged as "run.bat".
 *
 * A plain executable name ("setup.exe") is not a finding here: the pipeline
 * judges it against the content through the one extension table in sniff.c
 * (imsafe__ext_lookup).  imsafe__name_is_dangerous() reads the same table
 * for archive entries (zip.c) and the hidden-extension finding.
 *
 * Nothing here allocates: names are walked in place, the display name is
 * written into a caller's fixed buffer.
 */
#include <string.h>

#include "imsafe_private.h"

/* Longest extension the table holds ("searchconnector-ms"), plus slack. */
#define EXT_MAX 24

/* ------------------------------------------------------------ UTF-8 */

/*
 * Decode one code point strictly (RFC 3629): no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF.  Returns the sequence length (1-4),
 * or 0 for an invalid sequence.  n is the number of bytes available.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, c = s[0] & 0x1f, min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, c = s[0] & 0x0f, min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5-FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

static int is_control(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

/* Unicode bidirectional formatting characters (UAX #9): embeddings and
 * overrides, isolates, the implicit marks and the Arabic letter mark. */
static int is_bidi(uint32_t c)
{
    return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
           c == 0x200f || c == 0x061c;
}

/*
 * Invisible and format characters (Trojan Source, CVE-2021-42574): they
 * render as nothing, so "Invoice.pdf<U+00AD>.reg" shows as
 * "Invoice.pdf.reg" while no extension check sees "pdf".  The soft hyphen,
 * the grapheme joiner, Hangul and Mongolian fillers, Khmer inherent vowels,
 * zero width space, line and paragraph separators, word joiner and the
 * invisible operators, variation selectors 1-14 and the supplement's, the
 * BOM, interlinear annotation marks, musical format controls and the tag
 * block.  The joiners and emoji selectors are judged by joiner_ok().
 */
static int is_invisible(uint32_t c)
{
    return c == 0x00ad || c == 0x034f || c == 0x115f || c == 0x1160 || c == 0x17b4 ||
           c == 0x17b5 || c == 0x180e || c == 0x200b || c == 0x2028 || c == 0x2029 ||
           (c >= 0x2060 && c <= 0x206f) || c == 0x3164 || (c >= 0xfe00 && c <= 0xfe0d) ||
           c == 0xfeff || c == 0xffa0 || (c >= 0xfff9 && c <= 0xfffb) ||
           (c >= 0x1d173 && c <= 0x1d17a) || (c >= 0xe0000 && c <= 0xe007f) ||
           (c >= 0xe0100 && c <= 0xe01ef);
}

static int is_joiner(uint32_t c)
{
    return c == 0x200c || c == 0x200d || c == 0xfe0e || c == 0xfe0f;
}

/* Blank characters other than the ASCII space, used to pad names: NBSP, the
 * U+2000 block (en quad .. zero width space), narrow NBSP, math space,
 * ideographic space, Hangul fillers, braille blank, BOM. */
static int is_unicode_blank(uint32_t c)
{
    return c == 0x00a0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) || c == 0x202f ||
           c == 0x205f || c == 0x3000 || c == 0x3164 || c == 0x115f || c == 0x1160 ||
           c == 0x2800 || c == 0xfeff || c == 0xffa0;
}

/* A visible character of a non-Latin script or an emoji: what joiners and
 * selectors may stand beside. */
static int is_visible_wide(uint32_t c)
{
    return c >= 0xa0 && !is_control(c) && !is_bidi(c) && !is_invisible(c) && !is_joiner(c) &&
           !is_unicode_blank(c);
}

/*
 * The joiners real names need: U+200C/U+200D inside a Persian or Indic word
 * or an emoji sequence (between two visible non-ASCII characters, or after
 * an emoji's selector), and U+FE0E/U+FE0F right after the emoji they select
 * (or a keycap digit before U+20E3).  Never in the extension, never beside
 * a dot, a space or an ASCII letter, so no ASCII extension can be split by
 * one ("p<ZWJ>df").  A selector may end a stem ("<heart><FE0F>.png"): it
 * belongs to the emoji before it.  prev/next: the neighbouring code points,
 * 0 at either end.
 */
static int joiner_ok(uint32_t c, uint32_t prev, uint32_t next, int in_ext)
{
    if (in_ext)
        return 0;
    if (c == 0x200c || c == 0x200d)
        return (is_visible_wide(prev) || prev == 0xfe0f || prev == 0xfe0e) &&
               is_visible_wide(next);
    if (next == 0x20e3 && ((prev >= '0' && prev <= '9') || prev == '#' || prev == '*'))
        return 1;
    return is_visible_wide(prev);
}

static int is_sep(unsigned char c)
{
    return c == '/' || c == '\\';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Case-insensitive: does s[0..n) equal the NUL-terminated lower-case word? */
static int eq_word(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    if (n != wl)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}

static int in_list(const char *s, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (eq_word(s, n, list[i]))
            return 1;
    return 0;
}

/* ------------------------------------------------------- extension lists */

/*
 * Extensions come from the one table in sniff.c (imsafe__ext_lookup): what
 * runs there is what an archive entry may not be named and what a hidden
 * extension hides; what is trusted there is what it hides behind.
 */
static int ext_has(const char *ext, size_t len, unsigned flag)
{
    const struct imsafe__ext *e = imsafe__ext_lookup(ext, len);
    return e != NULL && (e->flags & flag) != 0;
}

/* The final extension of name[0..len) (after the last '.'), or NULL.  A
 * leading dot counts: Windows runs a file named ".exe". */
static const char *last_ext(const char *name, size_t len, size_t *ext_len)
{
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '.') {
            *ext_len = len - i;
            return name + i;
        }
    }
    return NULL;
}

int imsafe__name_is_dangerous(const char *name, size_t len)
{
    if (name == NULL)
        return 0;
    /* Windows strips trailing dots and spaces ("evil.exe. " runs as
     * evil.exe); archive directory entries end in a separator. */
    while (len > 0 && (name[len - 1] == '.' || name[len - 1] == ' ' || is_sep(name[len - 1])))
        len--;
    size_t start = len;
    while (start > 0 && !is_sep(name[start - 1]))
        start--;
    size_t el;
    const char *ext = last_ext(name + start, len - start, &el);
    return ext != NULL && el > 0 && el <= EXT_MAX && ext_has(ext, el, IMSAFE__EXT_RUNS);
}

/* ------------------------------------------------------------ findings */

/* Walk the name once as UTF-8: validity, controls, bidi.  Returns the
 * first of those findings, or NONE. */
static imsafe_reason scan_codepoints(const unsigned char *s, size_t n)
{
    imsafe_reason found = IMSAFE_R_NONE;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = utf8_decode(s + i, n - i, &c);
        if (l == 0)
            return IMSAFE_R_FILENAME_INVALID_UTF8; /* outranks the rest */
        if (found == IMSAFE_R_NONE && is_control(c))
            found = IMSAFE_R_FILENAME_CONTROL;
        else if (found == IMSAFE_R_NONE && is_bidi(c))
            found = IMSAFE_R_FILENAME_BIDI;
        i += l;
    }
    return found;
}

/* An invisible or format character, or a joiner where no word needs it
 * (joiner_ok).  The extension starts after the last '.'. */
static int has_invisible(const unsigned char *s, size_t n)
{
    size_t el, dot = n;
    const char *ext = last_ext((const char *)s, n, &el);
    if (ext != NULL)
        dot = (size_t)(ext - (const char *)s) - 1;
    uint32_t prev = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c, next = 0;
        size_t l = utf8_decode(s + i, n - i, &c);
        if (l == 0)
            return 0; /* filename.invalid_utf8 is reported first */
        if (i + l < n && utf8_decode(s + i + l, n - i - l, &next) == 0)
            next = 0;
        if (is_invisible(c) || (is_joiner(c) && !joiner_ok(c, prev, next, i > dot)))
            return 1;
        prev = c;
        i += l;
    }
    return 0;
}

/* A ".." path component, with either separator. */
static int has_traversal(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || is_sep((unsigned char)s[i])) {
            if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

/* "/x", "\x", "\\server\share", and a drive letter ("C:", "C:\x", "C:x"). */
static int is_absolute(const char *s, size_t n)
{
    if (n >= 1 && is_sep((unsigned char)s[0]))
        return 1;
    return n >= 2 && is_alpha((unsigned char)s[0]) && s[1] == ':';
}

static int has_separator(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_sep((unsigned char)s[i]) || s[i] == ':')
            return 1;
    return 0;
}

/* The byte a "%XX" escape at s[i] encodes, or -1. */
static int pct_at(const char *s, size_t n, size_t i)
{
    if (i >= n || n - i < 3 || s[i] != '%')
        return -1;
    int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

static int pct_bad(int v)
{
    return v >= 0 && (v < 0x20 || v == 0x7f || v == '/' || v == '\\' || v == ':');
}

/*
 * A percent escape a web front end or a client would decode into something
 * this file rejects: NUL and controls, '/', '\', ':', and ".." spelt with at
 * least one "%2e".  Double encoding ("%252f": "%25" then "2f") too.
 */
static int has_percent_encoded(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = pct_at(s, n, i);
        if (v < 0)
            continue;
        if (pct_bad(v))
            return 1;
        if (v == '%' && n - i >= 5) {
            int hi = hexval((unsigned char)s[i + 3]), lo = hexval((unsigned char)s[i + 4]);
            if (hi >= 0 && lo >= 0 && pct_bad(hi * 16 + lo))
                return 1;
        }
        if (v == '.' && (pct_at(s, n, i + 3) == '.' || (i + 3 < n && s[i + 3] == '.') ||
                         (i > 0 && s[i - 1] == '.')))
            return 1;
    }
    return 0;
}

/*
 * Windows device names, matched on the part before the first dot with its
 * trailing spaces removed ("nul .txt" is NUL too), case-insensitively.
 * COM and LPT take 0-9 and the superscript digits 1-3 (U+00B9, U+00B2,
 * U+00B3), which Windows also maps to devices.
 */
static int is_reserved(const char *s, size_t n)
{
    static const char *const devices[] = {"con", "prn", "aux", "nul", "conin$", "conout$",
                                          "clock$", NULL};
    size_t stem = 0;
    while (stem < n && s[stem] != '.')
        stem++;
    while (stem > 0 && s[stem - 1] == ' ')
        stem--;
    if (in_list(s, stem, devices))
        return 1;
    if (stem < 4 || !(eq_word(s, 3, "com") || eq_word(s, 3, "lpt")))
        return 0;
    const unsigned char *d = (const unsigned char *)s + 3;
    if (stem == 4 && d[0] >= '0' && d[0] <= '9')
        return 1;
    return stem == 5 && d[0] == 0xc2 && (d[1] == 0xb9 || d[1] == 0xb2 || d[1] == 0xb3);
}

static int has_trailing(const char *s, size_t n)
{
    return n > 0 && (s[n - 1] == '.' || s[n - 1] == ' ');
}

/* Walk back from s[end) over padding characters; returns counts. */
static void pad_run_before(const unsigned char *s, size_t end, size_t *run, size_t *unicode)
{
    *run = *unicode = 0;
    size_t i = end;
    while (i > 0) {
        if (s[i - 1] == ' ' || s[i - 1] == '.' || s[i - 1] == '_') {
            (*run)++;
            i--;
            continue;
        }
        /* step back over one UTF-8 sequence (the name is valid UTF-8 here) */
        size_t j = i - 1;
        while (j > 0 && (s[j] & 0xc0) == 0x80)
            j--;
        uint32_t c;
        if (utf8_decode(s + j, i - j, &c) != i - j || !is_unicode_blank(c))
            return;
        (*run)++;
        (*unicode)++;
        i = j;
    }
}

/*
 * Padding before an extension: the stem ends in three or more of ' ', '.',
 * '_', or in any Unicode blank ("photo.jpg\u3000.exe"); or the name holds
 * eight or more blanks in a row anywhere ("a.pdf        x.exe").  One or two
 * are common in real names ("draft_.pdf", "notes .txt").
 */
static int has_padding(const char *name, size_t n)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t el, run, uni;
    const char *ext = last_ext(name, n, &el);
    if (ext != NULL && el > 0) {
        pad_run_before(s, (size_t)(ext - 1 - name), &run, &uni);
        if (run >= 3 || uni > 0)
            return 1;
    }
    size_t blanks = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = utf8_decode(s + i, n - i, &c);
        if (l == 0)
            return 0;
        blanks = (c == ' ' || is_unicode_blank(c)) ? blanks + 1 : 0;
        if (blanks >= 8)
            return 1;
        i += l;
    }
    return 0;
}

/* "invoice.pdf.exe": a dangerous final extension right behind a harmless
 * one (trailing '_' and ' ' of the first one ignored). */
static int has_hidden_extension(const char *s, size_t n)
{
    size_t el, pl;
    const char *ext = last_ext(s, n, &el);
    if (ext == NULL || !imsafe__name_is_dangerous(s, n))
        return 0;
    size_t stem = (size_t)(ext - 1 - s);
    const char *prev = last_ext(s, stem, &pl);
    if (prev == NULL)
        return 0;
    while (pl > 0 && (prev[pl - 1] == ' ' || prev[pl - 1] == '_'))
        pl--;
    return pl > 0 && ext_has(prev, pl, IMSAFE__EXT_TRUSTED);
}

/* Path and character findings, in the order they are reported: "../x" is
 * traversal though it also holds a separator; "/etc/x" is absolute. */
static imsafe_reason path_finding(const char *name, size_t n)
{
    imsafe_reason r = scan_codepoints((const unsigned char *)name, n);
    if (r != IMSAFE_R_NONE)
        return r;
    if (has_invisible((const unsigned char *)name, n))
        return IMSAFE_R_FILENAME_INVISIBLE;
    if (has_traversal(name, n))
        return IMSAFE_R_FILENAME_TRAVERSAL;
    if (is_absolute(name, n))
        return IMSAFE_R_FILENAME_ABSOLUTE;
    if (has_separator(name, n))
        return IMSAFE_R_FILENAME_SEPARATOR;
    if (has_percent_encoded(name, n))
        return IMSAFE_R_FILENAME_PERCENT_ENCODED;
    return IMSAFE_R_NONE;
}

/* The first finding of name[0..n), in the documented order. */
static imsafe_reason first_finding(const char *name, size_t n, size_t max_bytes)
{
    if (n == 0)
        return IMSAFE_R_NONE;
    imsafe_reason r = path_finding(name, n);
    if (r != IMSAFE_R_NONE)
        return r;
    if (is_reserved(name, n))
        return IMSAFE_R_FILENAME_RESERVED;
    if (has_trailing(name, n))
        return IMSAFE_R_FILENAME_TRAILING;
    /* padding first: "a.pdf      .exe" is padding hiding an extension */
    if (has_padding(name, n))
        return IMSAFE_R_FILENAME_PADDING;
    if (has_hidden_extension(name, n))
        return IMSAFE_R_FILENAME_HIDDEN_EXTENSION;
    if (n > max_bytes)
        return IMSAFE_R_FILENAME_TOO_LONG;
    return IMSAFE_R_NONE;
}

imsafe_reason imsafe__filename_finding(const char *name, size_t max_bytes)
{
    if (name == NULL)
        return IMSAFE_R_NONE;
    return first_finding(name, strlen(name), max_bytes);
}

/* Findings about file systems only: Windows would open a device, drop the
 * trailing dots and spaces, or refuse a long name, but the name deceives no
 * one.  The display name repairs them. */
static int fs_only(imsafe_reason r)
{
    return r == IMSAFE_R_FILENAME_RESERVED || r == IMSAFE_R_FILENAME_TRAILING ||
           r == IMSAFE_R_FILENAME_TOO_LONG;
}

/* Trailing dots and spaces removed: the name Windows stores. */
static size_t strip_trailing(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '.' || s[n - 1] == ' '))
        n--;
    return n;
}

/*
 * The findings that deceive a person are judged on the name as a file
 * system stores it (trailing dots and spaces dropped): "invoice.pdf.exe."
 * hides an executable although its first finding is the trailing dot.  A
 * device name gets a '_' in the display name, which changes no other
 * finding, so it needs no repair here.
 */
imsafe_reason imsafe__filename_judge(const char *name, size_t max_bytes, imsafe_reason *repaired)
{
    *repaired = IMSAFE_R_NONE;
    if (name == NULL)
        return IMSAFE_R_NONE;
    size_t n = strlen(name);
    imsafe_reason first = first_finding(name, n, max_bytes);
    if (first == IMSAFE_R_NONE || !fs_only(first))
        return first;
    size_t m = strip_trailing(name, n);
    imsafe_reason r = path_finding(name, m);
    if (r == IMSAFE_R_NONE && m > 0 && has_padding(name, m))
        r = IMSAFE_R_FILENAME_PADDING;
    if (r == IMSAFE_R_NONE && m > 0 && has_hidden_extension(name, m))
        r = IMSAFE_R_FILENAME_HIDDEN_EXTENSION;
    if (r == IMSAFE_R_NONE)
        *repaired = first;
    return r;
}

void imsafe__filename_check(struct imsafe__job *job, const char *name)
{
    int64_t max = imsafe__opt(job->policy, IMSAFE_OPT_MAX_FILENAME_BYTES);
    size_t lim = max > 0 ? (size_t)max : 0;
    /* reason names are constant strings: the detail never echoes the name */
    if (imsafe__opt(job->policy, IMSAFE_OPT_FILENAME_FINDINGS) == IMSAFE_FINDINGS_NOTE) {
        imsafe_reason r = imsafe__filename_finding(name, lim);
        if (r == IMSAFE_R_NONE)
            return;
        imsafe__note(job, IMSAFE_R_NOTE_FILENAME);
        imsafe__detail(job, "claimed name: %s%s", imsafe_reason_name(r),
                       fs_only(r) ? ", repaired in the display name" : "");
        return;
    }
    imsafe_reason fs;
    imsafe_reason r = imsafe__filename_judge(name, lim, &fs);
    if (r != IMSAFE_R_NONE) {
        imsafe__reject(job, r, "%s", imsafe_reason_meaning(r));
        return;
    }
    if (fs != IMSAFE_R_NONE) {
        imsafe__note(job, IMSAFE_R_NOTE_FILENAME);
        imsafe__detail(job, "claimed name: %s, repaired in the display name",
                       imsafe_reason_name(fs));
    }
}

/* ---------------------------------------------------------- display name */

/*
 * The display name is built in a work buffer: the sanitized name (whole
 * characters), cut at WORK_MAX bytes of stem when longer, plus its
 * extension.  WORK_MAX is above any display limit (the result holds 255
 * bytes), so a cut stem is shortened further anyway.
 */
#define WORK_MAX 1024
#define WORK_SIZE (WORK_MAX + EXT_MAX + 16)

/* Sanitize name[from..to) into w[o..cap-1), whole characters only:
 * invalid bytes and separators become '_', controls, bidi and invisible
 * characters are dropped, and so is a joiner no word needs (judged against
 * the last character kept and the next one of name[0..total)).  Returns
 * the new length. */
static size_t emit(const char *name, size_t total, size_t from, size_t to, int in_ext, char *w,
                   size_t o, size_t cap)
{
    const unsigned char *s = (const unsigned char *)name;
    uint32_t prev = 0;
    for (size_t i = from; i < to;) {
        uint32_t c, next = 0;
        size_t l = utf8_decode(s + i, to - i, &c);
        const char *src = (const char *)s + i;
        size_t wl = l;
        if (l == 0) {
            src = "_", wl = 1, l = 1, c = '_'; /* one invalid byte */
        } else if (is_control(c) || is_bidi(c) || is_invisible(c)) {
            wl = 0;
        } else if (is_joiner(c)) {
            if (i + l >= total || utf8_decode(s + i + l, total - i - l, &next) == 0)
                next = 0;
            if (!joiner_ok(c, o > 0 ? prev : 0, next, in_ext))
                wl = 0;
        } else if (c == '/' || c == '\\' || c == ':') {
            src = "_", c = '_';
        }
        i += l;
        if (o + wl >= cap)
            break;
        memcpy(w + o, src, wl);
        o += wl;
        if (wl > 0)
            prev = c;
    }
    return o;
}

/*
 * The sanitized name into w: the stem up to WORK_MAX bytes, then the
 * extension (at most EXT_MAX bytes), so a name of any length keeps its
 * extension.  Trailing dots and spaces are left out.  Splitting at a '.'
 * decodes exactly as the whole name does: '.' is never part of a UTF-8
 * sequence.
 */
static size_t sanitize_into(const char *name, char *w)
{
    size_t total = strlen(name);
    size_t end = strip_trailing(name, total);
    size_t el = 0;
    const char *ext = last_ext(name, end, &el);
    size_t stem_end = (ext != NULL && el > 0 && el <= EXT_MAX) ? (size_t)(ext - 1 - name) : end;
    size_t o = emit(name, total, 0, stem_end, 0, w, 0, WORK_MAX + 1);
    o = emit(name, total, stem_end, end, 1, w, o, WORK_SIZE);
    w[o] = '\0';
    return o;
}

/* A sanitized name's extension worth keeping: after the last '.', which is
 * not the first byte, 1..EXT_MAX bytes.  Its '.' index, or n. */
static size_t keep_ext_at(const char *w, size_t n)
{
    size_t el;
    const char *ext = last_ext(w, n, &el);
    if (ext == NULL || ext - 1 == w || el == 0 || el > EXT_MAX)
        return n;
    return (size_t)(ext - 1 - w);
}

/* The output's usual extension when the name's extension names another
 * known type ("sticker.webp" that is a JPEG: "sticker.jpg"). */
static size_t true_extension(char *w, size_t n, imsafe_type t)
{
    size_t el;
    const char *ext = last_ext(w, n, &el);
    imsafe_type claimed = imsafe__type_from_extension(w);
    if (t == IMSAFE_TYPE_UNKNOWN || ext == NULL || claimed == IMSAFE_TYPE_UNKNOWN ||
        claimed == t)
        return n;
    const char *te = imsafe_type_ext(t);
    size_t at = (size_t)(ext - w), tl = strlen(te);
    memcpy(w + at, te, tl + 1); /* at + tl < WORK_SIZE: at <= n and tl is short */
    return at + tl;
}

/* "con.jpg" becomes "con_.jpg" ("aux .txt": "aux_.txt"): no device. */
static size_t fix_reserved(char *w, size_t n)
{
    if (!is_reserved(w, n))
        return n;
    size_t dot = 0, word;
    while (dot < n && w[dot] != '.')
        dot++;
    for (word = dot; word > 0 && w[word - 1] == ' ';)
        word--;
    /* word <= dot <= n; the result is at most n + 1 < WORK_SIZE bytes */
    memmove(w + word + 1, w + dot, n - dot + 1);
    w[word] = '_';
    return word + 1 + (n - dot);
}

/* Length of s[0..k) without its trailing padding (' ', '.', '_' and
 * Unicode blanks), so a cut stem does not end in padding. */
static size_t trim_pad(const char *s, size_t k)
{
    size_t run, uni;
    for (;;) {
        if (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '.' || s[k - 1] == '_')) {
            k--;
            continue;
        }
        pad_run_before((const unsigned char *)s, k, &run, &uni);
        if (run == 0)
            return k;
        /* a Unicode blank ends the stem: step back over one character */
        size_t j = k - 1;
        while (j > 0 && ((unsigned char)s[j] & 0xc0) == 0x80)
            j--;
        k = j;
    }
}

/* The start of the character holding byte k of valid UTF-8 w (k itself
 * when it starts one). */
static size_t char_start(const char *w, size_t k)
{
    while (k > 0 && ((unsigned char)w[k] & 0xc0) == 0x80)
        k--;
    return k;
}

/* Within limit bytes: the stem is cut (on a character boundary, without
 * padding at its end) and the extension kept. */
static size_t shorten(char *w, size_t n, size_t limit)
{
    if (n <= limit)
        return n;
    size_t dot = keep_ext_at(w, n), el = n - dot;
    if (dot == n || el >= limit) {
        n = strip_trailing(w, char_start(w, limit));
        w[n] = '\0';
        return n;
    }
    size_t k = trim_pad(w, char_start(w, limit - el));
    if (k == 0)
        w[k++] = '_';
    memmove(w + k, w + dot, el);
    w[k + el] = '\0';
    return k + el;
}

/* Last resort for a name that still has a finding (it deceives): every
 * '.' but the last, '%' and blanks become '_', and runs of '_' fold to one.
 * "invoice.pdf.exe" shows as "invoice_pdf.exe". */
static size_t neutralize(char *w, size_t n)
{
    size_t el, last = n, o = 0;
    if (last_ext(w, n, &el) != NULL)
        last = n - el - 1;
    for (size_t i = 0; i < n;) {
        uint32_t c = 0;
        size_t l = utf8_decode((const unsigned char *)w + i, n - i, &c);
        if (l == 0)
            l = 1; /* cannot happen: w is sanitized */
        int blank = c == ' ' || is_unicode_blank(c);
        if (blank || c == '%' || c == '_' || (c == '.' && i != last)) {
            if (o == 0 || w[o - 1] != '_')
                w[o++] = '_';
        } else {
            memmove(w + o, w + i, l);
            o += l;
        }
        i += l;
    }
    w[o] = '\0';
    return o;
}

/* The file-system repairs and the limit, in order. */
static size_t repair(char *w, size_t n, imsafe_type t, size_t limit)
{
    n = strip_trailing(w, n);
    w[n] = '\0';
    n = true_extension(w, n, t);
    n = fix_reserved(w, n);
    return shorten(w, n, limit);
}

/*
 * A name safe to show and to save under: valid UTF-8, no controls, no
 * bidi or invisible characters, separators and ':' replaced by '_',
 * invalid bytes replaced by '_'; no trailing dots or spaces, no device
 * name, the output's extension when the claimed one names another type,
 * and within min(max_bytes, size - 1) bytes keeping the extension.  The
 * result has no finding of its own; never empty when the input was not
 * ("_" stands in).
 */
void imsafe__filename_display(const char *name, size_t max_bytes, imsafe_type t, char *dst,
                              size_t size)
{
    if (dst == NULL || size == 0)
        return;
    dst[0] = '\0';
    if (name == NULL || name[0] == '\0' || size < 2)
        return;
    size_t limit = max_bytes < size - 1 ? max_bytes : size - 1;
    char w[WORK_SIZE];
    size_t n = repair(w, sanitize_into(name, w), t, limit);
    if (n == 0 || first_finding(w, n, limit) != IMSAFE_R_NONE)
        n = repair(w, neutralize(w, n), IMSAFE_TYPE_UNKNOWN, limit);
    if (n == 0 || first_finding(w, n, limit) != IMSAFE_R_NONE) {
        w[0] = '_';
        n = 1;
    }
    memcpy(dst, w, n);
    dst[n] = '\0';
}
