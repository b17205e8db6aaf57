/*
 * png_encode.c - the shared PNG encoder helper: decoded rows in, a minimal
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
    png_set_compression_level(png, (int)imsafe__opt(job->policy, IMSAFE_OPT_PNG_ZLIB_LEVEL));
    png_set_filter(png, PNG_FILTER_TYPE_BASE,
                   filters_for(imsafe__opt(job->policy, IMSAFE_OPT_PNG_FILTERS)));
    if (job->variant) { /* the output gate's second encoding: as in png.c */
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
        png_set_compression_strategy(png, Z_RLE);
        if (imsafe__opt(job->policy, IMSAFE_OPT_PNG_ZLIB_LEVEL) == 0)
            png_set_compression_level(png, 1);
    }
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
