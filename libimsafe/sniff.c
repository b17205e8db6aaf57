/*
 * sniff.c - the only place that names types.  A type comes from the content:
 * magic bytes first, then structure (ISO-BMFF brands, RIFF forms, ZIP member
 * names, the first tags of markup).  The claimed name and MIME type never
 * decide a type; they are only mapped here so the pipeline can compare them
 * with what the content says.
 *
 * The trailing-bytes verdict shared by the image formats (what follows
 * IEND / EOI / the GIF trailer) lives in scan.c with the one scanner.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <string.h>
#include <strings.h>

#include "imsafe_private.h"

static const char *const type_names[IMSAFE_TYPE_COUNT] = {
    "unknown", "png",  "jpeg", "gif",  "webp", "bmp",  "tiff", "ico",   "heic",
    "heif",    "avif", "mp4",  "mov",  "webm", "ogg",  "mp3",  "wav",   "svg",
    "xml",     "html", "pdf",  "rtf",  "ole2", "zip",  "docx", "xlsx",  "pptx",
    "odf",     "epub", "jar",  "apk",  "gzip", "7z",   "rar",  "pe",    "elf",
    "macho",   "script", "text", "mng", "mvg", "lnk",  "java_class", "dex",
    "tar",
    "postscript",
};

const char *imsafe_type_name(imsafe_type t)
{
    if ((unsigned)t >= IMSAFE_TYPE_COUNT)
        return "unknown";
    return type_names[t];
}

/* The usual file extension and MIME type of each type, for hosts that name
 * or label what they forward (a rebuilt "sticker.webp" that is a JPEG is
 * served as image/jpeg, sticker.jpg).  Types with no registered MIME type
 * get application/octet-stream, which no browser renders. */
static const struct { const char *ext; const char *mime; } type_labels[IMSAFE_TYPE_COUNT] = {
    [IMSAFE_TYPE_UNKNOWN] = {"bin", "application/octet-stream"},
    [IMSAFE_TYPE_PNG] = {"png", "image/png"},
    [IMSAFE_TYPE_JPEG] = {"jpg", "image/jpeg"},
    [IMSAFE_TYPE_GIF] = {"gif", "image/gif"},
    [IMSAFE_TYPE_WEBP] = {"webp", "image/webp"},
    [IMSAFE_TYPE_BMP] = {"bmp", "image/bmp"},
    [IMSAFE_TYPE_TIFF] = {"tif", "image/tiff"},
    [IMSAFE_TYPE_ICO] = {"ico", "image/vnd.microsoft.icon"},
    [IMSAFE_TYPE_HEIC] = {"heic", "image/heic"},
    [IMSAFE_TYPE_HEIF] = {"heif", "image/heif"},
    [IMSAFE_TYPE_AVIF] = {"avif", "image/avif"},
    [IMSAFE_TYPE_MP4] = {"mp4", "video/mp4"},
    [IMSAFE_TYPE_MOV] = {"mov", "video/quicktime"},
    [IMSAFE_TYPE_WEBM] = {"webm", "video/webm"},
    [IMSAFE_TYPE_OGG] = {"ogg", "audio/ogg"},
    [IMSAFE_TYPE_MP3] = {"mp3", "audio/mpeg"},
    [IMSAFE_TYPE_WAV] = {"wav", "audio/wav"},
    [IMSAFE_TYPE_SVG] = {"svg", "image/svg+xml"},
    [IMSAFE_TYPE_XML] = {"xml", "application/xml"},
    [IMSAFE_TYPE_HTML] = {"html", "text/html"},
    [IMSAFE_TYPE_PDF] = {"pdf", "application/pdf"},
    [IMSAFE_TYPE_RTF] = {"rtf", "application/rtf"},
    [IMSAFE_TYPE_OLE2] = {"doc", "application/x-ole-storage"},
    [IMSAFE_TYPE_ZIP] = {"zip", "application/zip"},
    [IMSAFE_TYPE_DOCX] = {"docx",
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    [IMSAFE_TYPE_XLSX] = {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    [IMSAFE_TYPE_PPTX] = {"pptx",
                          "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    [IMSAFE_TYPE_ODF] = {"odt", "application/vnd.oasis.opendocument.text"},
    [IMSAFE_TYPE_EPUB] = {"epub", "application/epub+zip"},
    [IMSAFE_TYPE_JAR] = {"jar", "application/java-archive"},
    [IMSAFE_TYPE_APK] = {"apk", "application/vnd.android.package-archive"},
    [IMSAFE_TYPE_GZIP] = {"gz", "application/gzip"},
    [IMSAFE_TYPE_7Z] = {"7z", "application/x-7z-compressed"},
    [IMSAFE_TYPE_RAR] = {"rar", "application/vnd.rar"},
    [IMSAFE_TYPE_PE] = {"exe", "application/vnd.microsoft.portable-executable"},
    [IMSAFE_TYPE_ELF] = {"elf", "application/x-executable"},
    [IMSAFE_TYPE_MACHO] = {"macho", "application/x-mach-binary"},
    [IMSAFE_TYPE_SCRIPT] = {"txt", "text/plain"},
    [IMSAFE_TYPE_TEXT] = {"txt", "text/plain"},
    [IMSAFE_TYPE_MNG] = {"mng", "video/x-mng"},
    [IMSAFE_TYPE_MVG] = {"mvg", "application/octet-stream"},
    [IMSAFE_TYPE_LNK] = {"lnk", "application/octet-stream"},
    [IMSAFE_TYPE_JAVA_CLASS] = {"class", "application/java-vm"},
    [IMSAFE_TYPE_DEX] = {"dex", "application/octet-stream"},
    [IMSAFE_TYPE_TAR] = {"tar", "application/x-tar"},
    [IMSAFE_TYPE_POSTSCRIPT] = {"ps", "application/postscript"},
};

const char *imsafe_type_ext(imsafe_type t)
{
    if ((unsigned)t >= IMSAFE_TYPE_COUNT)
        t = IMSAFE_TYPE_UNKNOWN;
    return type_labels[t].ext;
}

const char *imsafe_type_mime(imsafe_type t)
{
    if ((unsigned)t >= IMSAFE_TYPE_COUNT)
        t = IMSAFE_TYPE_UNKNOWN;
    return type_labels[t].mime;
}

int imsafe_type_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < IMSAFE_TYPE_COUNT; i++)
        if (strcmp(type_names[i], name) == 0)
            return i;
    return -1;
}

enum imsafe__class imsafe__type_class(imsafe_type t)
{
    switch (t) {
    case IMSAFE_TYPE_PNG: case IMSAFE_TYPE_JPEG: case IMSAFE_TYPE_GIF:
    case IMSAFE_TYPE_WEBP: case IMSAFE_TYPE_BMP: case IMSAFE_TYPE_TIFF:
    case IMSAFE_TYPE_ICO: case IMSAFE_TYPE_HEIC: case IMSAFE_TYPE_HEIF:
    case IMSAFE_TYPE_AVIF: case IMSAFE_TYPE_MNG:
        return IMSAFE_CLASS_IMAGE;
    case IMSAFE_TYPE_MP4: case IMSAFE_TYPE_MOV: case IMSAFE_TYPE_WEBM:
    case IMSAFE_TYPE_OGG: case IMSAFE_TYPE_MP3: case IMSAFE_TYPE_WAV:
        return IMSAFE_CLASS_MEDIA;
    case IMSAFE_TYPE_PDF: case IMSAFE_TYPE_RTF: case IMSAFE_TYPE_OLE2:
    case IMSAFE_TYPE_DOCX: case IMSAFE_TYPE_XLSX: case IMSAFE_TYPE_PPTX:
    case IMSAFE_TYPE_ODF: case IMSAFE_TYPE_EPUB:
        return IMSAFE_CLASS_DOCUMENT;
    case IMSAFE_TYPE_ZIP: case IMSAFE_TYPE_GZIP: case IMSAFE_TYPE_7Z:
    case IMSAFE_TYPE_RAR: case IMSAFE_TYPE_TAR:
        return IMSAFE_CLASS_ARCHIVE;
    /* JAR and APK are archives that run: judged as executables */
    case IMSAFE_TYPE_JAR: case IMSAFE_TYPE_APK: case IMSAFE_TYPE_PE:
    case IMSAFE_TYPE_ELF: case IMSAFE_TYPE_MACHO: case IMSAFE_TYPE_LNK:
    case IMSAFE_TYPE_JAVA_CLASS: case IMSAFE_TYPE_DEX:
        return IMSAFE_CLASS_EXECUTABLE;
    /* PostScript is a program: Ghostscript runs it (CVE-2018-16509,
     * CVE-2023-36664 reached through image converters) */
    case IMSAFE_TYPE_SCRIPT: case IMSAFE_TYPE_POSTSCRIPT:
        return IMSAFE_CLASS_SCRIPT;
    case IMSAFE_TYPE_SVG: case IMSAFE_TYPE_XML: case IMSAFE_TYPE_HTML:
    case IMSAFE_TYPE_MVG:
        return IMSAFE_CLASS_ACTIVE;
    case IMSAFE_TYPE_TEXT:
        return IMSAFE_CLASS_TEXT;
    case IMSAFE_TYPE_UNKNOWN:
        return IMSAFE_CLASS_UNKNOWN;
    }
    return IMSAFE_CLASS_UNKNOWN;
}

/* ------------------------------------------------------------ primitives */

static int at(const uint8_t *p, size_t n, size_t off, const void *magic, size_t m)
{
    return off <= n && m <= n - off && memcmp(p + off, magic, m) == 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ------------------------------------------------------------ structures */

/* ISO-BMFF: "ftyp" box at 4; the major brand and compatible brands tell
 * HEIC/HEIF/AVIF from MP4/MOV. */
static imsafe_type sniff_ftyp(const uint8_t *p, size_t n)
{
    if (!at(p, n, 4, "ftyp", 4) || n < 12)
        return IMSAFE_TYPE_UNKNOWN;
    uint32_t box = be32(p);
    size_t end = box >= 16 && box <= n ? box : (n < 64 ? n : 64);
    static const struct { const char *brand; imsafe_type t; } brands[] = {
        {"avif", IMSAFE_TYPE_AVIF}, {"avis", IMSAFE_TYPE_AVIF}, {"heic", IMSAFE_TYPE_HEIC},
        {"heix", IMSAFE_TYPE_HEIC}, {"hevc", IMSAFE_TYPE_HEIC}, {"heim", IMSAFE_TYPE_HEIC},
        {"heis", IMSAFE_TYPE_HEIC}, {"mif1", IMSAFE_TYPE_HEIF}, {"msf1", IMSAFE_TYPE_HEIF},
        {"qt  ", IMSAFE_TYPE_MOV},
    };
    /* the major brand first, then each compatible brand */
    for (size_t off = 8; off + 4 <= end; off += 4) {
        if (off == 12)
            continue; /* minor version */
        for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
            if (memcmp(p + off, brands[i].brand, 4) == 0)
                return brands[i].t;
    }
    return IMSAFE_TYPE_MP4;
}

/* Local-file-header names of a ZIP tell its document kind.  Walks the
 * local headers from the start, bounded by the payload. */
static imsafe_type sniff_zip_kind(const uint8_t *p, size_t n)
{
    size_t off = 0;
    for (int i = 0; i < 64 && at(p, n, off, "PK\3\4", 4) && off + 30 <= n; i++) {
        uint32_t csize = le32(p + off + 18);
        size_t nlen = (size_t)p[off + 26] | (size_t)p[off + 27] << 8;
        size_t xlen = (size_t)p[off + 28] | (size_t)p[off + 29] << 8;
        const uint8_t *name = p + off + 30;
        if (off + 30 + nlen > n)
            break;
        if (i == 0 && nlen == 8 && memcmp(name, "mimetype", 8) == 0 &&
            off + 30 + nlen + xlen <= n) {
            const uint8_t *v = name + nlen + xlen;
            size_t vl = n - (size_t)(v - p);
            if (at(v, vl, 0, "application/epub+zip", 20))
                return IMSAFE_TYPE_EPUB;
            if (at(v, vl, 0, "application/vnd.oasis.opendocument.", 35))
                return IMSAFE_TYPE_ODF;
        }
#define NAMEPFX(s) (nlen >= sizeof(s) - 1 && memcmp(name, s, sizeof(s) - 1) == 0)
        if (NAMEPFX("word/"))
            return IMSAFE_TYPE_DOCX;
        if (NAMEPFX("xl/"))
            return IMSAFE_TYPE_XLSX;
        if (NAMEPFX("ppt/"))
            return IMSAFE_TYPE_PPTX;
        if (NAMEPFX("META-INF/MANIFEST.MF"))
            return IMSAFE_TYPE_JAR;
        if (NAMEPFX("AndroidManifest.xml") || NAMEPFX("classes.dex"))
            return IMSAFE_TYPE_APK;
#undef NAMEPFX
        /* a data descriptor hides the size; stop rather than guess */
        if (p[off + 6] & 8)
            break;
        size_t next = off + 30 + nlen + xlen;
        if (next > n || csize > n - next)
            break;
        off = next + csize;
    }
    return IMSAFE_TYPE_ZIP;
}

/* PE: "MZ" header whose e_lfanew points at "PE\0\0". */
static int is_pe(const uint8_t *p, size_t n)
{
    if (!at(p, n, 0, "MZ", 2) || n < 64)
        return 0;
    uint32_t lfanew = le32(p + 60);
    return lfanew <= n - 4 && at(p, n, lfanew, "PE\0\0", 4);
}

static int is_macho(const uint8_t *p, size_t n)
{
    static const uint8_t m[][4] = {{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf},
                                   {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}};
    for (size_t i = 0; i < 4; i++)
        if (at(p, n, 0, m[i], 4))
            return 1;
    /* fat binaries share CAFEBABE with Java classes: a fat header has a
     * small architecture count where a class file has its version */
    return at(p, n, 0, "\xca\xfe\xba\xbe", 4) && n >= 8 && be32(p + 4) < 20;
}

/* MP3: an ID3v2 tag, or an MPEG audio frame sync with a valid header. */
static int is_mp3(const uint8_t *p, size_t n)
{
    if (at(p, n, 0, "ID3", 3) && n >= 10 && p[3] < 5)
        return 1;
    return n >= 4 && p[0] == 0xff && (p[1] & 0xe6) == 0xe2 && (p[2] & 0xf0) != 0xf0 &&
           (p[2] & 0x0c) != 0x0c;
}

/* Binary magic numbers at offset 0 (or a fixed offset). */
static imsafe_type sniff_magic(const uint8_t *p, size_t n)
{
    static const struct { size_t off; const char *magic; size_t len; imsafe_type t; } m[] = {
        {0, "\x89PNG\r\n\x1a\n", 8, IMSAFE_TYPE_PNG},
        {0, "\x8aMNG\r\n\x1a\n", 8, IMSAFE_TYPE_MNG},
        {0, "\xff\xd8\xff", 3, IMSAFE_TYPE_JPEG},
        {0, "GIF87a", 6, IMSAFE_TYPE_GIF},
        {0, "GIF89a", 6, IMSAFE_TYPE_GIF},
        {0, "II*\0", 4, IMSAFE_TYPE_TIFF},
        {0, "MM\0*", 4, IMSAFE_TYPE_TIFF},
        {0, "%PDF-", 5, IMSAFE_TYPE_PDF},
        {0, "{\\rtf", 5, IMSAFE_TYPE_RTF},
        {0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, IMSAFE_TYPE_OLE2},
        {0, "\x1f\x8b\x08", 3, IMSAFE_TYPE_GZIP},
        {0, "7z\xbc\xaf\x27\x1c", 6, IMSAFE_TYPE_7Z},
        {0, "Rar!\x1a\x07", 6, IMSAFE_TYPE_RAR},
        {0, "\x7f" "ELF", 4, IMSAFE_TYPE_ELF},
        {0, "OggS", 4, IMSAFE_TYPE_OGG},
        {0, "\x1a\x45\xdf\xa3", 4, IMSAFE_TYPE_WEBM},
        {0, "dex\n", 4, IMSAFE_TYPE_DEX},
        {0, "L\0\0\0\x01\x14\x02\0", 8, IMSAFE_TYPE_LNK},
        /* DOS EPS binary header, and PostScript after a Ctrl-D (printer
         * spool files): Ghostscript reads both */
        {0, "\xc5\xd0\xd3\xc6", 4, IMSAFE_TYPE_POSTSCRIPT},
        {0, "\x04%!", 3, IMSAFE_TYPE_POSTSCRIPT},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (at(p, n, m[i].off, m[i].magic, m[i].len))
            return m[i].t;
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WEBP", 4))
        return IMSAFE_TYPE_WEBP;
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WAVE", 4))
        return IMSAFE_TYPE_WAV;
    if (at(p, n, 0, "PK\3\4", 4) || at(p, n, 0, "PK\5\6", 4))
        return sniff_zip_kind(p, n);
    if (imsafe__is_tar(p, n))
        return IMSAFE_TYPE_TAR;
    if (is_pe(p, n))
        return IMSAFE_TYPE_PE;
    if (is_macho(p, n))
        return IMSAFE_TYPE_MACHO;
    if (at(p, n, 0, "\xca\xfe\xba\xbe", 4))
        return IMSAFE_TYPE_JAVA_CLASS;
    /* BMP: "BM" + a file size field that matches and a sane header size */
    if (at(p, n, 0, "BM", 2) && n >= 26 && le32(p + 2) == n &&
        (le32(p + 14) == 12 || le32(p + 14) >= 40))
        return IMSAFE_TYPE_BMP;
    if (at(p, n, 0, "\0\0\1\0", 4) && n >= 22 && p[4] + p[5] > 0)
        return IMSAFE_TYPE_ICO;
    return sniff_ftyp(p, n);
}

/* ------------------------------------------------------------------ text */

/*
 * Text is judged as the program that opens it would read it: as code units
 * of UTF-8, or of UTF-16/32 when a byte order mark or the XML
 * specification's autodetection pattern (Appendix F: "<" or white space as
 * 00 3C / 3C 00 ...) says so.  Matching sees ASCII letters case-folded and
 * any other code unit as 0x80, so "<ScRiPt" in UTF-16 is "<script".
 */
struct tv {
    const uint8_t *p;
    size_t n;      /* code units */
    unsigned unit; /* 1, 2 or 4 bytes */
    int be;
};

static uint32_t tv_raw(const struct tv *v, size_t k)
{
    const uint8_t *q = v->p + k * v->unit;
    if (v->unit == 1)
        return q[0];
    if (v->unit == 2)
        return v->be ? (uint32_t)q[0] << 8 | q[1] : (uint32_t)q[1] << 8 | q[0];
    return v->be ? be32(q) : le32(q);
}

/* A byte as matching sees it: ASCII in lower case, 0x80 from 0x80 up. */
#define X4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define X16(b) X4(b), X4((b) + 4), X4((b) + 8), X4((b) + 12)
#define HIGH4 0x80, 0x80, 0x80, 0x80
#define HIGH16 HIGH4, HIGH4, HIGH4, HIGH4
static const uint8_t folded[] = {
    X16(0x00), X16(0x10), X16(0x20), X16(0x30), 0x40,
    X16(0x61), X4(0x71), X4(0x75), 0x79, 0x7a, /* 'A'-'Z' as 'a'-'z' */
    0x5b, 0x5c, 0x5d, 0x5e, 0x5f, X16(0x60), X16(0x70),
    HIGH16, HIGH16, HIGH16, HIGH16, HIGH16, HIGH16, HIGH16, HIGH16,
};
typedef char folded_covers_bytes[sizeof folded == 256 ? 1 : -1];

/* The unit at k for matching: ASCII lower case, 0x80 for anything else, 0
 * past the end. */
static inline unsigned tv_c(const struct tv *v, size_t k)
{
    if (k >= v->n)
        return 0;
    if (v->unit == 1)
        return folded[v->p[k]];
    uint32_t c = tv_raw(v, k);
    return c >= 0x80 ? 0x80 : ascii_lower((unsigned char)c);
}

/* Does the lower-case ASCII word w (never empty: every caller passes a
 * literal) start at unit k?  The first unit is compared before anything
 * else: most calls fail there, and the rest starts at the second. */
static inline int tv_at(const struct tv *v, size_t k, const char *w)
{
    if (tv_c(v, k) != (unsigned char)w[0])
        return 0;
    if (v->unit == 1) { /* UTF-8, the common case: bytes, no decoding */
        for (size_t i = 1; w[i] != '\0'; i++)
            if (k + i >= v->n || folded[v->p[k + i]] != (unsigned char)w[i])
                return 0;
        return 1;
    }
    for (size_t i = 1; w[i] != '\0'; i++)
        if (tv_c(v, k + i) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* Is w anywhere in units [from, from + lim)? */
static int tv_has(const struct tv *v, size_t from, size_t lim, const char *w)
{
    size_t end = from < v->n && lim < v->n - from ? from + lim : v->n;
    for (size_t k = from; k < end; k++)
        if (tv_c(v, k) == (unsigned char)w[0] && tv_at(v, k, w))
            return 1;
    return 0;
}

static int is_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static int is_letter(unsigned c)
{
    return c >= 'a' && c <= 'z';
}

/* Is c one of the ASCII characters of set (never the terminator)? */
static inline int one_of(unsigned c, const char *set)
{
    for (; *set != '\0'; set++)
        if (c == (unsigned char)*set)
            return 1;
    return 0;
}

/* Set up a view: byte order marks, then the BOM-less UTF-16/32 patterns
 * of an ASCII first character.  0 when the length does not fit the unit. */
static int tv_open(const uint8_t *p, size_t n, struct tv *v)
{
    static const struct { const char *bom; size_t len; unsigned unit; int be; } boms[] = {
        {"\0\0\xfe\xff", 4, 4, 1}, {"\xff\xfe\0\0", 4, 4, 0}, {"\xef\xbb\xbf", 3, 1, 0},
        {"\xfe\xff", 2, 2, 1},     {"\xff\xfe", 2, 2, 0},
    };
    size_t skip = 0;
    v->unit = 1, v->be = 0;
    for (size_t i = 0; i < sizeof boms / sizeof boms[0] && skip == 0; i++)
        if (at(p, n, 0, boms[i].bom, boms[i].len))
            skip = boms[i].len, v->unit = boms[i].unit, v->be = boms[i].be;
    if (skip == 0 && n >= 4) {
        int a0 = p[0] != 0 && p[0] < 0x80, a1 = p[1] != 0 && p[1] < 0x80;
        int a3 = p[3] != 0 && p[3] < 0x80;
        if (!p[0] && !p[1] && !p[2] && a3)
            v->unit = 4, v->be = 1;
        else if (a0 && !p[1] && !p[2] && !p[3])
            v->unit = 4;
        else if (!p[0] && a1 && !p[2] && a3)
            v->unit = 2, v->be = 1;
        else if (a0 && !p[1] && p[2] && p[2] < 0x80 && !p[3])
            v->unit = 2;
    }
    if ((n - skip) % v->unit != 0)
        return 0;
    v->p = p + skip;
    v->n = (n - skip) / v->unit;
    return 1;
}

static int text_control(uint32_t c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f;
}

/* Are the 8 bytes at p all printable ASCII (0x20-0x7e)?  Word-at-a-time
 * (each test says whether any byte matches): a byte below 0x20 sets a
 * high bit in (x - 0x20...) & ~x, a byte 0x7f in (y - 0x01...) & ~y with
 * y = x ^ 0x7f..., and a byte above 0x7f in x itself. */
static int printable8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t x;
    memcpy(&x, p, sizeof x);
    uint64_t below = (x - 0x20 * ones) & ~x, del = ~(x ^ 0x7f * ones) & ((x ^ 0x7f * ones) - ones);
    return ((x | below | del) & high) == 0;
}

/* Valid UTF-8 with few controls (tab, CR, LF, FF allowed), the whole
 * payload: a text whose tail is binary is not text. */
static int utf8_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (n - i >= 8 && printable8(p + i)) {
            i += 8;
            continue;
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            if (text_control(c))
                return 0;
            i++;
            continue;
        }
        size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        if (len == 0 || len > n - i)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* The same for UTF-16 (surrogates paired) and UTF-32 (scalar values). */
static int tv_is_text(const struct tv *v)
{
    if (v->unit == 1)
        return utf8_text(v->p, v->n);
    for (size_t k = 0; k < v->n; k++) {
        uint32_t c = tv_raw(v, k);
        if (text_control(c) || c > 0x10ffff)
            return 0;
        if (c >= 0xdc00 && c <= 0xdfff)
            return 0; /* a low surrogate alone */
        if (c >= 0xd800 && c <= 0xdbff) {
            if (v->unit == 4 || k + 1 >= v->n)
                return 0;
            uint32_t d = tv_raw(v, ++k);
            if (d < 0xdc00 || d > 0xdfff)
                return 0;
        }
    }
    return 1;
}

/* White space (form feed included) and further byte order marks. */
static size_t tv_skip_space(const struct tv *v, size_t k)
{
    if (v->unit == 1) { /* UTF-8: bytes, no decoding */
        for (;;) {
            while (k < v->n && is_space(v->p[k]))
                k++;
            if (k >= v->n || v->p[k] != 0xef || !at(v->p, v->n, k, "\xef\xbb\xbf", 3))
                return k;
            k += 3;
        }
    }
    while (k < v->n && (is_space(tv_c(v, k)) || tv_raw(v, k) == 0xfeff))
        k++;
    return k;
}

/* The unit after the first w at or after k, or n. */
static size_t tv_past(const struct tv *v, size_t k, const char *w)
{
    size_t len = strlen(w);
    int caseless = 1;
    for (size_t i = 0; i < len; i++)
        caseless &= !is_letter((unsigned char)w[i]);
    if (v->unit == 1 && caseless && k < v->n) {
        /* UTF-8 and no letter in w: the bytes themselves ("-->", ">") */
        const uint8_t *q = memmem(v->p + k, v->n - k, w, len);
        return q != NULL ? (size_t)(q - v->p) + len : v->n;
    }
    for (; k < v->n; k++)
        if (tv_c(v, k) == (unsigned char)w[0] && tv_at(v, k, w))
            return k + len;
    return v->n;
}

/* PostScript operators: a "%!" file that uses them is a program.  Read as
 * the interpreter's tokens (runs of letters) in one pass, so the cost does
 * not grow with the number of operators. */
static int has_ps_operators(const struct tv *v)
{
    static const char *const ops[] = {"showpage", "moveto", "lineto", "findfont",
                                      "setpagedevice", "currentfile", "systemdict",
                                      "userdict", "newpath", "gsave", "def", "bind"};
    for (size_t k = 0; k < v->n;) {
        size_t e = k;
        while (e < v->n && is_letter(tv_c(v, e)))
            e++;
        for (size_t i = 0; e > k && i < sizeof ops / sizeof ops[0]; i++)
            if (strlen(ops[i]) == e - k && tv_at(v, k, ops[i]))
                return 1;
        k = e > k ? e : k + 1;
    }
    return 0;
}

/* After white space, comments of any length, DOCTYPEs and XML declarations:
 * the first element names the markup. */
static imsafe_type markup_lead(const struct tv *v, size_t k)
{
    int xml = 0, doctype_html = 0;
    for (;;) {
        k = tv_skip_space(v, k);
        if (tv_at(v, k, "<!--"))
            k = tv_past(v, k + 4, "-->");
        else if (tv_at(v, k, "<!doctype"))
            doctype_html |= tv_at(v, tv_skip_space(v, k + 9), "html"), k = tv_past(v, k, ">");
        else if (tv_at(v, k, "<?xml"))
            xml = 1, k = tv_past(v, k, "?>");
        else
            break;
    }
    static const char *const html[] = {"<html", "<head", "<body", "<script", "<iframe",
                                       "<frameset", "<hta:application"};
    if (tv_at(v, k, "<svg"))
        return IMSAFE_TYPE_SVG;
    for (size_t i = 0; i < sizeof html / sizeof html[0]; i++)
        if (tv_at(v, k, html[i]))
            return IMSAFE_TYPE_HTML;
    if (doctype_html)
        return IMSAFE_TYPE_HTML;
    return xml ? IMSAFE_TYPE_XML : IMSAFE_TYPE_UNKNOWN;
}

/* The type the first bytes name: shebang, PostScript, markup, MVG and
 * Windows scripts by content. */
static imsafe_type text_lead(const struct tv *v, const uint8_t *p, size_t n)
{
    size_t k = tv_skip_space(v, 0);
    if (at(p, n, 0, "#!", 2))
        return IMSAFE_TYPE_SCRIPT;
    if (tv_at(v, k, "%!ps") || (tv_at(v, k, "%!") && has_ps_operators(v)))
        return IMSAFE_TYPE_POSTSCRIPT;
    if (tv_c(v, k) == '<') {
        imsafe_type t = markup_lead(v, k);
        if (t != IMSAFE_TYPE_UNKNOWN)
            return t;
        if (tv_has(v, k, 4096, "<svg"))
            return IMSAFE_TYPE_SVG;
        if (tv_has(v, k, 1024, "<html") || tv_has(v, k, 1024, "<head") ||
            tv_has(v, k, 1024, "<body"))
            return IMSAFE_TYPE_HTML;
    }
    /* ImageMagick MVG / MSL: drawing primitives that fetch URLs or run
     * delegates (ImageTragick) */
    if (tv_has(v, k, 64, "push graphic-context") || tv_has(v, k, 32, "viewbox ") ||
        tv_has(v, k, 256, "<image"))
        return IMSAFE_TYPE_MVG;
    /* Windows scripts by content: batch, PowerShell, VBScript, JScript */
    if (tv_has(v, k, 16, "@echo off") || tv_has(v, k, 512, "wscript.") ||
        tv_has(v, k, 512, "createobject(") || tv_has(v, k, 512, "powershell") ||
        tv_has(v, k, 512, "invoke-expression"))
        return IMSAFE_TYPE_SCRIPT;
    return IMSAFE_TYPE_UNKNOWN;
}

/* ---------------------------------------- active constructs anywhere */

/* Is the element name w at k, ended as a tokenizer ends it? */
static int tag_is(const struct tv *v, size_t k, const char *w)
{
    if (!tv_at(v, k, w))
        return 0;
    unsigned e = tv_c(v, k + strlen(w));
    return !is_letter(e) && e != '-' && e != ':';
}

/* Elements that run script, embed a document or redirect wherever they
 * stand (the name at k, c its first unit), with the type they make the
 * text: one case per first letter, so a flood of any one prefix costs a
 * comparison or two. */
static imsafe_type active_element(const struct tv *v, size_t k, unsigned c)
{
    int html = 0;
    switch (c) {
    case 'a': html = tag_is(v, k, "applet"); break;
    case 'b': html = tag_is(v, k, "base"); break;
    case 'e': html = tag_is(v, k, "embed"); break;
    case 'f': html = tag_is(v, k, "frame") || tag_is(v, k, "frameset"); break;
    case 'h': html = tag_is(v, k, "hta:application"); break;
    case 'i': html = tag_is(v, k, "iframe") || tag_is(v, k, "import"); break;
    case 'm': html = tag_is(v, k, "math"); break;
    case 'o': html = tag_is(v, k, "object"); break;
    case 'p': html = tag_is(v, k, "portal"); break;
    case 'x': html = tag_is(v, k, "xml:namespace"); break;
    case 's':
        if (tv_at(v, k, "svg") && tv_c(v, k + 3) != '-' && !is_letter(tv_c(v, k + 3)))
            return IMSAFE_TYPE_SVG; /* "<svg:" is SVG too */
        html = tag_is(v, k, "script");
        break;
    default: break;
    }
    return html ? IMSAFE_TYPE_HTML : IMSAFE_TYPE_UNKNOWN;
}

/* Is one of the words at k?  The first unit is read once: a flood of
 * any prefix costs a comparison per word. */
static int any_at(const struct tv *v, size_t k, const char *const *w, size_t nw)
{
    unsigned c = tv_c(v, k);
    for (size_t i = 0; is_letter(c) && i < nw; i++)
        if (c == (unsigned char)w[i][0] && tv_at(v, k, w[i]))
            return 1;
    return 0;
}

/* An SSI directive ("<!--#" and an element name, ended) at k + 5. */
static int ssi_directive(const struct tv *v, size_t k)
{
    static const char *const ssi[] = {"exec", "include", "echo", "config", "set", "printenv",
                                      "fsize", "flastmod", "if", "elif", "else", "endif"};
    unsigned c = tv_c(v, k + 5);
    for (size_t i = 0; is_letter(c) && i < sizeof ssi / sizeof ssi[0]; i++)
        if (c == (unsigned char)ssi[i][0] && tv_at(v, k + 5, ssi[i]) &&
            !is_letter(tv_c(v, k + 5 + strlen(ssi[i]))))
            return 1;
    return 0;
}

/* Server-side openers after a '<' at k, c1 the unit after it: PHP,
 * ASP/ASP.NET, JSP, SSI, ColdFusion.  *asp_open is set by "<% " (an ASP
 * block when "%>" follows). */
static int server_opener(const struct tv *v, size_t k, unsigned c1, int *asp_open)
{
    static const char *const cf[] = {"script", "execute", "output", "set",    "include",
                                     "file",   "object",  "invoke", "http",   "query"};
    /* one family per character after the '<', so a flood of any one
     * opener's prefix costs a few comparisons */
    switch (c1) {
    case '?': {
        unsigned c2 = tv_c(v, k + 2);
        return c2 == '=' || (c2 == 'p' && tv_at(v, k + 2, "php"));
    }
    case '%':
        switch (tv_c(v, k + 2)) {
        case '@': case '=': case '!': case '#': case ':':
            return 1; /* directives, expressions, declarations, data binding */
        case '-':
            return tv_at(v, k + 2, "--");
        case ' ': case '\t': case '\r': case '\n': case '\f':
            *asp_open = 1; /* "<% " is a block when "%>" follows */
            return 0;
        default:
            return 0;
        }
    case 'j':
        return tv_at(v, k + 2, "sp:");
    case 'c':
        return tv_c(v, k + 2) == 'f' && any_at(v, k + 3, cf, sizeof cf / sizeof cf[0]);
    case '!':
        return tv_at(v, k + 2, "--#") && ssi_directive(v, k);
    default:
        return 0;
    }
}

/* Apache directives that make a server run what it stores (.htaccess):
 * checked at the start of each line. */
static int server_directive(const struct tv *v, size_t k)
{
    static const char *const dirs[] = {"addtype", "addhandler", "sethandler", "forcetype",
                                       "php_value", "php_flag", "php_admin_value",
                                       "php_admin_flag", "addoutputfilter",
                                       "options +execcgi", "options +includes"};
    while (tv_c(v, k) == ' ' || tv_c(v, k) == '\t')
        k++;
    switch (tv_c(v, k)) {
    case 'a': case 's': case 'f': case 'p': case 'o': case '<':
        break;
    default:
        return 0; /* no directive starts so: a flood of short lines costs one look */
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t e = k + strlen(dirs[i]);
        if (tv_at(v, k, dirs[i]) && (tv_c(v, e) == ' ' || tv_c(v, e) == '\t'))
            return 1;
    }
    return tv_at(v, k, "<system.webserver") || tv_at(v, k, "<handlers");
}

/* The next character of an attribute value at *j as a browser reads it:
 * numeric character references ("&#106;", "&#x6A") and the named tab and
 * newline references decoded, case folded; 0 at the end. */
static unsigned url_char(const struct tv *v, size_t *j, size_t end)
{
    size_t k = *j;
    if (k >= end)
        return 0;
    unsigned c = tv_c(v, k);
    *j = k + 1;
    if (c != '&')
        return c;
    if (tv_at(v, k, "&tab;") || tv_at(v, k, "&newline;")) {
        *j = k + (tv_c(v, k + 1) == 't' ? 5 : 9);
        return '\t';
    }
    if (tv_c(v, k + 1) != '#')
        return c;
    int hex = tv_c(v, k + 2) == 'x';
    uint32_t val = 0;
    size_t i = k + 2 + (size_t)hex, digits = 0;
    for (; i < end && digits < 8; i++, digits++) {
        unsigned d = tv_c(v, i);
        unsigned dv = d >= '0' && d <= '9' ? d - '0' : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                                                                                : 99;
        if (dv == 99)
            break;
        val = val * (hex ? 16 : 10) + dv;
    }
    if (digits == 0)
        return c;
    *j = i < end && tv_c(v, i) == ';' ? i + 1 : i;
    return val < 0x80 ? ascii_lower((unsigned char)val) : 0x80;
}

/* A URL scheme that runs script in the attribute value [k, end): leading
 * white space and controls, and tabs and newlines anywhere, are dropped by
 * URL parsers; character references are decoded first. */
static int script_url(const struct tv *v, size_t k, size_t end)
{
    static const char *const schemes[] = {"javascript:", "vbscript:", "data:text/html",
                                          "data:image/svg+xml", "livescript:"};
    /* a scheme starts with its letter or a character reference to it */
    unsigned c0 = k < end ? tv_c(v, k) : 0;
    if (c0 > ' ' && !one_of(c0, "&jvdl"))
        return 0; /* no space to drop, and no scheme starts so */
    size_t start = k;
    for (;;) {
        size_t j = start;
        unsigned c = url_char(v, &j, end);
        if (c == 0 || !(c <= ' '))
            break;
        start = j;
    }
    if (!one_of(tv_c(v, start), "&jvdl"))
        return 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        const char *w = schemes[i];
        size_t j = start;
        while (*w != '\0') {
            unsigned c = url_char(v, &j, end);
            if (c == '\t' || c == '\n' || c == '\r')
                continue;
            if (c != (unsigned char)*w)
                break;
            w++;
        }
        if (*w == '\0')
            return 1;
    }
    return 0;
}

/* One attribute at k inside a start tag: its name and value end.  Returns
 * the type it makes the text, UNKNOWN when inert. */
struct attr {
    size_t name, name_len, value, value_end;
};

static size_t read_attr(const struct tv *v, size_t k, struct attr *a)
{
    a->name = k;
    for (; k < v->n; k++) {
        unsigned c = tv_c(v, k);
        if (is_space(c) || c == '/' || c == '>' || (c == '=' && k != a->name))
            break;
    }
    a->name_len = k - a->name;
    a->value = a->value_end = k;
    size_t j = tv_skip_space(v, k);
    if (tv_c(v, j) != '=')
        return k;
    j = tv_skip_space(v, j + 1);
    unsigned q = tv_c(v, j);
    if (q == '"' || q == '\'') {
        a->value = j + 1;
        for (j++; j < v->n && tv_c(v, j) != q; j++)
            ;
        a->value_end = j;
        return j < v->n ? j + 1 : j;
    }
    a->value = j;
    while (j < v->n && !is_space(tv_c(v, j)) && tv_c(v, j) != '>')
        j++;
    a->value_end = j;
    return j;
}

static int attr_is(const struct tv *v, const struct attr *a, const char *w)
{
    return a->name_len == strlen(w) && tv_at(v, a->name, w);
}

/* The verdict on one attribute of element `tag` (name at tag). */
static imsafe_type judge_attr(const struct tv *v, size_t tag, const struct attr *a)
{
    int html = 0;
    switch (tv_c(v, a->name)) { /* the names that matter, by first letter */
    case 'o': /* an event handler */
        html = a->name_len > 2 && tv_at(v, a->name, "on") && is_letter(tv_c(v, a->name + 2));
        break;
    case 'f':
        html = attr_is(v, a, "formaction");
        break;
    case 'a':
        html = tv_at(v, tag, "form") && attr_is(v, a, "action");
        break;
    case 'h':
        html = (tv_at(v, tag, "link") && attr_is(v, a, "href")) ||
               (tv_at(v, tag, "meta") && attr_is(v, a, "http-equiv") &&
                tv_at(v, tv_skip_space(v, a->value), "refresh"));
        break;
    case 'r':
        if (attr_is(v, a, "runat") && tv_at(v, a->value, "server"))
            return IMSAFE_TYPE_SCRIPT;
        break;
    default:
        break;
    }
    if (html || (a->value_end > a->value && script_url(v, a->value, a->value_end)))
        return IMSAFE_TYPE_HTML;
    return IMSAFE_TYPE_UNKNOWN;
}

/* A start tag at k ('<' then a letter), read as an HTML tokenizer reads it;
 * *next gets the unit after it.  Returns what its attributes make the
 * text. */
static imsafe_type start_tag(const struct tv *v, size_t k, size_t *next)
{
    size_t tag = k + 1, j = tag;
    for (unsigned c; j < v->n && !is_space(c = tv_c(v, j)) && c != '/' && c != '>';)
        j++;
    for (;;) {
        for (unsigned c; j < v->n && (is_space(c = tv_c(v, j)) || c == '/');)
            j++;
        if (j >= v->n || tv_c(v, j) == '>')
            break;
        struct attr a;
        size_t after = read_attr(v, j, &a);
        imsafe_type t = judge_attr(v, tag, &a);
        if (t != IMSAFE_TYPE_UNKNOWN)
            return t;
        j = after > j ? after : j + 1;
    }
    *next = j < v->n ? j + 1 : j;
    return IMSAFE_TYPE_UNKNOWN;
}

/* The first unit at or after k that pass one must look at ('<', '%', ']'
 * or a line end), or n.  UTF-8 skips the rest a byte at a time without
 * decoding; the other views look at every unit. */
static size_t tv_next_stop(const struct tv *v, size_t k)
{
    static const uint8_t stop[256] = {['<'] = 1, ['%'] = 1, [']'] = 1, ['\n'] = 1, ['\r'] = 1};
    if (v->unit != 1)
        return k;
    while (k < v->n && !stop[v->p[k]])
        k++;
    return k;
}

/*
 * Pass one, over every unit: active elements and server-side openers
 * wherever a '<' stands (inside comments and attribute values too: a
 * stricter reading than a browser's), Apache directives at line starts,
 * and Markdown links to script URLs.
 */
static imsafe_type active_anywhere(const struct tv *v)
{
    int asp_open = 0, line_start = 1;
    for (size_t k = 0; k < v->n; k++) {
        if (line_start && server_directive(v, k))
            return IMSAFE_TYPE_SCRIPT;
        if (!line_start && (k = tv_next_stop(v, k)) >= v->n)
            break;
        unsigned c = tv_c(v, k), c1;
        line_start = 0;
        switch (c) {
        case '\n':
        case '\r':
            line_start = 1;
            break;
        case '<':
            /* every opener and element starts so: a flood of '<' or of
             * "<<" costs one look at the next unit */
            c1 = tv_c(v, k + 1);
            if (!is_letter(c1) && c1 != '?' && c1 != '%' && c1 != '!')
                break;
            if (server_opener(v, k, c1, &asp_open))
                return IMSAFE_TYPE_SCRIPT;
            imsafe_type t = active_element(v, k + 1, c1);
            if (t != IMSAFE_TYPE_UNKNOWN)
                return t;
            break;
        case '%':
            if (asp_open && tv_c(v, k + 1) == '>')
                return IMSAFE_TYPE_SCRIPT;
            break;
        case ']':
            if (tv_c(v, k + 1) == '(' && script_url(v, k + 2, v->n - k > 66 ? k + 66 : v->n))
                return IMSAFE_TYPE_HTML;
            break;
        default:
            break;
        }
    }
    return IMSAFE_TYPE_UNKNOWN;
}

/* The next '<' in UTF-8 at or after k, or n. */
static size_t next_lt(const struct tv *v, size_t k)
{
    for (size_t end = v->n - k > 16 ? k + 16 : v->n; k < end; k++)
        if (v->p[k] == '<')
            return k; /* near: cheaper than a call */
    if (k >= v->n)
        return v->n;
    const uint8_t *q = memchr(v->p + k, '<', v->n - k);
    return q != NULL ? (size_t)(q - v->p) : v->n;
}

/* Pass two, as a tokenizer: attributes of start tags (event handlers,
 * script URLs, refresh, form actions, link loads, runat=server).  Comments,
 * end tags and declarations are skipped whole. */
static imsafe_type active_attributes(const struct tv *v)
{
    for (size_t k = 0; k < v->n;) {
        if (tv_c(v, k) != '<') {
            k = v->unit == 1 ? next_lt(v, k) : k + 1;
            continue;
        }
        unsigned c1 = tv_c(v, k + 1);
        if (c1 == '!' && tv_at(v, k + 2, "--")) {
            k = tv_past(v, k + 4, "-->");
        } else if (is_letter(c1)) {
            imsafe_type t = start_tag(v, k, &k);
            if (t != IMSAFE_TYPE_UNKNOWN)
                return t;
        } else if (c1 == '/' || c1 == '!' || c1 == '?') {
            k = tv_past(v, k + 2, ">");
        } else {
            k++;
        }
    }
    return IMSAFE_TYPE_UNKNOWN;
}

/*
 * A payload that is text by its start: what its first bytes name, else
 * active markup or server-side code anywhere in it (a type that rejects),
 * else plain text when every byte is text.  XML without active content
 * stays XML.
 */
static imsafe_type sniff_text(const uint8_t *p, size_t n)
{
    struct tv v;
    if (!tv_open(p, n, &v))
        return IMSAFE_TYPE_UNKNOWN;
    imsafe_type t = text_lead(&v, p, n);
    if (t != IMSAFE_TYPE_UNKNOWN && t != IMSAFE_TYPE_XML)
        return t;
    if (!tv_is_text(&v))
        return t;
    imsafe_type a = active_anywhere(&v);
    if (a == IMSAFE_TYPE_UNKNOWN)
        a = active_attributes(&v);
    if (a != IMSAFE_TYPE_UNKNOWN)
        return a;
    return t == IMSAFE_TYPE_XML ? t : IMSAFE_TYPE_TEXT;
}

/* "%PDF-" and a version digit starting in the first lim bytes. */
static int pdf_header_within(const uint8_t *p, size_t n, size_t lim)
{
    for (size_t i = 0; i < lim && i + 6 <= n; i++)
        if (p[i] == '%' && memcmp(p + i, "%PDF-", 5) == 0 && p[i + 5] >= '0' && p[i + 5] <= '9')
            return 1;
    return 0;
}

imsafe_type imsafe__sniff(const uint8_t *p, size_t n)
{
    if (n == 0)
        return IMSAFE_TYPE_UNKNOWN;
    imsafe_type t = sniff_magic(p, n);
    if (t != IMSAFE_TYPE_UNKNOWN)
        return t;
    if (is_mp3(p, n))
        return IMSAFE_TYPE_MP3;
    t = sniff_text(p, n);
    /* readers take "%PDF-" anywhere in the first 1024 bytes (comment lines,
     * a mail header or other bytes before it); markup or a program before
     * it stays what it is */
    if ((t == IMSAFE_TYPE_TEXT || t == IMSAFE_TYPE_UNKNOWN) && pdf_header_within(p, n, 1024))
        return IMSAFE_TYPE_PDF;
    return t;
}

/*
 * A payload that is nearly an image: its structure is there but the
 * signature is damaged (bit flips, CR/LF translation by a text-mode
 * transfer).  Not a type of its own: the pipeline rejects it as
 * malformed.signature instead of the vaguer type.unknown.
 */
imsafe_type imsafe__sniff_damaged(const uint8_t *p, size_t n)
{
    size_t lim = n < 40 ? n : 40;
    for (size_t i = 8; i + 4 <= lim; i++)
        if (memcmp(p + i, "IHDR", 4) == 0)
            return IMSAFE_TYPE_PNG;
    if (n >= 4 && strncasecmp((const char *)p + 1, "PNG", 3) == 0)
        return IMSAFE_TYPE_PNG;
    if (n >= 6 && memcmp(p, "GIF8", 4) == 0)
        return IMSAFE_TYPE_GIF;
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8)
        return IMSAFE_TYPE_JPEG;
    return IMSAFE_TYPE_UNKNOWN;
}

/* --------------------------------------------------- claimed name and MIME */

/*
 * The one extension table.  The claim check (imsafe.c), the hidden-extension
 * check (filename.c) and archive entries (zip.c, through
 * imsafe__name_is_dangerous) all read it, so a name means the same thing at
 * every level.
 *
 * RUNS marks what executes, installs, or points at something that does when
 * opened.  Anchors (the man page cites them): Outlook's Level 1 attachment
 * list (Office Resource Kit, "Attachment file types restricted by Outlook",
 * plus the later additions .appref-ms, .cdxml, .pssc, .udl, .wsb, .vhd,
 * .vhdx and the Python extensions), Gmail's blocked file types (Gmail Help,
 * "Some file types are blocked"), the web-shell extensions of
 * PayloadsAllTheThings "Upload Insecure Files" (a server that stores an
 * upload under such a name runs it), Unix shells and launchers, and disk
 * images that carry executables past mark-of-the-web.
 * TRUSTED marks what a person trusts: the first half of "invoice.pdf.exe".
 * type: what the name claims; UNKNOWN where no sniffed type matches (the
 * claim check then judges RUNS names by the row's kind alone).
 */
#define T_RUNS IMSAFE__EXT_RUNS
#define T_OK IMSAFE__EXT_TRUSTED
#define X(e, t, f) {e, IMSAFE_TYPE_##t, f}
static const struct imsafe__ext ext_table[] = {
    /* images, media, documents, archives and text people trust */
    X("png", PNG, T_OK), X("apng", PNG, T_OK), X("jpg", JPEG, T_OK), X("jpeg", JPEG, T_OK),
    X("jpe", JPEG, T_OK), X("jfif", JPEG, T_OK), X("gif", GIF, T_OK), X("webp", WEBP, T_OK),
    X("bmp", BMP, T_OK), X("tif", TIFF, T_OK), X("tiff", TIFF, T_OK), X("ico", ICO, T_OK),
    X("heic", HEIC, T_OK), X("heif", HEIF, T_OK), X("avif", AVIF, T_OK), X("mng", MNG, 0),
    X("mp4", MP4, T_OK), X("m4v", MP4, T_OK), X("m4a", MP4, T_OK), X("mov", MOV, T_OK),
    X("webm", WEBM, T_OK), X("mkv", WEBM, T_OK), X("ogg", OGG, T_OK), X("oga", OGG, T_OK),
    X("opus", OGG, T_OK), X("mp3", MP3, T_OK), X("wav", WAV, T_OK), X("avi", UNKNOWN, T_OK),
    X("pdf", PDF, T_OK), X("rtf", RTF, T_OK), X("doc", OLE2, T_OK), X("xls", OLE2, T_OK),
    X("ppt", OLE2, T_OK), X("docx", DOCX, T_OK), X("xlsx", XLSX, T_OK),
    X("pptx", PPTX, T_OK), X("odt", ODF, T_OK), X("ods", ODF, T_OK), X("odp", ODF, T_OK),
    X("epub", EPUB, T_OK), X("zip", ZIP, T_OK), X("gz", GZIP, T_OK), X("tgz", GZIP, T_OK),
    X("tar", TAR, T_OK), X("7z", 7Z, T_OK), X("rar", RAR, T_OK), X("txt", TEXT, T_OK),
    X("csv", TEXT, T_OK), X("md", TEXT, T_OK), X("log", TEXT, T_OK), X("json", TEXT, T_OK),
    /* markup: active content whatever the text looks like */
    X("svg", SVG, T_OK), X("svgz", SVG, 0), X("xml", XML, T_OK), X("html", HTML, T_OK),
    X("htm", HTML, T_OK), X("xhtml", HTML, 0), X("xht", HTML, 0), X("mht", HTML, 0),
    X("mhtml", HTML, 0), X("mvg", MVG, 0),
    /* executables and installers (Outlook Level 1, Gmail) */
    X("exe", PE, T_RUNS), X("dll", PE, T_RUNS), X("scr", PE, T_RUNS), X("com", PE, T_RUNS),
    X("sys", PE, T_RUNS), X("cpl", PE, T_RUNS), X("drv", PE, T_RUNS), X("ocx", PE, T_RUNS),
    X("xll", PE, T_RUNS), X("ex_", UNKNOWN, T_RUNS), X("ex", UNKNOWN, T_RUNS),
    X("pif", UNKNOWN, T_RUNS), X("vxd", UNKNOWN, T_RUNS), X("lib", UNKNOWN, T_RUNS),
    X("msi", OLE2, T_RUNS), X("msp", OLE2, T_RUNS), X("mst", OLE2, T_RUNS),
    X("msu", UNKNOWN, T_RUNS), X("msix", UNKNOWN, T_RUNS), X("msixbundle", UNKNOWN, T_RUNS),
    X("appx", UNKNOWN, T_RUNS), X("appxbundle", UNKNOWN, T_RUNS),
    X("application", UNKNOWN, T_RUNS), X("appref-ms", UNKNOWN, T_RUNS),
    X("xbap", UNKNOWN, T_RUNS), X("gadget", UNKNOWN, T_RUNS), X("app", UNKNOWN, T_RUNS),
    X("pkg", UNKNOWN, T_RUNS), X("elf", ELF, T_RUNS), X("so", ELF, T_RUNS),
    X("dylib", MACHO, T_RUNS), X("jar", JAR, T_RUNS), X("jnlp", UNKNOWN, T_RUNS),
    X("apk", APK, T_RUNS), X("class", JAVA_CLASS, T_RUNS), X("dex", DEX, T_RUNS),
    X("lnk", LNK, T_RUNS), X("fxp", UNKNOWN, T_RUNS), X("prg", UNKNOWN, T_RUNS),
    X("pyc", UNKNOWN, T_RUNS), X("pyo", UNKNOWN, T_RUNS), X("pyz", UNKNOWN, T_RUNS),
    X("pyzw", UNKNOWN, T_RUNS),
    /* Access, Office and Windows shell objects that run macros or commands */
    X("ade", UNKNOWN, T_RUNS), X("adp", UNKNOWN, T_RUNS), X("mad", UNKNOWN, T_RUNS),
    X("maf", UNKNOWN, T_RUNS), X("mag", UNKNOWN, T_RUNS), X("mam", UNKNOWN, T_RUNS),
    X("maq", UNKNOWN, T_RUNS), X("mar", UNKNOWN, T_RUNS), X("mas", UNKNOWN, T_RUNS),
    X("mat", UNKNOWN, T_RUNS), X("mau", UNKNOWN, T_RUNS), X("mav", UNKNOWN, T_RUNS),
    X("maw", UNKNOWN, T_RUNS), X("mcf", UNKNOWN, T_RUNS), X("mda", UNKNOWN, T_RUNS),
    X("mdb", UNKNOWN, T_RUNS), X("mde", UNKNOWN, T_RUNS), X("mdt", UNKNOWN, T_RUNS),
    X("mdw", UNKNOWN, T_RUNS), X("mdz", UNKNOWN, T_RUNS), X("msc", UNKNOWN, T_RUNS),
    X("chm", UNKNOWN, T_RUNS), X("hlp", UNKNOWN, T_RUNS), X("cnt", UNKNOWN, T_RUNS),
    X("hpj", UNKNOWN, T_RUNS), X("its", UNKNOWN, T_RUNS), X("shb", UNKNOWN, T_RUNS),
    X("shs", UNKNOWN, T_RUNS), X("xnk", UNKNOWN, T_RUNS), X("grp", UNKNOWN, T_RUNS),
    X("ops", UNKNOWN, T_RUNS), X("osd", UNKNOWN, T_RUNS), X("pcd", UNKNOWN, T_RUNS),
    X("plg", UNKNOWN, T_RUNS), X("prf", UNKNOWN, T_RUNS), X("pst", UNKNOWN, T_RUNS),
    X("tmp", UNKNOWN, T_RUNS), X("vsmacros", UNKNOWN, T_RUNS), X("vsw", UNKNOWN, T_RUNS),
    X("webpnp", UNKNOWN, T_RUNS), X("printerexport", UNKNOWN, T_RUNS),
    X("theme", UNKNOWN, T_RUNS), X("bgi", UNKNOWN, T_RUNS), X("diagcab", UNKNOWN, T_RUNS),
    X("diagcfg", UNKNOWN, T_RUNS), X("diagpkg", UNKNOWN, T_RUNS), X("nsh", UNKNOWN, T_RUNS),
    X("cab", UNKNOWN, T_RUNS), X("udl", UNKNOWN, T_RUNS), X("mmc", UNKNOWN, T_RUNS),
    X("settingcontent-ms", UNKNOWN, T_RUNS), X("library-ms", UNKNOWN, T_RUNS),
    X("search-ms", UNKNOWN, T_RUNS), X("searchconnector-ms", UNKNOWN, T_RUNS),
    /* certificates: installing one trusts whoever signs next (Level 1) */
    X("cer", UNKNOWN, T_RUNS), X("crt", UNKNOWN, T_RUNS), X("der", UNKNOWN, T_RUNS),
    /* disk images carry executables past mark-of-the-web */
    X("iso", UNKNOWN, T_RUNS), X("img", UNKNOWN, T_RUNS), X("vhd", UNKNOWN, T_RUNS),
    X("vhdx", UNKNOWN, T_RUNS), X("dmg", UNKNOWN, T_RUNS),
    /* scripts and text files that run or point at programs */
    X("bat", SCRIPT, T_RUNS), X("cmd", SCRIPT, T_RUNS), X("btm", SCRIPT, T_RUNS),
    X("ps1", SCRIPT, T_RUNS), X("ps1xml", SCRIPT, T_RUNS), X("ps2", SCRIPT, T_RUNS),
    X("ps2xml", SCRIPT, T_RUNS), X("psc1", SCRIPT, T_RUNS), X("psc2", SCRIPT, T_RUNS),
    X("psd1", SCRIPT, T_RUNS), X("psdm1", SCRIPT, T_RUNS), X("psm1", SCRIPT, T_RUNS),
    X("pssc", SCRIPT, T_RUNS), X("cdxml", SCRIPT, T_RUNS), X("msh", SCRIPT, T_RUNS),
    X("msh1", SCRIPT, T_RUNS), X("msh2", SCRIPT, T_RUNS), X("mshxml", SCRIPT, T_RUNS),
    X("msh1xml", SCRIPT, T_RUNS), X("msh2xml", SCRIPT, T_RUNS), X("vb", SCRIPT, T_RUNS),
    X("vbs", SCRIPT, T_RUNS), X("vbe", SCRIPT, T_RUNS), X("vbp", SCRIPT, T_RUNS),
    X("bas", SCRIPT, T_RUNS), X("js", SCRIPT, T_RUNS), X("jse", SCRIPT, T_RUNS),
    X("mjs", SCRIPT, T_RUNS), X("cjs", SCRIPT, T_RUNS), X("wsf", SCRIPT, T_RUNS),
    X("wsh", SCRIPT, T_RUNS), X("wsc", SCRIPT, T_RUNS), X("ws", SCRIPT, T_RUNS),
    X("wsb", SCRIPT, T_RUNS), X("sct", SCRIPT, T_RUNS), X("htc", SCRIPT, T_RUNS),
    X("hta", HTML, T_RUNS), X("reg", SCRIPT, T_RUNS), X("inf", SCRIPT, T_RUNS),
    X("ins", SCRIPT, T_RUNS), X("isp", SCRIPT, T_RUNS), X("url", SCRIPT, T_RUNS),
    X("website", SCRIPT, T_RUNS), X("scf", SCRIPT, T_RUNS), X("asx", SCRIPT, T_RUNS),
    X("desktop", SCRIPT, T_RUNS), X("command", SCRIPT, T_RUNS), X("tool", SCRIPT, T_RUNS),
    X("sh", SCRIPT, T_RUNS), X("bash", SCRIPT, T_RUNS), X("csh", SCRIPT, T_RUNS),
    X("ksh", SCRIPT, T_RUNS), X("zsh", SCRIPT, T_RUNS), X("fish", SCRIPT, T_RUNS),
    X("py", SCRIPT, T_RUNS), X("pyw", SCRIPT, T_RUNS), X("pl", SCRIPT, T_RUNS),
    X("pm", SCRIPT, T_RUNS), X("cgi", SCRIPT, T_RUNS), X("rb", SCRIPT, T_RUNS),
    X("applescript", SCRIPT, T_RUNS), X("scpt", SCRIPT, T_RUNS),
    X("workflow", SCRIPT, T_RUNS), X("ps", POSTSCRIPT, T_RUNS),
    X("eps", POSTSCRIPT, T_RUNS), X("epsf", POSTSCRIPT, T_RUNS),
    /* web shells: PayloadsAllTheThings "Upload Insecure Files" */
    X("php", SCRIPT, T_RUNS), X("php2", SCRIPT, T_RUNS), X("php3", SCRIPT, T_RUNS),
    X("php4", SCRIPT, T_RUNS), X("php5", SCRIPT, T_RUNS), X("php6", SCRIPT, T_RUNS),
    X("php7", SCRIPT, T_RUNS), X("php8", SCRIPT, T_RUNS), X("phps", SCRIPT, T_RUNS),
    X("pht", SCRIPT, T_RUNS), X("phtm", SCRIPT, T_RUNS), X("phtml", SCRIPT, T_RUNS),
    X("phar", SCRIPT, T_RUNS), X("phpt", SCRIPT, T_RUNS), X("pgif", SCRIPT, T_RUNS),
    X("inc", SCRIPT, T_RUNS), X("hphp", SCRIPT, T_RUNS), X("ctp", SCRIPT, T_RUNS),
    X("module", SCRIPT, T_RUNS), X("asp", SCRIPT, T_RUNS), X("aspx", SCRIPT, T_RUNS),
    X("asa", SCRIPT, T_RUNS), X("asax", SCRIPT, T_RUNS), X("ascx", SCRIPT, T_RUNS),
    X("ashx", SCRIPT, T_RUNS), X("asmx", SCRIPT, T_RUNS), X("aspq", SCRIPT, T_RUNS),
    X("axd", SCRIPT, T_RUNS), X("cshtm", SCRIPT, T_RUNS), X("cshtml", SCRIPT, T_RUNS),
    X("vbhtm", SCRIPT, T_RUNS), X("vbhtml", SCRIPT, T_RUNS), X("rem", SCRIPT, T_RUNS),
    X("soap", SCRIPT, T_RUNS), X("xamlx", SCRIPT, T_RUNS), X("svc", SCRIPT, T_RUNS),
    X("config", SCRIPT, T_RUNS), X("jsp", SCRIPT, T_RUNS), X("jspx", SCRIPT, T_RUNS),
    X("jspf", SCRIPT, T_RUNS), X("jsw", SCRIPT, T_RUNS), X("jsv", SCRIPT, T_RUNS),
    X("jhtml", SCRIPT, T_RUNS), X("wss", SCRIPT, T_RUNS), X("cfm", SCRIPT, T_RUNS),
    X("cfml", SCRIPT, T_RUNS), X("cfc", SCRIPT, T_RUNS), X("dbm", SCRIPT, T_RUNS),
    X("shtml", SCRIPT, T_RUNS), X("shtm", SCRIPT, T_RUNS), X("stm", SCRIPT, T_RUNS),
    X("htaccess", SCRIPT, T_RUNS), X("htpasswd", SCRIPT, T_RUNS),
    X("yaws", SCRIPT, T_RUNS), X("swf", UNKNOWN, T_RUNS),
};
#undef X
#undef T_RUNS
#undef T_OK

const struct imsafe__ext *imsafe__ext_lookup(const char *ext, size_t len)
{
    if (ext == NULL || len == 0)
        return NULL;
    for (size_t i = 0; i < sizeof ext_table / sizeof ext_table[0]; i++) {
        const char *e = ext_table[i].ext;
        size_t k = 0;
        while (k < len && e[k] != '\0' && ascii_lower((unsigned char)ext[k]) == (unsigned char)e[k])
            k++;
        if (k == len && e[k] == '\0')
            return &ext_table[i];
    }
    return NULL;
}

imsafe_type imsafe__type_from_extension(const char *name)
{
    if (name == NULL)
        return IMSAFE_TYPE_UNKNOWN;
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot[1] == '\0')
        return IMSAFE_TYPE_UNKNOWN;
    const struct imsafe__ext *e = imsafe__ext_lookup(dot + 1, strlen(dot + 1));
    return e != NULL ? e->type : IMSAFE_TYPE_UNKNOWN;
}

static const struct { const char *mime; imsafe_type t; } mimes[] = {
    {"image/png", IMSAFE_TYPE_PNG},       {"image/apng", IMSAFE_TYPE_PNG},
    {"image/jpeg", IMSAFE_TYPE_JPEG},     {"image/jpg", IMSAFE_TYPE_JPEG},
    {"image/pjpeg", IMSAFE_TYPE_JPEG},    {"image/gif", IMSAFE_TYPE_GIF},
    {"image/webp", IMSAFE_TYPE_WEBP},     {"image/bmp", IMSAFE_TYPE_BMP},
    {"image/tiff", IMSAFE_TYPE_TIFF},     {"image/x-icon", IMSAFE_TYPE_ICO},
    {"image/vnd.microsoft.icon", IMSAFE_TYPE_ICO}, {"image/heic", IMSAFE_TYPE_HEIC},
    {"image/heif", IMSAFE_TYPE_HEIF},     {"image/avif", IMSAFE_TYPE_AVIF},
    {"image/svg+xml", IMSAFE_TYPE_SVG},   {"video/mp4", IMSAFE_TYPE_MP4},
    {"audio/mp4", IMSAFE_TYPE_MP4},       {"video/quicktime", IMSAFE_TYPE_MOV},
    {"video/webm", IMSAFE_TYPE_WEBM},     {"audio/webm", IMSAFE_TYPE_WEBM},
    {"audio/ogg", IMSAFE_TYPE_OGG},       {"video/ogg", IMSAFE_TYPE_OGG},
    {"audio/mpeg", IMSAFE_TYPE_MP3},      {"audio/wav", IMSAFE_TYPE_WAV},
    {"audio/x-wav", IMSAFE_TYPE_WAV},     {"text/html", IMSAFE_TYPE_HTML},
    {"application/xhtml+xml", IMSAFE_TYPE_HTML}, {"application/xml", IMSAFE_TYPE_XML},
    {"text/xml", IMSAFE_TYPE_XML},        {"application/pdf", IMSAFE_TYPE_PDF},
    {"application/rtf", IMSAFE_TYPE_RTF}, {"text/rtf", IMSAFE_TYPE_RTF},
    {"application/msword", IMSAFE_TYPE_OLE2}, {"application/vnd.ms-excel", IMSAFE_TYPE_OLE2},
    {"application/zip", IMSAFE_TYPE_ZIP}, {"application/gzip", IMSAFE_TYPE_GZIP},
    {"application/x-gzip", IMSAFE_TYPE_GZIP}, {"application/x-7z-compressed", IMSAFE_TYPE_7Z},
    {"application/vnd.rar", IMSAFE_TYPE_RAR}, {"application/java-archive", IMSAFE_TYPE_JAR},
    {"application/vnd.android.package-archive", IMSAFE_TYPE_APK},
    {"application/epub+zip", IMSAFE_TYPE_EPUB}, {"text/plain", IMSAFE_TYPE_TEXT},
    {"application/x-msdownload", IMSAFE_TYPE_PE}, {"application/x-msdos-program", IMSAFE_TYPE_PE},
    {"application/vnd.microsoft.portable-executable", IMSAFE_TYPE_PE},
    {"application/x-executable", IMSAFE_TYPE_ELF}, {"application/x-elf", IMSAFE_TYPE_ELF},
    {"application/x-mach-binary", IMSAFE_TYPE_MACHO}, {"application/x-sh", IMSAFE_TYPE_SCRIPT},
    {"application/x-shellscript", IMSAFE_TYPE_SCRIPT}, {"application/javascript", IMSAFE_TYPE_SCRIPT},
    {"text/javascript", IMSAFE_TYPE_SCRIPT}, {"application/x-bat", IMSAFE_TYPE_SCRIPT},
    {"application/hta", IMSAFE_TYPE_HTML},
    {"application/postscript", IMSAFE_TYPE_POSTSCRIPT}, {"image/x-eps", IMSAFE_TYPE_POSTSCRIPT},
    {"application/x-httpd-php", IMSAFE_TYPE_SCRIPT}, {"application/x-php", IMSAFE_TYPE_SCRIPT},
    {"text/x-php", IMSAFE_TYPE_SCRIPT},   {"application/x-python", IMSAFE_TYPE_SCRIPT},
    {"text/x-python", IMSAFE_TYPE_SCRIPT}, {"application/x-perl", IMSAFE_TYPE_SCRIPT},
};

/* The type a MIME type names (parameters after ';' ignored, case folded). */
imsafe_type imsafe__type_from_mime(const char *mime)
{
    if (mime == NULL)
        return IMSAFE_TYPE_UNKNOWN;
    size_t len = strcspn(mime, "; \t");
    for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
        if (strlen(mimes[i].mime) == len && strncasecmp(mime, mimes[i].mime, len) == 0)
            return mimes[i].t;
    return IMSAFE_TYPE_UNKNOWN;
}

int imsafe__mime_is_dangerous(const char *mime)
{
    enum imsafe__class c = imsafe__type_class(imsafe__type_from_mime(mime));
    return c == IMSAFE_CLASS_EXECUTABLE || c == IMSAFE_CLASS_SCRIPT;
}

/* ---------------------------------------------------- archive formats */

/*
 * A tar header block: "ustar" at 257 (POSIX "ustar\0" + "00", GNU
 * "ustar  \0") and a header checksum that matches, as libarchive and
 * Python's tarfile require before they read a tar.  The checksum is the
 * sum of the 512 bytes with the checksum field read as spaces; historic
 * writers summed signed chars, which readers accept too.
 */
int imsafe__is_tar(const uint8_t *p, size_t n)
{
    if (n < 512 || memcmp(p + 257, "ustar", 5) != 0)
        return 0;
    uint32_t want = 0, sum_u = 0;
    int32_t sum_s = 0;
    size_t i = 148;
    while (i < 156 && p[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++, digits++)
        want = want * 8 + (uint32_t)(p[i] - '0');
    if (digits == 0 || (i < 156 && p[i] != ' ' && p[i] != '\0'))
        return 0;
    for (i = 0; i < 512; i++) {
        uint8_t c = i >= 148 && i < 156 ? ' ' : p[i];
        sum_u += c;
        sum_s += (int8_t)c;
    }
    return want == sum_u || (int32_t)want == sum_s;
}

/*
 * Compressed streams and archives libimsafe does not open, by magic
 * number at the start: inside an archive they are refused
 * (unsupported.archive.format), never judged harmless unread.  Returns the
 * format's name (a constant string) or NULL.
 */
const char *imsafe__unsupported_archive(const uint8_t *p, size_t n)
{
    static const struct { const char *magic; size_t len; const char *name; } m[] = {
        {"\xfd" "7zXZ\0", 6, "xz"},
        {"\x28\xb5\x2f\xfd", 4, "zstd"},
        {"MSCF\0\0\0\0", 8, "cab"},
        {"7z\xbc\xaf\x27\x1c", 6, "7z"},
        {"Rar!\x1a\x07", 6, "rar"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (at(p, n, 0, m[i].magic, m[i].len))
            return m[i].name;
    /* bzip2: "BZh" + block size '1'..'9' + a block or end-of-stream magic */
    if (n >= 10 && at(p, n, 0, "BZh", 3) && p[3] >= '1' && p[3] <= '9' &&
        (at(p, n, 4, "\x31\x41\x59\x26\x53\x59", 6) ||
         at(p, n, 4, "\x17\x72\x45\x38\x50\x90", 6)))
        return "bzip2";
    return NULL;
}
