/*
 * png_encode.c - the shared libpng glue and PNG encoder helper.
 *
 * The glue (struct imsafe__pngio, imsafe_private.h): the callbacks, the
 * strict reader settings and the policy's encoder settings that the still
 * rebuild (png.c) and the APNG frame rebuild (apng.c) both use, so that the
 * two decode and encode alike.
 *
 * The encoder: decoded rows in, a minimal
 * PNG out (IHDR, PLTE and tRNS for palette images, IDAT, IEND; no
 * ancillary chunk, no time stamp, so the same rows give the same bytes).
 *
 * Used by the GIF module for gif_to_png.  Rows are pulled one at a time
 * through a callback, so the helper holds O(width) of its own; libpng and
 * zlib allocate through the call's budget (png_create_write_struct_2 with
 * imsafe__alloc/imsafe__free).  libpng's longjmp stays in this file.
 *
 * palette_rgb != NULL: 8-bit palette rows (width bytes), palette_len
 * entries of R,G,B; transparent_index >= 0 makes that one entry fully
 * transparent.  The palette written is the canonical one (palette.c:
 * R,G,B,A entries sorted by value, exact duplicates merged, tRNS only as
 * long as its last non-opaque entry) and each row is remapped to it, so
 * the caller's table order never reaches the output.  palette_rgb == NULL: 8-bit RGBA rows
 * (4 * width bytes).  Compression level and row filters come from the
 * policy (png_zlib_level, png_filters) as for the PNG rebuild.
 */
#include <setjmp.h>
#include <string.h>

#include <png.h>

#include "imsafe_private.h"

static void on_error(png_structp png, png_const_charp msg)
{
    (void)msg; /* libpng's text may quote nothing of ours, but keep it out */
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* writing our own rows: a warning changes nothing */
}

static png_voidp on_malloc(png_structp png, png_alloc_size_t n)
{
    return imsafe__alloc(png_get_mem_ptr(png), n);
}

static void on_free(png_structp png, png_voidp p)
{
    imsafe__free(png_get_mem_ptr(png), p);
}

static void on_write(png_structp png, png_bytep data, size_t n)
{
    struct imsafe__job *job = png_get_io_ptr(png);
    /* over budget or out of memory: the job already carries the reason */
    if (imsafe__buf_append(&job->out, data, n) != 0)
        png_error(png, "output");
}

static void on_flush(png_structp png)
{
    (void)png;
}

/* ----------------------------------------- glue for png.c and apng.c */

static void io_error(png_structp png, png_const_charp msg)
{
    struct imsafe__pngio *io = png_get_error_ptr(png);
    io->fail(io, msg);
    if (!io->jb_ready)
        png_longjmp(png, 1); /* inside png_create_*_struct: it returns NULL */
    longjmp(io->jb, 1);
}

/* A decoder warning means the data is not what it should be: the strict
 * policy rejects (like TurboJPEG's stop-on-warning), a tolerant one notes
 * it.  Warnings while writing concern our own output and are ignored. */
static void io_warning(png_structp png, png_const_charp msg)
{
    struct imsafe__pngio *io = png_get_error_ptr(png);
    if (io->writing)
        return;
    if (imsafe__opt(io->job->policy, IMSAFE_OPT_TOLERATE_WARNINGS)) {
        imsafe__note(io->job, IMSAFE_R_NOTE_WARNINGS_TOLERATED);
        return;
    }
    io_error(png, msg);
}

static png_voidp io_malloc(png_structp png, png_alloc_size_t n)
{
    struct imsafe__pngio *io = png_get_mem_ptr(png);
    return imsafe__alloc(io->job, n);
}

static void io_free(png_structp png, png_voidp p)
{
    struct imsafe__pngio *io = png_get_mem_ptr(png);
    imsafe__free(io->job, p);
}

static void io_read(png_structp png, png_bytep dst, size_t n)
{
    struct imsafe__pngio *io = png_get_io_ptr(png);
    if (n > io->src_len - io->pos)
        png_error(png, "unexpected end of PNG data");
    memcpy(dst, io->src + io->pos, n);
    io->pos += n;
}

static void io_write(png_structp png, png_bytep src, size_t n)
{
    struct imsafe__pngio *io = png_get_io_ptr(png);
    if (imsafe__buf_append(io->dst, src, n) != 0)
        png_error(png, "output buffer");
}

static void io_flush(png_structp png)
{
    (void)png;
}

png_structp imsafe__png_new_reader(struct imsafe__pngio *io)
{
    png_structp rd = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, io, io_error, io_warning,
                                              io, io_malloc, io_free);
    if (rd != NULL)
        png_set_read_fn(rd, io, io_read);
    return rd;
}

png_structp imsafe__png_new_writer(struct imsafe__pngio *io)
{
    png_structp wr = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, io, io_error, io_warning,
                                               io, io_malloc, io_free);
    if (wr != NULL) {
        png_set_write_fn(wr, io, io_write, io_flush);
        png_set_benign_errors(wr, 1); /* about our own output: warnings, ignored */
    }
    return wr;
}

void imsafe__png_strict_reader(png_structp rd, struct imsafe__pngio *io)
{
    const struct imsafe_policy *p = io->job->policy;
    png_set_crc_action(rd, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_benign_errors(rd, 0);
    png_set_user_limits(rd, (png_uint_32)imsafe__opt(p, IMSAFE_OPT_MAX_WIDTH_PX),
                        (png_uint_32)imsafe__opt(p, IMSAFE_OPT_MAX_HEIGHT_PX));
    png_set_chunk_cache_max(rd, 64);
    png_set_chunk_malloc_max(rd, (png_alloc_size_t)imsafe__opt(p, IMSAFE_OPT_MAX_CHUNK_BYTES));
    png_set_keep_unknown_chunks(rd, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    static const png_byte known[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0"
                                    "pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0tRNS\0zTXt\0";
    png_set_keep_unknown_chunks(rd, PNG_HANDLE_CHUNK_NEVER, known, (int)(sizeof known / 5));
}

static int filters_for(int64_t opt)
{
    switch (opt) {
    case IMSAFE_PNG_FILTERS_NONE:
        return PNG_FILTER_NONE;
    case IMSAFE_PNG_FILTERS_FAST:
        return PNG_FILTER_NONE | PNG_FILTER_SUB | PNG_FILTER_UP;
    default:
        return PNG_ALL_FILTERS;
    }
}

void imsafe__png_set_encoding(png_structp wr, const struct imsafe__job *job)
{
    int level = (int)imsafe__opt(job->policy, IMSAFE_OPT_PNG_ZLIB_LEVEL);
    png_set_compression_level(wr, level);
    png_set_filter(wr, PNG_FILTER_TYPE_BASE,
                   filters_for(imsafe__opt(job->policy, IMSAFE_OPT_PNG_FILTERS)));
    if (job->variant) {
        /* the output gate hit the first encoding: other row bytes (Paeth
         * residuals), another LZ77 parse (run-length matches only), and
         * compressed blocks even when the policy asked for level 0 */
        png_set_filter(wr, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
        png_set_compression_strategy(wr, Z_RLE);
        if (level == 0)
            png_set_compression_level(wr, 1);
    }
}

/* ------------------------------------------------------------- rows */

unsigned imsafe__png_bits_per_pixel(unsigned color, unsigned depth)
{
    switch (color) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16 ? depth : 0;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8 ? depth : 0;
    case 2: return depth == 8 || depth == 16 ? 3 * depth : 0;
    case 4: return depth == 8 || depth == 16 ? 2 * depth : 0;
    case 6: return depth == 8 || depth == 16 ? 4 * depth : 0;
    default: return 0;
    }
}

static int indices_in_range(const struct imsafe__png_rowfmt *f, const uint8_t *row,
                            uint32_t width)
{
    unsigned depth = f->depth, per_byte = 8 / depth, mask = (1u << depth) - 1;
    for (uint32_t x = 0; x < width; x++) {
        unsigned shift = 8 - depth * (x % per_byte + 1);
        if (((row[x / per_byte] >> shift) & mask) >= (unsigned)f->plte_entries)
            return 0;
    }
    return 1;
}

int imsafe__png_fix_row(const struct imsafe__png_rowfmt *f, uint8_t *row, uint32_t width,
                        size_t rowbytes)
{
    if (f->color == 3) {
        if (!indices_in_range(f, row, width))
            return -1;
        if (f->lut != NULL)
            imsafe__palette_remap(f->lut, row, rowbytes); /* padding bits too: cleared below */
    }
    /* width < 2^31, bpp <= 64: no overflow */
    uint64_t bits = (uint64_t)width * imsafe__png_bits_per_pixel(f->color, f->depth);
    if (bits % 8 != 0)
        row[rowbytes - 1] &= (uint8_t)(0xff00u >> (bits % 8));
    return 0;
}

/* ------------------------------------------------- the encoder helper */

/* The canonical palette of the caller's (already range-checked) one. */
static int canon_palette(struct imsafe__palette *p, const uint8_t *rgb, int len, int trans)
{
    uint8_t rgba[256 * 4];
    for (int i = 0; i < len; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = i == trans ? 0 : 255;
    }
    return imsafe__palette_canon(p, rgba, len, NULL, NULL, 0, 0);
}

/* PLTE, and tRNS only as long as it must be: trailing opaque entries are
 * left out (PNG spec 11.3.2.1).  Shared with png.c's rebuild. */
void imsafe__png_set_palette(png_structp png, png_infop info, const struct imsafe__palette *p)
{
    png_color pal[256] = {{0, 0, 0}};
    png_byte alpha[256] = {0};
    int trns = 0;
    for (int i = 0; i < p->count; i++) {
        pal[i].red = p->rgba[4 * i];
        pal[i].green = p->rgba[4 * i + 1];
        pal[i].blue = p->rgba[4 * i + 2];
        alpha[i] = p->rgba[4 * i + 3];
        if (alpha[i] != 255)
            trns = i + 1;
    }
    png_set_PLTE(png, info, pal, p->count);
    if (trns > 0)
        png_set_tRNS(png, info, alpha, trns, NULL);
}

int imsafe__png_encode_indexed(struct imsafe__job *job, uint32_t width, uint32_t height,
                               const uint8_t *palette_rgb, int palette_len,
                               int transparent_index, imsafe__row_fn row, void *opaque)
{
    png_structp png = NULL;
    png_infop info = NULL;
    volatile int rc = -1;
    struct imsafe__palette pal;
    uint8_t lut[256];
    uint8_t *volatile remapped = NULL; /* one remapped row */
    if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX ||
        row == NULL)
        return -1;
    if (palette_rgb != NULL &&
        (palette_len < 1 || palette_len > 256 || transparent_index >= palette_len ||
         canon_palette(&pal, palette_rgb, palette_len, transparent_index) != 0))
        return -1;
    if (palette_rgb != NULL && !pal.identity) {
        imsafe__palette_byte_lut(&pal, 8, lut);
        if ((remapped = imsafe__alloc(job, width)) == NULL)
            return -1;
    }
    png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, job, on_error, on_warning, job,
                                    on_malloc, on_free);
    if (png == NULL)
        goto done;
    info = png_create_info_struct(png);
    if (info == NULL)
        goto done;
    if (setjmp(png_jmpbuf(png)))
        goto done; /* rc stays -1; nothing allocated after setjmp needs freeing here */
    png_set_write_fn(png, job, on_write, on_flush);
    imsafe__png_set_encoding(png, job);
    png_set_IHDR(png, info, width, height, 8,
                 palette_rgb ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (palette_rgb != NULL)
        imsafe__png_set_palette(png, info, &pal);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *r = row(opaque, y);
        if (r == NULL)
            png_error(png, "row");
        if (remapped != NULL) {
            memcpy(remapped, r, width);
            imsafe__palette_remap(lut, remapped, width);
            r = remapped;
        }
        png_write_row(png, r);
    }
    png_write_end(png, NULL);
    rc = 0;
done:
    png_destroy_write_struct(&png, &info);
    imsafe__free(job, remapped);
    return rc;
}
