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
    case IMSAFE_TYPE_SCRIPT:
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

/* Case-insensitive search for an ASCII word within the first `lim` bytes. */
static int has_word(const uint8_t *p, size_t n, size_t lim, const char *w)
{
    size_t m = strlen(w);
    if (n > lim)
        n = lim;
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (strncasecmp((const char *)p + i, w, m) == 0)
            return 1;
    return 0;
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

/* Valid UTF-8 with few controls (tab, CR, LF, FF allowed). */
static int is_text(const uint8_t *p, size_t n)
{
    size_t lim = n < 8192 ? n : 8192;
    for (size_t i = 0; i < lim;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
                return 0;
            if (c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        if (len == 0)
            return 0;
        if (i + len > lim)
            return i + len > n ? 0 : 1; /* cut by the window, not by the data */
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Skip a UTF-8 BOM and leading white space: markup sniffing starts there. */
static size_t skip_lead(const uint8_t *p, size_t n)
{
    size_t i = at(p, n, 0, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* Markup and scripts by their first bytes (after BOM/white space). */
static imsafe_type sniff_markup(const uint8_t *p, size_t n)
{
    size_t i = skip_lead(p, n);
    const uint8_t *q = p + i;
    size_t m = n - i;
    if (at(p, n, 0, "#!", 2))
        return IMSAFE_TYPE_SCRIPT;
    if (m >= 1 && q[0] == '<') {
        if (has_word(q, m, 4096, "<svg"))
            return IMSAFE_TYPE_SVG;
        if (has_word(q, m, 16, "<!doctype html") || has_word(q, m, 1024, "<html") ||
            has_word(q, m, 1024, "<script") || has_word(q, m, 1024, "<head") ||
            has_word(q, m, 1024, "<body") || has_word(q, m, 1024, "<iframe") ||
            has_word(q, m, 1024, "<hta:application"))
            return IMSAFE_TYPE_HTML;
        if (has_word(q, m, 5, "<?xml"))
            return IMSAFE_TYPE_XML;
    }
    /* ImageMagick MVG / MSL: drawing primitives that fetch URLs or run
     * delegates (ImageTragick) */
    if (has_word(q, m < 64 ? m : 64, 64, "push graphic-context") ||
        has_word(q, m < 32 ? m : 32, 32, "viewbox ") || has_word(q, m, 256, "<image") )
        return IMSAFE_TYPE_MVG;
    /* Windows scripts by content: batch, PowerShell, VBScript, JScript */
    if (has_word(q, m < 16 ? m : 16, 16, "@echo off") ||
        has_word(q, m, 512, "wscript.") || has_word(q, m, 512, "createobject(") ||
        has_word(q, m, 512, "powershell") || has_word(q, m, 512, "invoke-expression"))
        return IMSAFE_TYPE_SCRIPT;
    return IMSAFE_TYPE_UNKNOWN;
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

imsafe_type imsafe__sniff(const uint8_t *p, size_t n)
{
    if (n == 0)
        return IMSAFE_TYPE_UNKNOWN;
    imsafe_type t = sniff_magic(p, n);
    if (t != IMSAFE_TYPE_UNKNOWN)
        return t;
    if (is_mp3(p, n))
        return IMSAFE_TYPE_MP3;
    t = sniff_markup(p, n);
    if (t != IMSAFE_TYPE_UNKNOWN)
        return t;
    return is_text(p, n) ? IMSAFE_TYPE_TEXT : IMSAFE_TYPE_UNKNOWN;
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

static const struct { const char *ext; imsafe_type t; } extensions[] = {
    {"png", IMSAFE_TYPE_PNG},   {"apng", IMSAFE_TYPE_PNG},  {"jpg", IMSAFE_TYPE_JPEG},
    {"jpeg", IMSAFE_TYPE_JPEG}, {"jpe", IMSAFE_TYPE_JPEG},  {"jfif", IMSAFE_TYPE_JPEG},
    {"gif", IMSAFE_TYPE_GIF},   {"webp", IMSAFE_TYPE_WEBP}, {"bmp", IMSAFE_TYPE_BMP},
    {"tif", IMSAFE_TYPE_TIFF},  {"tiff", IMSAFE_TYPE_TIFF}, {"ico", IMSAFE_TYPE_ICO},
    {"heic", IMSAFE_TYPE_HEIC}, {"heif", IMSAFE_TYPE_HEIF}, {"avif", IMSAFE_TYPE_AVIF},
    {"mp4", IMSAFE_TYPE_MP4},   {"m4v", IMSAFE_TYPE_MP4},   {"m4a", IMSAFE_TYPE_MP4},
    {"mov", IMSAFE_TYPE_MOV},   {"webm", IMSAFE_TYPE_WEBM}, {"mkv", IMSAFE_TYPE_WEBM},
    {"ogg", IMSAFE_TYPE_OGG},   {"oga", IMSAFE_TYPE_OGG},   {"opus", IMSAFE_TYPE_OGG},
    {"mp3", IMSAFE_TYPE_MP3},   {"wav", IMSAFE_TYPE_WAV},   {"svg", IMSAFE_TYPE_SVG},
    {"svgz", IMSAFE_TYPE_SVG},  {"xml", IMSAFE_TYPE_XML},   {"html", IMSAFE_TYPE_HTML},
    {"htm", IMSAFE_TYPE_HTML},  {"xhtml", IMSAFE_TYPE_HTML}, {"hta", IMSAFE_TYPE_HTML},
    {"pdf", IMSAFE_TYPE_PDF},   {"rtf", IMSAFE_TYPE_RTF},   {"doc", IMSAFE_TYPE_OLE2},
    {"xls", IMSAFE_TYPE_OLE2},  {"ppt", IMSAFE_TYPE_OLE2},  {"msi", IMSAFE_TYPE_OLE2},
    {"zip", IMSAFE_TYPE_ZIP},   {"docx", IMSAFE_TYPE_DOCX}, {"xlsx", IMSAFE_TYPE_XLSX},
    {"pptx", IMSAFE_TYPE_PPTX}, {"odt", IMSAFE_TYPE_ODF},   {"ods", IMSAFE_TYPE_ODF},
    {"odp", IMSAFE_TYPE_ODF},   {"epub", IMSAFE_TYPE_EPUB}, {"jar", IMSAFE_TYPE_JAR},
    {"apk", IMSAFE_TYPE_APK},   {"gz", IMSAFE_TYPE_GZIP},   {"tgz", IMSAFE_TYPE_GZIP},
    {"7z", IMSAFE_TYPE_7Z},     {"rar", IMSAFE_TYPE_RAR},   {"exe", IMSAFE_TYPE_PE},
    {"dll", IMSAFE_TYPE_PE},    {"scr", IMSAFE_TYPE_PE},    {"com", IMSAFE_TYPE_PE},
    {"sys", IMSAFE_TYPE_PE},    {"cpl", IMSAFE_TYPE_PE},    {"elf", IMSAFE_TYPE_ELF},
    {"so", IMSAFE_TYPE_ELF},    {"dylib", IMSAFE_TYPE_MACHO}, {"sh", IMSAFE_TYPE_SCRIPT},
    {"bat", IMSAFE_TYPE_SCRIPT}, {"cmd", IMSAFE_TYPE_SCRIPT}, {"ps1", IMSAFE_TYPE_SCRIPT},
    {"vbs", IMSAFE_TYPE_SCRIPT}, {"vbe", IMSAFE_TYPE_SCRIPT}, {"js", IMSAFE_TYPE_SCRIPT},
    {"jse", IMSAFE_TYPE_SCRIPT}, {"wsf", IMSAFE_TYPE_SCRIPT}, {"py", IMSAFE_TYPE_SCRIPT},
    {"pl", IMSAFE_TYPE_SCRIPT}, {"txt", IMSAFE_TYPE_TEXT},  {"csv", IMSAFE_TYPE_TEXT},
    {"md", IMSAFE_TYPE_TEXT},   {"log", IMSAFE_TYPE_TEXT},  {"mng", IMSAFE_TYPE_MNG},
    {"mvg", IMSAFE_TYPE_MVG},   {"lnk", IMSAFE_TYPE_LNK},   {"class", IMSAFE_TYPE_JAVA_CLASS},
    {"dex", IMSAFE_TYPE_DEX},   {"tar", IMSAFE_TYPE_TAR},
};

imsafe_type imsafe__type_from_extension(const char *name)
{
    if (name == NULL)
        return IMSAFE_TYPE_UNKNOWN;
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot[1] == '\0')
        return IMSAFE_TYPE_UNKNOWN;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (strcasecmp(dot + 1, extensions[i].ext) == 0)
            return extensions[i].t;
    return IMSAFE_TYPE_UNKNOWN;
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
    {"application/hta", IMSAFE_TYPE_HTML}, {"application/x-tar", IMSAFE_TYPE_TAR},
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
