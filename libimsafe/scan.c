/*
 * scan.c - the one scanner for foreign formats inside bytes we judge or
 * emit: the tail after an image's end, a payload passed as is, and every
 * sanitized output before it leaves the library (the output gate).
 *
 * One linear pass.  A byte that starts no signature costs one table lookup
 * ("<" also looks at the byte after it), or nothing where a mode has at
 * most IMSAFE__SCAN_FEW start bytes (a passed payload's): memchr leaps to
 * the next of them.  A candidate is checked against the few signatures
 * sharing its first byte only.  Checks look at most
 * SCAN_WINDOW bytes ahead, so the scanner can run on a stream of chunks
 * (the output sent to a host's sink): the last SCAN_WINDOW bytes of a chunk
 * wait in a carry buffer until the next chunk or the end gives them their
 * look-ahead.  Record-based checks (a ZIP end record pointing at a central
 * directory, a PDF trailer near the end) note positions during the pass and
 * are decided at the end.
 *
 * A signature counts where the program that acts on it looks, so that an
 * honest compressed stream cannot trip the gate by chance (see the table
 * and the rules below; doc/provenance.md gives the reasoning):
 * - ZIP.  Readers that open an archive from its end (Info-ZIP, Python's
 *   zipfile, Java's ZipFile, libarchive's seekable reader, Windows
 *   Explorer) search the last 64 KiB + 22 bytes for an end record and read
 *   the central directory it names.  An end record counts when its central
 *   directory starts with a central header where either reader computes it
 *   (end - size, or the stored offset), when it describes an empty archive,
 *   or when it defers to Zip64.  Streaming readers (Java's ZipInputStream,
 *   libarchive's streamable bidder, jar) only start when offset 0 holds a
 *   local header, which an image's signature rules out; we also count any
 *   well-formed local header (method, version and a printable name), since
 *   carving tools and 7-Zip walk local headers found inside other data.
 * - PDF.  Readers want "%PDF-" in the first 1024 bytes, and repair modes
 *   look for "startxref"/"%%EOF" near the end; we count "%PDF-" anywhere
 *   (5 bytes: an honest stream holds it by chance about once in 10^12
 *   bytes) and a trailer keyword in the last 1024 bytes.
 * - HTML.  Browsers that sniff (WHATWG "rules for identifying an unknown
 *   MIME type", old Internet Explorer) read the first 512 bytes for an
 *   HTML tag; "<script", "<svg" and "<html" count anywhere.
 * - Server-side code.  PHP runs code wherever it finds an opener, ASP/JSP
 *   and SSI likewise; an opener counts when text such a parser would take
 *   (a run of printable bytes) follows it, which a binary stream offers
 *   almost never.
 * - Executables (PE, ELF, Mach-O, Java class, shebang) only run from offset
 *   0: checked for passed payloads, impossible behind an image signature.
 */
#include <string.h>

#include "imsafe_private.h"

/* ------------------------------------------------------------- signatures */

enum rule {
    RULE_ANY,       /* the bytes anywhere */
    RULE_TAG512,    /* an HTML tag in the first 512 bytes, then space or '>' */
    RULE_HEAD512,   /* the bytes in the first 512 */
    RULE_RUN,       /* then a run of printable bytes (code a parser takes) */
    RULE_WS_RUN,    /* then white space and a printable run (PHP short tag) */
    RULE_ZIP_LOCAL, /* a well-formed local file header */
    RULE_ZIP_CDIR,  /* a central header: noted for end records */
    RULE_ZIP_END,   /* an end record: decided at the end */
    RULE_PDF_TAIL,  /* a trailer keyword: counts in the last 1024 bytes */
    RULE_HEAD1024   /* the bytes in the first 1024 (a PDF reader's header window) */
};

#define M_TAIL 1u
#define M_OUT 2u /* the output gate */
#define M_PAY 4u /* a payload passed as is: see imsafe__scan_payload() */

struct sig {
    const char *s;
    uint8_t len;
    uint8_t nocase;
    uint8_t rule;
    uint8_t run; /* RULE_RUN / RULE_WS_RUN: printable bytes required */
    uint8_t modes;
    imsafe_reason reason;
    const char *what; /* for details: constant text, never input bytes */
};

/*
 * Tails keep the rule they always had: a strong signature anywhere rejects
 * (the tail is dropped anyway, so being strict costs nothing).  Run lengths:
 * "<?=`id`" needs 4 printable bytes after the opener, the shortest ASP
 * one-liner worth sending ("<%eval request(0)%>") far more than 10; a
 * two-byte opener plus 10 printable bytes occurs by chance in a binary
 * stream about once in 10^10 bytes.
 */
static const struct sig sigs[] = {
    {"PK\3\4", 4, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_ARCHIVE, "a ZIP local header"},
    {"PK\5\6", 4, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_ARCHIVE, "a ZIP end record"},
    {"PK\1\2", 4, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_ARCHIVE, "a ZIP central header"},
    {"PK\3\4", 4, 0, RULE_ZIP_LOCAL, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_ARCHIVE,
     "a ZIP local header"},
    {"PK\1\2", 4, 0, RULE_ZIP_CDIR, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_ARCHIVE,
     "a ZIP central header"},
    {"PK\5\6", 4, 0, RULE_ZIP_END, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_ARCHIVE,
     "a ZIP end record"},
    {"Rar!\x1a\x07", 6, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_ARCHIVE, "a RAR signature"},
    {"7z\xbc\xaf\x27\x1c", 6, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_ARCHIVE, "a 7z signature"},
    {"\x7f" "ELF", 4, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_EXECUTABLE, "an ELF header"},
    {"This program cannot be run in DOS", 33, 0, RULE_ANY, 0, M_TAIL,
     IMSAFE_R_POLYGLOT_EXECUTABLE, "a DOS stub"},
    {"%PDF-", 5, 0, RULE_ANY, 0, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_PDF, "a PDF header"},
    {"startxref", 9, 0, RULE_PDF_TAIL, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_PDF, "a PDF trailer"},
    {"%%EOF", 5, 0, RULE_PDF_TAIL, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_PDF, "a PDF trailer"},
    {"<html", 5, 1, RULE_ANY, 0, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<script", 7, 1, RULE_ANY, 0, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_HTML, "a script element"},
    {"<svg", 4, 1, RULE_ANY, 0, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_XML, "SVG markup"},
    {"<!doctype", 9, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_HTML, "a doctype"},
    {"<iframe", 7, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_HTML, "an iframe"},
    {"<body", 5, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"javascript:", 11, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_HTML, "a javascript: URL"},
    {"<?xml", 5, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_XML, "an XML declaration"},
    {"#!/", 3, 0, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_SCRIPT, "a shebang"},
    {"<?php", 5, 1, RULE_ANY, 0, M_TAIL, IMSAFE_R_POLYGLOT_SCRIPT, "a PHP opener"},
    /* server-side code, for tails and outputs alike */
    {"<?php", 5, 1, RULE_WS_RUN, 4, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_SCRIPT, "PHP code"},
    {"<?=", 3, 0, RULE_RUN, 4, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_SCRIPT, "PHP code"},
    {"<?", 2, 0, RULE_WS_RUN, 8, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_SCRIPT, "PHP code"},
    {"<%", 2, 0, RULE_RUN, 10, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_SCRIPT, "ASP or JSP code"},
    {"<!--#", 5, 0, RULE_RUN, 4, M_TAIL | M_OUT, IMSAFE_R_POLYGLOT_SCRIPT, "an SSI directive"},
    /* what a sniffing browser reads in the first 512 bytes */
    {"<!doctype html", 14, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<head", 5, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<iframe", 7, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<h1", 3, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<div", 4, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<font", 5, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<table", 6, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<a", 2, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<style", 6, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<title", 6, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<b", 2, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<body", 5, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<br", 3, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<p", 2, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<img", 4, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<pre", 4, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<!--", 4, 0, RULE_HEAD512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_HTML, "an HTML comment"},
    {"<?xml", 5, 1, RULE_TAG512, 0, M_OUT | M_PAY, IMSAFE_R_POLYGLOT_XML, "an XML declaration"},
    /* passed payloads: a PDF header where PDF readers look for it, and
     * markup where a sniffing browser does (anywhere, "<svg" alone turns
     * up twice in a gigabyte of compressed video) */
    {"%PDF-", 5, 0, RULE_HEAD1024, 0, M_PAY, IMSAFE_R_POLYGLOT_PDF, "a PDF header"},
    {"<html", 5, 1, RULE_HEAD512, 0, M_PAY, IMSAFE_R_POLYGLOT_HTML, "HTML markup"},
    {"<script", 7, 1, RULE_HEAD512, 0, M_PAY, IMSAFE_R_POLYGLOT_HTML, "a script element"},
    {"<svg", 4, 1, RULE_HEAD512, 0, M_PAY, IMSAFE_R_POLYGLOT_XML, "SVG markup"},
};
#define NSIGS (sizeof sigs / sizeof sigs[0])

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static inline int matches(const struct sig *g, const uint8_t *p, size_t avail)
{
    /* byte by byte: a flood of near misses ("PKPK...") fails at byte 2 or
     * 3, cheaper than a call to memcmp */
    if (g->len > avail)
        return 0;
    if (!g->nocase) {
        if (p[0] != (uint8_t)g->s[0])
            return 0; /* the group folds case; this signature does not */
        for (size_t k = 1; k < g->len; k++)
            if (p[k] != (uint8_t)g->s[k])
                return 0;
        return 1;
    }
    for (size_t k = 1; k < g->len; k++)
        if (lower(p[k]) != (uint8_t)g->s[k])
            return 0;
    return 1;
}

/* A signature's first four bytes (fewer when it is shorter) as a mask and
 * a value over a little-endian word, a nocase letter in either case: a
 * test of a few instructions that every match passes, so that a flood of
 * near misses ("<?<?...") rarely reaches matches(). */
static void prefix_of(const struct sig *g, uint32_t *mask, uint32_t *val)
{
    *mask = *val = 0;
    for (unsigned k = 0; k < 4 && k < g->len; k++) {
        uint8_t c = (uint8_t)g->s[k], m = 0xff;
        if (g->nocase && c >= 'a' && c <= 'z')
            m = 0xdf, c = (uint8_t)(c & 0xdf); /* 'a' and 'A' alike */
        *mask |= (uint32_t)m << (8 * k);
        *val |= (uint32_t)c << (8 * k);
    }
}

/* Text a script parser would read: printable ASCII, tab, CR, LF. */
static int printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n';
}

static int space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int run_follows(const uint8_t *p, size_t avail, size_t need)
{
    if (need > avail)
        return 0;
    for (size_t k = 0; k < need; k++)
        if (!printable(p[k]))
            return 0;
    return 1;
}

/* Local file header: 30 bytes, then the name.  A reader's notion of a
 * plausible entry: version needed <= 6.3, a method some reader decodes,
 * a name of 1..1024 printable bytes. */
static int zip_local_ok(const uint8_t *p, size_t avail)
{
    if (avail < 30)
        return 0;
    unsigned ver = le16(p + 4), method = le16(p + 8), nlen = le16(p + 26);
    int known = method == 0 || method == 8 || method == 9 || method == 12 || method == 14 ||
                method == 93 || method == 95 || method == 98 || method == 99;
    if (ver > 63 || !known || nlen == 0 || nlen > 1024)
        return 0;
    size_t look = avail - 30 < nlen ? avail - 30 : nlen;
    for (size_t k = 0; k < look; k++)
        if (p[30 + k] < 0x20 || p[30 + k] == 0x7f)
            return 0;
    return look > 0;
}

/* ------------------------------------------------------------ the pass */

static void hit(struct imsafe__scan *s, const struct sig *g, uint64_t off)
{
    if (s->hit.reason != IMSAFE_R_NONE)
        return;
    s->hit.reason = g->reason;
    s->hit.offset = off;
    s->hit.what = g->what;
}

static void note_cdir(struct imsafe__scan *s, uint64_t off)
{
    if (s->ncdir < IMSAFE__SCAN_CDIRS)
        s->cdir[s->ncdir++] = off;
    else
        s->cdir_overflow = 1;
}

/* Keep end records that can still be within 64 KiB + 22 of the end. */
static void note_end(struct imsafe__scan *s, const uint8_t *p, size_t avail, uint64_t off)
{
    if (avail < 22)
        return; /* truncated: no reader takes it */
    size_t k = 0;
    for (size_t i = 0; i < s->nend; i++)
        if (off - s->end[i].off <= 65535 + 22) /* an older one is out of reach */
            s->end[k++] = s->end[i];
    s->nend = k;
    if (s->nend == IMSAFE__SCAN_ENDS) {
        s->end_overflow = off + 1; /* too many to keep: a hit if near the end */
        return;
    }
    struct imsafe__scan_end *e = &s->end[s->nend++];
    e->off = off;
    e->entries = le16(p + 10);
    e->cd_size = le32(p + 12);
    e->cd_off = le32(p + 16);
}

static void check(struct imsafe__scan *s, const struct sig *g, const uint8_t *p, size_t avail,
                  uint64_t off)
{
    switch ((enum rule)g->rule) {
    case RULE_ANY:
        hit(s, g, off);
        break;
    case RULE_TAG512:
        if (off < 512 && avail > g->len && (p[g->len] == ' ' || p[g->len] == '>'))
            hit(s, g, off);
        break;
    case RULE_HEAD512:
        if (off < 512)
            hit(s, g, off);
        break;
    case RULE_HEAD1024:
        if (off < 1024)
            hit(s, g, off);
        break;
    case RULE_RUN:
        if (run_follows(p + g->len, avail - g->len, g->run))
            hit(s, g, off);
        break;
    case RULE_WS_RUN:
        if (avail > g->len && space(p[g->len]) &&
            run_follows(p + g->len + 1, avail - g->len - 1, g->run))
            hit(s, g, off);
        break;
    case RULE_ZIP_LOCAL:
        if (off == 0 || zip_local_ok(p, avail))
            hit(s, g, off);
        break;
    case RULE_ZIP_CDIR:
        note_cdir(s, off);
        break;
    case RULE_ZIP_END:
        note_end(s, p, avail, off);
        break;
    case RULE_PDF_TAIL:
        s->pdf_tail = off + 1; /* 0 means none */
        break;
    }
}

/* The signatures order[from, from + n) at p: a few entries, each turned
 * away by its prefix unless it nearly matches. */
static void try_group(struct imsafe__scan *s, size_t from, size_t n, const uint8_t *p,
                      size_t avail, uint64_t off)
{
    uint32_t word = avail >= 4 ? le32(p) : 0;
    for (size_t k = from; k < from + n; k++) {
        const struct sig *g = &sigs[s->order[k]];
        if (avail >= 4 && (word & s->pre_mask[k]) != s->pre_val[k])
            continue;
        if (matches(g, p, avail))
            check(s, g, p, avail, off);
    }
}

/* One candidate position: the signatures of this mode that start with its
 * first byte (after '<': with its first two bytes).  A '<' that no
 * signature's second byte follows costs two lookups. */
static inline void candidate(struct imsafe__scan *s, const uint8_t *p, size_t avail, uint64_t off)
{
    if (avail > IMSAFE__SCAN_WINDOW)
        avail = IMSAFE__SCAN_WINDOW; /* the same answer whatever the pieces */
    if (p[0] != '<')
        try_group(s, s->grp_start[lower(p[0])], s->grp_len[lower(p[0])], p, avail, off);
    else if (avail >= 2 && s->lt_len[lower(p[1])] != 0)
        try_group(s, s->lt_start[lower(p[1])], s->lt_len[lower(p[1])], p, avail, off);
}

/* A payload's own format, or what sniff already judged, is no finding:
 * see imsafe__scan_payload(). */
#define SKIP_MARKUP 1u   /* markup and server-side code */
#define SKIP_PDF 2u      /* PDF header and trailer */
#define SKIP_PDF_TAIL 4u /* a PDF trailer keyword */

static int skipped(const struct imsafe__scan *s, const struct sig *g)
{
    int markup = g->reason == IMSAFE_R_POLYGLOT_HTML || g->reason == IMSAFE_R_POLYGLOT_XML ||
                 g->reason == IMSAFE_R_POLYGLOT_SCRIPT;
    return ((s->skip & SKIP_MARKUP) && markup) ||
           ((s->skip & SKIP_PDF) && g->reason == IMSAFE_R_POLYGLOT_PDF) ||
           ((s->skip & SKIP_PDF_TAIL) && g->rule == RULE_PDF_TAIL);
}

/* Order the table by (first byte, second byte after '<') and note where
 * each group starts: the index candidate() walks.  A counting sort: keys
 * 0..255 are a folded first byte, 256..511 '<' and a folded second byte. */
typedef char sigs_fit_order[NSIGS <= sizeof(((struct imsafe__scan *)0)->order) ? 1 : -1];

static void index_sigs(struct imsafe__scan *s)
{
    unsigned key[NSIGS];
    uint8_t count[512], start[512];
    memset(count, 0, sizeof count);
    memset(s->starts, 0, sizeof s->starts);
    for (size_t i = 0; i < NSIGS; i++) {
        const uint8_t *g = (const uint8_t *)sigs[i].s;
        if (!(sigs[i].modes & s->modes) || skipped(s, &sigs[i])) {
            key[i] = 512; /* not this mode's: left out of the index */
            continue;
        }
        key[i] = g[0] == '<' ? 256u + lower(g[1]) : lower(g[0]);
        count[key[i]]++;
        s->starts[g[0]] = 1; /* nocase signatures are written in lower case */
        if (sigs[i].nocase && g[0] >= 'a' && g[0] <= 'z')
            s->starts[g[0] - 32] = 1;
    }
    unsigned pos = 0;
    for (unsigned k = 0; k < 512; k++) {
        start[k] = (uint8_t)pos;
        pos += count[k];
    }
    for (unsigned c = 0; c < 256; c++) {
        s->grp_start[c] = start[c];
        s->grp_len[c] = count[c];
        s->lt_start[c] = start[256 + c];
        s->lt_len[c] = count[256 + c];
    }
    for (size_t i = 0; i < NSIGS; i++) {
        if (key[i] >= 512)
            continue;
        unsigned at = start[key[i]]++;
        s->order[at] = (uint8_t)i;
        prefix_of(&sigs[i], &s->pre_mask[at], &s->pre_val[at]);
    }
}

void imsafe__seek_init(struct imsafe__seek *k, const uint8_t *p, size_t n, const uint8_t *in_set)
{
    memset(k, 0, sizeof *k);
    k->p = p;
    k->n = n;
    k->in_set = in_set;
    for (unsigned c = 0; c < 256; c++) {
        if (!in_set[c])
            continue;
        if (k->nbytes == IMSAFE__SCAN_FEW) {
            k->many = 1; /* too many to leap to: the table walks on */
            return;
        }
        k->next[k->nbytes] = SIZE_MAX;
        k->bytes[k->nbytes++] = (uint8_t)c;
    }
}

size_t imsafe__seek_leap(struct imsafe__seek *k, size_t i)
{
    size_t at = k->n;
    if (k->many) {
        while (i < k->n && !k->in_set[k->p[i]])
            i++;
        return i;
    }
    for (unsigned b = 0; b < k->nbytes; b++) {
        if (k->next[b] == SIZE_MAX || k->next[b] < i) {
            const uint8_t *q = memchr(k->p + i, k->bytes[b], k->n - i);
            k->next[b] = q != NULL ? (size_t)(q - k->p) : k->n;
        }
        if (k->next[b] < at)
            at = k->next[b];
    }
    return at;
}

/* Scan positions [from, to) of a view of vlen bytes starting at absolute
 * offset base. */
static void scan_view(struct imsafe__scan *s, const uint8_t *v, size_t vlen, uint64_t base,
                      size_t from, size_t to)
{
    if (s->hit.reason != IMSAFE_R_NONE)
        return;
    struct imsafe__seek k;
    imsafe__seek_init(&k, v, to, s->starts);
    if (!k.many) {
        /* a passed payload's few start bytes: memchr over the gaps;
         * other modes have more, and the table walks below */
        for (size_t i = imsafe__seek_next(&k, from); i < to; i = imsafe__seek_next(&k, i + 1)) {
            candidate(s, v + i, vlen - i, base + i);
            if (s->hit.reason != IMSAFE_R_NONE)
                return;
        }
        return;
    }
    for (size_t i = from; i < to; i++) {
        if (!s->starts[v[i]])
            continue;
        candidate(s, v + i, vlen - i, base + i);
        if (s->hit.reason != IMSAFE_R_NONE)
            return; /* the first hit is the verdict */
    }
}

/* skip: the signature classes left out (payload scans) */
static void scan_setup(struct imsafe__scan *s, enum imsafe__scan_mode mode, unsigned skip)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->modes = mode == IMSAFE__SCAN_TAIL ? M_TAIL : mode == IMSAFE__SCAN_PAYLOAD ? M_PAY : M_OUT;
    s->skip = skip;
    index_sigs(s);
}

void imsafe__scan_init(struct imsafe__scan *s, enum imsafe__scan_mode mode)
{
    scan_setup(s, mode, 0);
}

void imsafe__scan_feed(struct imsafe__scan *s, const uint8_t *p, size_t n)
{
    const size_t W = IMSAFE__SCAN_WINDOW;
    if (s->hit.reason != IMSAFE_R_NONE || n == 0)
        return;
    if (s->mode == IMSAFE__SCAN_PAYLOAD && !s->head_known && s->off == 0 && s->carry_len == 0)
        s->head_type = imsafe__sniff(p, n); /* executables load from offset 0 */
    if (s->carry_len > 0) {
        /* the carried positions get their look-ahead from p */
        size_t take = n < W ? n : W, vlen = s->carry_len + take;
        memcpy(s->carry + s->carry_len, p, take);
        size_t lim = vlen >= W ? vlen - W : 0;
        scan_view(s, s->carry, vlen, s->off, 0, lim);
        if (lim < s->carry_len) { /* p was short: all of it joins the carry */
            memmove(s->carry, s->carry + lim, vlen - lim);
            s->carry_len = vlen - lim;
            s->off += lim;
            return;
        }
        s->off += s->carry_len;
        s->carry_len = 0;
    }
    if (n >= W) {
        scan_view(s, p, n, s->off, 0, n - W);
        s->off += n - W;
        p += n - W;
        n = W;
    }
    memcpy(s->carry, p, n);
    s->carry_len = n;
}

/* An end record leads to an archive when a reader finds a central
 * directory where it looks: Python and Info-ZIP at end - size (archives
 * with data prepended), others at the stored offset. */
static int end_leads(const struct imsafe__scan *s, const struct imsafe__scan_end *e)
{
    if (e->entries == 0 && e->cd_size == 0)
        return 1; /* an empty archive opens */
    if (e->entries == 0xffff || e->cd_size == 0xffffffffu || e->cd_off == 0xffffffffu)
        return 1; /* Zip64: the reader follows the locator */
    if (s->cdir_overflow)
        return 1;
    for (size_t i = 0; i < s->ncdir; i++)
        if (s->cdir[i] == (uint64_t)e->cd_off ||
            (e->cd_size <= e->off && s->cdir[i] == e->off - e->cd_size))
            return 1;
    return 0;
}

int imsafe__scan_end(struct imsafe__scan *s, struct imsafe__scan_hit *out)
{
    static const struct sig zip_end = {"", 0, 0, 0, 0, 0, IMSAFE_R_POLYGLOT_ARCHIVE,
                                       "a ZIP end record leading to a central directory"};
    static const struct sig pdf_end = {"", 0, 0, 0, 0, 0, IMSAFE_R_POLYGLOT_PDF,
                                       "a PDF trailer near the end"};
    static const struct sig exe = {"", 0, 0, 0, 0, 0, IMSAFE_R_POLYGLOT_EXECUTABLE,
                                   "an executable or script header at offset 0"};
    scan_view(s, s->carry, s->carry_len, s->off, 0, s->carry_len);
    uint64_t total = s->off + s->carry_len;
    for (size_t i = 0; i < s->nend; i++)
        if (total - s->end[i].off <= 65535 + 22 && end_leads(s, &s->end[i]))
            hit(s, &zip_end, s->end[i].off);
    if (s->end_overflow > 0 && total - (s->end_overflow - 1) <= 65535 + 22)
        hit(s, &zip_end, s->end_overflow - 1);
    if (s->pdf_tail > 0 && total - (s->pdf_tail - 1) <= 1024)
        hit(s, &pdf_end, s->pdf_tail - 1);
    enum imsafe__class c = imsafe__type_class(s->head_type);
    if (s->mode == IMSAFE__SCAN_PAYLOAD &&
        (c == IMSAFE_CLASS_EXECUTABLE || c == IMSAFE_CLASS_SCRIPT))
        hit(s, &exe, 0);
    if (out != NULL)
        *out = s->hit;
    return s->hit.reason != IMSAFE_R_NONE;
}

int imsafe__scan_buf(const uint8_t *p, size_t n, enum imsafe__scan_mode mode,
                     struct imsafe__scan_hit *out)
{
    struct imsafe__scan s;
    imsafe__scan_init(&s, mode);
    imsafe__scan_feed(&s, p, n);
    return imsafe__scan_end(&s, out);
}

/*
 * A payload passed as is (imsafe.c, for every passed verdict but the
 * archives, whose walkers account for each of their bytes).  PAYLOAD mode
 * counts what a reader acting on the bytes finds where it looks: a ZIP end
 * record near the end leading to a central directory, a well-formed local
 * header, a PDF header in the first 1024 bytes or a trailer in the last,
 * markup in the first 512, a PHP opener with code after it, an executable
 * at offset 0.  Its own format is not a finding (a PDF's header and
 * trailer; a script, HTML, SVG or XML an operator passes), and neither is
 * what sniff judged already: text reached here because sniff found no
 * markup or server-side code in it, and a trailer keyword at the end of a
 * text opens nothing.
 */
int imsafe__scan_payload(const uint8_t *p, size_t n, imsafe_type t,
                         struct imsafe__scan_hit *out)
{
    struct imsafe__scan s;
    enum imsafe__class c = imsafe__type_class(t);
    scan_setup(&s, IMSAFE__SCAN_PAYLOAD,
               c == IMSAFE_CLASS_TEXT || c == IMSAFE_CLASS_ACTIVE || c == IMSAFE_CLASS_SCRIPT
                   ? SKIP_MARKUP | SKIP_PDF_TAIL
               : t == IMSAFE_TYPE_PDF ? SKIP_PDF
                                      : 0);
    /* the payload's own type at offset 0 is the payload, not a finding (a
     * script the policy passes); sniffing it again would read a whole
     * text a second time */
    s.head_type = IMSAFE_TYPE_UNKNOWN;
    s.head_known = 1;
    imsafe__scan_feed(&s, p, n);
    return imsafe__scan_end(&s, out);
}

/* ------------------------------------------------------------ tail check */

/* Skip a UTF-8 BOM and leading white space: a payload starts there. */
static size_t skip_lead(const uint8_t *p, size_t n)
{
    size_t i = n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < n && space(p[i]))
        i++;
    return i;
}

static imsafe_reason class_reason(imsafe_type t)
{
    switch (imsafe__type_class(t)) {
    case IMSAFE_CLASS_ARCHIVE: return IMSAFE_R_POLYGLOT_ARCHIVE;
    case IMSAFE_CLASS_EXECUTABLE: return IMSAFE_R_POLYGLOT_EXECUTABLE;
    case IMSAFE_CLASS_SCRIPT: return IMSAFE_R_POLYGLOT_SCRIPT;
    case IMSAFE_CLASS_ACTIVE:
        return t == IMSAFE_TYPE_HTML ? IMSAFE_R_POLYGLOT_HTML : IMSAFE_R_POLYGLOT_XML;
    case IMSAFE_CLASS_DOCUMENT:
        return t == IMSAFE_TYPE_PDF ? IMSAFE_R_POLYGLOT_PDF : IMSAFE_R_POLYGLOT_ARCHIVE;
    default:
        return IMSAFE_R_NONE;
    }
}

int imsafe__check_tail(struct imsafe__job *job, const uint8_t *tail, size_t n)
{
    if (n == 0)
        return 0;
    /* the start of the tail as a payload of its own (gzip, MZ/PE, OLE2) */
    size_t lead = skip_lead(tail, n);
    imsafe_reason r = class_reason(imsafe__sniff(tail + lead, n - lead));
    struct imsafe__scan_hit h;
    if (r == IMSAFE_R_NONE && imsafe__scan_buf(tail, n, IMSAFE__SCAN_TAIL, &h))
        r = h.reason;
    if (r != IMSAFE_R_NONE) {
        imsafe__reject(job, r, "%zu bytes after the image end: %s", n,
                       imsafe_reason_meaning(r));
        return 1;
    }
    imsafe__note(job, IMSAFE_R_NOTE_TRAILING_DROPPED);
    imsafe__detail(job, "%zu trailing bytes dropped", n);
    return 0;
}
