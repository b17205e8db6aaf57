/*
 * zip.c - inspection of ZIP (and the documents built on it: docx, xlsx,
 * pptx, odf, epub, jar, apk) and gzip payloads.  Nothing is rebuilt: an
 * archive that passes every check is accepted as it is (IMSAFE_PASSED).
 *
 * ZIP layout (APPNOTE.TXT 6.3.10), all integers little-endian:
 *
 *   [local header 1][data 1][descriptor 1] ... [local header n][data n]...
 *   [APK Signing Block]                      (optional, Android v2+ signing)
 *   [central header 1] ... [central header n]  the central directory
 *   [ZIP64 end record][ZIP64 locator]          (optional)
 *   [end of central directory record][comment]
 *
 *   local header   30 B  "PK\3\4" ver flags method time date crc csize usize
 *                        nlen xlen, name, extra
 *   descriptor  12-24 B  ["PK\7\8"] crc csize usize (sizes 8 B in ZIP64),
 *                        present when flag bit 3 is set
 *   central hdr    46 B  "PK\1\2" made ver flags method time date crc csize
 *                        usize nlen xlen clen disk iattr eattr offset, name,
 *                        extra, comment
 *   ZIP64 extra          id 0x0001: usize, csize, offset (8 B each), disk
 *                        (4 B), each present only when its field is all ones
 *   ZIP64 end      56+ B "PK\6\6" size ver ver disk disk count count size off
 *   ZIP64 locator  20 B  "PK\6\7" disk offset-of-ZIP64-end disks
 *   end record     22 B  "PK\5\6" disk disk count count size offset clen
 *
 * Strictness (every rule answers a parser-differential or a bomb):
 *   - one end record, in the last 65557 bytes, whose comment reaches exactly
 *     the end of the payload; a second candidate is ambiguous and rejected;
 *   - the central directory ends exactly at the ZIP64 end record or the end
 *     record, and its entries fill it exactly;
 *   - entries tile the front of the payload in offset order: the first at
 *     offset 0 (else archive.prefix: a self-extractor or a hidden entry for
 *     streaming readers), no gap (malformed.zip) and no overlap
 *     (archive.overlap: Fifield's non-recursive bomb shares data between
 *     entries); only an APK Signing Block may sit between the last entry
 *     and the central directory;
 *   - each local header (and data descriptor) agrees with its central
 *     entry: flags, method, name, CRC and sizes;
 *   - every entry is inflated in memory (zlib, charged to the budget) into
 *     a fixed window and discarded: its size, ratio and CRC-32 are checked,
 *     and its first bytes are sniffed for executables, scripts and nested
 *     archives (inspected recursively, same budget, depth limited).
 *
 * gzip layout (RFC 1952), one or more members:
 *   1f 8b CM FLG MTIME(4) XFL OS [XLEN(2) extra][name\0][comment\0][CRC16]
 *   deflate data, CRC32(4), ISIZE(4)
 * Members are inflated one after another; their output counts as one
 * stream for the size and ratio limits, and is sniffed like a ZIP entry.
 *
 * Allowlist: kept - the payload unchanged (pass); rebuilt - nothing;
 * dropped - nothing.  Entries that are executables, scripts or shortcuts
 * (by name or content), encrypted entries (unless the policy allows them),
 * and methods other than stored and deflate reject the whole payload.
 */
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "imsafe_private.h"

/* Inflate output window: output is checked and discarded, never kept. */
#define WIN_BYTES 65536
/* Bytes of each entry's head kept for sniffing (signatures, shebangs). */
#define HEAD_BYTES 1024
/*
 * The ratio limit applies once an entry has inflated past 1 MiB: small
 * highly repetitive parts (styles.xml, empty sheets) reach 200:1 in real
 * documents, and a bomb needs volume to hurt.  Apache POI uses the same
 * idea (a grace size before its minimum inflate ratio applies).
 */
#define RATIO_GRACE (1u << 20)
/* zlib takes at most UINT_MAX input bytes per call. */
#define FEED_MAX (1u << 30)

#define EOCD_LEN 22
#define EOCD_SCAN (EOCD_LEN + 65535) /* record + longest comment */
#define CEN_LEN 46
#define LOC_LEN 30
#define Z64_LOCATOR_LEN 20
#define Z64_END_LEN 56
#define APK_MAGIC "APK Sig Block 42"
/* Bytes of each entry's end kept: a ZIP end record (and its comment) sits
 * there, so a nested archive is found wherever it starts. */
#define TAIL_BYTES EOCD_SCAN

#define SIG_LOC 0x04034b50u
#define SIG_CEN 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_Z64_END 0x06064b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_DESC 0x08074b50u

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCRIPTOR 0x0008u
#define FLAG_STRONG 0x0040u
#define FLAG_UTF8 0x0800u
#define FLAG_CD_ENCRYPTED 0x2000u
/* Flag bits that change how an entry is read: they must agree between the
 * local and the central header. */
#define FLAGS_MUST_AGREE                                                       \
    (FLAG_ENCRYPTED | FLAG_DESCRIPTOR | FLAG_STRONG | FLAG_UTF8 | FLAG_CD_ENCRYPTED)

#define METHOD_STORED 0
#define METHOD_DEFLATE 8
#define METHOD_AES 99 /* WinZip AE-1/AE-2 */

/* Where an entry's inflated bytes go: counted, checked, CRC'd, and the
 * head kept; in a second pass (nested archive) also copied to hold. */
struct sink {
    uint64_t n;        /* bytes so far */
    uint64_t declared; /* ZIP: the central usize; gzip: UINT64_MAX */
    uint64_t basis;    /* ZIP: compressed size; 0: use bytes consumed */
    uint64_t in_base;  /* gzip: input consumed by earlier members */
    uint32_t crc;
    int count;         /* charge to zc->total (first pass only) */
    unsigned long index;
    uint8_t head[HEAD_BYTES];
    size_t head_len;
    uint8_t tail[TAIL_BYTES]; /* the last bytes: where an end record sits */
    size_t tail_len;
    uint8_t *hold;
    size_t hold_cap;
};

struct zent {
    const uint8_t *name;
    size_t nlen;
    const uint8_t *upath; /* Info-ZIP Unicode Path extra (0x7075), or NULL */
    size_t uplen;
    uint32_t upcrc;       /* the CRC-32 of the header name it replaces */
    uint16_t made;        /* version made by: host system in the high byte */
    uint32_t eattr;       /* external attributes: Unix mode high, DOS low */
    unsigned long index; /* position in the central directory */
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, off;
    uint64_t data; /* first data byte */
    uint64_t end;  /* after data and descriptor */
    int z64;       /* sizes came from a ZIP64 extra */
};

struct zarc {
    const uint8_t *p;
    size_t n;
    uint64_t count, cd_off, cd_size, cd_end;
    struct zent *e;
    struct imsafe__doc *doc; /* Office rules for this level (ooxml.c) */
};

static int zip_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n);
struct zarc;
struct zent;
static int check_entry_data(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                            struct sink *s);
static int gzip_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n);

/* ------------------------------------------------------------ helpers */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* Does [off, off+len) lie inside [0, limit)?  Overflow-safe. */
static int fits(uint64_t off, uint64_t len, uint64_t limit)
{
    uint64_t end;
    return !imsafe__add_ovf(off, len, &end) && end <= limit;
}

/* Stop code for internal functions: the job is rejected or the allocator
 * failed; either way the walk ends. */
#define STOP (-1)
/* fail() about the archive as a whole rather than one entry */
#define WHOLE ((unsigned long)-1)

static int fail(struct imsafe__arc *zc, imsafe_reason r, const char *what, unsigned long index)
{
    if (index == WHOLE)
        imsafe__reject(zc->job, r, "%s", what);
    else
        imsafe__reject(zc->job, r, "entry %lu: %s", index, what);
    return STOP;
}

/* The same with a number after the text ("... limit 100"). */
static int fail_n(struct imsafe__arc *zc, imsafe_reason r, const char *what, unsigned long index,
                  uint64_t v)
{
    if (index == WHOLE)
        imsafe__reject(zc->job, r, "%s %llu", what, (unsigned long long)v);
    else
        imsafe__reject(zc->job, r, "entry %lu: %s %llu", index, what, (unsigned long long)v);
    return STOP;
}

/* -------------------------------------------------------------- sink */

/* Keep the last TAIL_BYTES of a stream in t[0..*tl). */
static void tail_put(uint8_t *t, size_t *tl, const uint8_t *d, size_t len)
{
    if (len >= TAIL_BYTES) {
        memcpy(t, d + len - TAIL_BYTES, TAIL_BYTES);
        *tl = TAIL_BYTES;
        return;
    }
    size_t keep = *tl + len > TAIL_BYTES ? TAIL_BYTES - len : *tl;
    memmove(t, t + *tl - keep, keep);
    memcpy(t + keep, d, len);
    *tl = keep + len;
}

static int sink_put(struct imsafe__arc *zc, struct sink *s, const uint8_t *d, size_t len,
                    uint64_t consumed)
{
    uint64_t next, allowed;
    if (imsafe__add_ovf(s->n, (uint64_t)len, &next) || next > s->declared)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "inflates past its declared size", s->index);
    /* a gzip stream (one sink for the whole payload) is compressed data,
     * not an archive entry */
    if (next > zc->max_entry)
        return fail_n(zc,
                      s->index == WHOLE ? IMSAFE_R_LIMIT_DECOMPRESSED_BYTES
                                        : IMSAFE_R_LIMIT_ARCHIVE_BYTES,
                      "inflates past the per-entry limit", s->index, zc->max_entry);
    if (s->count && (imsafe__add_ovf(zc->total, (uint64_t)len, &allowed) ||
                     allowed > zc->max_total))
        return fail_n(zc, IMSAFE_R_LIMIT_ARCHIVE_BYTES, "archive inflates past its total limit",
                      WHOLE, zc->max_total);
    uint64_t basis = s->basis ? s->basis : s->in_base + consumed;
    if (next > RATIO_GRACE && !imsafe__mul_ovf(zc->ratio, basis ? basis : 1, &allowed) &&
        next > allowed)
        return fail_n(zc, IMSAFE_R_LIMIT_ARCHIVE_RATIO, "inflates past the ratio limit",
                      s->index, zc->ratio);
    if (s->hold != NULL) {
        if (next > s->hold_cap)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "inflates differently twice", s->index);
        memcpy(s->hold + s->n, d, len);
    }
    if (s->head_len < HEAD_BYTES) {
        size_t k = HEAD_BYTES - s->head_len < len ? HEAD_BYTES - s->head_len : len;
        memcpy(s->head + s->head_len, d, k);
        s->head_len += k;
    }
    tail_put(s->tail, &s->tail_len, d, len);
    for (size_t done = 0; done < len;) {
        uInt k = len - done > FEED_MAX ? FEED_MAX : (uInt)(len - done);
        s->crc = (uint32_t)crc32(s->crc, d + done, k);
        done += k;
    }
    s->n = next;
    if (s->count)
        zc->total += len;
    return 0;
}

static void sink_init(struct sink *s, unsigned long index, uint64_t declared, uint64_t basis)
{
    memset(s, 0, offsetof(struct sink, head));
    s->head_len = 0;
    s->tail_len = 0;
    s->hold = NULL;
    s->hold_cap = 0;
    s->index = index;
    s->declared = declared;
    s->basis = basis;
    s->count = 1;
    s->crc = (uint32_t)crc32(0L, Z_NULL, 0);
}

/* ----------------------------------------------------------- inflate */

static int zs_start(struct imsafe__arc *zc)
{
    if (zc->zs_ready) {
        if (inflateReset(&zc->zs) == Z_OK)
            return 0;
        zc->job->internal_error = 1;
        return STOP;
    }
    /* raw deflate: ZIP and gzip carry their own headers and checksums */
    if (imsafe__inflate_init(zc->job, &zc->zs, -MAX_WBITS) != 0) {
        if (!imsafe__rejected(zc->job) && !zc->job->alloc_failed)
            zc->job->internal_error = 1;
        return STOP;
    }
    zc->zs_ready = 1;
    return 0;
}

/*
 * Inflate one raw deflate stream from src[0..len) into the sink.  *used
 * gets the bytes the stream took.  A stream that does not end within len
 * rejects with `cut`; corrupt data with `bad`.
 */
static int inflate_raw(struct imsafe__arc *zc, const uint8_t *src, uint64_t len, struct sink *s,
                       uint64_t *used, imsafe_reason cut, imsafe_reason bad)
{
    z_stream *zs = &zc->zs;
    uint64_t fed = 0;
    if (zs_start(zc) != 0)
        return STOP;
    zs->avail_in = 0;
    for (;;) {
        if (zs->avail_in == 0 && fed < len) {
            uInt k = len - fed > FEED_MAX ? FEED_MAX : (uInt)(len - fed);
            zs->next_in = src + fed;
            zs->avail_in = k;
            fed += k;
        }
        zs->next_out = zc->win;
        zs->avail_out = WIN_BYTES;
        int ret = inflate(zs, Z_NO_FLUSH);
        size_t got = WIN_BYTES - zs->avail_out;
        uint64_t consumed = fed - zs->avail_in;
        if (got > 0 && sink_put(zc, s, zc->win, got, consumed) != 0)
            return STOP;
        if (ret == Z_STREAM_END) {
            *used = consumed;
            return 0;
        }
        if (ret == Z_BUF_ERROR && zs->avail_in == 0 && fed == len)
            return fail(zc, cut, "compressed data ends before its stream", s->index);
        if (ret == Z_MEM_ERROR) {
            /* the budget rejected the job, or the allocator failed */
            if (!imsafe__rejected(zc->job) && !zc->job->alloc_failed)
                zc->job->internal_error = 1;
            return STOP;
        }
        if (ret != Z_OK)
            return fail(zc, bad, "invalid deflate data", s->index);
    }
}

/* Feed stored bytes through the same sink (counts, CRC, head). */
static int stored_put(struct imsafe__arc *zc, const uint8_t *src, uint64_t len, struct sink *s)
{
    for (uint64_t done = 0; done < len;) {
        size_t k = len - done > WIN_BYTES ? WIN_BYTES : (size_t)(len - done);
        if (sink_put(zc, s, src + done, k, done + k) != 0)
            return STOP;
        done += k;
    }
    return 0;
}

/* -------------------------------------------------------- entry verdicts */

/* Types an archive entry must never be: programs, scripts, shortcuts and
 * the code archives (jar, apk) whose entries are programs by design.  The
 * archives we cannot look into (7z, rar, xz, ...) are refused before this
 * as unsupported.archive.format. */
static int type_is_dangerous(imsafe_type t)
{
    enum imsafe__class c = imsafe__type_class(t);
    return c == IMSAFE_CLASS_EXECUTABLE || c == IMSAFE_CLASS_SCRIPT || t == IMSAFE_TYPE_JAR ||
           t == IMSAFE_TYPE_APK;
}

/* A nested archive we inspect: ZIP, its documents, gzip, tar. */
static int type_is_nested(imsafe_type t)
{
    switch (t) {
    case IMSAFE_TYPE_TAR:
    case IMSAFE_TYPE_ZIP:
    case IMSAFE_TYPE_DOCX:
    case IMSAFE_TYPE_XLSX:
    case IMSAFE_TYPE_PPTX:
    case IMSAFE_TYPE_ODF:
    case IMSAFE_TYPE_EPUB:
    case IMSAFE_TYPE_GZIP:
        return 1;
    default:
        return 0;
    }
}

/*
 * A jar or apk the operator chose to pass (its type action is pass and the
 * pipeline sent it here) holds .class / .dex entries by design: the
 * dangerous-entry rule would reject every one of them, so it is not applied
 * to the top level of such a payload.
 */
static int code_archive_allowed(const struct imsafe__arc *zc)
{
    return zc->job->depth == 0 &&
           (zc->job->type == IMSAFE_TYPE_JAR || zc->job->type == IMSAFE_TYPE_APK);
}

/* Walk a nested archive held in p[0..n), one level deeper. */
static int nested(struct imsafe__arc *zc, imsafe_type t, const uint8_t *p, size_t n, unsigned long index)
{
    if (zc->job->depth + 1 > zc->max_depth)
        return fail_n(zc, IMSAFE_R_LIMIT_ARCHIVE_DEPTH, "archive nested past the depth limit",
                      index, (uint64_t)zc->max_depth);
    zc->job->depth++;
    int rc = t == IMSAFE_TYPE_GZIP  ? gzip_walk(zc, p, n)
             : t == IMSAFE_TYPE_TAR ? imsafe__tar_walk(zc, p, n)
                                    : zip_walk(zc, p, n);
    zc->job->depth--;
    return rc;
}

/*
 * ZIP record signatures readers act on, at p[i..n).  strict: the signature
 * alone counts (a comment, where Python's zipfile takes the last end
 * record it finds whatever follows it).  Otherwise the record's fixed
 * fields must be plausible as well, so that a chance match in stored or
 * signed data (2^-32 per position and signature) does not reject while a
 * record any reader would act on still does.  A descriptor is plausible
 * when its compressed size is the bytes before it, as libarchive's
 * streaming reader looks for it.
 */
static int known_method(uint16_t m)
{
    return m <= 20 || (m >= 93 && m <= 99);
}

static int record_at(const uint8_t *p, size_t n, size_t i, int strict)
{
    const uint8_t *r = p + i;
    size_t left = n - i;
    if (left >= 16 && r[0] == 'A' && memcmp(r, APK_MAGIC, 16) == 0)
        return 1;
    if (left < 4 || r[0] != 'P' || r[1] != 'K')
        return 0;
    switch (rd32(r)) {
    case SIG_LOC:
        return strict || (left >= LOC_LEN && r[5] == 0 && known_method(rd16(r + 8)));
    case SIG_CEN:
        return strict || (left >= CEN_LEN && r[7] == 0 && known_method(rd16(r + 10)));
    case SIG_END:
        return strict || (left >= EOCD_LEN && rd32(r + 4) == 0);
    case SIG_Z64_END:
        return strict || (left >= Z64_END_LEN && rd64(r + 4) >= Z64_END_LEN - 12 &&
                          rd64(r + 4) < 0x10000);
    case SIG_Z64_LOC:
        return strict || (left >= Z64_LOCATOR_LEN && rd32(r + 4) == 0 && rd32(r + 16) <= 1);
    case SIG_DESC:
        return strict || (left >= 16 && (rd32(r + 8) == i || (left >= 24 && rd64(r + 8) == i)));
    default:
        return 0;
    }
}

/* Reject a record signature in p[0..n), a region no record may use. */
static int stray_records(struct imsafe__arc *zc, const uint8_t *p, uint64_t n, int strict,
                         const char *where, unsigned long index)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if ((p[i] == 'P' || p[i] == 'A') && record_at(p, (size_t)n, i, strict)) {
            if (index == WHOLE)
                imsafe__reject(zc->job, IMSAFE_R_ARCHIVE_AMBIGUOUS,
                               "a ZIP record signature in the %s", where);
            else
                imsafe__reject(zc->job, IMSAFE_R_ARCHIVE_AMBIGUOUS,
                               "entry %lu: a ZIP record signature in the %s", index, where);
            return STOP;
        }
    }
    return 0;
}

/* A ZIP structure not at offset 0 of an entry's bytes: a local header in
 * the head, or an end record in the tail (readers find a ZIP from its
 * end, so leading bytes do not hide it). */
static int zip_inside(const uint8_t *head, size_t hl, const uint8_t *tail, size_t tl)
{
    for (size_t i = 1; i + 4 <= hl; i++)
        if (rd32(head + i) == SIG_LOC && record_at(head, hl, i, 0))
            return 1;
    for (size_t i = 0; i + 4 <= tl; i++)
        if (rd32(tail + i) == SIG_END && record_at(tail, tl, i, 0))
            return 1;
    return 0;
}

/*
 * Judge an entry's content by its head: streams we cannot open reject,
 * dangerous content rejects, and *t gets the sniffed type.
 */
static int judge(struct imsafe__arc *zc, unsigned long index, const uint8_t *head, size_t hl,
                 imsafe_type *t)
{
    const char *u = imsafe__unsupported_archive(head, hl);
    *t = hl > 0 ? imsafe__sniff(head, hl) : IMSAFE_TYPE_UNKNOWN;
    /* format and type names are constant strings, never input bytes */
    if (u != NULL) {
        if (index == WHOLE)
            imsafe__reject(zc->job, IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT, "content is %s", u);
        else
            imsafe__reject(zc->job, IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT,
                           "entry %lu: content is %s", index, u);
        return STOP;
    }
    if (type_is_dangerous(*t) && !code_archive_allowed(zc)) {
        if (index == WHOLE)
            imsafe__reject(zc->job, IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY, "content is %s",
                           imsafe_type_name(*t));
        else
            imsafe__reject(zc->job, IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY,
                           "entry %lu: content is %s", index, imsafe_type_name(*t));
        return STOP;
    }
    return 0;
}

/* The type to walk bytes as: their sniffed type, or ZIP when a ZIP
 * structure sits inside them (after leading bytes). */
static imsafe_type walk_as(imsafe_type t, const uint8_t *head, size_t hl, const uint8_t *tail,
                           size_t tl)
{
    if (!type_is_nested(t) && zip_inside(head, hl, tail, tl))
        return IMSAFE_TYPE_ZIP;
    return t;
}

static int judge_content(struct imsafe__arc *zc, const struct sink *s, imsafe_type *t)
{
    if (judge(zc, s->index, s->head, s->head_len, t) != 0)
        return STOP;
    *t = walk_as(*t, s->head, s->head_len, s->tail, s->tail_len);
    return 0;
}

/* Report an accepted entry to the listing hook (tests). */
static void list_entry(const struct imsafe__arc *zc, const uint8_t *name, size_t n,
                       uint64_t size, int kind)
{
    if (zc->job->lister.fn != NULL)
        zc->job->lister.fn(zc->job->lister.opaque, zc->job->depth, name, n, size, kind);
}

/* --------------------------------------------------------- end records */

/*
 * Find the end record: scanning back from the end, the one whose comment
 * length reaches exactly the end of the payload.  A second such record
 * further back is ambiguous (readers that scan forward would pick it).
 */
static int find_end(struct imsafe__arc *zc, const uint8_t *p, size_t n, size_t *pos)
{
    size_t lowest = n > EOCD_SCAN ? n - EOCD_SCAN : 0;
    int found = 0;
    if (n < EOCD_LEN)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "no end of central directory", WHOLE);
    for (size_t i = n - EOCD_LEN + 1; i-- > lowest;) {
        if (rd32(p + i) != SIG_END || i + EOCD_LEN + rd16(p + i + 20) != n)
            continue;
        if (found)
            return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "two end of central directory records",
                        WHOLE);
        *pos = i;
        found = 1;
    }
    if (!found)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "no end of central directory", WHOLE);
    return 0;
}

/* A 32-bit (or 16-bit) end-record field is either the ZIP64 sentinel or
 * equal to its ZIP64 value. */
static int agrees(uint64_t small, uint64_t sentinel, uint64_t big)
{
    return small == sentinel || small == big;
}

static int read_z64_end(struct imsafe__arc *zc, struct zarc *a, size_t end)
{
    const uint8_t *p = a->p;
    size_t loc = end - Z64_LOCATOR_LEN;
    uint64_t off = rd64(p + loc + 8), rec;
    if (rd32(p + loc + 4) != 0 || rd32(p + loc + 16) > 1)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "split ZIP64 archive", WHOLE);
    if (!fits(off, Z64_END_LEN, loc) || rd32(p + off) != SIG_Z64_END)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "no ZIP64 end record at its offset", WHOLE);
    rec = rd64(p + off + 4);
    /* the record (12 bytes of signature and size, then rec) ends at the locator */
    if (rec < Z64_END_LEN - 12 || !fits(off + 12, rec, loc) || off + 12 + rec != loc)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "ZIP64 end record size is wrong", WHOLE);
    const uint8_t *z = p + off;
    if (rd32(z + 16) != 0 || rd32(z + 20) != 0) /* this disk's count may differ, as above */
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "split ZIP64 archive", WHOLE);
    const uint8_t *e = p + end;
    if (!agrees(rd16(e + 10), 0xffff, rd64(z + 32)) ||
        !agrees(rd32(e + 12), 0xffffffffu, rd64(z + 40)) ||
        !agrees(rd32(e + 16), 0xffffffffu, rd64(z + 48)))
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "end record disagrees with ZIP64 end", WHOLE);
    a->count = rd64(z + 32);
    a->cd_size = rd64(z + 40);
    a->cd_off = rd64(z + 48);
    a->cd_end = off;
    return 0;
}

static int read_end(struct imsafe__arc *zc, struct zarc *a)
{
    size_t end = 0;
    if (find_end(zc, a->p, a->n, &end) != 0)
        return STOP;
    /* Python's zipfile takes the last end record signature in the final
     * 64 KiB, comment or not: a second archive in the comment is read */
    if (stray_records(zc, a->p + end + EOCD_LEN, a->n - end - EOCD_LEN, 1,
                      "end record comment", WHOLE) != 0)
        return STOP;
    /* split means a disk number other than 0; the "entries on this disk"
     * count is read by no reader we test against (unzip, libarchive,
     * Python, 7-Zip list the total's entries), so it may differ */
    const uint8_t *e = a->p + end;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "split (multi-disk) archive", WHOLE);
    if (end >= Z64_LOCATOR_LEN && rd32(a->p + end - Z64_LOCATOR_LEN) == SIG_Z64_LOC)
        return read_z64_end(zc, a, end);
    a->count = rd16(e + 10);
    a->cd_size = rd32(e + 12);
    a->cd_off = rd32(e + 16);
    a->cd_end = end;
    return 0;
}

/* ----------------------------------------------------- central directory */

/*
 * The ZIP64 extra field (0x0001) of a central header: the fields whose
 * 32-bit value is all ones follow in order usize, csize, offset, disk.
 * Other extra fields are skipped, but the records must tile the extra area
 * exactly, and a second ZIP64 record is ambiguous.
 */
static int central_extra(struct imsafe__arc *zc, const uint8_t *x, size_t xlen, struct zent *e,
                         uint32_t *disk)
{
    int seen = 0;
    size_t i = 0;
    while (i < xlen) {
        if (xlen - i < 4 || rd16(x + i + 2) > xlen - i - 4)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "extra field overruns", e->index);
        uint16_t id = rd16(x + i), sz = rd16(x + i + 2);
        const uint8_t *d = x + i + 4;
        i += 4 + (size_t)sz;
        if (id == 0x7075) {
            /* Unicode Path: version 1, CRC-32 of the header name, UTF-8
             * name.  7-Zip and Info-ZIP extract under this name instead,
             * so it gets the same checks as the header name. */
            if (sz < 5 || d[0] != 1 || e->upath != NULL)
                return fail(zc, IMSAFE_R_MALFORMED_ZIP, "bad Unicode Path extra", e->index);
            e->upath = d + 5;
            e->uplen = sz - 5u;
            e->upcrc = rd32(d + 1);
            continue;
        }
        if (id != 0x0001)
            continue;
        if (seen++)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "two ZIP64 extra fields", e->index);
        size_t k = 0;
        uint64_t *want[3] = {&e->usize, &e->csize, &e->off};
        for (int f = 0; f < 3; f++) {
            if (*want[f] != 0xffffffffu)
                continue;
            if (sz - k < 8)
                return fail(zc, IMSAFE_R_MALFORMED_ZIP, "ZIP64 extra too short", e->index);
            *want[f] = rd64(d + k);
            k += 8;
            e->z64 |= f < 2;
        }
        if (*disk == 0xffff) {
            if (sz - k < 4)
                return fail(zc, IMSAFE_R_MALFORMED_ZIP, "ZIP64 extra too short", e->index);
            *disk = rd32(d + k);
        }
    }
    return 0;
}

/* Parse central header i at a->p[*q]; advance *q past it. */
static int central_entry(struct imsafe__arc *zc, struct zarc *a, uint64_t *q, uint64_t cd_stop,
                         struct zent *e)
{
    const uint8_t *c = a->p + *q;
    if (!fits(*q, CEN_LEN, cd_stop) || rd32(c) != SIG_CEN)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "bad central header", e->index);
    size_t nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    uint64_t size = CEN_LEN + (uint64_t)nlen + xlen + clen;
    if (!fits(*q, size, cd_stop))
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "central header overruns", e->index);
    e->flags = rd16(c + 8);
    e->method = rd16(c + 10);
    e->crc = rd32(c + 16);
    e->csize = rd32(c + 20);
    e->usize = rd32(c + 24);
    e->off = rd32(c + 42);
    e->name = c + CEN_LEN;
    e->nlen = nlen;
    e->made = rd16(c + 4);
    e->eattr = rd32(c + 38);
    uint32_t disk = rd16(c + 34);
    if (central_extra(zc, c + CEN_LEN + nlen, xlen, e, &disk) != 0 ||
        stray_records(zc, c + CEN_LEN + nlen, xlen, 0, "central extra field", e->index) != 0 ||
        stray_records(zc, c + CEN_LEN + nlen + xlen, clen, 1, "entry comment", e->index) != 0)
        return STOP;
    if (disk != 0)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "entry on another disk", e->index);
    *q += size;
    return 0;
}

static int read_central(struct imsafe__arc *zc, struct zarc *a)
{
    uint64_t stop, min;
    /* the central directory ends exactly where the end records begin */
    if (!fits(a->cd_off, a->cd_size, a->n) || (stop = a->cd_off + a->cd_size) > a->cd_end)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "central directory out of bounds", WHOLE);
    if (stop < a->cd_end) {
        /* a self-extractor built by concatenation keeps offsets relative to
         * the archive: everything sits shifted by the prefix length */
        uint64_t shift = a->cd_end - stop;
        if (a->cd_off == 0 || (shift + 4 <= a->n && rd32(a->p + shift) == SIG_LOC))
            return fail(zc, IMSAFE_R_ARCHIVE_PREFIX, "bytes before the archive", WHOLE);
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "gap before the end records", WHOLE);
    }
    if (imsafe__mul_ovf(a->count, (uint64_t)CEN_LEN, &min) || min > a->cd_size)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "entry count exceeds the directory", WHOLE);
    if (a->count > zc->max_entries) {
        imsafe__reject(zc->job, IMSAFE_R_LIMIT_ARCHIVE_ENTRIES, "%llu entries, limit %llu",
                       (unsigned long long)a->count, (unsigned long long)zc->max_entries);
        return STOP;
    }
    a->e = imsafe__calloc(zc->job, (size_t)a->count + 1, sizeof *a->e);
    if (a->e == NULL)
        return STOP;
    uint64_t q = a->cd_off;
    for (uint64_t i = 0; i < a->count; i++) {
        a->e[i].index = (unsigned long)i;
        if (central_entry(zc, a, &q, stop, &a->e[i]) != 0)
            return STOP;
    }
    if (q != stop)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "central directory size disagrees", WHOLE);
    return 0;
}

/* ------------------------------------------------------------- names */

static int is_sep(uint8_t c)
{
    return c == '/' || c == '\\';
}

/* '..' as a path component, with either separator. */
static int name_climbs(const uint8_t *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || is_sep(s[i])) {
            if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

static int name_absolute(const uint8_t *s, size_t n)
{
    if (n >= 1 && is_sep(s[0]))
        return 1;
    return n >= 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':';
}

/* A macOS application bundle ("Tool.app/Contents/MacOS/tool"): any
 * directory component ending in ".app". */
static int name_in_app_bundle(const uint8_t *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_sep(s[i]))
            continue;
        if (i - start > 4 && s[i - 4] == '.' && (s[i - 3] | 0x20) == 'a' &&
            (s[i - 2] | 0x20) == 'p' && (s[i - 1] | 0x20) == 'p')
            return 1;
        start = i + 1;
    }
    return 0;
}

/*
 * A reserved DOS device name as a path component's stem ("CON",
 * "nul.txt", "COM1.tar.gz", "LPT9 "): Windows opens the device instead of
 * a file.  COM and LPT take 0-9 and the superscripts 1-3 (U+00B9, U+00B2,
 * U+00B3), as Windows 11 documents.
 */
static int win_device(const uint8_t *s, size_t n)
{
    static const char *const dev[] = {"con", "prn", "aux", "nul", "conin$", "conout$"};
    size_t stem = 0;
    while (stem < n && s[stem] != '.')
        stem++;
    while (stem > 0 && s[stem - 1] == ' ')
        stem--;
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        if (stem == strlen(dev[i]) && strncasecmp((const char *)s, dev[i], stem) == 0)
            return 1;
    if (stem < 4 || (strncasecmp((const char *)s, "com", 3) != 0 &&
                     strncasecmp((const char *)s, "lpt", 3) != 0))
        return 0;
    if (stem == 4 && s[3] >= '0' && s[3] <= '9')
        return 1;
    return stem == 5 && s[3] == 0xc2 && (s[4] == 0xb9 || s[4] == 0xb2 || s[4] == 0xb3);
}

/*
 * A name an NTFS or FAT extraction turns into another file: a ':' (an
 * alternate data stream, "evil.exe::$DATA" or "a.exe:x"), a character
 * Windows forbids (< > " | ? * and controls), a component ending in a dot
 * or a space (stripped on extraction: "evil.exe." is evil.exe), or a
 * reserved device name.  Unlike a claimed name, an entry name cannot be
 * repaired: the extractor writes what the archive says.
 */
static const char *win_unsafe(const uint8_t *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return "control character in name";
        else if (s[i] == ':')
            return "':' in name (alternate data stream)";
        else if (memchr("<>\"|?*", s[i], 7) != NULL)
            return "character Windows forbids in name";
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !is_sep(s[i]))
            continue;
        size_t len = i - start;
        const uint8_t *c = s + start;
        start = i + 1;
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            continue;
        if (c[len - 1] == '.' || c[len - 1] == ' ')
            return "name component ends in a dot or a space";
        if (win_device(c, len))
            return "reserved device name";
    }
    return NULL;
}

/* Path checks on a name an extractor may use. */
static int check_path(struct imsafe__arc *zc, unsigned long index, const uint8_t *s, size_t n)
{
    if (memchr(s, '\0', n) != NULL)
        /* "evil.exe\0.txt": C-string readers see another name */
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "NUL byte in name", index);
    if (name_climbs(s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_TRAVERSAL, "name climbs out with '..'", index);
    if (name_absolute(s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_ABSOLUTE, "absolute name", index);
    return 0;
}

/* Windows-unsafe names (after the other name checks: "evil.exe." is an
 * executable first). */
static int check_win(struct imsafe__arc *zc, unsigned long index, const uint8_t *s, size_t n)
{
    const char *w = win_unsafe(s, n);
    return w != NULL ? fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, w, index) : 0;
}

/* A directory entry (its name ends in a separator) runs nothing, whatever
 * its name looks like: "vendor/github.com/" is a Go module path, not a
 * COM file.  Only an application bundle directory ("Tool.app/") is one. */
static int dangerous_name(const struct imsafe__arc *zc, const uint8_t *s, size_t n)
{
    if (code_archive_allowed(zc))
        return 0;
    if (n > 0 && is_sep(s[n - 1]))
        return name_in_app_bundle(s, n);
    return imsafe__name_is_dangerous((const char *)s, n) || name_in_app_bundle(s, n);
}

int imsafe__arc_name(struct imsafe__arc *zc, unsigned long index, const uint8_t *s, size_t n)
{
    if (check_path(zc, index, s, n) != 0)
        return STOP;
    if (dangerous_name(zc, s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY, "executable, script or shortcut name",
                    index);
    return check_win(zc, index, s, n);
}

#define S_TYPE 0170000u
#define S_REG 0100000u
#define S_DIR 0040000u
#define S_LNK 0120000u
#define DOS_REPARSE 0x400u /* FILE_ATTRIBUTE_REPARSE_POINT: an NTFS link */
#define DOS_DIR 0x10u      /* FILE_ATTRIBUTE_DIRECTORY */

/*
 * What kind of file an entry extracts to.  The Unix mode in the high half
 * of the external attributes is what unzip, bsdtar and 7-Zip restore
 * (Info-ZIP and Python write it with host Unix; 7-Zip writes it with any
 * host and flag 0x8000): a symbolic link there is recreated, pointing
 * anywhere (/etc/passwd, ../../.ssh).  A directory is one by its name
 * ("a/"); a mode that says directory for a name that does not (or a
 * directory holding data) reads as two different things.
 */
static int check_kind(struct imsafe__arc *zc, const struct zent *e)
{
    uint32_t mode = (e->eattr >> 16) & S_TYPE;
    int dir_name = e->nlen > 0 && e->name[e->nlen - 1] == '/';
    /* a trailing '\' is a directory on Windows and a character elsewhere */
    if (e->nlen > 0 && e->name[e->nlen - 1] == '\\')
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "name ends in a backslash", e->index);
    if (mode == S_LNK)
        return fail(zc, IMSAFE_R_ARCHIVE_LINK, "symbolic link", e->index);
    if ((mode != 0 && mode != S_REG && mode != S_DIR) || (e->eattr & DOS_REPARSE))
        return fail(zc, IMSAFE_R_ARCHIVE_LINK, "not a regular file or directory", e->index);
    /* libarchive and 7-Zip take the mode or the DOS directory bit for a
     * directory, Info-ZIP and Python the name */
    if ((mode == S_DIR || (e->eattr & DOS_DIR)) && !dir_name)
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "directory attribute on a file name",
                    e->index);
    return 0;
}

static int is_ascii(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return 0;
    return 1;
}

/* Checks on one entry's names and flags, in a fixed order. */
static int check_entry_header(struct imsafe__arc *zc, const struct zent *e)
{
    if (check_path(zc, e->index, e->name, e->nlen) != 0 ||
        (e->upath != NULL && check_path(zc, e->index, e->upath, e->uplen) != 0))
        return STOP;
    /* a Unicode Path whose CRC does not match the header name is stale:
     * Info-ZIP and 7-Zip then use the header name, other readers do not */
    if (e->upath != NULL && e->upcrc != (uint32_t)crc32(0L, e->name, (uInt)e->nlen))
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "stale Unicode Path extra", e->index);
    if (check_kind(zc, e) != 0)
        return STOP;
    int encrypted = (e->flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_CD_ENCRYPTED)) != 0 ||
                    e->method == METHOD_AES;
    if (encrypted && !zc->allow_encrypted)
        return fail(zc, IMSAFE_R_ARCHIVE_ENCRYPTED, "encrypted", e->index);
    if (!encrypted && e->method != METHOD_STORED && e->method != METHOD_DEFLATE) {
        imsafe__reject(zc->job, IMSAFE_R_UNSUPPORTED_ARCHIVE_METHOD, "entry %lu: method %u",
                       e->index, (unsigned)e->method);
        return STOP;
    }
    if (dangerous_name(zc, e->name, e->nlen) ||
        (e->upath != NULL && dangerous_name(zc, e->upath, e->uplen)))
        return fail(zc, IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY, "executable, script or shortcut name",
                    e->index);
    if (check_win(zc, e->index, e->name, e->nlen) != 0 ||
        (e->upath != NULL && check_win(zc, e->index, e->upath, e->uplen) != 0))
        return STOP;
    /* an ASCII header name reads the same in every code page: a Unicode
     * Path that differs renames the entry for the readers that use it
     * (Info-ZIP, 7-Zip, libarchive) and not for the others (Python) */
    if (e->upath != NULL && is_ascii(e->name, e->nlen) &&
        (e->uplen != e->nlen || memcmp(e->upath, e->name, e->nlen) != 0))
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "Unicode Path renames an ASCII name",
                    e->index);
    return 0;
}

/* Name order that folds ASCII case and '\' to '/': equal means two
 * entries extract to the same file on some system. */
static int cmp_name(const void *va, const void *vb)
{
    const struct zent *a = va, *b = vb;
    size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a->name[i], y = b->name[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x | 0x20) : x == '\\' ? '/' : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y | 0x20) : y == '\\' ? '/' : y;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

static int cmp_off(const void *va, const void *vb)
{
    const struct zent *a = va, *b = vb;
    return a->off < b->off ? -1 : a->off > b->off;
}

static int check_names(struct imsafe__arc *zc, struct zarc *a)
{
    const struct zent *e = a->e;
    for (uint64_t i = 0; i < a->count; i++)
        imsafe__doc_see(a->doc, e[i].name, e[i].nlen);
    for (uint64_t i = 0; i < a->count; i++)
        if (imsafe__doc_name(zc, a->doc, e[i].index, e[i].name, e[i].nlen) != 0 ||
            (e[i].upath && imsafe__doc_name(zc, a->doc, e[i].index, e[i].upath, e[i].uplen)) ||
            check_entry_header(zc, &e[i]) != 0)
            return STOP;
    qsort(a->e, (size_t)a->count, sizeof *a->e, cmp_name);
    for (uint64_t i = 1; i < a->count; i++)
        if (cmp_name(&a->e[i - 1], &a->e[i]) == 0)
            return fail(zc, IMSAFE_R_ARCHIVE_DUPLICATE, "name used twice", a->e[i].index);
    return 0;
}

/* ------------------------------------------------------------ layout */

/*
 * The data descriptor after an entry's data (flag bit 3): optional
 * signature, CRC, then sizes of 4 bytes (8 in ZIP64).  The form whose
 * values match the central entry wins; none matching is a disagreement.
 */
static int descriptor_len(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                          uint64_t at, uint64_t *len)
{
    static const struct {
        int sig, wide;
    } forms[4] = {{1, 0}, {1, 1}, {0, 0}, {0, 1}};
    for (int k = 0; k < 4; k++) {
        /* ZIP64 entries try the wide forms first */
        int f = e->z64 ? (k ^ 1) : k;
        uint64_t size = (forms[f].sig ? 4 : 0) + 4 + (forms[f].wide ? 16 : 8);
        if (!fits(at, size, a->cd_off))
            continue;
        const uint8_t *d = a->p + at;
        if (forms[f].sig && rd32(d) != SIG_DESC)
            continue;
        d += forms[f].sig ? 4 : 0;
        uint64_t cs = forms[f].wide ? rd64(d + 4) : rd32(d + 4);
        uint64_t us = forms[f].wide ? rd64(d + 12) : rd32(d + 8);
        if (rd32(d) == e->crc && cs == e->csize && us == e->usize) {
            *len = size;
            return 0;
        }
    }
    return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH, "data descriptor disagrees",
                e->index);
}

/* Where each entry's local header, data and descriptor lie. */
static int entry_range(struct imsafe__arc *zc, const struct zarc *a, struct zent *e)
{
    const uint8_t *l;
    uint64_t dlen = 0;
    /* bounds first: even forming a pointer past the payload is undefined */
    if (!fits(e->off, LOC_LEN, a->cd_off) || rd32(l = a->p + e->off) != SIG_LOC)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "no local header at its offset", e->index);
    e->data = e->off + LOC_LEN + (uint64_t)rd16(l + 26) + rd16(l + 28);
    if (!fits(e->data, e->csize, a->cd_off))
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "data runs into the central directory",
                    e->index);
    e->end = e->data + e->csize;
    if ((e->flags & FLAG_DESCRIPTOR) && descriptor_len(zc, a, e, e->end, &dlen) != 0)
        return STOP;
    e->end += dlen;
    return 0;
}

/*
 * APK Signature Scheme v2 block, between the last entry and the central
 * directory: size (8), ID-value pairs (each: length 8, id 4, value),
 * size again (8), magic "APK Sig Block 42".  The size excludes the first
 * size field.  It is the one structure allowed there.
 */
static int apk_block(struct imsafe__arc *zc, const struct zarc *a, uint64_t from)
{
    const uint8_t *p = a->p;
    uint64_t to = a->cd_off, size, q;
    if (to - from < 32 || memcmp(p + to - 16, APK_MAGIC, 16) != 0)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "bytes between entries and directory", WHOLE);
    /* streaming readers walk through the block looking for local headers:
     * only an APK (whose installer verifies it) may carry one */
    if (zc->job->depth != 0 || zc->job->type != IMSAFE_TYPE_APK)
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "APK signing block outside an APK", WHOLE);
    if (stray_records(zc, p + from, to - 16 - from, 0, "APK signing block", WHOLE) != 0)
        return STOP;
    size = rd64(p + from);
    if (size != rd64(p + to - 24) || size != to - from - 8)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "APK signing block sizes disagree", WHOLE);
    for (q = from + 8; q < to - 24;) {
        uint64_t len;
        if (to - 24 - q < 8 || (len = rd64(p + q)) < 4 || len > to - 24 - q - 8)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "APK signing block pair overruns", WHOLE);
        q += 8 + len;
    }
    return 0;
}

/* Entries must tile [0, cd_off): sorted by offset, each starting where the
 * previous ended. */
static int check_layout(struct imsafe__arc *zc, struct zarc *a)
{
    uint64_t cursor = 0;
    for (uint64_t i = 0; i < a->count; i++)
        if (entry_range(zc, a, &a->e[i]) != 0)
            return STOP;
    qsort(a->e, (size_t)a->count, sizeof *a->e, cmp_off);
    for (uint64_t i = 0; i < a->count; i++) {
        const struct zent *e = &a->e[i];
        if (e->off < cursor)
            return fail(zc, IMSAFE_R_ARCHIVE_OVERLAP, "overlaps another entry", e->index);
        if (e->off > cursor && i == 0)
            return fail(zc, IMSAFE_R_ARCHIVE_PREFIX, "bytes before the first entry", e->index);
        if (e->off > cursor)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "gap before entry", e->index);
        cursor = e->end;
    }
    if (cursor < a->cd_off && a->count == 0)
        return fail(zc, IMSAFE_R_ARCHIVE_PREFIX, "bytes before the archive", WHOLE);
    if (cursor < a->cd_off)
        return apk_block(zc, a, cursor);
    return 0;
}

/* ------------------------------------------------------------ entries */

/* The ZIP64 sizes of a local header's extra field (both present, RFC
 * APPNOTE 4.5.3).  Trailing bytes under 4 are tolerated: zipalign pads the
 * local extra field with zeros. */
static int local_z64(const uint8_t *x, size_t xlen, uint64_t *us, uint64_t *cs)
{
    for (size_t i = 0; xlen - i >= 4;) {
        uint16_t id = rd16(x + i), sz = rd16(x + i + 2);
        if (sz > xlen - i - 4)
            return -1;
        if (id == 0x0001) {
            if (sz < 16)
                return -1;
            *us = rd64(x + i + 4);
            *cs = rd64(x + i + 12);
            return 0;
        }
        i += 4 + (size_t)sz;
    }
    return -1;
}

/*
 * The local extra field: its records tile it (zipalign may leave under 4
 * zero bytes of padding), and its Unicode Path, if any, is found, since
 * libarchive extracts under the local one.  *up is NULL without one.
 */
static int local_extra(const uint8_t *x, size_t xlen, const uint8_t **up, size_t *uplen,
                       uint32_t *upcrc)
{
    size_t i = 0;
    *up = NULL;
    while (xlen - i >= 4) {
        uint16_t id = rd16(x + i), sz = rd16(x + i + 2);
        if (sz > xlen - i - 4)
            return -1;
        if (id == 0x7075) {
            if (sz < 5 || x[i + 4] != 1 || *up != NULL)
                return -1;
            *up = x + i + 9;
            *uplen = sz - 5u;
            *upcrc = rd32(x + i + 5);
        }
        i += 4 + (size_t)sz;
    }
    for (; i < xlen; i++)
        if (x[i] != 0)
            return -1;
    return 0;
}

/* The name a reader extracts under: the Unicode Path when there is one. */
static int same_name(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

static int check_local_name(struct imsafe__arc *zc, const struct zent *e, const uint8_t *x,
                            size_t xlen)
{
    const uint8_t *up;
    size_t uplen = 0;
    uint32_t upcrc = 0;
    if (local_extra(x, xlen, &up, &uplen, &upcrc) != 0)
        return fail(zc, IMSAFE_R_ARCHIVE_AMBIGUOUS, "local extra field does not parse",
                    e->index);
    const uint8_t *ln = up != NULL ? up : e->name, *cn = e->upath != NULL ? e->upath : e->name;
    size_t lnl = up != NULL ? uplen : e->nlen, cnl = e->upath != NULL ? e->uplen : e->nlen;
    if (!same_name(ln, lnl, cn, cnl) ||
        (up != NULL && upcrc != (uint32_t)crc32(0L, e->name, (uInt)e->nlen)))
        return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH,
                    "Unicode Path names differ between local and central headers", e->index);
    return stray_records(zc, x, xlen, 0, "local extra field", e->index);
}

/* A local value agrees: equal, or (with a descriptor) zero. */
static int local_agrees(uint64_t local, uint64_t central, int descriptor)
{
    return local == central || (descriptor && local == 0);
}

static int check_local(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e)
{
    const uint8_t *l = a->p + e->off;
    uint16_t flags = rd16(l + 6), nlen = rd16(l + 26), xlen = rd16(l + 28);
    uint64_t cs = rd32(l + 18), us = rd32(l + 22);
    int desc = (e->flags & FLAG_DESCRIPTOR) != 0;
    if (((flags ^ e->flags) & FLAGS_MUST_AGREE) != 0 || rd16(l + 8) != e->method)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH, "flags or method differ",
                    e->index);
    if (nlen != e->nlen || memcmp(l + LOC_LEN, e->name, nlen) != 0)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH, "names differ", e->index);
    if (check_local_name(zc, e, l + LOC_LEN + nlen, xlen) != 0)
        return STOP;
    if ((cs == 0xffffffffu || us == 0xffffffffu) &&
        local_z64(l + LOC_LEN + nlen, xlen, &us, &cs) != 0)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH, "ZIP64 sizes missing",
                    e->index);
    if (!local_agrees(rd32(l + 14), e->crc, desc) || !local_agrees(cs, e->csize, desc) ||
        !local_agrees(us, e->usize, desc))
        return fail(zc, IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH, "CRC or sizes differ",
                    e->index);
    return 0;
}

/* Declared sizes against the limits, before inflating anything. */
static int check_declared(struct imsafe__arc *zc, const struct zent *e)
{
    uint64_t total, allowed;
    if (e->usize > zc->max_entry || imsafe__add_ovf(zc->total, e->usize, &total) ||
        total > zc->max_total) {
        imsafe__reject(zc->job, IMSAFE_R_LIMIT_ARCHIVE_BYTES,
                       "entry %lu declares %llu bytes; limits %llu per entry, %llu in total",
                       e->index, (unsigned long long)e->usize,
                       (unsigned long long)zc->max_entry, (unsigned long long)zc->max_total);
        return STOP;
    }
    if (e->usize > RATIO_GRACE &&
        !imsafe__mul_ovf(zc->ratio, e->csize ? e->csize : 1, &allowed) && e->usize > allowed) {
        imsafe__reject(zc->job, IMSAFE_R_LIMIT_ARCHIVE_RATIO,
                       "entry %lu declares %llu:%llu, limit %llu:1", e->index,
                       (unsigned long long)e->usize, (unsigned long long)e->csize,
                       (unsigned long long)zc->ratio);
        return STOP;
    }
    return 0;
}

/* Inflate (or read) one entry's data into a sink. */
static int entry_data(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                      struct sink *s)
{
    const uint8_t *d = a->p + e->data;
    uint64_t used;
    if (e->method == METHOD_STORED) {
        if (e->csize != e->usize)
            return fail(zc, IMSAFE_R_MALFORMED_ZIP, "stored sizes differ", e->index);
        return stored_put(zc, d, e->csize, s);
    }
    if (inflate_raw(zc, d, e->csize, s, &used, IMSAFE_R_MALFORMED_ZIP,
                    IMSAFE_R_MALFORMED_ZIP) != 0)
        return STOP;
    if (used != e->csize)
        /* bytes after the deflate end are hidden from every extractor */
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "data after the deflate stream", e->index);
    return 0;
}

/* A nested archive: held in memory (charged), then walked. */
static int entry_nested(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                        imsafe_type t)
{
    struct sink *s = NULL;
    int rc = STOP;
    if (zc->job->depth + 1 > zc->max_depth)
        return nested(zc, t, NULL, 0, e->index); /* rejects */
    if (e->method == METHOD_STORED) /* already in place */
        return nested(zc, t, a->p + e->data, (size_t)e->usize, e->index);
    if (e->usize > SIZE_MAX || (s = imsafe__alloc(zc->job, sizeof *s)) == NULL)
        goto done;
    sink_init(s, e->index, e->usize, e->csize);
    s->count = 0;
    s->hold_cap = (size_t)e->usize;
    if ((s->hold = imsafe__alloc(zc->job, s->hold_cap ? s->hold_cap : 1)) == NULL)
        goto done;
    if (entry_data(zc, a, e, s) != 0)
        goto done;
    rc = nested(zc, t, s->hold, (size_t)s->n, e->index);
done:
    if (s != NULL)
        imsafe__free(zc->job, s->hold);
    imsafe__free(zc->job, s);
    return rc;
}

/* The kinds the listing hook reports for a ZIP entry. */
static int entry_kind(const struct zent *e)
{
    int kind = e->nlen > 0 && e->name[e->nlen - 1] == '/' ? IMSAFE__ENTRY_DIR : 0;
    unsigned host = e->made >> 8;
    /* a non-ASCII name without the UTF-8 flag has one reading per code
     * page (and readers that ignore a Unicode Path use one) */
    if (!(e->flags & FLAG_UTF8))
        kind |= IMSAFE__ENTRY_LEGACY;
    if (e->flags & FLAG_DESCRIPTOR)
        kind |= IMSAFE__ENTRY_DESCRIPTOR;
    if (host == 0 || host == 11 || host == 14)
        kind |= IMSAFE__ENTRY_DOS_HOST;
    return kind;
}

static int check_entry(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                       struct sink *s)
{
    if (check_entry_data(zc, a, e, s) != 0)
        return STOP;
    if (e->upath != NULL)
        list_entry(zc, e->upath, e->uplen, e->usize, entry_kind(e));
    else
        list_entry(zc, e->name, e->nlen, e->usize, entry_kind(e));
    return 0;
}

static int check_entry_data(struct imsafe__arc *zc, const struct zarc *a, const struct zent *e,
                            struct sink *s)
{
    imsafe_type t;
    if (check_local(zc, a, e) != 0 || check_declared(zc, e) != 0)
        return STOP;
    if ((e->flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_CD_ENCRYPTED)) ||
        e->method == METHOD_AES)
        /* allowed by policy; its content cannot be read, but stored bytes
         * are still bytes a scanning reader sees */
        return e->method == METHOD_STORED
                   ? stray_records(zc, a->p + e->data, e->csize, 0, "stored data", e->index)
                   : 0;
    int stop;
    sink_init(s, e->index, e->usize, e->csize);
    /* an Office part to read is held whole (ooxml.c owns the buffer) */
    s->hold = imsafe__doc_hold(zc, a->doc, e->index, e->name, e->nlen, e->usize, &stop);
    s->hold_cap = s->hold != NULL ? (size_t)e->usize : 0;
    if (stop || entry_data(zc, a, e, s) != 0)
        return STOP;
    if (s->n != e->usize)
        return fail(zc, IMSAFE_R_MALFORMED_ZIP, "inflates short of its declared size",
                    e->index);
    if (s->crc != e->crc)
        return fail(zc, IMSAFE_R_MALFORMED_CRC, "CRC-32 mismatch", e->index);
    if (imsafe__doc_content(zc, a->doc, e->index, e->name, e->nlen, s->head, s->head_len,
                            s->hold, (size_t)s->n) != 0)
        return STOP;
    if (judge(zc, s->index, s->head, s->head_len, &t) != 0)
        return STOP;
    /* stored bytes are read in place by a reader that scans for records;
     * a stored archive's records are the nested walk's */
    if (e->method == METHOD_STORED && !type_is_nested(t) &&
        stray_records(zc, a->p + e->data, e->csize, 0, "stored data", e->index) != 0)
        return STOP;
    t = walk_as(t, s->head, s->head_len, s->tail, s->tail_len);
    return type_is_nested(t) ? entry_nested(zc, a, e, t) : 0;
}

static int zip_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n)
{
    struct imsafe__doc doc = {0, NULL, 0};
    struct zarc a = {.p = p, .n = n, .doc = &doc};
    struct sink *s = NULL;
    int rc = STOP;
    if (read_end(zc, &a) != 0 || read_central(zc, &a) != 0 || check_names(zc, &a) != 0 ||
        check_layout(zc, &a) != 0)
        goto done;
    if ((s = imsafe__alloc(zc->job, sizeof *s)) == NULL)
        goto done;
    for (uint64_t i = 0; i < a.count; i++)
        if (check_entry(zc, &a, &a.e[i], s) != 0)
            goto done;
    rc = 0;
done:
    imsafe__doc_end(zc, &doc);
    imsafe__free(zc->job, s);
    imsafe__free(zc->job, a.e);
    return rc;
}

/* --------------------------------------------------------------- gzip */

#define GZ_FTEXT 0x01
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10
#define GZ_RESERVED 0xe0

/* The zero-terminated field at p[*q..n); *q moves past the NUL. */
static int gz_string(struct imsafe__arc *zc, const uint8_t *p, size_t n, size_t *q, size_t *len)
{
    const uint8_t *z = memchr(p + *q, '\0', n - *q);
    if (z == NULL)
        return fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "gzip header ends early", WHOLE);
    *len = (size_t)(z - (p + *q));
    *q += *len + 1;
    return 0;
}

/* The original file name (FNAME): gunzip -N restores it. */
static int gz_name(struct imsafe__arc *zc, const uint8_t *s, size_t n)
{
    if (name_climbs(s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_TRAVERSAL, "gzip name climbs out with '..'", WHOLE);
    if (name_absolute(s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_ABSOLUTE, "gzip name is absolute", WHOLE);
    if (!code_archive_allowed(zc) && imsafe__name_is_dangerous((const char *)s, n))
        return fail(zc, IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY, "gzip name is an executable", WHOLE);
    return 0;
}

/* One member header (RFC 1952 2.3.1); *q gets the deflate data's start. */
static int gz_member_header(struct imsafe__arc *zc, const uint8_t *p, size_t n, size_t pos, size_t *q)
{
    const uint8_t *h = p + pos;
    size_t len;
    /* gzip(1) ignores trailing garbage with a warning; another reader may
     * not, so bytes after the last member reject */
    if (n - pos < 2 || h[0] != 0x1f || h[1] != 0x8b)
        return fail(zc, IMSAFE_R_MALFORMED_GZIP, "bytes after the last gzip member", WHOLE);
    if (n - pos < 10)
        return fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "gzip header ends early", WHOLE);
    if (h[2] != 8 || (h[3] & GZ_RESERVED) != 0)
        return fail(zc, IMSAFE_R_MALFORMED_GZIP, "gzip method or flags invalid", WHOLE);
    *q = pos + 10;
    if (h[3] & GZ_FEXTRA) {
        if (n - *q < 2 || (len = rd16(p + *q)) > n - *q - 2)
            return fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "gzip extra ends early", WHOLE);
        /* subfields SI1 SI2 LEN(2) data must tile the extra field */
        size_t i = 0;
        while (i < len) {
            if (len - i < 4 || rd16(p + *q + 2 + i + 2) > len - i - 4)
                return fail(zc, IMSAFE_R_MALFORMED_GZIP, "gzip extra subfield overruns", WHOLE);
            i += 4 + (size_t)rd16(p + *q + 2 + i + 2);
        }
        *q += 2 + len;
    }
    if (h[3] & GZ_FNAME) {
        size_t at = *q;
        if (gz_string(zc, p, n, q, &len) != 0 || gz_name(zc, p + at, len) != 0)
            return STOP;
    }
    if ((h[3] & GZ_FCOMMENT) && gz_string(zc, p, n, q, &len) != 0)
        return STOP;
    if (h[3] & GZ_FHCRC) {
        if (n - *q < 2)
            return fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "gzip header ends early", WHOLE);
        uint32_t crc = (uint32_t)crc32(0L, h, (uInt)(*q - pos));
        if ((crc & 0xffff) != rd16(p + *q))
            return fail(zc, IMSAFE_R_MALFORMED_CRC, "gzip header CRC mismatch", WHOLE);
        *q += 2;
    }
    return 0;
}

/* Every member of p[0..n) into one sink. */
static int gz_members(struct imsafe__arc *zc, const uint8_t *p, size_t n, struct sink *s)
{
    size_t pos = 0;
    do {
        size_t q;
        uint64_t used, start = s->n;
        if (gz_member_header(zc, p, n, pos, &q) != 0)
            return STOP;
        s->crc = (uint32_t)crc32(0L, Z_NULL, 0);
        if (inflate_raw(zc, p + q, n - q, s, &used, IMSAFE_R_MALFORMED_TRUNCATED,
                        IMSAFE_R_MALFORMED_GZIP) != 0)
            return STOP;
        q += (size_t)used;
        s->in_base += used;
        if (n - q < 8)
            return fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "gzip trailer missing", WHOLE);
        if (rd32(p + q) != s->crc)
            return fail(zc, IMSAFE_R_MALFORMED_CRC, "gzip CRC-32 mismatch", WHOLE);
        if (rd32(p + q + 4) != (uint32_t)(s->n - start))
            return fail(zc, IMSAFE_R_MALFORMED_GZIP, "gzip ISIZE mismatch", WHOLE);
        pos = q + 8;
    } while (pos < n);
    return 0;
}

static int gzip_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n)
{
    struct sink *s = imsafe__alloc(zc->job, sizeof *s);
    imsafe_type t;
    int rc = STOP;
    if (s == NULL)
        return STOP;
    sink_init(s, WHOLE, UINT64_MAX, 0);
    if (n == 0) {
        rc = fail(zc, IMSAFE_R_MALFORMED_TRUNCATED, "empty gzip", WHOLE);
        goto done;
    }
    if (gz_members(zc, p, n, s) != 0 || judge_content(zc, s, &t) != 0)
        goto done;
    if (!type_is_nested(t)) {
        rc = 0;
        goto done;
    }
    /* a .tar.gz is one archive to its readers: the tar inside a gzip is
     * walked at the gzip's own nesting level */
    int same_level = t == IMSAFE_TYPE_TAR;
    if ((!same_level && zc->job->depth + 1 > zc->max_depth) || s->n > SIZE_MAX) {
        rc = nested(zc, t, NULL, 0, WHOLE);
        goto done;
    }
    /* second pass into memory: the nested archive needs random access */
    uint64_t size = s->n;
    sink_init(s, WHOLE, size, 0);
    s->count = 0;
    s->hold_cap = (size_t)size;
    if ((s->hold = imsafe__alloc(zc->job, s->hold_cap ? s->hold_cap : 1)) == NULL ||
        gz_members(zc, p, n, s) != 0)
        goto done;
    rc = same_level ? imsafe__tar_walk(zc, s->hold, (size_t)s->n)
                    : nested(zc, t, s->hold, (size_t)s->n, WHOLE);
done:
    imsafe__free(zc->job, s->hold);
    imsafe__free(zc->job, s);
    return rc;
}

/* ------------------------------------------------------ for tar.c */

/*
 * An entry's bytes held in place (a tar member): the per-entry limit, the
 * content judged, a nested archive walked.  They are not added to the
 * running total: they are input bytes, or bytes the enclosing gzip or ZIP
 * entry already counted when it inflated them.
 */
int imsafe__arc_data(struct imsafe__arc *zc, unsigned long index, const uint8_t *p, size_t n)
{
    imsafe_type t;
    if ((uint64_t)n > zc->max_entry)
        return fail_n(zc, IMSAFE_R_LIMIT_ARCHIVE_BYTES, "larger than the per-entry limit",
                      index, zc->max_entry);
    size_t hl = n < HEAD_BYTES ? n : HEAD_BYTES, tl = n < TAIL_BYTES ? n : TAIL_BYTES;
    if (judge(zc, index, p, hl, &t) != 0)
        return STOP;
    t = walk_as(t, p, hl, p + n - tl, tl);
    return type_is_nested(t) ? nested(zc, t, p, n, index) : 0;
}

/* -------------------------------------------------------- entry points */

int imsafe__arc_init(struct imsafe__arc *zc, struct imsafe__job *job)
{
    const struct imsafe_policy *pol = job->policy;
    memset(zc, 0, sizeof *zc);
    zc->job = job;
    zc->max_total = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_BYTES);
    zc->max_entry = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES);
    zc->max_entries = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_ENTRIES);
    zc->ratio = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_RATIO);
    zc->max_depth = imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_DEPTH);
    zc->allow_encrypted = imsafe__opt(pol, IMSAFE_OPT_ALLOW_ENCRYPTED) != 0;
    zc->win = imsafe__alloc(job, WIN_BYTES);
    return zc->win == NULL ? STOP : 0;
}

imsafe_status imsafe__arc_finish(struct imsafe__arc *zc, int rc)
{
    if (zc->zs_ready)
        inflateEnd(&zc->zs);
    imsafe__free(zc->job, zc->win);
    if (rc == 0)
        imsafe__accept(zc->job, IMSAFE_PASSED);
    if (zc->job->alloc_failed)
        return IMSAFE_ENOMEM;
    return zc->job->internal_error ? IMSAFE_EINTERNAL : IMSAFE_OK;
}

imsafe_status imsafe__zip_inspect(struct imsafe__job *job)
{
    struct imsafe__arc zc;
    int rc = imsafe__arc_init(&zc, job);
    if (rc == 0)
        rc = zip_walk(&zc, job->in, job->in_len);
    return imsafe__arc_finish(&zc, rc);
}

imsafe_status imsafe__gzip_inspect(struct imsafe__job *job)
{
    struct imsafe__arc zc;
    int rc = imsafe__arc_init(&zc, job);
    if (rc == 0)
        rc = gzip_walk(&zc, job->in, job->in_len);
    return imsafe__arc_finish(&zc, rc);
}
