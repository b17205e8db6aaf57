/*
 * fuzz_common.h - shared code of the libFuzzer harnesses in fuzz/.
 *
 * Each harness is one .c file that includes this header exactly once and
 * defines LLVMFuzzerTestOneInput().  It is linked either with libFuzzer
 * (-fsanitize=fuzzer, ./configure --enable-fuzzing or fuzz/build.sh) or with
 * fuzz/replay.c, a plain main() that runs files through it during make check
 * and under valgrind (libspng's fuzz_main.c, zstd's regression_driver.c).
 * Harnesses link the static libimsafe, so they may call the internal entry
 * points declared in imsafe_private.h (hidden visibility only matters for a
 * shared object).
 *
 * The harnesses check properties, not only "does not crash" (issue 6):
 *   - a rejection carries one reason and never any output;
 *   - an accepted output decodes with an independent decoder (libpng's
 *     row reader, libjpeg with fancy and with merged/replicating
 *     upsampling, giflib's record walk) without error or warning, and has
 *     no bytes after its end marker (issue 14: the lossless JPEG path once
 *     rebuilt fractional sampling factors that no decoder upsamples);
 *   - an accepted output sanitized again is accepted and byte-identical;
 *     that second call streams through imsafe_sanitize_to() with a chunk
 *     size picked from the input, and the sink compares each piece with the
 *     first output as it arrives;
 *   - for one input in eight with an output, a sink that fails at a write
 *     picked from the input gives IMSAFE_ESINK, no result, no further write;
 *   - every output byte, the detail and the display name are read and folded
 *     into a checksum that a branch depends on, so valgrind (make
 *     check-valgrind) and ASan see uninitialised or stale bytes
 *     (CVE-2019-6976 leaked heap memory through "clean" images that way);
 *   - the real peak of heap bytes the call allocates, counted by a malloc
 *     shim, stays within the policy's max_memory_bytes plus FUZZ_SLACK_BYTES,
 *     and within the bytes the call charged to its budget plus the same
 *     slack (an allocation the budget does not see is a bug: a bomb could
 *     grow it unchecked).
 * A violation prints what was violated and calls abort(), which libFuzzer
 * reports as a crash and the replay driver as a failed test.
 *
 * Harness code is not library code: the process-wide counters and the
 * policies built on the first call are ordinary globals here.
 */
#ifndef IMSAFE_FUZZ_COMMON_H
#define IMSAFE_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "imsafe.h"
#include "imsafe_private.h"
#include "../tests/webp_walk.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* libarchive's kMaxInputSize: bigger inputs only slow the fuzzer down (the
 * largest corpus file is 540 KB; the policies' own input limit is tested by
 * tests/, not here). */
#define FUZZ_MAX_INPUT (4u << 20)

/*
 * Heap bytes a call may allocate beyond what it charges to its budget:
 * the result object and its strings, libjpeg's and giflib's own small
 * structures (decoder state, Huffman tables, colour maps), which their
 * modules bound with imsafe__reserve() rather than allocate through the
 * budget, and allocator rounding (the shim counts malloc_usable_size()).
 * Measured with FUZZ_MEM_REPORT=1 over the corpus and the fixtures; the
 * largest gap seen (4104 bytes) is in fuzz/README.
 */
#define FUZZ_SLACK_BYTES (1u << 20)

/* The fuzz policy of the per-format harnesses: a few megapixels, so
 * slow-but-valid inputs do not drown the run. */
#define FUZZ_MAX_PIXELS 4000000
#define FUZZ_MAX_MEMORY (256u << 20)
#define FUZZ_MAX_TOTAL_FRAME_PIXELS 16000000
#define FUZZ_MAX_FRAMES 100

/* ------------------------------------------------------------ failures */

static inline void fuzz_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz property violated: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ------------------------------------------------------------ checksum */

/* Every byte a harness reads back is folded in here.  The branch on the
 * sum makes the value "used", so memcheck reports undefined bytes; the
 * client request (when memcheck.h exists) names the exact bytes. */
static volatile uint64_t fuzz_sink __attribute__((unused));

static inline void fuzz_fold(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603u;
#ifdef VALGRIND_CHECK_MEM_IS_DEFINED
    if (n > 0 && VALGRIND_CHECK_MEM_IS_DEFINED(p, n) != 0)
        fuzz_fail("%zu bytes read back hold uninitialised data", n);
#endif
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    if (h == 0x5eed5eed5eed5eedu) /* a branch on every byte read */
        fuzz_sink++;
    fuzz_sink += h;
}

/* FNV-1a over the whole input: picks the policy variant, so a given input
 * always runs under the same policy (replay reproduces what fuzzing saw). */
static inline uint32_t fuzz_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ------------------------------------------------------- malloc counting */

/*
 * Live heap bytes and their peak while `on`.  Under a sanitizer that owns
 * malloc (ASan, MSan, TSan; the --enable-fuzzing and --enable-sanitizers
 * builds) the counters are fed by the sanitizer's allocation hooks;
 * otherwise (the plain gcc replay build, valgrind) this binary defines
 * malloc/calloc/realloc/free forwarding to glibc's __libc_* functions,
 * which every shared library in the process (libpng, libjpeg, giflib,
 * zlib) then calls too.  Counting is per process; harnesses are
 * single-threaded.
 */
static struct {
    volatile int on;
    int64_t live, peak;
} fuzz_mem __attribute__((unused));

static inline void fuzz_mem_add(int64_t n)
{
    if (!fuzz_mem.on)
        return;
    fuzz_mem.live += n;
    if (fuzz_mem.live > fuzz_mem.peak)
        fuzz_mem.peak = fuzz_mem.live;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||                 \
    __has_feature(thread_sanitizer) || __has_feature(hwaddress_sanitizer)
#define FUZZ_SANITIZER_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FUZZ_SANITIZER_MALLOC 1
#endif

#ifdef FUZZ_SANITIZER_MALLOC
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

static inline void fuzz_malloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    fuzz_mem_add((int64_t)n);
}

/* Called before the block is released, so its size is still known. */
static inline void fuzz_free_hook(const volatile void *p)
{
    if (fuzz_mem.on)
        fuzz_mem_add(-(int64_t)__sanitizer_get_allocated_size(p));
}

static inline void fuzz_mem_install(void)
{
    __sanitizer_install_malloc_and_free_hooks(fuzz_malloc_hook, fuzz_free_hook);
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (p != NULL)
        fuzz_mem_add((int64_t)malloc_usable_size(p));
    return p;
}

void *calloc(size_t count, size_t size)
{
    void *p = __libc_calloc(count, size);
    if (p != NULL)
        fuzz_mem_add((int64_t)malloc_usable_size(p));
    return p;
}

void *realloc(void *p, size_t n)
{
    size_t old = p != NULL ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q != NULL) {
        fuzz_mem_add(-(int64_t)old);
        fuzz_mem_add((int64_t)malloc_usable_size(q));
    } else if (n == 0) {
        fuzz_mem_add(-(int64_t)old); /* glibc: realloc(p, 0) frees p */
    }
    return q;
}

void free(void *p)
{
    if (p != NULL)
        fuzz_mem_add(-(int64_t)malloc_usable_size(p));
    __libc_free(p);
}

static inline void fuzz_mem_install(void)
{
}
#endif

static inline void fuzz_mem_start(void)
{
    fuzz_mem.live = 0;
    fuzz_mem.peak = 0;
    fuzz_mem.on = 1;
}

/* Stop counting; returns the peak of live bytes since fuzz_mem_start(). */
static inline uint64_t fuzz_mem_stop(void)
{
    fuzz_mem.on = 0;
    return fuzz_mem.peak > 0 ? (uint64_t)fuzz_mem.peak : 0;
}

/* ---------------------------------------------------------------- setup */

static inline imsafe_policy *fuzz_policy_or_die(imsafe_policy *p)
{
    if (p == NULL || imsafe_policy_freeze(p) != IMSAFE_OK)
        fuzz_fail("cannot build the fuzz policy");
    return p;
}

static inline void fuzz_set(imsafe_policy *p, imsafe_opt opt, int64_t v)
{
    if (p == NULL || imsafe_policy_set(p, opt, v) != IMSAFE_OK)
        fuzz_fail("cannot set option %d to %lld", (int)opt, (long long)v);
}

/* The per-format fuzz policy (not yet frozen). */
static inline imsafe_policy *fuzz_image_policy(void)
{
    imsafe_policy *p = imsafe_policy_new();
    fuzz_set(p, IMSAFE_OPT_MAX_PIXELS, FUZZ_MAX_PIXELS);
    fuzz_set(p, IMSAFE_OPT_MAX_MEMORY_BYTES, FUZZ_MAX_MEMORY);
    fuzz_set(p, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS, FUZZ_MAX_TOTAL_FRAME_PIXELS);
    fuzz_set(p, IMSAFE_OPT_MAX_FRAMES, FUZZ_MAX_FRAMES);
    /* off by default (tests/ check that); on here, so the arithmetic
     * decoder and its rebuild stay fuzzed in both JPEG modes */
    fuzz_set(p, IMSAFE_OPT_JPEG_ARITHMETIC, IMSAFE_JPEG_ARITHMETIC_ALLOW);
    return p;
}

/*
 * Variant 1 of the fuzz policy: the other branch of every switch the image
 * modules have (warnings tolerated, JPEG decoded and re-encoded, GIF turned
 * into PNG, metadata not kept, fast PNG filters), so one harness reaches
 * both.  The input's hash picks the variant.
 */
static inline imsafe_policy *fuzz_image_policy_variant(void)
{
    imsafe_policy *p = fuzz_image_policy();
    fuzz_set(p, IMSAFE_OPT_TOLERATE_WARNINGS, 1);
    fuzz_set(p, IMSAFE_OPT_JPEG_MODE, IMSAFE_JPEG_PIXELS);
    fuzz_set(p, IMSAFE_OPT_JPEG_QUALITY, 75);
    fuzz_set(p, IMSAFE_OPT_GIF_TO_PNG, 1);
    fuzz_set(p, IMSAFE_OPT_KEEP_ICC, 0);
    fuzz_set(p, IMSAFE_OPT_KEEP_COLORSPACE, 0);
    fuzz_set(p, IMSAFE_OPT_KEEP_ORIENTATION, 0);
    fuzz_set(p, IMSAFE_OPT_PNG_FILTERS, IMSAFE_PNG_FILTERS_FAST);
    fuzz_set(p, IMSAFE_OPT_PNG_ZLIB_LEVEL, 1);
    return p;
}

/* Variant 2: GIF and APNG animations flattened, PNG unfiltered at zlib
 * level 9. */
static inline imsafe_policy *fuzz_image_policy_variant2(void)
{
    imsafe_policy *p = fuzz_image_policy();
    fuzz_set(p, IMSAFE_OPT_GIF_FLATTEN, 1);
    fuzz_set(p, IMSAFE_OPT_APNG, IMSAFE_APNG_FLATTEN);
    fuzz_set(p, IMSAFE_OPT_PNG_FILTERS, IMSAFE_PNG_FILTERS_NONE);
    fuzz_set(p, IMSAFE_OPT_PNG_ZLIB_LEVEL, 9);
    return p;
}

static inline imsafe_ctx *fuzz_ctx_or_die(void)
{
    imsafe_ctx *c = imsafe_ctx_new(NULL);
    if (c == NULL)
        fuzz_fail("cannot make a context");
    fuzz_mem_install();
    return c;
}

/* -------------------------------------------------------- output decoders */

struct fuzz_mem_reader {
    const uint8_t *p;
    size_t n, off;
};

static inline void fuzz_png_error(png_structp png, png_const_charp msg)
{
    (void)png;
    fuzz_fail("the output PNG does not decode: %s", msg);
}

static inline void fuzz_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    fuzz_fail("the output PNG decodes with a warning: %s", msg);
}

static inline void fuzz_png_read(png_structp png, png_bytep dst, size_t len)
{
    struct fuzz_mem_reader *r = png_get_io_ptr(png);
    if (len > r->n - r->off)
        png_error(png, "read past the end of the output");
    memcpy(dst, r->p + r->off, len);
    r->off += len;
}

/*
 * Decode a PNG we produced with libpng's row reader, one row buffer at a
 * time (a full-image buffer would be 240 MB at the default 60 MP limit).
 * Any error or warning aborts, so no setjmp is needed.
 */
static inline void fuzz_decode_png(const uint8_t *p, size_t n)
{
    struct fuzz_mem_reader r = {p, n, 0};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, fuzz_png_error, fuzz_png_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL)
        fuzz_fail("png_create_read_struct failed");
    png_set_read_fn(png, &r, fuzz_png_read);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff); /* our own output */
    png_read_info(png, info);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    uint32_t h = png_get_image_height(png, info);
    /* zeroed: for an interlaced image libpng writes only the pixels of
     * the current pass into the row and keeps the rest */
    png_bytep row = calloc(1, rowbytes);
    if (row == NULL)
        fuzz_fail("out of memory decoding the output");
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < h; y++) {
            png_read_row(png, row, NULL);
            fuzz_fold(row, rowbytes);
        }
    png_read_end(png, info);
    free(row);
    png_destroy_read_struct(&png, &info, NULL);
    if (r.off != r.n)
        fuzz_fail("the output PNG has %zu bytes after IEND", r.n - r.off);
}

static inline void fuzz_jpeg_error_exit(j_common_ptr c)
{
    char msg[JMSG_LENGTH_MAX];
    c->err->format_message(c, msg);
    fuzz_fail("the output JPEG does not decode: %s", msg);
}

static inline void fuzz_jpeg_emit(j_common_ptr c, int level)
{
    char msg[JMSG_LENGTH_MAX];
    if (level >= 0)
        return; /* trace messages */
    c->err->format_message(c, msg);
    fuzz_fail("the output JPEG decodes with a warning: %s", msg);
}

/* Decode a JPEG we produced with libjpeg, one scanline at a time.  fancy:
 * libjpeg's default upsampling; 0 takes the other upsamplers viewers use
 * (do_fancy_upsampling = FALSE: jdmerge.c's merged upsampling and colour
 * conversion for 2x1 and 2x2, jdsample.c's replicating ones otherwise),
 * which refuse sampling factors of their own. */
static inline void fuzz_decode_jpeg_with(const uint8_t *p, size_t n, int fancy)
{
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    memset(&d, 0, sizeof d);
    d.err = jpeg_std_error(&jerr);
    jerr.error_exit = fuzz_jpeg_error_exit;
    jerr.emit_message = fuzz_jpeg_emit;
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, p, (unsigned long)n);
    jpeg_read_header(&d, TRUE);
    d.do_fancy_upsampling = fancy ? TRUE : FALSE;
    jpeg_start_decompress(&d);
    size_t stride = (size_t)d.output_width * (size_t)d.output_components;
    JSAMPLE *row = malloc(stride);
    if (row == NULL)
        fuzz_fail("out of memory decoding the output");
    while (d.output_scanline < d.output_height) {
        JSAMPROW rows[1] = {row};
        if (jpeg_read_scanlines(&d, rows, 1) != 1)
            fuzz_fail("the output JPEG ends early");
        fuzz_fold(row, stride);
    }
    jpeg_finish_decompress(&d);
    size_t left = d.src->bytes_in_buffer;
    free(row);
    jpeg_destroy_decompress(&d);
    if (left != 0)
        fuzz_fail("the output JPEG has %zu bytes after EOI", left);
}

/* Every output JPEG opens in both of libjpeg's upsampling paths. */
static inline void fuzz_decode_jpeg(const uint8_t *p, size_t n)
{
    fuzz_decode_jpeg_with(p, n, 1);
    fuzz_decode_jpeg_with(p, n, 0);
}

static inline int fuzz_gif_read(GifFileType *g, GifByteType *dst, int len)
{
    struct fuzz_mem_reader *r = g->UserData;
    size_t n = len > 0 ? (size_t)len : 0;
    if (n > r->n - r->off)
        n = r->n - r->off;
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return (int)n;
}

static inline void fuzz_gif_check(int rc, GifFileType *g, const char *what)
{
    if (rc != GIF_OK)
        fuzz_fail("the output GIF does not decode: %s: %s", what,
                  GifErrorString(g->Error) ? GifErrorString(g->Error) : "?");
}

static inline void fuzz_gif_frame(GifFileType *g)
{
    fuzz_gif_check(DGifGetImageDesc(g), g, "image descriptor");
    GifImageDesc *im = &g->Image;
    if (im->Width <= 0 || im->Height <= 0 || im->Left < 0 || im->Top < 0 ||
        im->Left + im->Width > g->SWidth || im->Top + im->Height > g->SHeight)
        fuzz_fail("the output GIF has a frame outside its screen");
    if (im->ColorMap == NULL && g->SColorMap == NULL)
        fuzz_fail("the output GIF has a frame without a colour map");
    GifPixelType *row = malloc((size_t)im->Width);
    if (row == NULL)
        fuzz_fail("out of memory decoding the output");
    for (int y = 0; y < im->Height; y++) {
        fuzz_gif_check(DGifGetLine(g, row, im->Width), g, "image data");
        fuzz_fold(row, (size_t)im->Width);
    }
    free(row);
}

/*
 * Decode a GIF we produced with giflib's record walk, one row at a time
 * (DGifSlurp() would hold every frame: up to 100 frames of 4 MP here).
 * A GIF without any image is valid (GIF89a grammar: <Data>* between the
 * screen and the trailer), so zero frames is not a violation.
 */
static inline void fuzz_decode_gif(const uint8_t *p, size_t n)
{
    struct fuzz_mem_reader r = {p, n, 0};
    int err = 0, rt = 0;
    GifFileType *g = DGifOpen(&r, fuzz_gif_read, &err);
    if (g == NULL)
        fuzz_fail("the output GIF does not open: %s", GifErrorString(err));
    do {
        fuzz_gif_check(DGifGetRecordType(g, (GifRecordType *)&rt), g, "record type");
        if (rt == IMAGE_DESC_RECORD_TYPE) {
            fuzz_gif_frame(g);
        } else if (rt == EXTENSION_RECORD_TYPE) {
            int code = 0;
            GifByteType *ext = NULL;
            fuzz_gif_check(DGifGetExtension(g, &code, &ext), g, "extension");
            while (ext != NULL) {
                fuzz_fold(ext + 1, ext[0]);
                fuzz_gif_check(DGifGetExtensionNext(g, &ext), g, "extension block");
            }
        }
    } while (rt != TERMINATE_RECORD_TYPE);
    if (DGifCloseFile(g, &err) != GIF_OK)
        fuzz_fail("the output GIF does not close: %s", GifErrorString(err));
    if (r.off != r.n)
        fuzz_fail("the output GIF has %zu bytes after its trailer", r.n - r.off);
}

/* The type of an output by its signature (never trusting the result). */
static inline imsafe_type fuzz_output_type(const uint8_t *p, size_t n)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMSAFE_TYPE_PNG;
    if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
        return IMSAFE_TYPE_JPEG;
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return IMSAFE_TYPE_GIF;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMSAFE_TYPE_WEBP;
    return IMSAFE_TYPE_UNKNOWN;
}

/* A WebP's canvas and frame count through libwebp's animation decoder
 * (which reads stills too), decoding every frame; 0 when it fails. */
static inline int fuzz_webp_info(const uint8_t *p, size_t n, uint32_t *w, uint32_t *h,
                                 uint32_t *frames)
{
    WebPData d = {p, n};
    WebPAnimDecoderOptions o;
    WebPAnimInfo info;
    if (!WebPAnimDecoderOptionsInit(&o))
        return 0;
    o.color_mode = MODE_RGBA;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&d, &o);
    int ok = dec != NULL && WebPAnimDecoderGetInfo(dec, &info);
    uint32_t got = 0;
    while (ok && WebPAnimDecoderHasMoreFrames(dec)) {
        uint8_t *buf;
        int ts;
        ok = WebPAnimDecoderGetNext(dec, &buf, &ts);
        if (ok) {
            fuzz_fold(buf, (size_t)info.canvas_width * info.canvas_height * 4u);
            got++;
        }
    }
    if (ok) {
        *w = info.canvas_width;
        *h = info.canvas_height;
        *frames = got;
    }
    WebPAnimDecoderDelete(dec);
    return ok;
}

static inline int fuzz_webp_lossy(const uint8_t *p, size_t n)
{
    return fuzz_output_type(p, n) == IMSAFE_TYPE_WEBP && webp_is_lossy(p, n);
}

static inline void fuzz_decode_webp(const uint8_t *p, size_t n)
{
    uint32_t w, h, frames;
    if ((uint64_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24) + 8 != n)
        fuzz_fail("the output WebP's RIFF size is not its length");
    if (!fuzz_webp_info(p, n, &w, &h, &frames) || frames == 0)
        fuzz_fail("libwebp cannot decode the output WebP");
}

static inline void fuzz_decode_output(imsafe_type in_type, const uint8_t *p, size_t n)
{
    imsafe_type t = fuzz_output_type(p, n);
    /* a GIF or a WebP may become a PNG (gif_to_png, webp_to); nothing
     * else changes type */
    if (t != in_type && !((in_type == IMSAFE_TYPE_GIF || in_type == IMSAFE_TYPE_WEBP) &&
                          t == IMSAFE_TYPE_PNG))
        fuzz_fail("a %s input gave output of type %s", imsafe_type_name(in_type),
                  imsafe_type_name(t));
    if (t == IMSAFE_TYPE_PNG)
        fuzz_decode_png(p, n);
    else if (t == IMSAFE_TYPE_JPEG)
        fuzz_decode_jpeg(p, n);
    else if (t == IMSAFE_TYPE_WEBP)
        fuzz_decode_webp(p, n);
    else
        fuzz_decode_gif(p, n);
}

/* ------------------------------------------------------------ sanitizing */

/* Detail: printable ASCII (it must never echo input bytes; at least it
 * must never carry a control or a non-ASCII byte). */
static inline void fuzz_check_strings(const imsafe_result *res)
{
    const char *d = imsafe_result_detail(res);
    const char *dn = imsafe_result_display_name(res);
    const char *label = imsafe_result_policy_label(res);
    if (d == NULL || dn == NULL || label == NULL)
        fuzz_fail("a result string is NULL");
    for (const char *s = d; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            fuzz_fail("the detail holds byte 0x%02x", (unsigned char)*s);
    for (const char *s = dn; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/' || *s == '\\')
            fuzz_fail("the display name holds byte 0x%02x", (unsigned char)*s);
    fuzz_fold(d, strlen(d));
    fuzz_fold(dn, strlen(dn));
}

static inline void fuzz_check_verdict(const imsafe_result *res)
{
    size_t len = 99;
    const void *out = imsafe_result_output(res, &len);
    imsafe_verdict v = imsafe_result_verdict(res);
    imsafe_reason r = imsafe_result_reason(res);
    if (v == IMSAFE_REJECTED) {
        if (out != NULL || len != 0)
            fuzz_fail("a rejection (%s) carries %zu output bytes", imsafe_reason_name(r), len);
        if (r == IMSAFE_R_NONE || imsafe_reason_name(r) == NULL ||
            strncmp(imsafe_reason_name(r), "note.", 5) == 0)
            fuzz_fail("a rejection has reason %d", (int)r);
        return;
    }
    if (v != IMSAFE_SANITIZED && v != IMSAFE_PASSED)
        fuzz_fail("verdict %d", (int)v);
    if (r != IMSAFE_R_NONE)
        fuzz_fail("an accepted payload has reason %s", imsafe_reason_name(r));
    for (size_t i = 0; i < imsafe_result_note_count(res); i++) {
        const char *nn = imsafe_reason_name(imsafe_result_note(res, i));
        if (nn == NULL || strncmp(nn, "note.", 5) != 0)
            fuzz_fail("note %zu is not a note.* reason", i);
    }
    if (v == IMSAFE_PASSED && (out != NULL || len != 0))
        fuzz_fail("a passed payload carries %zu output bytes", len);
    /* through a sink (imsafe_sanitize_to) the result holds only the size */
    uint64_t size = imsafe_result_output_size(res);
    if (v == IMSAFE_SANITIZED && (size == 0 || (out != NULL && len != size)))
        fuzz_fail("a sanitized payload has no output, or sizes %zu and %llu", len,
                  (unsigned long long)size);
    if (v != IMSAFE_SANITIZED && size != 0)
        fuzz_fail("a %s payload has an output size", imsafe_verdict_name(v));
}

/* The memory property of one call: real peak against budget and charge. */
static inline void fuzz_check_memory(const imsafe_policy *pol, const imsafe_result *res,
                                     uint64_t real_peak)
{
    int64_t budget = 0;
    imsafe_policy_get(pol, IMSAFE_OPT_MAX_MEMORY_BYTES, &budget);
    uint64_t charged = imsafe_result_peak_bytes(res);
    if (getenv("FUZZ_MEM_REPORT") != NULL)
        fprintf(stderr, "fuzz-mem: real %llu charged %llu gap %lld\n",
                (unsigned long long)real_peak, (unsigned long long)charged,
                (long long)real_peak - (long long)charged);
    if (charged > (uint64_t)budget)
        fuzz_fail("the call charged %llu bytes, budget %lld", (unsigned long long)charged,
                  (long long)budget);
    if (real_peak > (uint64_t)budget + FUZZ_SLACK_BYTES)
        fuzz_fail("the call allocated %llu bytes at its peak, budget %lld + slack %u",
                  (unsigned long long)real_peak, (long long)budget, FUZZ_SLACK_BYTES);
    if (real_peak > charged + FUZZ_SLACK_BYTES)
        fuzz_fail("the call allocated %llu bytes at its peak but charged only %llu "
                  "(+ slack %u): an allocation escapes the budget",
                  (unsigned long long)real_peak, (unsigned long long)charged,
                  FUZZ_SLACK_BYTES);
}

/* A sink that compares what it receives with an expected output as it
 * arrives (no allocation, so the memory shim sees only the library), and
 * can fail at one write. */
struct fuzz_cmp_sink {
    const uint8_t *want; /* NULL: do not compare */
    size_t want_len, off, calls, max_piece, fail_at;
    int differs;
};

/* rewind: the comparison starts over */
static inline int fuzz_cmp_rewind(void *opaque)
{
    struct fuzz_cmp_sink *s = opaque;
    s->off = 0;
    s->differs = 0;
    return 0;
}

static inline int fuzz_cmp_write(void *opaque, const void *data, size_t len)
{
    struct fuzz_cmp_sink *s = opaque;
    if (s->fail_at != 0 && s->calls + 1 > s->fail_at)
        fuzz_fail("the sink was called again after write %zu failed", s->fail_at);
    if (++s->calls == s->fail_at)
        return -1;
    fuzz_fold(data, len);
    if (len > s->max_piece)
        s->max_piece = len;
    if (s->want != NULL && !s->differs)
        s->differs = s->off > s->want_len || len > s->want_len - s->off ||
                     memcmp(s->want + s->off, data, len) != 0;
    s->off += len;
    return 0;
}

/* The output gate's invariant: no output leaves holding a foreign format
 * (the scanner is the oracle), and the scanner finds the same whatever
 * pieces it is fed in (a sink's chunks). */
static inline void fuzz_check_gate(const uint8_t *out, size_t len, uint32_t h)
{
    struct imsafe__scan_hit hit;
    if (imsafe__scan_buf(out, len, IMSAFE__SCAN_OUTPUT, &hit))
        fuzz_fail("an output holds %s at byte %llu", hit.what, (unsigned long long)hit.offset);
    struct imsafe__scan s;
    size_t piece = 1 + h % 1000;
    imsafe__scan_init(&s, IMSAFE__SCAN_OUTPUT);
    for (size_t off = 0; off < len; off += piece)
        imsafe__scan_feed(&s, out + off, len - off < piece ? len - off : piece);
    if (imsafe__scan_end(&s, &hit))
        fuzz_fail("the scanner fed %zu bytes at a time finds %s", piece, hit.what);
}

/* One call with the memory and verdict properties: imsafe_sanitize(), or
 * imsafe_sanitize_to() when sink is not NULL. */
static inline imsafe_result *fuzz_sanitize_once(imsafe_ctx *ctx, const imsafe_policy *pol,
                                                const uint8_t *in, size_t n, const char *name,
                                                const imsafe_sink *sink)
{
    imsafe_result *res = NULL;
    fuzz_mem_start();
    imsafe_status st = sink ? imsafe_sanitize_to(ctx, pol, in, n, name, NULL, sink, &res)
                            : imsafe_sanitize(ctx, pol, in, n, name, NULL, &res);
    uint64_t peak = fuzz_mem_stop();
    if (st != IMSAFE_OK || res == NULL)
        fuzz_fail("imsafe_sanitize%s returned %s", sink ? "_to" : "", imsafe_strerror(st));
    fuzz_check_memory(pol, res, peak);
    fuzz_check_verdict(res);
    fuzz_check_strings(res);
    return res;
}

/* A lossy WebP rebuilt again: the same canvas and frame count. */
static inline void fuzz_webp_again_same_shape(imsafe_ctx *ctx, const imsafe_policy *pol,
                                              const uint8_t *out, size_t len, const char *name)
{
    uint32_t w1, h1, f1, w2, h2, f2;
    imsafe_result *again = fuzz_sanitize_once(ctx, pol, out, len, name, NULL);
    size_t len2 = 0;
    const uint8_t *out2 = imsafe_result_output(again, &len2);
    if (out2 == NULL || !fuzz_webp_info(out, len, &w1, &h1, &f1) ||
        fuzz_output_type(out2, len2) != IMSAFE_TYPE_WEBP ||
        !fuzz_webp_info(out2, len2, &w2, &h2, &f2) || w1 != w2 || h1 != h2 || f1 != f2)
        fuzz_fail("a lossy WebP rebuilt again changed its canvas or frame count");
    imsafe_result_free(again);
}

/* Sanitize our own output again through a sink that compares the pieces
 * with it: accepted, and (but for JPEG pixel mode, lossy) the same bytes. */
static inline void fuzz_again_streamed(imsafe_ctx *ctx, const imsafe_policy *pol,
                                       const imsafe_result *res, const char *name, uint32_t h)
{
    size_t len = 0;
    const uint8_t *out = imsafe_result_output(res, &len);
    int64_t mode = 0;
    imsafe_policy_get(pol, IMSAFE_OPT_JPEG_MODE, &mode);
    int lossy = mode == IMSAFE_JPEG_PIXELS && imsafe_result_type(res) == IMSAFE_TYPE_JPEG;
    /* the gate's second JPEG encoding may have gone to pixels (DQT hit) */
    for (size_t i = 0; i < imsafe_result_note_count(res); i++)
        lossy |= imsafe_result_note(res, i) == IMSAFE_R_NOTE_REENCODED &&
                 imsafe_result_type(res) == IMSAFE_TYPE_JPEG;
    lossy |= fuzz_webp_lossy(out, len);
    struct fuzz_cmp_sink cs = {.want = lossy ? NULL : out, .want_len = len};
    imsafe_sink sink = {fuzz_cmp_write, &cs, 512 + h % 8192, h % 2 ? fuzz_cmp_rewind : NULL};
    imsafe_result *again = fuzz_sanitize_once(ctx, pol, out, len, name, &sink);
    if (imsafe_result_verdict(again) != IMSAFE_SANITIZED)
        fuzz_fail("our own output is rejected when sanitized again: %s (%s)",
                  imsafe_reason_name(imsafe_result_reason(again)), imsafe_result_detail(again));
    if (imsafe_result_output(again, NULL) != NULL || cs.max_piece > sink.chunk_bytes ||
        imsafe_result_output_size(again) != (lossy ? cs.off : len))
        fuzz_fail("imsafe_sanitize_to: output kept, pieces over %zu or a size that is not "
                  "what the sink took", sink.chunk_bytes);
    if (!lossy && (cs.differs || cs.off != len))
        fuzz_fail("sanitizing our own output again changes it (%zu -> %zu bytes)", len, cs.off);
    imsafe_result_free(again);
    if (fuzz_webp_lossy(out, len))
        fuzz_webp_again_same_shape(ctx, pol, out, len, name);
}

/* The sink fails at one write: ESINK, no result, no write after it. */
static inline void fuzz_sink_failure(imsafe_ctx *ctx, const imsafe_policy *pol,
                                     const uint8_t *in, size_t n, const char *name, uint32_t h,
                                     size_t out_len)
{
    size_t chunk = 512 + (h >> 8) % 4096;
    size_t writes = (out_len + chunk - 1) / chunk;
    struct fuzz_cmp_sink cs = {.fail_at = 1 + (h >> 16) % writes};
    imsafe_sink sink = {fuzz_cmp_write, &cs, chunk, h % 3 ? fuzz_cmp_rewind : NULL};
    imsafe_result *res = (imsafe_result *)&cs;
    imsafe_status st = imsafe_sanitize_to(ctx, pol, in, n, name, NULL, &sink, &res);
    if (st != IMSAFE_ESINK || res != NULL || cs.calls != cs.fail_at)
        fuzz_fail("a sink failing at write %zu of %zu: %s after %zu writes", cs.fail_at, writes,
                  imsafe_strerror(st), cs.calls);
}

/*
 * The whole property set for one input: sanitize; on output, read and
 * decode it, then sanitize it again through a comparing sink and require
 * the same bytes (for JPEG pixel mode, accepted again).
 */
static inline void fuzz_sanitize_checked(imsafe_ctx *ctx, const imsafe_policy *pol,
                                         const uint8_t *in, size_t n, const char *name)
{
    imsafe_result *res = fuzz_sanitize_once(ctx, pol, in, n, name, NULL);
    size_t len = 0;
    const uint8_t *out = imsafe_result_output(res, &len);
    uint32_t h = fuzz_hash(in, n);
    if (out != NULL) {
        fuzz_fold(out, len);
        fuzz_decode_output(imsafe_result_type(res), out, len);
        fuzz_check_gate(out, len, h);
        fuzz_again_streamed(ctx, pol, res, name, h);
        if (h % 8 == 0)
            fuzz_sink_failure(ctx, pol, in, n, name, h, len);
    }
    imsafe_result_free(res);
}

/*
 * The body of the per-format harnesses: inputs that sniff as another type
 * are refused (-1: libFuzzer keeps them out of the corpus), so each harness
 * spends its time in its own module; fuzz_sanitize covers the dispatch.
 * The claimed name is the format's own, as a sender would claim it.
 */
static inline int fuzz_image_harness(const uint8_t *data, size_t size, imsafe_type want,
                                     const char *name)
{
    static imsafe_ctx *ctx;
    static imsafe_policy *pol[3];
    if (ctx == NULL) {
        ctx = fuzz_ctx_or_die();
        pol[0] = fuzz_policy_or_die(fuzz_image_policy());
        pol[1] = fuzz_policy_or_die(fuzz_image_policy_variant());
        pol[2] = fuzz_policy_or_die(fuzz_image_policy_variant2());
    }
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (imsafe__sniff(data, size) != want)
        return -1;
    fuzz_sanitize_checked(ctx, pol[fuzz_hash(data, size) % 3], data, size, name);
    return 0;
}

#endif /* IMSAFE_FUZZ_COMMON_H */
