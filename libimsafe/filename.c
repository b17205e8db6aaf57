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
 * A plain executable name ("setup.exe") is not a finding here: the pipeline
 * judges executables by content and a mismatch between content and name
 * through imsafe__type_from_extension().  imsafe__name_is_dangerous() is the
 * extension list shared by the pipeline and zip.c.
 *
 * Nothing here allocates: names are walked in place, the display name is
 * written into a caller's fixed buffer.
 */
#include <string.h>

#include "imsafe_private.h"

/* Longest extension either list holds ("settingcontent-ms"), plus slack. */
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

/* Invisible characters that render as nothing: dropped from display names. */
static int is_invisible(uint32_t c)
{
    return (c >= 0x200b && c <= 0x200d) || (c >= 0x2060 && c <= 0x2064) || c == 0xfeff ||
           c == 0x00ad;
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
 * Extensions that run code when opened, install software, or point at
 * something that does: Gmail's blocked-attachment list and Outlook's
 * Level 1 list, plus Unix shells, Java/Android code (class, dex, jar, apk,
 * jnlp) and disk images (iso, img, vhd, dmg) that carry executables past
 * mark-of-the-web.
 */
static const char *const dangerous_ext[] = {
    "exe", "dll", "scr", "bat", "cmd", "com", "pif", "cpl", "msi", "msp", "mst", "msix",
    "msixbundle", "appx", "appxbundle", "msc", "ps1", "psm1", "psd1", "ps1xml", "vbs",
    "vbe", "vb", "js", "jse", "mjs", "wsf", "wsh", "wsc", "ws", "hta", "sct", "shb", "lnk",
    "url", "scf", "reg", "inf", "chm", "hlp", "gadget", "application", "appref-ms",
    "settingcontent-ms", "library-ms", "xll", "sys", "drv", "ocx", "jar", "jnlp", "apk",
    "class", "dex", "sh", "bash", "csh", "ksh", "zsh", "command", "app", "pkg", "iso",
    "img", "vhd", "vhdx", "dmg", "cab", "diagcab", "ade", "adp", "mde", "desktop", NULL};

/* Extensions a victim trusts: the first half of "invoice.pdf.exe". */
static const char *const harmless_ext[] = {
    "jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "webp", "heic", "heif", "avif",
    "tif", "tiff", "svg", "ico", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
    "ods", "odp", "rtf", "txt", "csv", "md", "htm", "html", "xml", "json", "log", "mp3",
    "mp4", "m4a", "mov", "avi", "mkv", "wav", "ogg", "webm", "zip", "rar", "7z", "gz",
    "tar", "epub", NULL};

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
    return ext != NULL && el > 0 && el <= EXT_MAX && in_list(ext, el, dangerous_ext);
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
    return pl > 0 && in_list(prev, pl, harmless_ext);
}

imsafe_reason imsafe__filename_finding(const char *name, size_t max_bytes)
{
    if (name == NULL || name[0] == '\0')
        return IMSAFE_R_NONE;
    size_t n = strlen(name);
    imsafe_reason r = scan_codepoints((const unsigned char *)name, n);
    if (r != IMSAFE_R_NONE)
        return r;
    /* Path findings, most specific first: "../x" is traversal though it
     * also holds a separator; "/etc/x" is absolute. */
    if (has_traversal(name, n))
        return IMSAFE_R_FILENAME_TRAVERSAL;
    if (is_absolute(name, n))
        return IMSAFE_R_FILENAME_ABSOLUTE;
    if (has_separator(name, n))
        return IMSAFE_R_FILENAME_SEPARATOR;
    if (has_percent_encoded(name, n))
        return IMSAFE_R_FILENAME_PERCENT_ENCODED;
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

void imsafe__filename_check(struct imsafe__job *job, const char *name)
{
    int64_t max = imsafe__opt(job->policy, IMSAFE_OPT_MAX_FILENAME_BYTES);
    imsafe_reason r = imsafe__filename_finding(name, max > 0 ? (size_t)max : 0);
    if (r == IMSAFE_R_NONE)
        return;
    /* reason names are constant strings: the detail never echoes the name */
    if (imsafe__opt(job->policy, IMSAFE_OPT_FILENAME_FINDINGS) == IMSAFE_FINDINGS_NOTE) {
        imsafe__note(job, IMSAFE_R_NOTE_FILENAME);
        imsafe__detail(job, "claimed name: %s", imsafe_reason_name(r));
        return;
    }
    imsafe__reject(job, r, "%s", imsafe_reason_meaning(r));
}

/* ---------------------------------------------------------- display name */

/*
 * A name safe to show: valid UTF-8, no controls, no bidi or invisible
 * characters, separators and ':' replaced by '_', invalid bytes replaced
 * by '_', cut at a character boundary to fit size-1 bytes.  Never empty
 * when the input was not ("_" stands in).
 */
void imsafe__filename_display(const char *name, char *dst, size_t size)
{
    if (dst == NULL || size == 0)
        return;
    dst[0] = '\0';
    if (name == NULL || name[0] == '\0')
        return;
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name), o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = utf8_decode(s + i, n - i, &c);
        const char *src = (const char *)s + i;
        size_t w = l;
        if (l == 0) {
            src = "_", w = 1, l = 1; /* one invalid byte */
        } else if (is_control(c) || is_bidi(c) || is_invisible(c)) {
            w = 0;
        } else if (c == '/' || c == '\\' || c == ':') {
            src = "_";
        }
        i += l;
        if (w == 0)
            continue;
        if (o + w > size - 1)
            break; /* whole characters only */
        memcpy(dst + o, src, w);
        o += w;
    }
    if (o == 0 && size >= 2)
        dst[o++] = '_';
    dst[o] = '\0';
}
