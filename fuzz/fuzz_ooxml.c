/*
 * fuzz_ooxml.c - the Office rules (libimsafe/ooxml.c) through
 * imsafe_sanitize().  A fuzzer cannot keep a ZIP's CRCs and offsets right,
 * so the harness builds the package itself and the input is one part of
 * it: the first byte picks the shape, the rest is the part's bytes.
 *
 *   shape & 3  0: [Content_Types].xml   1: word/_rels/document.xml.rels
 *              2: _rels/.rels           3: the part name is the input up to
 *                                          its first newline (64 bytes at
 *                                          most), the data what follows
 *   shape & 4  an ODF package (mimetype, META-INF/manifest.xml) instead
 *   shape & 8  the part deflated instead of stored
 * The other parts are fixed and benign.  Seeds (fuzz/gen_seeds.py,
 * OUTDIR/ooxml/) are the relationship and content-type parts of the
 * generated Office fixtures with a shape byte in front.
 *
 * Properties, beyond fuzz_common.h's: inspection never produces output;
 * office_macros = pass and office_active = pass never give type.macro,
 * and pass whatever the defaults pass (the switches only remove
 * findings); a part named vbaProject.bin in an OOXML package is never
 * passed under the defaults.
 */
#include <strings.h>
#include <zlib.h>

#include "fuzz_common.h"

#define PART_NAME_MAX 64

struct pkg {
    uint8_t *p;
    size_t n, cap;
    uint8_t cd[4096]; /* central headers of the few fixed entries */
    size_t cdn;
    unsigned count;
};

static void put(struct pkg *z, const void *d, size_t n)
{
    if (z->n + n > z->cap)
        fuzz_fail("package buffer too small");
    memcpy(z->p + z->n, d, n);
    z->n += n;
}

static void le(uint8_t *b, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Raw deflate of d into out; 0 on failure (then the entry is stored). */
static size_t deflate_raw(const uint8_t *d, size_t n, uint8_t *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)(uintptr_t)d;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t got = cap - zs.avail_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? got : 0;
}

static void entry(struct pkg *z, const char *name, size_t nlen, const uint8_t *d, size_t n,
                  int deflate)
{
    uint8_t h[46];
    uint8_t *packed = NULL;
    size_t csize = n;
    int method = 0;
    uint32_t crc = (uint32_t)crc32(0L, d, (uInt)n);
    if (deflate) {
        size_t cap = n + n / 10 + 64;
        packed = malloc(cap);
        if (packed == NULL)
            fuzz_fail("out of memory");
        csize = deflate_raw(d, n, packed, cap);
        method = csize > 0 ? 8 : 0;
        if (csize == 0)
            csize = n;
    }
    uint32_t off = (uint32_t)z->n;
    memset(h, 0, 30);
    le(h, 0x04034b50u, 4);
    le(h + 4, 20, 2);
    le(h + 8, (uint32_t)method, 2);
    le(h + 14, crc, 4);
    le(h + 18, (uint32_t)csize, 4);
    le(h + 22, (uint32_t)n, 4);
    le(h + 26, (uint32_t)nlen, 2);
    put(z, h, 30);
    put(z, name, nlen);
    put(z, method ? packed : d, csize);
    free(packed);
    memset(h, 0, 46);
    le(h, 0x02014b50u, 4);
    le(h + 4, 20, 2);
    le(h + 6, 20, 2);
    le(h + 10, (uint32_t)method, 2);
    le(h + 16, crc, 4);
    le(h + 20, (uint32_t)csize, 4);
    le(h + 24, (uint32_t)n, 4);
    le(h + 28, (uint32_t)nlen, 2);
    le(h + 42, off, 4);
    if (z->cdn + 46 + nlen > sizeof z->cd)
        fuzz_fail("central directory buffer too small");
    memcpy(z->cd + z->cdn, h, 46);
    memcpy(z->cd + z->cdn + 46, name, nlen);
    z->cdn += 46 + nlen;
    z->count++;
}

static void finish(struct pkg *z)
{
    uint8_t e[22];
    uint32_t cd_off = (uint32_t)z->n;
    put(z, z->cd, z->cdn);
    memset(e, 0, sizeof e);
    le(e, 0x06054b50u, 4);
    le(e + 8, z->count, 2);
    le(e + 10, z->count, 2);
    le(e + 12, (uint32_t)z->cdn, 4);
    le(e + 16, cd_off, 4);
    put(z, e, sizeof e);
}

#define S(lit) lit, sizeof lit - 1
static const char ctypes[] =
    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "content-types\"><Default Extension=\"rels\" ContentType=\"application/"
    "vnd.openxmlformats-package.relationships+xml\"/><Override PartName=\"/word/document.xml\" "
    "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document."
    "main+xml\"/></Types>";
static const char root_rels[] =
    "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/"
    "2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
    "officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>";
static const char document[] = "<?xml version=\"1.0\"?><w:document xmlns:w=\"urn:w\"/>";

/* The package for one input; *vba: the fuzzed part is an OOXML
 * vbaProject.bin by name. */
static void build(struct pkg *z, const uint8_t *data, size_t size, int *vba)
{
    unsigned shape = size > 0 ? data[0] : 0;
    const uint8_t *d = size > 0 ? data + 1 : data;
    size_t n = size > 0 ? size - 1 : 0;
    int odf = (shape & 4) != 0, defl = (shape & 8) != 0;
    const char *name = NULL;
    size_t nlen = 0;
    *vba = 0;
    switch (shape & 3) {
    case 0: name = "[Content_Types].xml"; break;
    case 1: name = "word/_rels/document.xml.rels"; break;
    case 2: name = "_rels/.rels"; break;
    default: {
        const uint8_t *nl = memchr(d, '\n', n < PART_NAME_MAX ? n : PART_NAME_MAX);
        nlen = nl != NULL ? (size_t)(nl - d) : 0;
        name = (const char *)d;
        d += nl != NULL ? nlen + 1 : 0;
        n -= nl != NULL ? nlen + 1 : 0;
        if (nlen == 0) {
            name = "word/media/part.bin";
            nlen = strlen(name);
        }
        *vba = !odf && nlen >= 14 && strncasecmp(name + nlen - 14, "vbaproject.bin", 14) == 0 &&
               (nlen == 14 || name[nlen - 15] == '/' || name[nlen - 15] == '\\');
    }
    }
    if (nlen == 0)
        nlen = strlen(name);
    if (odf) {
        entry(z, S("mimetype"), (const uint8_t *)"application/vnd.oasis.opendocument.text", 39,
              0);
        entry(z, S("META-INF/manifest.xml"), (const uint8_t *)document, sizeof document - 1, 1);
    } else {
        if ((shape & 3) != 0)
            entry(z, S("[Content_Types].xml"), (const uint8_t *)ctypes, sizeof ctypes - 1, 1);
        if ((shape & 3) != 2)
            entry(z, S("_rels/.rels"), (const uint8_t *)root_rels, sizeof root_rels - 1, 1);
        entry(z, S("word/document.xml"), (const uint8_t *)document, sizeof document - 1, 1);
    }
    entry(z, name, nlen, d, n, defl);
    finish(z);
}

static imsafe_policy *office_policy(int pass)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL)
        fuzz_fail("cannot build the office policy");
    fuzz_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, FUZZ_MAX_MEMORY);
    if (pass) {
        fuzz_set(p, IMSAFE_OPT_OFFICE_MACROS, IMSAFE_OFFICE_PASS);
        fuzz_set(p, IMSAFE_OPT_OFFICE_ACTIVE, IMSAFE_OFFICE_PASS);
    }
    return fuzz_policy_or_die(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *strict, *lax;
    struct pkg z;
    int vba;
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        strict = office_policy(0);
        lax = office_policy(1);
    }
    if (size > FUZZ_MAX_INPUT / 2)
        return 0;
    memset(&z, 0, sizeof z);
    z.cap = 2 * size + 8192;
    if ((z.p = malloc(z.cap)) == NULL)
        fuzz_fail("out of memory");
    build(&z, data, size, &vba);
    imsafe_result *a = fuzz_sanitize_once(ctx, strict, z.p, z.n, "fuzz.docx", NULL);
    imsafe_result *b = fuzz_sanitize_once(ctx, lax, z.p, z.n, "fuzz.docx", NULL);
    imsafe_verdict va = imsafe_result_verdict(a), vb = imsafe_result_verdict(b);
    if (va == IMSAFE_SANITIZED || vb == IMSAFE_SANITIZED)
        fuzz_fail("Office inspection produced output");
    if (vb == IMSAFE_REJECTED && imsafe_result_reason(b) == IMSAFE_R_TYPE_MACRO)
        fuzz_fail("office_macros = pass gave type.macro: %s", imsafe_result_detail(b));
    if (va == IMSAFE_PASSED && vb != IMSAFE_PASSED)
        fuzz_fail("the pass switches rejected what the defaults pass: %s",
                  imsafe_result_detail(b));
    if (vba && va == IMSAFE_PASSED)
        fuzz_fail("a vbaProject.bin part passed under the defaults");
    imsafe_result_free(a);
    imsafe_result_free(b);
    free(z.p);
    return 0;
}
