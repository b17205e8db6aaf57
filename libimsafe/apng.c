/*
 * apng.c - animated PNG kept animated: frame walk and rebuild beside png.c.
 *
 * png.c stays the still-image path.  For an APNG (acTL before the first
 * IDAT) under policy `apng = keep` it has already checked every chunk's
 * framing and CRC, IHDR, PLTE, tRNS, the colour chunks, the APNG chunk
 * order and the tail, and rebuilt the default image (IDAT) as a still PNG
 * with every PNG check.  It hands that still rebuild here, and this file
 * adds the animation:
 *
 *   1. a frame walk of its own over the input's chunks: acTL, fcTL, fdAT
 *      sequence numbers from 0 without gaps, every frame region non-empty
 *      and inside the canvas, dispose_op 0..2 and blend_op 0..1, the first
 *      fcTL before IDAT covering the whole canvas at 0,0, every frame with
 *      data, the frame count equal to acTL's and within max_frames, the sum
 *      of frame areas within max_total_frame_pixels, and the work;
 *   2. each frame after the default image decoded through libpng as a
 *      stand-alone image of the frame's size (Debian's libpng has no APNG
 *      API): a synthetic PNG in memory (signature, IHDR with the frame's
 *      size, PLTE, one IDAT per fdAT chunk without its sequence number,
 *      IEND), after its zlib stream was checked to inflate to exactly the
 *      frame's scanlines (malformed.apng.frame_data);
 *   3. every row's palette indices checked and remapped to the canonical
 *      palette that png.c wrote for the default image (one PLTE for all
 *      frames), the frame re-filtered and re-deflated by libpng's writer
 *      into a scratch PNG whose IDAT data becomes the frame's fdAT chunks;
 *   4. the container written here around that data: the still rebuild's
 *      chunks before IDAT, acTL, fcTL per frame, the still rebuild's IDAT
 *      for the default image, fdAT for the others, IEND; sequence numbers
 *      renumbered from 0.  Every fcTL and acTL is written from parsed
 *      numbers, never copied.
 *
 * Lossless: every frame decodes to the same pixels, with the same region,
 * delay, dispose and blend, so a viewer composites the same animation.
 * A rebuilt APNG sanitized again is byte-identical (the encoders are
 * deterministic and the palette is canonical already).  An interlaced
 * animation stays interlaced, like the still image (png.c rebuilds the
 * default image pass by pass, and every frame shares its IHDR's interlace
 * method); a frame is small enough to hold whole.  libpng's longjmp
 * stays in this file.
 */
#include <setjmp.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "imsafe_private.h"

#define CHUNK_MAX 0x7fffffffu

/* One frame as the walk found it. */
struct frame {
    uint32_t w, h, x, y;
    uint16_t delay_num, delay_den;
    uint8_t dispose, blend;
    size_t first;      /* offset of its first data chunk (IDAT or fdAT), 0: none */
    uint32_t nchunks;  /* data chunks */
    uint64_t bytes;    /* zlib bytes (fdAT without sequence numbers) */
    int is_default;    /* its data is the IDAT stream */
};

struct anim {
    const struct imsafe__apng_src *s;
    uint32_t num_frames, num_plays;
    struct frame *f;   /* num_frames entries (budget) */
    uint32_t count;    /* frames found so far */
    int default_in_anim; /* the first fcTL precedes IDAT */
    int idat_seen;
    uint64_t area;     /* sum of frame areas */
};

/* -------------------------------------------------------------- helpers */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int is_type(const uint8_t *t, const char *name)
{
    return memcmp(t, name, 4) == 0;
}

/* Bytes of filtered scanlines a frame's zlib stream inflates to exactly
 * (all seven Adam7 passes when interlaced).  w, h < 2^31, bpp <= 64: no
 * term overflows. */
static uint64_t filtered_size(uint32_t w, uint32_t h, unsigned bpp, int interlace)
{
    static const uint8_t a7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                     {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    uint64_t total = 0;
    for (int i = 0; i < (interlace ? 7 : 1); i++) {
        uint64_t x0 = interlace ? a7[i][0] : 0, y0 = interlace ? a7[i][1] : 0;
        uint64_t dx = interlace ? a7[i][2] : 1, dy = interlace ? a7[i][3] : 1;
        if (w <= x0 || h <= y0)
            continue;
        uint64_t pw = (w - x0 + dx - 1) / dx, ph = (h - y0 + dy - 1) / dy;
        total += ph * (1 + (pw * bpp + 7) / 8);
    }
    return total;
}

/* Append one chunk: length, type, an optional 4-byte prefix (the sequence
 * number of fcTL/fdAT), data, CRC over all but the length. */
static int put_chunk(struct imsafe__buf *b, const char *type, const uint8_t *prefix,
                     const uint8_t *d, size_t len)
{
    uint8_t head[12];
    size_t plen = prefix ? 4 : 0;
    if (len > CHUNK_MAX - plen)
        return imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "chunk over 2^31-1 bytes"), -1;
    put32(head, (uint32_t)(len + plen));
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, head + 4, 4);
    if (prefix) {
        memcpy(head + 8, prefix, 4);
        crc = crc32(crc, prefix, 4);
    }
    if (len > 0)
        crc = crc32(crc, d, (uInt)len);
    uint8_t tail[4];
    put32(tail, (uint32_t)crc);
    if (imsafe__buf_append(b, head, 8 + plen) != 0 ||
        (len > 0 && imsafe__buf_append(b, d, len) != 0) || imsafe__buf_append(b, tail, 4) != 0)
        return -1;
    return 0;
}

/* ----------------------------------------------------------- the walk */

/*
 * The structure rules (acTL once, before IDAT, 1..max_frames frames;
 * sequence numbers from 0 without gaps over fcTL and fdAT; regions
 * non-empty and inside the canvas; dispose_op 0..2, blend_op 0..1; an
 * fcTL before IDAT covers the canvas at 0,0; fdAT only after IDAT and
 * after an fcTL; every frame with data; as many frames as acTL says) are
 * judged by png.c's chunk walk, which runs first for apng = keep and
 * flatten alike.  This walk builds the frame table from the same chunks,
 * checks what only the rebuild needs (the sum of frame areas, the work,
 * each frame's data), and keeps every index inside the table it
 * allocated whatever it is given.
 */
static int walk_actl(struct imsafe__job *job, struct anim *a, const uint8_t *d, uint32_t len)
{
    if (len != 8 || be32(d) == 0 || be32(d) > (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_FRAMES))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "acTL invalid"), -1;
    a->num_frames = be32(d);
    a->num_plays = be32(d + 4);
    /* num_frames <= max_frames <= 10^6: a small table, charged */
    a->f = imsafe__calloc(job, a->num_frames, sizeof *a->f);
    return a->f == NULL ? -1 : 0;
}

/* Frame areas add up to what a viewer composites: the animation bomb
 * (a small file declaring many full-canvas frames) is refused here,
 * before any frame is decoded. */
static int check_area(struct imsafe__job *job, struct anim *a, const struct frame *f)
{
    int64_t max = imsafe__opt(job->policy, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS);
    a->area += (uint64_t)f->w * f->h; /* each <= canvas <= 2^40, 10^6 frames: no overflow */
    if (a->area > (uint64_t)max)
        return imsafe__reject(job, IMSAFE_R_LIMIT_FRAME_PIXELS,
                              "frames up to %u cover %llu pixels, limit %lld", a->count,
                              (unsigned long long)a->area, (long long)max), -1;
    return 0;
}

static int walk_fctl(struct imsafe__job *job, struct anim *a, const uint8_t *d, uint32_t len)
{
    if (len != 26 || a->count >= a->num_frames)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG, "more fcTL than acTL's %u frames",
                              a->num_frames), -1;
    struct frame *f = &a->f[a->count];
    f->w = be32(d + 4);
    f->h = be32(d + 8);
    f->x = be32(d + 12);
    f->y = be32(d + 16);
    f->delay_num = (uint16_t)(d[20] << 8 | d[21]);
    f->delay_den = (uint16_t)(d[22] << 8 | d[23]);
    f->dispose = d[24];
    f->blend = d[25];
    if (check_area(job, a, f) != 0)
        return -1;
    if (!a->idat_seen) {
        f->is_default = 1;
        a->default_in_anim = 1;
    }
    a->count++;
    return 0;
}

static int walk_data(struct imsafe__job *job, struct anim *a, const uint8_t *t, size_t off,
                     uint32_t len)
{
    struct frame *f = a->count > 0 ? &a->f[a->count - 1] : NULL;
    if (is_type(t, "IDAT")) {
        a->idat_seen = 1;
        if (f == NULL || !f->is_default)
            return 0; /* the default image outside the animation */
    } else if (len < 4 || f == NULL || f->is_default) {
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG,
                              "fdAT without an fcTL of its own after IDAT"), -1;
    }
    if (f->nchunks++ == 0)
        f->first = off;
    f->bytes += is_type(t, "IDAT") ? len : len - 4u;
    return 0;
}

/* The frame walk over the input: chunk headers between IHDR and IEND,
 * whose framing png.c's walk checked; reads stay inside [first_chunk,
 * iend_off) anyway. */
static int walk(struct imsafe__job *job, struct anim *a)
{
    const uint8_t *p = job->in;
    const struct imsafe__apng_src *s = a->s;
    /* acTL first: the default image's fcTL may precede it */
    for (size_t off = s->first_chunk; off + 12 <= s->iend_off && a->num_frames == 0;) {
        uint32_t len = be32(p + off);
        if (len > s->iend_off - off - 12 || is_type(p + off + 4, "IDAT"))
            break;
        if (is_type(p + off + 4, "acTL") && walk_actl(job, a, p + off + 8, len) != 0)
            return -1;
        off += 12 + (size_t)len;
    }
    for (size_t off = s->first_chunk; a->num_frames > 0 && off + 12 <= s->iend_off;) {
        uint32_t len = be32(p + off);
        const uint8_t *t = p + off + 4;
        if (len > s->iend_off - off - 12)
            break;
        int rc = 0;
        if (is_type(t, "fcTL"))
            rc = walk_fctl(job, a, t + 4, len);
        else if (is_type(t, "IDAT") || is_type(t, "fdAT"))
            rc = walk_data(job, a, t, off, len);
        if (rc != 0)
            return -1;
        off += 12 + (size_t)len;
    }
    if (a->count == 0 || a->count != a->num_frames || a->f[a->count - 1].nchunks == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG,
                              "acTL says %u frames, the file has %u complete", a->num_frames,
                              a->count), -1;
    return 0;
}

/* Bytes of filtered scanlines the frame's data must inflate to. */
static uint64_t frame_need(const struct anim *a, const struct frame *f)
{
    const struct imsafe__apng_src *s = a->s;
    unsigned bpp = imsafe__png_bits_per_pixel(s->color, s->depth);
    return filtered_size(f->w, f->h, bpp, s->interlace);
}

/*
 * Work, in png.c's units (imsafe_private.h): a frame's rows are inflated
 * twice (the exactness check, then libpng), unfiltered, filtered again and
 * deflated: its declared scanlines count twice.  The default image is png.c's
 * still rebuild, charged there.  Checked from the walk before any frame is
 * decoded, and charged again frame by frame as the frames are rebuilt.
 */
static int frame_units(const struct anim *a, const struct frame *f, uint64_t *units)
{
    return __builtin_mul_overflow(frame_need(a, f), 2u * IMSAFE__WORK_PNG_BYTE, units) ? -1 : 0;
}

static int check_work(struct imsafe__job *job, const struct anim *a)
{
    uint64_t total = 0, u;
    for (uint32_t i = 0; i < a->count; i++) {
        if (a->f[i].is_default)
            continue;
        if (frame_units(a, &a->f[i], &u) != 0 || __builtin_add_overflow(total, u, &total)) {
            total = UINT64_MAX; /* over any limit */
            break;
        }
    }
    return imsafe__work_expect(job, total, "APNG frames");
}

/* ------------------------------------------------- frame data checks */

/* Iterate a frame's data chunks: the zlib bytes of each (fdAT without its
 * sequence number).  The frame's chunks are the IDAT or fdAT chunks from
 * f->first on, other chunks between them skipped (fdAT of one frame may
 * be split by unknown chunks). */
struct piece {
    size_t off;
    uint32_t left;
};

static int next_piece(const struct imsafe__job *job, const struct imsafe__apng_src *s,
                      const struct frame *f, struct piece *pc, const uint8_t **d,
                      uint32_t *len)
{
    const uint8_t *p = job->in;
    const char *want = f->is_default ? "IDAT" : "fdAT";
    while (pc->left > 0 && pc->off + 12 <= s->iend_off) {
        uint32_t clen = be32(p + pc->off);
        const uint8_t *t = p + pc->off + 4;
        size_t here = pc->off;
        pc->off += 12 + (size_t)clen;
        if (!is_type(t, want))
            continue;
        pc->left--;
        *d = p + here + 8 + (f->is_default ? 0 : 4);
        *len = clen - (f->is_default ? 0 : 4u);
        return 1;
    }
    return 0;
}

/*
 * The frame's zlib stream inflates to exactly its scanlines: not one byte
 * more, not one less, no data after the stream's end.  libpng would stop
 * at the last row and skip what follows; this pass sees all of it.  The
 * deflate ratio floor (1032:1, see png.c) is checked first, so a frame
 * bomb is refused before it is inflated.
 */
static int check_ratio(struct imsafe__job *job, const struct anim *a, const struct frame *f,
                       uint32_t index)
{
    uint64_t want = frame_need(a, f);
    if (f->bytes == 0 || want <= f->bytes * 1032u) /* bytes <= in_len <= 2^40 */
        return 0; /* no data at all: malformed.apng.frame_data, from the inflate */
    return imsafe__reject(job, IMSAFE_R_LIMIT_RATIO,
                          "frame %u: %llu bytes of scanlines from %llu bytes of data, more "
                          "than deflate's 1032:1", index, (unsigned long long)want,
                          (unsigned long long)f->bytes), -1;
}

static int check_frame_data(struct imsafe__job *job, const struct anim *a, const struct frame *f,
                            uint32_t index)
{
    enum { SCRATCH = 32768 };
    const struct imsafe__apng_src *s = a->s;
    uint64_t want = frame_need(a, f);
    if (check_ratio(job, a, f, index) != 0)
        return -1;
    z_stream zs;
    if (imsafe__inflate_init(job, &zs, MAX_WBITS) != 0)
        return -1;
    uint8_t *buf = imsafe__alloc(job, SCRATCH);
    uint64_t got = 0;
    int zr = Z_OK, excess = 0;
    struct piece pc = {f->first, f->nchunks};
    const uint8_t *d;
    uint32_t len;
    while (buf != NULL && !excess && next_piece(job, s, f, &pc, &d, &len)) {
        zs.next_in = (Bytef *)d;
        zs.avail_in = len;
        if (zr == Z_STREAM_END && len > 0)
            excess = 1;
        while (zr == Z_OK && zs.avail_in > 0) {
            zs.next_out = buf;
            zs.avail_out = SCRATCH;
            zr = inflate(&zs, Z_NO_FLUSH);
            got += SCRATCH - zs.avail_out;
            if (zr == Z_BUF_ERROR)
                zr = Z_OK; /* no progress possible: needs the next piece */
            if (got > want || (zr == Z_STREAM_END && zs.avail_in > 0))
                excess = 1;
            if (excess || (zr != Z_OK && zr != Z_STREAM_END))
                break;
        }
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
    }
    /* the stream may end with output still held by zlib */
    while (buf != NULL && zr == Z_OK && !excess) {
        zs.next_out = buf;
        zs.avail_out = SCRATCH;
        zr = inflate(&zs, Z_SYNC_FLUSH);
        got += SCRATCH - zs.avail_out;
        excess = got > want;
        if (zs.avail_out != 0 || zr != Z_OK)
            break;
    }
    inflateEnd(&zs);
    imsafe__free(job, buf);
    if (buf == NULL)
        return -1;
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) /* BUF: cut short */
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG_FRAME_DATA,
                              "frame %u: invalid zlib data after %llu of %llu bytes", index,
                              (unsigned long long)got, (unsigned long long)want), -1;
    if (excess || zr != Z_STREAM_END || got != want)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_APNG_FRAME_DATA,
                              "frame %u: data inflates to %llu bytes%s, the frame needs %llu",
                              index, (unsigned long long)got, excess ? " or more" : "",
                              (unsigned long long)want), -1;
    return 0;
}

/* A stand-alone PNG of the frame for libpng to decode: signature, IHDR
 * of the frame's size, PLTE (for libpng's decoder only: the output's
 * palette is the canonical one), one IDAT per data chunk, IEND. */
static int synth_frame(struct imsafe__job *job, const struct anim *a, const struct frame *f,
                       struct imsafe__buf *b)
{
    const struct imsafe__apng_src *s = a->s;
    uint8_t ihdr[13];
    put32(ihdr, f->w);
    put32(ihdr + 4, f->h);
    ihdr[8] = s->depth;
    ihdr[9] = s->color;
    ihdr[10] = ihdr[11] = 0;
    ihdr[12] = s->interlace;
    if (imsafe__buf_append(b, "\x89PNG\r\n\x1a\n", 8) != 0 ||
        put_chunk(b, "IHDR", NULL, ihdr, 13) != 0)
        return -1;
    if (s->color == 3 &&
        put_chunk(b, "PLTE", NULL, s->plte, (size_t)s->plte_entries * 3) != 0)
        return -1;
    struct piece pc = {f->first, f->nchunks};
    const uint8_t *d;
    uint32_t len;
    while (next_piece(job, s, f, &pc, &d, &len))
        if (put_chunk(b, "IDAT", NULL, d, len) != 0)
            return -1;
    return put_chunk(b, "IEND", NULL, NULL, 0);
}

/* ------------------------------------------------------- libpng glue */

struct frameio {
    struct imsafe__pngio io; /* first: libpng's callbacks get &fio->io */
    uint32_t index;
};

static void libpng_failed(struct imsafe__pngio *io, const char *msg)
{
    const struct frameio *f = (const struct frameio *)io;
    if (io->writing)
        imsafe__reject(io->job, IMSAFE_R_MALFORMED_APNG, "libpng could not write frame %u: %s",
                       f->index, msg);
    else
        imsafe__reject(io->job, IMSAFE_R_MALFORMED_APNG_FRAME_DATA, "frame %u: libpng: %s",
                       f->index, msg);
}

static png_bytep *alloc_rows(struct imsafe__job *job, uint32_t height, size_t rowbytes)
{
    size_t total, ptrs;
    if (imsafe__mul_ovf((size_t)height, rowbytes, &total) ||
        imsafe__mul_ovf((size_t)height, sizeof(png_bytep), &ptrs) ||
        imsafe__add_ovf(total, ptrs, &total)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY, "frame size overflows");
        return NULL;
    }
    png_bytep *rows = imsafe__calloc(job, 1, total);
    if (rows == NULL)
        return NULL;
    png_bytep base = (png_bytep)(rows + height);
    for (uint32_t y = 0; y < height; y++)
        rows[y] = base + (size_t)y * rowbytes;
    return rows;
}

/* Decode the synthetic PNG of one frame and encode its rows, checked and
 * remapped, as a scratch PNG into out.  setjmp once, here, where both
 * libpng objects live; what the error branch frees is volatile. */
static int recode_frame(struct frameio *fio, const struct imsafe__apng_src *s,
                        const struct frame *f)
{
    struct imsafe__pngio *io = &fio->io;
    struct imsafe__job *job = io->job;
    png_structp volatile rd = NULL, wr = NULL;
    png_infop volatile ri = NULL, wi = NULL;
    png_bytep *volatile rows = NULL;
    volatile int rc = -1;

    rd = imsafe__png_new_reader(io);
    wr = imsafe__png_new_writer(io);
    if (rd == NULL || wr == NULL)
        goto done;
    if (setjmp(io->jb))
        goto done;
    io->jb_ready = 1;
    if ((ri = png_create_info_struct(rd)) == NULL || (wi = png_create_info_struct(wr)) == NULL)
        goto done;
    imsafe__png_strict_reader(rd, io);
    png_read_info(rd, ri);
    if (s->interlace)
        png_set_interlace_handling(rd);
    png_read_update_info(rd, ri);
    size_t rowbytes = png_get_rowbytes(rd, ri);
    if ((rows = alloc_rows(job, f->h, rowbytes)) == NULL)
        goto done;
    png_read_image(rd, rows);
    png_read_end(rd, NULL);
    const struct imsafe__png_rowfmt fmt = {.color = s->color, .depth = s->depth,
                                           .plte_entries = s->plte_entries, .lut = s->lut};
    for (uint32_t y = 0; y < f->h; y++)
        if (imsafe__png_fix_row(&fmt, rows[y], f->w, rowbytes) != 0) {
            imsafe__reject(job, IMSAFE_R_MALFORMED_PNG_PALETTE_INDEX,
                           "frame %u: palette index beyond %d entries in row %u", fio->index,
                           s->plte_entries, y);
            goto done;
        }
    io->writing = 1;
    /* png_write_image() writes the seven passes itself when interlaced */
    png_set_IHDR(wr, wi, f->w, f->h, s->depth, s->color,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (s->color == 3)
        imsafe__png_set_palette(wr, wi, s->pal);
    imsafe__png_set_encoding(wr, job);
    png_write_info(wr, wi);
    png_write_image(wr, rows);
    png_write_end(wr, NULL);
    rc = 0;
done:
    imsafe__free(job, rows);
    png_destroy_read_struct((png_structpp)&rd, (png_infopp)&ri, NULL);
    png_destroy_write_struct((png_structpp)&wr, (png_infopp)&wi);
    return rc;
}

/* ------------------------------------------------------------ writer */

static int put_fctl(struct imsafe__buf *out, uint32_t seq, const struct frame *f)
{
    uint8_t d[26];
    put32(d, seq);
    put32(d + 4, f->w);
    put32(d + 8, f->h);
    put32(d + 12, f->x);
    put32(d + 16, f->y);
    d[20] = (uint8_t)(f->delay_num >> 8);
    d[21] = (uint8_t)f->delay_num;
    d[22] = (uint8_t)(f->delay_den >> 8);
    d[23] = (uint8_t)f->delay_den;
    d[24] = f->dispose;
    d[25] = f->blend;
    return put_chunk(out, "fcTL", NULL, d, 26);
}

/* Copy the chunks of our own PNG encoding (still rebuild or scratch frame)
 * whose type is, or is not, IDAT; as fdAT with new sequence numbers when
 * seq is not NULL.  Only libpng's output is read here, never the input. */
static int copy_chunks(struct imsafe__buf *out, const uint8_t *png, size_t n, int idat,
                       uint32_t *seq)
{
    for (size_t off = 8; off + 12 <= n;) {
        uint32_t len = be32(png + off);
        const uint8_t *t = png + off + 4;
        if (len > n - off - 12 || !IMSAFE_ASSERT(len <= CHUNK_MAX))
            return -1;
        if (is_type(t, "IEND") || (!idat && is_type(t, "IDAT")))
            break;
        if (idat && is_type(t, "IDAT")) {
            uint8_t sq[4];
            if (seq != NULL)
                put32(sq, (*seq)++);
            if (put_chunk(out, seq ? "fdAT" : "IDAT", seq ? sq : NULL, t + 4, len) != 0)
                return -1;
        } else if (!idat && imsafe__buf_append(out, png + off, 12 + (size_t)len) != 0) {
            return -1;
        }
        off += 12 + (size_t)len;
    }
    return 0;
}

/* One frame after the default image: check, decode, encode, emit. */
static int emit_frame(struct imsafe__job *job, const struct anim *a, uint32_t i, uint32_t *seq)
{
    const struct frame *f = &a->f[i];
    struct imsafe__buf src, enc;
    imsafe__buf_init(&src, job);
    imsafe__buf_init(&enc, job);
    int rc = -1;
    uint64_t units;
    if (frame_units(a, f, &units) != 0 || imsafe__work_charge(job, units, "APNG frame") != 0)
        goto done;
    if (check_frame_data(job, a, f, i) != 0 || synth_frame(job, a, f, &src) != 0)
        goto done;
    struct frameio io = {.io = {.job = job, .src = src.data, .src_len = src.len, .dst = &enc,
                                .fail = libpng_failed},
                         .index = i};
    if (recode_frame(&io, a->s, f) != 0)
        goto done;
    imsafe__buf_free(&src); /* before the output grows */
    if (put_fctl(&job->out, (*seq)++, f) != 0 || copy_chunks(&job->out, enc.data, enc.len, 1, seq) != 0)
        goto done;
    rc = 0;
done:
    imsafe__buf_free(&src);
    imsafe__buf_free(&enc);
    return rc;
}

/* Before any pixel exists: the frame walk, the work, and each frame's
 * deflate ratio floor.  The rebuild walks again (chunk headers only). */
int imsafe__apng_check(struct imsafe__job *job, const struct imsafe__apng_src *s)
{
    struct anim a;
    memset(&a, 0, sizeof a);
    a.s = s;
    int rc = -1;
    if (walk(job, &a) != 0 || check_work(job, &a) != 0)
        goto done;
    for (uint32_t i = 0; i < a.count; i++)
        if (check_ratio(job, &a, &a.f[i], i) != 0)
            goto done;
    rc = 0;
done:
    imsafe__free(job, a.f);
    return rc;
}

int imsafe__apng_rebuild(struct imsafe__job *job, const struct imsafe__apng_src *s,
                         const uint8_t *still, size_t still_len)
{
    struct anim a;
    memset(&a, 0, sizeof a);
    a.s = s;
    int rc = -1;
    uint32_t seq = 0;
    if (walk(job, &a) != 0 || check_work(job, &a) != 0)
        goto done;
    uint8_t actl[8];
    put32(actl, a.num_frames);
    put32(actl + 4, a.num_plays);
    /* IHDR, colour chunks, PLTE, tRNS of the still rebuild, then acTL */
    if (imsafe__buf_append(&job->out, still, 8) != 0 ||
        copy_chunks(&job->out, still, still_len, 0, NULL) != 0 ||
        put_chunk(&job->out, "acTL", NULL, actl, 8) != 0)
        goto done;
    uint32_t i = 0;
    if (a.default_in_anim && put_fctl(&job->out, seq++, &a.f[i++]) != 0)
        goto done;
    if (copy_chunks(&job->out, still, still_len, 1, NULL) != 0)
        goto done;
    for (; i < a.count; i++)
        if (emit_frame(job, &a, i, &seq) != 0)
            goto done;
    if (put_chunk(&job->out, "IEND", NULL, NULL, 0) != 0)
        goto done;
    rc = 0;
done:
    imsafe__free(job, a.f);
    return rc;
}
