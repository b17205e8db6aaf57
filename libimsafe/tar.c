/*
 * tar.c - inspection of tar archives (POSIX.1-1988 ustar, POSIX.1-2001
 * pax, GNU), alone, inside gzip or inside a ZIP entry.  Nothing is
 * rebuilt: an archive that passes every check is accepted as it is.
 *
 * Layout: 512-byte blocks.  Each member is a header block, then its data
 * padded to a whole block; two zero blocks end the archive (writers pad
 * the file with more zeros to a 10240-byte record).
 *
 *   header   0 name[100] mode[8] uid[8] gid[8] size[12] mtime[12]
 *          148 chksum[8] typeflag[1] linkname[100]
 *          257 magic[6] version[2] uname[32] gname[32] devmajor[8]
 *              devminor[8] prefix[155] (POSIX; GNU keeps times there)
 *   magic        "ustar\0" "00" (POSIX, pax) or "ustar  \0" (GNU)
 *   numbers      octal ASCII, or base-256 when the first byte is 0x80 (GNU)
 *   typeflag     '0' '\0' '7' file, '5' directory, '1' hard link,
 *                '2' symlink, '3' '4' devices, '6' FIFO,
 *                'x' pax header for the next member, 'g' global pax,
 *                'L' 'K' GNU long name / long link name for the next member
 *   pax records  "LEN key=value\n", LEN counting the whole record
 *
 * Strictness: every rule answers a difference between readers (GNU tar,
 * libarchive/bsdtar, Python's tarfile, 7-Zip), which are the test oracle
 * (tests/diff_archives.py):
 *   - a header has the ustar magic and a valid checksum (pre-POSIX v7
 *     headers are unsupported.archive.format); every number parses
 *     exactly (found by the differential test: Python's tarfile ends the
 *     archive at a header whose device number does not parse);
 *   - nothing but zeros after the first zero block (Python stops at it,
 *     GNU tar -i reads on: a member there is hidden from some readers);
 *   - one long name per member (pax path or GNU 'L', not both, not twice),
 *     a global pax header sets no path or size (Python applies it,
 *     libarchive ignores it); pax records tile their header exactly;
 *   - a directory holds no data and a file name does not end in '/'
 *     (Python does not skip a directory's data; readers differ on which
 *     of the two such a member is);
 *   - links, devices and FIFOs reject (archive.link), sparse and other
 *     vendor members are unsupported.archive.format;
 *   - names get the checks ZIP entry names get (traversal, absolute,
 *     Windows-unsafe, executable), duplicates reject, and each file's data
 *     is judged like a ZIP entry's (zip.c: executables, streams we cannot
 *     open, nested archives walked within the same depth limit).
 *
 * Allowlist: kept - the payload unchanged (pass); rebuilt - nothing;
 * dropped - nothing.
 */
#include <string.h>

#include "imsafe_private.h"

#define BLOCK 512
#define STOP IMSAFE__ARC_STOP
/* A member name joined from prefix, '/' and name fits here. */
#define JOIN_MAX (155 + 1 + 100)

/* Pending metadata for the next member (pax 'x' or GNU 'L'). */
struct meta {
    const uint8_t *path; /* pax path or GNU long name, or NULL */
    size_t plen;
    int has_size;
    uint64_t size;
};

/* A kept name, for the duplicate check. */
struct tname {
    uint8_t *s;
    size_t n;
};

struct twalk {
    struct imsafe__arc *zc;
    const uint8_t *p;
    size_t n;
    struct tname *names;
    size_t count, cap;
};

static int tfail(struct twalk *w, imsafe_reason r, const char *what, unsigned long index)
{
    imsafe__reject(w->zc->job, r, "tar member %lu: %s", index, what);
    return STOP;
}

/* ------------------------------------------------------------ numbers */

/*
 * A numeric field: octal digits after optional spaces, ended by NUL or
 * space with only NULs and spaces after (Python's tarfile rejects other
 * junk that libarchive would skip), or GNU base-256 (0x80, then a
 * big-endian number).  Empty is 0, as both readers take it.
 */
static int tar_number(const uint8_t *f, size_t len, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    if (f[0] == 0x80) {
        for (i = 1; i < len; i++) {
            if (*v >> 55)
                return -1; /* past 2^63 */
            *v = *v << 8 | f[i];
        }
        return 0;
    }
    while (i < len && f[i] == ' ')
        i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
        if (*v >> 60)
            return -1;
        *v = *v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < len; i++)
        if (f[i] != '\0' && f[i] != ' ')
            return -1;
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Length of a NUL-terminated field (at most len). */
static size_t field_len(const uint8_t *f, size_t len)
{
    const uint8_t *z = memchr(f, '\0', len);
    return z != NULL ? (size_t)(z - f) : len;
}

/* ------------------------------------------------------------ pax */

/*
 * Parse the records of a pax header p[0..n) into m (global: only check
 * that it sets nothing the readers disagree on).  0, or STOP.
 */
static int pax_records(struct twalk *w, unsigned long index, const uint8_t *p, size_t n,
                       struct meta *m, int global)
{
    size_t pos = 0;
    while (pos < n) {
        size_t len = 0, i = pos;
        for (; i < n && p[i] >= '0' && p[i] <= '9' && len < n; i++)
            len = len * 10 + (size_t)(p[i] - '0');
        if (i == pos || i >= n || p[i] != ' ' || len <= i - pos + 1 || len > n - pos ||
            p[pos + len - 1] != '\n')
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "pax record does not parse", index);
        const uint8_t *k = p + i + 1, *end = p + pos + len - 1;
        const uint8_t *eq = memchr(k, '=', (size_t)(end - k));
        if (eq == NULL || eq == k)
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "pax record has no key", index);
        size_t kl = (size_t)(eq - k), vl = (size_t)(end - eq - 1);
        const uint8_t *v = eq + 1;
        pos += len;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
        if (kl >= 11 && memcmp(k, "GNU.sparse.", 11) == 0)
            return tfail(w, IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT, "sparse member", index);
        if (!KEY("path") && !KEY("size") && !KEY("linkpath"))
            continue; /* times, owners, charset, vendor keys: no effect on what is read */
        if (global)
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS,
                         "global pax header sets a path or size (readers differ)", index);
        if (KEY("path")) {
            if (m->path != NULL || vl == 0)
                return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "pax path empty or given twice",
                             index);
            m->path = v;
            m->plen = vl;
        } else if (KEY("size")) {
            uint64_t sz = 0;
            if (m->has_size || vl == 0 || vl > 19)
                return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "pax size invalid or given twice",
                             index);
            for (size_t j = 0; j < vl; j++) {
                if (v[j] < '0' || v[j] > '9')
                    return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "pax size invalid", index);
                sz = sz * 10 + (uint64_t)(v[j] - '0');
            }
            m->has_size = 1;
            m->size = sz;
        }
#undef KEY
    }
    return 0;
}

/* ---------------------------------------------------------- names */

/* Name order for duplicates: ASCII case folded, '\' as '/', leading "./"
 * and trailing '/' ignored (they extract to the same file). */
static void name_span(const struct tname *t, const uint8_t **s, size_t *n)
{
    *s = t->s;
    *n = t->n;
    while (*n >= 2 && (*s)[0] == '.' && ((*s)[1] == '/' || (*s)[1] == '\\')) {
        *s += 2;
        *n -= 2;
    }
    while (*n > 0 && ((*s)[*n - 1] == '/' || (*s)[*n - 1] == '\\'))
        (*n)--;
}

static int cmp_tname(const void *va, const void *vb)
{
    const uint8_t *a, *b;
    size_t an, bn;
    name_span(va, &a, &an);
    name_span(vb, &b, &bn);
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = b[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x | 0x20) : x == '\\' ? '/' : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y | 0x20) : y == '\\' ? '/' : y;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return an < bn ? -1 : an > bn;
}

/* Keep a copy of a member's name (charged to the call). */
static int keep_name(struct twalk *w, const uint8_t *s, size_t n)
{
    struct imsafe__job *job = w->zc->job;
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct tname *t = imsafe__calloc(job, cap, sizeof *t);
        if (t == NULL)
            return STOP;
        if (w->count > 0)
            memcpy(t, w->names, w->count * sizeof *t);
        imsafe__free(job, w->names);
        w->names = t;
        w->cap = cap;
    }
    uint8_t *c = imsafe__alloc(job, n ? n : 1);
    if (c == NULL)
        return STOP;
    memcpy(c, s, n);
    w->names[w->count].s = c;
    w->names[w->count].n = n;
    w->count++;
    return 0;
}

/* The name readers use: pax path or GNU long name, else prefix/name. */
static size_t member_name(const uint8_t *h, const struct meta *m, uint8_t *buf,
                          const uint8_t **name)
{
    if (m->path != NULL) {
        *name = m->path;
        return m->plen;
    }
    size_t nl = field_len(h, 100), pl = 0;
    /* only POSIX ustar has a prefix; GNU keeps access times there */
    if (memcmp(h + 257, "ustar\0", 6) == 0)
        pl = field_len(h + 345, 155);
    if (pl == 0) {
        *name = h;
        return nl;
    }
    memcpy(buf, h + 345, pl);
    buf[pl] = '/';
    memcpy(buf + pl + 1, h, nl);
    *name = buf;
    return pl + 1 + nl;
}

/* ---------------------------------------------------------- members */

/*
 * Every numeric field parses: Python's tarfile reads mode, uid, gid,
 * size, mtime and the device numbers of every header, and silently ends
 * the archive at one that does not parse (the members after it vanish for
 * Python only); libarchive reads on.
 */
static int check_numbers(const uint8_t *h)
{
    static const struct { uint16_t off, len; } f[] = {
        {100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {329, 8}, {337, 8}};
    uint64_t v;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (tar_number(h + f[i].off, f[i].len, &v) != 0)
            return -1;
    return 0;
}

/* The header block at h: magic, checksum and numeric fields. */
static int check_header(struct twalk *w, unsigned long index, const uint8_t *h)
{
    int posix = memcmp(h + 257, "ustar\0" "00", 8) == 0;
    int gnu = memcmp(h + 257, "ustar  \0", 8) == 0;
    if (!posix && !gnu)
        return tfail(w, IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT,
                     "header without the ustar or GNU magic", index);
    if (!imsafe__is_tar(h, BLOCK))
        return tfail(w, IMSAFE_R_MALFORMED_CRC, "header checksum mismatch", index);
    /* GNU headers keep times where POSIX has the name prefix: Python's
     * tarfile reads a prefix there anyway, libarchive does not */
    if (gnu && h[345] != 0 && h[156] != 'L' && h[156] != 'K')
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "GNU header with a name prefix", index);
    if (check_numbers(h) != 0)
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "numeric field does not parse", index);
    return 0;
}

/* A file or directory member: its name, size and data. */
static int member(struct twalk *w, unsigned long index, const uint8_t *h, const struct meta *m,
                  uint64_t size, size_t data)
{
    struct imsafe__arc *zc = w->zc;
    uint8_t buf[JOIN_MAX];
    const uint8_t *name;
    size_t nl = member_name(h, m, buf, &name);
    int dir = h[156] == '5';
    if (nl == 0)
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "empty name", index);
    if (memchr(name, '\0', nl) != NULL)
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "NUL byte in name", index);
    if (!dir && name[nl - 1] == '/')
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "file name ends in '/'", index);
    /* Python's tarfile makes a '\0' member whose header name ends in '/' a
     * directory before it applies a pax path; libarchive keeps a file */
    size_t hl = field_len(h, 100);
    if (h[156] == '\0' && hl > 0 && h[hl - 1] == '/')
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "old-style directory name on a file",
                     index);
    if (dir && size != 0)
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "directory holds data", index);
    if (imsafe__arc_name(zc, index, name, nl) != 0)
        return STOP;
    if ((uint64_t)w->count >= zc->max_entries) {
        imsafe__reject(zc->job, IMSAFE_R_LIMIT_ARCHIVE_ENTRIES, "more than %llu members",
                       (unsigned long long)zc->max_entries);
        return STOP;
    }
    if (keep_name(w, name, nl) != 0)
        return STOP;
    if (!dir && imsafe__arc_data(zc, index, w->p + data, (size_t)size) != 0)
        return STOP;
    if (zc->job->lister.fn != NULL)
        zc->job->lister.fn(zc->job->lister.opaque, zc->job->depth, name, nl, size,
                           dir ? IMSAFE__ENTRY_DIR : 0);
    return 0;
}

/* After the first zero block: zeros only. */
static int end_marker(struct twalk *w, unsigned long index, size_t pos, const struct meta *m)
{
    if (m->path != NULL || m->has_size)
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "long name or pax header ends the archive",
                     index);
    if (!all_zero(w->p + pos, w->n - pos))
        return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "data after the end-of-archive block",
                     index);
    return 0;
}

/* One block at pos: a header and its data.  *next gets the next header. */
static int step(struct twalk *w, unsigned long index, size_t pos, struct meta *m,
                size_t *next)
{
    const uint8_t *h = w->p + pos;
    uint64_t size, padded;
    if (check_header(w, index, h) != 0)
        return STOP;
    (void)tar_number(h + 124, 12, &size); /* parses: check_header() */
    uint8_t type = h[156];
    int meta = type == 'x' || type == 'g' || type == 'L' || type == 'K';
    if (!meta && m->has_size)
        size = m->size;
    size_t data = pos + BLOCK;
    if (imsafe__add_ovf(size, (uint64_t)(BLOCK - 1), &padded) ||
        (padded &= ~(uint64_t)(BLOCK - 1)) > (uint64_t)(w->n - data))
        return tfail(w, IMSAFE_R_MALFORMED_TRUNCATED, "data runs past the end", index);
    *next = data + (size_t)padded;
    const uint8_t *d = w->p + data;
    switch (type) {
    case 'x':
    case 'g':
        if (type == 'x' && (m->path != NULL || m->has_size))
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "two metadata headers for one member",
                         index);
        /* Python's tarfile parses records on into the padding until a NUL */
        if (!all_zero(d + size, (size_t)(padded - size)))
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "bytes in the pax header's padding",
                         index);
        return pax_records(w, index, d, (size_t)size, m, type == 'g');
    case 'L': {
        size_t l = field_len(d, (size_t)size);
        if (m->path != NULL || l == 0 || !all_zero(d + l, (size_t)size - l))
            return tfail(w, IMSAFE_R_ARCHIVE_AMBIGUOUS, "GNU long name invalid or repeated",
                         index);
        m->path = d;
        m->plen = l;
        return 0;
    }
    case 'K':
        return 0; /* a long link name: only a link uses it, and links reject */
    case '1':
    case '2':
        return tfail(w, IMSAFE_R_ARCHIVE_LINK, type == '2' ? "symbolic link" : "hard link",
                     index);
    case '3':
    case '4':
    case '6':
        return tfail(w, IMSAFE_R_ARCHIVE_LINK, "device or FIFO", index);
    case '0':
    case '\0':
    case '7':
    case '5': {
        int rc = member(w, index, h, m, size, data);
        memset(m, 0, sizeof *m);
        return rc;
    }
    default:
        imsafe__reject(w->zc->job, IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT,
                       "tar member %lu: member type %u", index, (unsigned)type);
        return STOP;
    }
}

static int walk(struct twalk *w)
{
    struct meta m;
    size_t pos = 0;
    memset(&m, 0, sizeof m);
    for (unsigned long index = 0;; index++) {
        if (w->n - pos < BLOCK) {
            /* the end-of-archive blocks may be missing (readers accept
             * that); a partial block may not */
            if (pos == w->n && index > 0 && m.path == NULL && !m.has_size)
                break;
            return tfail(w, IMSAFE_R_MALFORMED_TRUNCATED, "archive ends inside a block", index);
        }
        if (all_zero(w->p + pos, BLOCK)) {
            if (end_marker(w, index, pos, &m) != 0)
                return STOP;
            break;
        }
        if (step(w, index, pos, &m, &pos) != 0)
            return STOP;
    }
    if (w->count > 1) /* names is NULL while no member has one */
        qsort(w->names, w->count, sizeof *w->names, cmp_tname);
    for (size_t i = 1; i < w->count; i++)
        if (cmp_tname(&w->names[i - 1], &w->names[i]) == 0) {
            imsafe__reject(w->zc->job, IMSAFE_R_ARCHIVE_DUPLICATE, "two tar members, one name");
            return STOP;
        }
    return 0;
}

int imsafe__tar_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n)
{
    struct twalk w = {.zc = zc, .p = p, .n = n};
    int rc = walk(&w);
    for (size_t i = 0; i < w.count; i++)
        imsafe__free(zc->job, w.names[i].s);
    imsafe__free(zc->job, w.names);
    return rc;
}

imsafe_status imsafe__tar_inspect(struct imsafe__job *job)
{
    struct imsafe__arc zc;
    int rc = imsafe__arc_init(&zc, job);
    if (rc == 0)
        rc = imsafe__tar_walk(&zc, job->in, job->in_len);
    return imsafe__arc_finish(&zc, rc);
}
