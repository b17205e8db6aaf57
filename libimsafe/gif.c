/*
 * gif.c - GIF (87a/89a) validation and rebuild on giflib 5.2.
 *
 * Byte layout (GIF89a specification, sections 17-27):
 *   Header             "GIF87a" | "GIF89a"                        6 bytes
 *   Logical screen     width u16le, height u16le, packed
 *                      (GCT flag 0x80, colour resolution 0x70, sort 0x08,
 *                      GCT size 0x07), background index, aspect   7 bytes
 *   Global colours     3 * 2^(size+1) bytes, if the GCT flag is set
 *   then any number of blocks:
 *     0x21 label sub-blocks    extension: 0xF9 graphic control (one
 *                              4-byte sub-block: packed (disposal 0x1C,
 *                              user input 0x02, transparency 0x01), delay
 *                              u16le, transparent index), 0xFF application
 *                              (11-byte identifier block, then data),
 *                              0xFE comment, 0x01 plain text
 *     0x2C image               left, top, width, height u16le, packed
 *                              (LCT flag 0x80, interlace 0x40, sort 0x20,
 *                              LCT size 0x07), local colours, LZW minimum
 *                              code size (2..8), sub-blocks of LZW codes
 *     0x3B trailer
 *   Sub-blocks: a length byte 1..255 and that many bytes; a 0 byte ends
 *   the chain.
 *
 * Allowlist
 *   rebuilt  logical screen size, global colour table, background index
 *            (0 when there is no global table), every image's position,
 *            size (clipped to the screen), interlace flag, local colour
 *            table and pixel indices (re-encoded by giflib: lossless);
 *            every colour table in canonical order (palette.c: sorted by
 *            colour, duplicates merged, padded by repeating the last
 *            entry), with pixel, transparent and background indices
 *            remapped,
 *            graphic control (disposal, delay, transparency; the obsolete
 *            user-input flag and reserved bits cleared), the NETSCAPE2.0 /
 *            ANIMEXTS1.0 loop count (written once, before the first image)
 *   dropped  comments (note.metadata_dropped), plain text, XMP and every
 *            other application or unknown extension
 *            (note.extensions_dropped), colour resolution and sort flags,
 *            pixel aspect ratio, bytes after the trailer (after the
 *            polyglot check: note.trailing_dropped)
 *   repaired (note.repaired, as browsers show them; nothing is lost)
 *            a missing trailer after the last whole block; a logical
 *            screen of 0 in a dimension, sized to the frames' extent
 *   rejected zero-size frames (CVE-2019-11932), frames wholly outside the
 *            screen, images without any colour table (no default palette
 *            is guessed: browsers disagree), transparent, background or
 *            pixel indices beyond their colour table, LZW minimum code
 *            size outside 2..8, LZW codes beyond the string table, too
 *            much or too little pixel data, a file without any image,
 *            truncation inside a block.
 *
 * How: a walk of our own over the bytes in memory (no allocation) checks
 * the structure, every limit and the LZW code stream of every frame, so
 * hostile input is refused before giflib allocates anything.  Then giflib
 * decodes record by record (DGifGetImageHeader: it keeps no per-frame
 * SavedImage, unlike DGifGetImageDesc) and checks each decoded index;
 * each frame is coded again by giflib's encoder as soon as it is decoded.
 * Memory: giflib's fixed state (reserved), one line of the widest frame,
 * and one clipped frame (at most the screen); never all frames at once.
 * Interlaced frames stay interlaced: rows are written back in the
 * interlace order of the (clipped) frame.
 *
 * Policy: gif_flatten keeps the first image only (its own position, the
 * same screen, transparency kept, delay/disposal/loop dropped: what a
 * viewer shows before the animation starts).  gif_to_png composites the
 * first image onto a transparent screen and writes a palette PNG through
 * imsafe__png_encode_indexed() (RGBA when no palette index is free for
 * the uncovered area).
 */
#include <string.h>

#include <gif_lib.h>

#include "imsafe_private.h"

/* giflib's fixed allocations, bounded from its 5.2 sources: the decoder's
 * GifFileType and private state (LZW prefix/suffix/stack tables, 4097
 * entries each, about 25 KiB) plus two colour maps; the encoder's state
 * plus its 8192-entry hash table (32 KiB) and two colour maps.  Rounded up
 * generously for malloc overhead. */
#define GIFLIB_DECODER_BYTES (64u * 1024u)
#define GIFLIB_ENCODER_BYTES (96u * 1024u)

#define LZW_MAX_CODES 4096 /* 12-bit codes (spec appendix F) */
#define NO_CODE 0xFFFFu

/* The facts the structure walk gathers for the rebuild. */
struct gif_facts {
    uint32_t sw, sh;           /* logical screen */
    int gct_count;             /* entries in the global table, 0 if none */
    int bg;                    /* background index (0 without a GCT) */
    uint64_t frames;
    long loop;                 /* NETSCAPE2.0 loop count, -1 if absent */
    uint64_t max_line;         /* widest frame (decode line buffer) */
    uint64_t max_clip;         /* largest clipped frame (pixels) */
    uint64_t total_px;         /* pixels of all frames, before clipping */
    uint64_t work;             /* units of work of the frames so far */
    size_t end;                /* offset just after the trailer */
    int fit;                   /* screen width (1) / height (2) was 0: the
                                  frames' extent replaces it */
    uint32_t ext_w, ext_h;     /* right and bottom edge of the frames */
    int no_trailer;            /* the data ended after a whole block */
    /* canonical palettes (palette.c), from the frames the output holds */
    uint8_t gct_apart[256];    /* transparent index of a frame drawn with the GCT */
    int first_fix0;            /* the first frame leaves part of the screen
                                * uncovered and has no transparency */
    int first_local;           /* the first frame has a local table */
    int fix_bg;                /* a frame disposes to the background and has
                                * no transparency */
};

/* The pending graphic control of the walk and of the rebuild. */
struct gif_gce {
    int present;
    int disposal;
    int delay;
    int transparent; /* -1: none */
};

/* A bounds-checked cursor over the input. */
struct cursor {
    const uint8_t *p;
    size_t n, pos;
};

static int need(const struct cursor *c, size_t k)
{
    return k <= c->n - c->pos;
}

static unsigned u16le(const uint8_t *p)
{
    return (unsigned)p[0] | ((unsigned)p[1] << 8);
}

/* ------------------------------------------------------- LZW code check */

/*
 * Walk one image's LZW sub-blocks (spec appendix F) without building the
 * strings: only each code's string length is tracked, which is enough to
 * count pixels exactly and to see codes beyond the table.  giflib hides
 * both: it skips everything after the last pixel, and decodes some codes
 * beyond the table from stale entries.
 */
struct lzw {
    unsigned min, clear, eoi, next, width;
    unsigned prev;              /* NO_CODE after a clear */
    uint64_t count, npix;
    int eoi_seen;
    uint64_t after_eoi;         /* whole bytes after the EOI code */
    uint32_t acc;
    unsigned bits;
    uint16_t len[LZW_MAX_CODES];
};

enum lzw_err { LZW_OK = 0, LZW_BAD_CODE, LZW_TOO_MUCH, LZW_TOO_LITTLE, LZW_TRUNCATED };

static void lzw_reset(struct lzw *z)
{
    z->next = z->clear + 2;
    z->width = z->min + 1;
    z->prev = NO_CODE;
}

/* The code loop of lzw_check(), on a copy of the state in locals (the
 * compiler keeps them in registers; through z every store to z->len[] would
 * force the rest back to memory).  Returns the error, or LZW_OK; on EOI the
 * rest of the block is counted in after_eoi. */
struct lzw_regs {
    uint32_t acc;
    unsigned bits, width, next, prev;
    uint64_t count;
};

static enum lzw_err lzw_block(struct lzw *z, struct lzw_regs *r, const uint8_t *p, size_t k)
{
    const unsigned clear = z->clear, eoi = z->eoi;
    const uint64_t npix = z->npix;
    uint32_t acc = r->acc;
    unsigned bits = r->bits, width = r->width, next = r->next, prev = r->prev;
    uint64_t count = r->count;
    enum lzw_err e = LZW_OK;
    for (size_t i = 0; i < k && e == LZW_OK; i++) {
        acc |= (uint32_t)p[i] << bits;
        bits += 8;
        while (bits >= width) {
            unsigned code = acc & ((1u << width) - 1u), l;
            acc >>= width;
            bits -= width;
            if (code == clear) {
                next = clear + 2;
                width = z->min + 1;
                prev = NO_CODE;
                continue;
            }
            if (code == eoi) {
                z->eoi_seen = 1;
                z->after_eoi += k - i - 1;
                i = k;
                break;
            }
            if (code < clear)
                l = 1;
            else if (code < next && prev != NO_CODE)
                l = z->len[code];
            else if (code == next && prev != NO_CODE && next < LZW_MAX_CODES)
                l = z->len[prev] + 1u; /* the KwKwK case */
            else {
                e = LZW_BAD_CODE;
                break;
            }
            if (count >= npix) {
                e = LZW_TOO_MUCH; /* data goes on after the last pixel */
                break;
            }
            if (prev != NO_CODE && next < LZW_MAX_CODES) {
                z->len[next] = (uint16_t)(z->len[prev] + 1u);
                next++;
                if (next == (1u << width) && width < 12)
                    width++;
            }
            prev = code;
            count += l;
            if (count > npix) {
                e = LZW_TOO_MUCH;
                break;
            }
        }
    }
    r->acc = acc;
    r->bits = bits;
    r->width = width;
    r->next = next;
    r->prev = prev;
    r->count = count;
    return e;
}

/* Check the sub-block chain at c->pos (just after the minimum code size
 * byte); on success c->pos is after the chain's terminator. */
static enum lzw_err lzw_check(struct cursor *c, struct lzw *z)
{
    struct lzw_regs r = {z->acc, z->bits, z->width, z->next, z->prev, z->count};
    enum lzw_err e = LZW_OK;
    for (;;) {
        if (!need(c, 1)) {
            e = LZW_TRUNCATED;
            break;
        }
        size_t k = c->p[c->pos++];
        if (k == 0)
            break;
        if (!need(c, k)) {
            e = LZW_TRUNCATED;
            break;
        }
        if (z->eoi_seen)
            z->after_eoi += k;
        else if ((e = lzw_block(z, &r, c->p + c->pos, k)) != LZW_OK)
            break;
        c->pos += k;
    }
    z->acc = r.acc;
    z->bits = r.bits;
    z->width = r.width;
    z->next = r.next;
    z->prev = r.prev;
    z->count = r.count;
    if (e != LZW_OK)
        return e;
    /* No EOI is fine (the pygif suite calls it optional) once every pixel
     * is there; anything short of the frame area is missing data. */
    if (z->count < z->npix)
        return LZW_TOO_LITTLE;
    return LZW_OK;
}

static void lzw_init(struct lzw *z, unsigned min, uint64_t npix)
{
    memset(z, 0, sizeof *z);
    z->min = min;
    z->clear = 1u << min;
    z->eoi = z->clear + 1;
    z->npix = npix;
    for (unsigned i = 0; i < z->clear; i++)
        z->len[i] = 1;
    lzw_reset(z);
}

/* ------------------------------------------------------- structure walk */

/* Walk a sub-block chain to its terminator. */
static int skip_blocks(struct cursor *c)
{
    for (;;) {
        if (!need(c, 1))
            return -1;
        size_t k = c->p[c->pos++];
        if (k == 0)
            return 0;
        if (!need(c, k))
            return -1;
        c->pos += k;
    }
}

static imsafe_status truncated(struct imsafe__job *job, const char *where)
{
    return imsafe__reject(job, IMSAFE_R_MALFORMED_TRUNCATED, "GIF data ends inside %s", where);
}

static imsafe_status walk_screen(struct imsafe__job *job, struct cursor *c, struct gif_facts *f)
{
    const struct imsafe_policy *pol = job->policy;
    if (!need(c, 13))
        return truncated(job, "the logical screen descriptor");
    const uint8_t *d = c->p + 6;
    f->sw = u16le(d);
    f->sh = u16le(d + 2);
    c->pos = 13;
    /* A screen of 0 in a dimension (encoders that leave it to the viewer):
     * browsers and Pillow size it to the frames, and so does the rebuild,
     * once the walk knows them (fit_screen); the limits are checked then. */
    f->fit = (f->sw == 0 ? 1 : 0) | (f->sh == 0 ? 2 : 0);
    if (f->sw > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_WIDTH_PX))
        return imsafe__reject(job, IMSAFE_R_LIMIT_WIDTH, "screen width %u, limit %lld",
                              (unsigned)f->sw, (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_WIDTH_PX));
    if (f->sh > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_HEIGHT_PX))
        return imsafe__reject(job, IMSAFE_R_LIMIT_HEIGHT, "screen height %u, limit %lld",
                              (unsigned)f->sh, (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_HEIGHT_PX));
    uint64_t px = (uint64_t)f->sw * f->sh; /* both < 2^16: no overflow */
    if (px > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_PIXELS))
        return imsafe__reject(job, IMSAFE_R_LIMIT_PIXELS, "screen %llu pixels, limit %lld",
                              (unsigned long long)px,
                              (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_PIXELS));
    if (d[4] & 0x80) {
        f->gct_count = 2 << (d[4] & 7);
        if (!need(c, (size_t)f->gct_count * 3))
            return truncated(job, "the global colour table");
        c->pos += (size_t)f->gct_count * 3;
        /* the background index only means something with a global table */
        if (d[5] >= f->gct_count)
            return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_COLORMAP,
                                  "background index %u beyond the %d-entry global colour table",
                                  d[5], f->gct_count);
        f->bg = d[5];
    }
    return IMSAFE_OK;
}

/* The first sub-block of a graphic control extension (spec section 23). */
static imsafe_status walk_gce(struct imsafe__job *job, struct cursor *c, struct gif_gce *g)
{
    if (!need(c, 1))
        return truncated(job, "a graphic control extension");
    if (c->p[c->pos] != 4)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF,
                              "graphic control extension of %u bytes, not 4", c->p[c->pos]);
    if (!need(c, 6))
        return truncated(job, "a graphic control extension");
    const uint8_t *d = c->p + c->pos + 1;
    /* several before one image: the last one counts, as in browsers and
     * in giflib's reader (Wuffs' multiple-graphic-controls.gif) */
    g->present = 1;
    g->disposal = (d[0] >> 2) & 7;
    g->delay = (int)u16le(d + 1);
    g->transparent = (d[0] & 1) ? d[3] : -1;
    /* disposal methods 4-7 are "to be defined": no viewer agrees on them */
    if (g->disposal > 3)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF, "undefined disposal method %d",
                              g->disposal);
    c->pos += 5;
    if (c->p[c->pos] != 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF,
                              "graphic control extension has more than one sub-block");
    c->pos++;
    return IMSAFE_OK;
}

/* An application extension: NETSCAPE2.0 / ANIMEXTS1.0 give the loop
 * count (sub-block id 1); everything else is dropped. */
static imsafe_status walk_app(struct imsafe__job *job, struct cursor *c, struct gif_facts *f)
{
    if (!need(c, 12))
        return truncated(job, "an application extension");
    if (c->p[c->pos] != 11)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF,
                              "application extension identifier of %u bytes, not 11",
                              c->p[c->pos]);
    const uint8_t *id = c->p + c->pos + 1;
    int loop_ext = memcmp(id, "NETSCAPE2.0", 11) == 0 || memcmp(id, "ANIMEXTS1.0", 11) == 0;
    int kept = 0;
    if (memcmp(id, "XMP DataXMP", 11) == 0)
        imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
    c->pos += 12;
    for (;;) {
        if (!need(c, 1))
            return truncated(job, "an application extension");
        size_t k = c->p[c->pos++];
        if (k == 0)
            break;
        if (!need(c, k))
            return truncated(job, "an application extension");
        if (loop_ext && k == 3 && c->p[c->pos] == 1 && !kept) {
            /* with several, the first counts (Pillow's tests require it
             * for duplicate_number_of_loops.gif) */
            if (f->loop < 0)
                f->loop = (long)u16le(c->p + c->pos + 1);
            kept = 1;
        }
        c->pos += k;
    }
    if (!kept)
        imsafe__note(job, IMSAFE_R_NOTE_EXTENSIONS_DROPPED);
    return IMSAFE_OK;
}

static imsafe_status walk_extension(struct imsafe__job *job, struct cursor *c,
                                    struct gif_facts *f, struct gif_gce *g)
{
    if (!need(c, 1))
        return truncated(job, "an extension");
    uint8_t label = c->p[c->pos++];
    switch (label) {
    case 0xF9:
        return walk_gce(job, c, g);
    case 0xFF:
        return walk_app(job, c, f);
    case 0xFE:
        imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
        break;
    case 0x01:
        /* plain text is a graphic rendering block: it uses up the GCE */
        memset(g, 0, sizeof *g);
        imsafe__note(job, IMSAFE_R_NOTE_EXTENSIONS_DROPPED);
        break;
    default:
        imsafe__note(job, IMSAFE_R_NOTE_EXTENSIONS_DROPPED);
        break;
    }
    if (skip_blocks(c) != 0)
        return truncated(job, "an extension");
    return IMSAFE_OK;
}

/* Does a frame (its descriptor) cover the whole logical screen? */
static int covers_screen(const struct gif_facts *f, uint32_t left, uint32_t top, uint32_t w,
                         uint32_t h)
{
    return left == 0 && top == 0 && w >= f->sw && h >= f->sh;
}

/*
 * What the canonical colour tables must keep for the pixels to stay the
 * same (palette.c), gathered from every frame the output will hold as the
 * rebuild writes it (gif_flatten: the first frame only, disposal 0):
 *  - a transparent index is kept apart: merging it with an opaque entry
 *    of the same colour would make that entry's pixels vanish;
 *  - Pillow shows entry 0 of the first frame's table where that frame
 *    leaves the screen uncovered (no transparency to show instead);
 *  - Pillow paints disposal-to-background with the background entry
 *    (entry 0 without a global table) of the disposed frame's table,
 *    local or global, when the frame has no transparency.
 * Those entries keep their index, in every table for the background.
 */
static void palette_facts(struct imsafe__job *job, struct gif_facts *f, const uint8_t *d,
                          const struct gif_gce *g, int local)
{
    int flatten = imsafe__opt(job->policy, IMSAFE_OPT_GIF_FLATTEN) != 0;
    int first = f->frames == 1;
    int transparent = g->present ? g->transparent : -1;
    int disposal = g->present && !flatten ? g->disposal : 0;
    if (flatten && !first)
        return;
    if (!local && transparent >= 0)
        f->gct_apart[transparent] = 1;
    if (first) {
        f->first_local = local;
        f->first_fix0 =
            transparent < 0 && !covers_screen(f, u16le(d), u16le(d + 2), u16le(d + 4), u16le(d + 6));
    }
    if (disposal == 2 && transparent < 0)
        f->fix_bg = 1;
}

/* Frame geometry and counting limits, before any pixel is decoded. */
static imsafe_status check_frame(struct imsafe__job *job, struct gif_facts *f,
                                 const uint8_t *d)
{
    const struct imsafe_policy *pol = job->policy;
    unsigned left = u16le(d), top = u16le(d + 2), w = u16le(d + 4), h = u16le(d + 6);
    if (++f->frames > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_FRAMES))
        return imsafe__reject(job, IMSAFE_R_LIMIT_FRAMES, "more than %lld frames",
                              (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_FRAMES));
    if (w == 0 || h == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_FRAME_EMPTY, "frame %llu is %ux%u",
                              (unsigned long long)f->frames, w, h);
    if ((!(f->fit & 1) && left >= f->sw) || (!(f->fit & 2) && top >= f->sh))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_FRAME_OUTSIDE,
                              "frame %llu at %u,%u is outside the %ux%u screen",
                              (unsigned long long)f->frames, left, top, (unsigned)f->sw,
                              (unsigned)f->sh);
    uint64_t px = (uint64_t)w * h;
    if (imsafe__add_ovf(f->total_px, px, &f->total_px) ||
        f->total_px > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS))
        return imsafe__reject(job, IMSAFE_R_LIMIT_FRAME_PIXELS,
                              "frames add up to more than %lld pixels",
                              (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS));
    unsigned cw = w, ch = h;
    int clip_w = !(f->fit & 1) && left + w > f->sw, clip_h = !(f->fit & 2) && top + h > f->sh;
    if (clip_w || clip_h) {
        /* browsers show only the screen: the rebuild clips */
        imsafe__note(job, IMSAFE_R_NOTE_FRAME_CLIPPED);
        cw = clip_w ? (unsigned)f->sw - left : w;
        ch = clip_h ? (unsigned)f->sh - top : h;
    }
    /* u16 + u16: no overflow in 32 bits */
    if (left + w > f->ext_w)
        f->ext_w = left + w;
    if (top + h > f->ext_h)
        f->ext_h = top + h;
    if (w > f->max_line)
        f->max_line = w;
    if ((uint64_t)cw * ch > f->max_clip)
        f->max_clip = (uint64_t)cw * ch;
    return IMSAFE_OK;
}

static imsafe_status lzw_reject(struct imsafe__job *job, enum lzw_err e, uint64_t frame,
                                const struct lzw *z)
{
    unsigned long long fr = (unsigned long long)frame;
    switch (e) {
    case LZW_BAD_CODE:
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_LZW,
                              "frame %llu: LZW code beyond the string table", fr);
    case LZW_TOO_MUCH:
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_PIXEL_DATA,
                              "frame %llu: LZW data holds more than its %llu pixels", fr,
                              (unsigned long long)z->npix);
    case LZW_TOO_LITTLE:
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_PIXEL_DATA,
                              "frame %llu: LZW data holds %llu of its %llu pixels", fr,
                              (unsigned long long)z->count, (unsigned long long)z->npix);
    case LZW_TRUNCATED:
        return truncated(job, "image data");
    case LZW_OK:
        break;
    }
    return IMSAFE_OK;
}

/* Data bytes of the sub-block chain at c->pos, without moving c; UINT64_MAX
 * for a chain cut short (lzw_check reports the cut as such). */
static uint64_t chain_bytes(const struct cursor *c)
{
    struct cursor t = *c;
    uint64_t total = 0;
    for (;;) {
        if (!need(&t, 1))
            return UINT64_MAX;
        size_t k = t.p[t.pos++];
        if (k == 0)
            return total;
        if (!need(&t, k))
            return UINT64_MAX;
        t.pos += k;
        total += k;
    }
}

/*
 * limit.ratio: LZW's own floor.  A code of w bits (w <= 12) names a string
 * table entry below 2^w, whose string is shorter than 2^w bytes (each entry
 * adds one byte to an older one, from single bytes up), so a code yields
 * at most 2^w / w bytes per bit, largest at w = 12: 4096 / 12.  n bytes of
 * LZW data decode to at most 8n x 4096 / 12 = 8192n / 3 pixels (about
 * 2730:1); a frame that declares more cannot be there and is refused
 * before its codes are walked.  Any valid stream passes.
 */
static imsafe_status check_ratio(struct imsafe__job *job, const struct gif_facts *f,
                                 uint64_t area, uint64_t bytes)
{
    /* area < 2^32, bytes <= in_len <= 2^40 (or the cut mark): no overflow */
    if (bytes == UINT64_MAX || area * 3u <= bytes * 8192u)
        return IMSAFE_OK;
    return imsafe__reject(job, IMSAFE_R_LIMIT_RATIO,
                          "frame %llu: %llu pixels from %llu bytes of LZW data, more than "
                          "LZW's 2730:1", (unsigned long long)f->frames,
                          (unsigned long long)area, (unsigned long long)bytes);
}

/*
 * limit.work, as frames are met: each frame's pixels are walked here (LZW
 * codes), decoded by giflib, checked and LZW-coded again.  The frames so
 * far are charged together
 * against max_work before this frame's codes are walked, so a file of many
 * cheap-to-send frames stops at the first one over, and the whole file is
 * known to fit before the rebuild starts (which charges the same as it
 * goes).
 */
static int check_work(struct imsafe__job *job, struct gif_facts *f, uint64_t area)
{
    /* area < 2^32, frames <= 10^6: no overflow */
    f->work += area * IMSAFE__WORK_GIF_PIXEL;
    return imsafe__work_expect(job, f->work, "GIF frames");
}

static imsafe_status walk_image(struct imsafe__job *job, struct cursor *c, struct gif_facts *f,
                                struct gif_gce *g, struct lzw *z)
{
    if (!need(c, 9))
        return truncated(job, "an image descriptor");
    const uint8_t *d = c->p + c->pos;
    c->pos += 9;
    if (check_frame(job, f, d) != IMSAFE_OK || imsafe__rejected(job))
        return IMSAFE_OK;
    int count = f->gct_count;
    if (d[8] & 0x80) {
        count = 2 << (d[8] & 7);
        if (!need(c, (size_t)count * 3))
            return truncated(job, "a local colour table");
        c->pos += (size_t)count * 3;
    }
    /* No colour table at all: decoders invent black, a grey ramp or
     * reject; there is no defined rendering to rebuild. */
    if (count == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_COLORMAP,
                              "frame %llu has no colour table", (unsigned long long)f->frames);
    if (g->present && g->transparent >= count)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_COLORMAP,
                              "transparent index %d beyond the %d-entry colour table",
                              g->transparent, count);
    palette_facts(job, f, d, g, (d[8] & 0x80) != 0);
    memset(g, 0, sizeof *g);
    if (!need(c, 1))
        return truncated(job, "image data");
    unsigned min = c->p[c->pos++];
    if (min < 2 || min > 8)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_LZW,
                              "frame %llu: LZW minimum code size %u, not 2..8",
                              (unsigned long long)f->frames, min);
    uint64_t area = (uint64_t)u16le(d + 4) * u16le(d + 6), bytes = chain_bytes(c);
    if (check_ratio(job, f, area, bytes) != IMSAFE_OK || imsafe__rejected(job) ||
        check_work(job, f, area) != 0)
        return IMSAFE_OK;
    lzw_init(z, min, area);
    return lzw_reject(job, lzw_check(c, z), f->frames, z);
}

/* The block list ended at offset end, with the trailer or without one.
 * Without: when the data stops after a whole block and at least one image,
 * nothing but the trailer is missing, and browsers show such a file as it
 * is; the rebuild writes the trailer (note.repaired).  A cut inside a block
 * never gets here (truncated, above). */
static void walk_end(struct imsafe__job *job, struct gif_facts *f, size_t end, int trailer)
{
    if (!trailer && f->frames == 0) {
        truncated(job, "the block list (no image, no trailer)");
        return;
    }
    /* No image: nothing to show, and some viewers crash on it */
    if (f->frames == 0) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_NO_IMAGE,
                       "no image descriptor before the trailer");
        return;
    }
    f->end = end;
    if (!trailer) {
        f->no_trailer = 1;
        imsafe__note(job, IMSAFE_R_NOTE_REPAIRED);
        imsafe__detail(job, "missing GIF trailer added");
    }
}

/* A zero screen dimension takes the frames' extent: the smallest screen at
 * the origin that holds every frame (what Pillow and browsers show). */
static void fit_screen(struct imsafe__job *job, struct gif_facts *f)
{
    const struct imsafe_policy *pol = job->policy;
    uint32_t w = (f->fit & 1) ? f->ext_w : f->sw, h = (f->fit & 2) ? f->ext_h : f->sh;
    if (w > 0xFFFFu || h > 0xFFFFu) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_GIF_FRAME_OUTSIDE,
                       "frames reach %u x %u, beyond any GIF screen", w, h);
        return;
    }
    if (w > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_WIDTH_PX)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_WIDTH, "screen width %u (from the frames), limit %lld",
                       w, (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_WIDTH_PX));
        return;
    }
    if (h > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_HEIGHT_PX)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_HEIGHT, "screen height %u (from the frames), limit %lld",
                       h, (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_HEIGHT_PX));
        return;
    }
    uint64_t px = (uint64_t)w * h; /* both < 2^16 */
    if (px > (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_PIXELS)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_PIXELS, "screen %llu pixels (from the frames), limit %lld",
                       (unsigned long long)px, (long long)imsafe__opt(pol, IMSAFE_OPT_MAX_PIXELS));
        return;
    }
    imsafe__note(job, IMSAFE_R_NOTE_REPAIRED);
    imsafe__detail(job, "logical screen %ux%u set to the frames' %ux%u", (unsigned)f->sw,
                   (unsigned)f->sh, w, h);
    f->sw = w;
    f->sh = h;
}

/* The whole structure, every limit and every LZW stream; no allocation
 * but the LZW length table. */
static imsafe_status walk(struct imsafe__job *job, struct gif_facts *f)
{
    struct cursor c = {job->in, job->in_len, 0};
    struct gif_gce g = {0, 0, 0, -1};
    f->loop = -1;
    if (walk_screen(job, &c, f) != IMSAFE_OK || imsafe__rejected(job))
        return IMSAFE_OK;
    struct lzw *z = imsafe__alloc(job, sizeof *z);
    if (z == NULL)
        return IMSAFE_OK;
    while (!imsafe__rejected(job)) {
        if (!need(&c, 1)) {
            walk_end(job, f, c.pos, 0);
            break;
        }
        uint8_t intro = c.p[c.pos++];
        if (intro == 0x3B) {
            walk_end(job, f, c.pos, 1);
            break;
        }
        if (intro == 0x21)
            walk_extension(job, &c, f, &g);
        else if (intro == 0x2C)
            walk_image(job, &c, f, &g, z);
        else
            imsafe__reject(job, IMSAFE_R_MALFORMED_GIF, "unknown block 0x%02x at offset %zu",
                           intro, c.pos - 1);
    }
    imsafe__free(job, z);
    if (!imsafe__rejected(job) && f->fit)
        fit_screen(job, f);
    return IMSAFE_OK;
}

/* ------------------------------------------------------- giflib glue */

struct gif_reader {
    const uint8_t *p;
    size_t n, pos;
    int trailer; /* give giflib a trailer byte after the data (repair) */
};

static int read_in(GifFileType *gf, GifByteType *buf, int len)
{
    struct gif_reader *r = gf->UserData;
    if (len <= 0)
        return 0;
    size_t k = (size_t)len;
    if (k > r->n - r->pos)
        k = r->n - r->pos;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    if (k < (size_t)len && r->trailer) {
        buf[k++] = 0x3B; /* the walk found only the trailer missing */
        r->trailer = 0;
    }
    return (int)k;
}

static int write_out(GifFileType *gf, const GifByteType *buf, int len)
{
    struct imsafe__job *job = gf->UserData;
    if (len <= 0)
        return 0;
    return imsafe__buf_append(&job->out, buf, (size_t)len) == 0 ? len : 0;
}

/* Every giflib error code, mapped to a reason.  0 means "not the input's
 * fault": an allocation failure or our own misuse of the encoder. */
static const struct {
    int code;
    imsafe_reason reason;
} gif_errors[] = {
    {D_GIF_ERR_OPEN_FAILED, IMSAFE_R_MALFORMED_GIF},
    {D_GIF_ERR_READ_FAILED, IMSAFE_R_MALFORMED_TRUNCATED},
    {D_GIF_ERR_NOT_GIF_FILE, IMSAFE_R_MALFORMED_SIGNATURE},
    {D_GIF_ERR_NO_SCRN_DSCR, IMSAFE_R_MALFORMED_GIF},
    {D_GIF_ERR_NO_IMAG_DSCR, IMSAFE_R_MALFORMED_GIF},
    {D_GIF_ERR_NO_COLOR_MAP, IMSAFE_R_MALFORMED_GIF_COLORMAP},
    {D_GIF_ERR_WRONG_RECORD, IMSAFE_R_MALFORMED_GIF},
    {D_GIF_ERR_DATA_TOO_BIG, IMSAFE_R_MALFORMED_GIF_PIXEL_DATA},
    {D_GIF_ERR_NOT_ENOUGH_MEM, IMSAFE_R_NONE},
    {D_GIF_ERR_CLOSE_FAILED, IMSAFE_R_MALFORMED_GIF},
    {D_GIF_ERR_NOT_READABLE, IMSAFE_R_NONE},
    {D_GIF_ERR_IMAGE_DEFECT, IMSAFE_R_MALFORMED_GIF_LZW},
    {D_GIF_ERR_EOF_TOO_SOON, IMSAFE_R_MALFORMED_GIF_PIXEL_DATA},
    {E_GIF_ERR_OPEN_FAILED, IMSAFE_R_NONE},
    {E_GIF_ERR_WRITE_FAILED, IMSAFE_R_NONE},
    {E_GIF_ERR_HAS_SCRN_DSCR, IMSAFE_R_NONE},
    {E_GIF_ERR_HAS_IMAG_DSCR, IMSAFE_R_NONE},
    {E_GIF_ERR_NO_COLOR_MAP, IMSAFE_R_NONE},
    {E_GIF_ERR_DATA_TOO_BIG, IMSAFE_R_NONE},
    {E_GIF_ERR_NOT_ENOUGH_MEM, IMSAFE_R_NONE},
    {E_GIF_ERR_DISK_IS_FULL, IMSAFE_R_NONE},
    {E_GIF_ERR_CLOSE_FAILED, IMSAFE_R_NONE},
    {E_GIF_ERR_NOT_WRITEABLE, IMSAFE_R_NONE},
};

/* Turn a giflib failure into a rejection, an allocation failure or an
 * internal error.  Returns the status the module should return. */
static imsafe_status gif_fail(struct imsafe__job *job, int code)
{
    if (imsafe__rejected(job) || job->alloc_failed)
        return IMSAFE_OK; /* the output buffer already said why */
    if (code == D_GIF_ERR_NOT_ENOUGH_MEM || code == E_GIF_ERR_NOT_ENOUGH_MEM) {
        job->alloc_failed = 1; /* malloc failed inside our reservation */
        return IMSAFE_OK;
    }
    for (size_t i = 0; i < sizeof gif_errors / sizeof gif_errors[0]; i++) {
        if (gif_errors[i].code == code && gif_errors[i].reason != IMSAFE_R_NONE) {
            /* GifErrorString() is constant ASCII from giflib, not input */
            const char *s = GifErrorString(code);
            return imsafe__reject(job, gif_errors[i].reason, "giflib: %s", s ? s : "error");
        }
    }
    job->internal_error = 1;
    return IMSAFE_EINTERNAL;
}

/* ------------------------------------------------------- rebuild */

/* Row y of the i-th line stored in an interlaced image of height h
 * (spec appendix E: passes start 0,4,2,1, step 8,8,4,2). */
static uint32_t interlaced_row(uint32_t i, uint32_t h)
{
    static const uint8_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; p++) {
        uint32_t rows = h > start[p] ? (h - start[p] + step[p] - 1u) / step[p] : 0;
        if (i < rows)
            return start[p] + i * step[p];
        i -= rows;
    }
    return 0;
}

struct rebuild {
    struct imsafe__job *job;
    const struct gif_facts *f;
    GifFileType *dec, *enc;
    GifPixelType *line;  /* one decoded line of the widest frame */
    GifPixelType *frame; /* the clipped frame being coded */
    uint8_t *canvas;     /* to-PNG: the first frame on the screen */
    int flatten, to_png;
    uint64_t index;      /* images seen */
    struct gif_gce gce;
    /* to-PNG: the first image's place, palette and transparent index */
    uint32_t fl, ft, fw, fh;
    int pal_len, trans, rgba;
    uint8_t pal[257 * 3];
    /* the canonical global table and the current local one (palette.c) */
    struct imsafe__palette gct, lct;
};

/* ------------------------------------------------------- canonical tables */

/*
 * Every colour table is written in libimsafe's order, never the sender's
 * (palette.c): sorted by colour, exact duplicates merged, padded to a
 * power of two by repeating the last entry; the pixels, the transparent
 * index and the background index are remapped.  What must keep its index
 * or stay apart was gathered by the walk (palette_facts()).
 */
static int canon_table(struct imsafe__palette *out, const ColorMapObject *map,
                       const uint8_t *apart, const int *fixed, int nfixed)
{
    uint8_t rgba[256 * 4];
    int n = map->ColorCount;
    if (n < 1 || n > 256 || map->Colors == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        rgba[4 * i] = map->Colors[i].Red;
        rgba[4 * i + 1] = map->Colors[i].Green;
        rgba[4 * i + 2] = map->Colors[i].Blue;
        rgba[4 * i + 3] = 255; /* GIF has no alpha: transparency is `apart` */
    }
    return imsafe__palette_canon(out, rgba, n, apart, fixed, nfixed, 1);
}

/* The entries of a table of count entries that keep their index: entry 0
 * of the first frame's table, the background entry of every table. */
static int fixed_entries(const struct rebuild *r, int first_frame_table, int count, int fixed[2])
{
    int n = 0, bg = r->f->gct_count ? r->f->bg : 0;
    if (first_frame_table && r->f->first_fix0)
        fixed[n++] = 0;
    if (r->f->fix_bg && bg < count && !(n == 1 && bg == 0))
        fixed[n++] = bg;
    return n;
}

/* A giflib colour map over a canonical table (giflib copies it). */
static void colormap_of(const struct imsafe__palette *p, ColorMapObject *m, GifColorType *c)
{
    int bits = 1;
    while ((1 << bits) < p->count)
        bits++;
    for (int i = 0; i < p->count; i++) {
        c[i].Red = p->rgba[4 * i];
        c[i].Green = p->rgba[4 * i + 1];
        c[i].Blue = p->rgba[4 * i + 2];
    }
    m->ColorCount = p->count;
    m->BitsPerPixel = bits;
    m->SortFlag = false;
    m->Colors = c;
}

/* ------------------------------------------------------- GIF to PNG */

/*
 * The first image on a screen that is otherwise transparent, as browsers
 * show it (they ignore the background colour).  The uncovered area takes
 * the frame's transparent index, else a new palette entry, else an index
 * the frame does not use; with all 256 in use the PNG is RGBA.
 */
static void compose_first(struct rebuild *r, const ColorMapObject *map, uint32_t cw, uint32_t ch)
{
    const struct gif_facts *f = r->f;
    uint32_t left = (uint32_t)r->dec->Image.Left, top = (uint32_t)r->dec->Image.Top;
    int covers = left == 0 && top == 0 && cw == f->sw && ch == f->sh;
    int trans = r->gce.present ? r->gce.transparent : -1;
    r->fl = left;
    r->ft = top;
    r->fw = cw;
    r->fh = ch;
    r->pal_len = map->ColorCount;
    for (int i = 0; i < map->ColorCount; i++) {
        r->pal[i * 3] = map->Colors[i].Red;
        r->pal[i * 3 + 1] = map->Colors[i].Green;
        r->pal[i * 3 + 2] = map->Colors[i].Blue;
    }
    if (!covers && trans < 0 && map->ColorCount < 256) {
        trans = map->ColorCount; /* a new entry (black, fully transparent) */
        r->pal[trans * 3] = r->pal[trans * 3 + 1] = r->pal[trans * 3 + 2] = 0;
        r->pal_len++;
    } else if (!covers && trans < 0) {
        uint8_t used[256] = {0};
        for (size_t i = 0; i < (size_t)cw * ch; i++)
            used[r->frame[i]] = 1;
        for (int i = 255; i >= 0 && trans < 0; i--)
            if (!used[i])
                trans = i;
        r->rgba = trans < 0;
    }
    r->trans = trans;
    memset(r->canvas, trans >= 0 ? trans : 0, (size_t)f->sw * f->sh);
    for (uint32_t y = 0; y < ch; y++)
        memcpy(r->canvas + (size_t)(top + y) * f->sw + left, r->frame + (size_t)y * cw, cw);
}

struct png_rows {
    const struct rebuild *r;
    uint8_t *rgba; /* NULL: palette rows straight from the canvas */
};

static const uint8_t *png_row(void *opaque, uint32_t y)
{
    const struct png_rows *p = opaque;
    const struct rebuild *r = p->r;
    const uint8_t *row = r->canvas + (size_t)y * r->f->sw;
    if (p->rgba == NULL)
        return row;
    for (uint32_t x = 0; x < r->f->sw; x++) {
        const uint8_t *c = r->pal + row[x] * 3;
        uint8_t *o = p->rgba + (size_t)x * 4;
        int inside = x >= r->fl && x - r->fl < r->fw && y >= r->ft && y - r->ft < r->fh;
        o[0] = inside ? c[0] : 0;
        o[1] = inside ? c[1] : 0;
        o[2] = inside ? c[2] : 0;
        o[3] = inside ? 255 : 0;
    }
    return p->rgba;
}

static imsafe_status write_png(struct rebuild *r)
{
    struct imsafe__job *job = r->job;
    struct png_rows rows = {r, NULL};
    /* the walk refuses a GIF without images (malformed.gif.no_image), so
     * the first image has been composed onto the canvas */
    if (!IMSAFE_ASSERT(r->index > 0)) {
        job->internal_error = 1;
        return IMSAFE_EINTERNAL;
    }
    if (r->rgba && (rows.rgba = imsafe__alloc(job, (size_t)r->f->sw * 4)) == NULL)
        return IMSAFE_OK;
    int rc = imsafe__png_encode_indexed(job, r->f->sw, r->f->sh, r->rgba ? NULL : r->pal,
                                        r->rgba ? 0 : r->pal_len, r->rgba ? -1 : r->trans,
                                        png_row, &rows);
    imsafe__free(job, rows.rgba);
    if (rc != 0 && !imsafe__rejected(job) && !job->alloc_failed) {
        job->internal_error = 1;
        return IMSAFE_EINTERNAL;
    }
    return IMSAFE_OK;
}

/* Decode one image into r->frame (clipped), checking every index. */
static int decode_image(struct rebuild *r, const ColorMapObject *map, uint32_t *cw, uint32_t *ch)
{
    GifFileType *d = r->dec;
    uint32_t left = (uint32_t)d->Image.Left, top = (uint32_t)d->Image.Top;
    uint32_t w = (uint32_t)d->Image.Width, h = (uint32_t)d->Image.Height;
    *cw = left + w > r->f->sw ? r->f->sw - left : w;
    *ch = top + h > r->f->sh ? r->f->sh - top : h;
    for (uint32_t i = 0; i < h; i++) {
        if (imsafe__work_charge(r->job, (uint64_t)w * IMSAFE__WORK_GIF_PIXEL, "GIF rows") != 0)
            return -1;
        if (DGifGetLine(d, r->line, (int)w) == GIF_ERROR)
            return -1; /* the caller maps d->Error */
        /* every index must name a colour-table entry; a full 256-entry
         * table holds every byte, and a max over the row vectorises */
        GifPixelType top_index = 0;
        for (uint32_t x = 0; map->ColorCount < 256 && x < w; x++)
            top_index = r->line[x] > top_index ? r->line[x] : top_index;
        if (top_index >= map->ColorCount) {
            imsafe__reject(r->job, IMSAFE_R_MALFORMED_GIF_COLORMAP,
                           "image %llu: pixel index %u beyond the %d-entry colour table",
                           (unsigned long long)r->index, top_index, map->ColorCount);
            return -1;
        }
        uint32_t y = d->Image.Interlace ? interlaced_row(i, h) : i;
        if (y < *ch)
            memcpy(r->frame + (size_t)y * *cw, r->line, *cw);
    }
    return 0;
}

static int put_gce(struct rebuild *r, const struct imsafe__palette *p)
{
    const struct gif_gce *g = &r->gce;
    GifByteType b[4];
    int disposal = r->flatten ? 0 : g->disposal, delay = r->flatten ? 0 : g->delay;
    if (!g->present || (r->flatten && g->transparent < 0))
        return 0;
    b[0] = (GifByteType)((disposal << 2) | (g->transparent >= 0 ? 1 : 0));
    b[1] = (GifByteType)(delay & 0xFF);
    b[2] = (GifByteType)(delay >> 8);
    b[3] = (GifByteType)(g->transparent >= 0 ? p->map[g->transparent] : 0);
    return EGifPutExtension(r->enc, GRAPHICS_EXT_FUNC_CODE, 4, b) == GIF_ERROR ? -1 : 0;
}

/*
 * The output gate's second encoding of a frame: LZW of our own, written
 * through EGifPutCode (giflib 5.2.1 offers no control of its dictionary or
 * clear points).  Every pixel is a literal code and a clear code comes
 * before the code width would grow, so all codes are min+1 bits wide.  A
 * pixel stream crafted against giflib makes it emit literals too, so the
 * stream starts with two clear codes: every later code moves by min+1
 * bits, a different bit alignment from giflib's, and the crafted bytes
 * fall apart.  Lossless; about 9 bits a pixel.
 */
struct lzw_out {
    GifFileType *e;
    GifByteType block[256]; /* [0]: bytes in the sub-block */
    uint32_t acc;
    unsigned nbits;
    int started, failed;
};

static void lzw_flush_block(struct lzw_out *o)
{
    if (o->block[0] == 0 || o->failed)
        return;
    int rc = o->started ? EGifPutCodeNext(o->e, o->block) : EGifPutCode(o->e, 0, o->block);
    o->started = 1;
    o->failed |= rc == GIF_ERROR;
    o->block[0] = 0;
}

static void lzw_put(struct lzw_out *o, unsigned code, unsigned width)
{
    o->acc |= (uint32_t)code << o->nbits;
    o->nbits += width;
    while (o->nbits >= 8) {
        o->block[1 + o->block[0]++] = (GifByteType)(o->acc & 0xFF);
        o->acc >>= 8;
        o->nbits -= 8;
        if (o->block[0] == 255)
            lzw_flush_block(o);
    }
}

static int put_literal_lzw(struct rebuild *r, uint32_t cw, uint32_t ch)
{
    GifFileType *e = r->enc;
    /* the minimum code size giflib wrote in EGifPutImageDesc */
    const ColorMapObject *map = e->Image.ColorMap ? e->Image.ColorMap : e->SColorMap;
    unsigned m = map != NULL && map->BitsPerPixel > 2 ? (unsigned)map->BitsPerPixel : 2;
    unsigned clear = 1u << m, width = m + 1, run = 0;
    struct lzw_out o;
    memset(&o, 0, sizeof o);
    o.e = e;
    lzw_put(&o, clear, width);
    lzw_put(&o, clear, width);
    for (uint32_t i = 0; i < ch; i++) {
        const uint8_t *row = r->frame + (size_t)(r->dec->Image.Interlace ? interlaced_row(i, ch) : i) * cw;
        for (uint32_t x = 0; x < cw; x++) {
            lzw_put(&o, row[x], width);
            /* a decoder widens its codes after 2^m - 1 codes past a clear */
            if (++run == clear - 2) {
                lzw_put(&o, clear, width);
                run = 0;
            }
        }
    }
    lzw_put(&o, clear + 1, width); /* end of information */
    if (o.nbits > 0)
        o.block[1 + o.block[0]++] = (GifByteType)(o.acc & 0xFF);
    lzw_flush_block(&o);
    if (!o.failed && EGifPutCodeNext(e, NULL) == GIF_ERROR)
        o.failed = 1;
    return o.failed ? -1 : 0;
}

/* Code one decoded frame (r->frame, input indices) with its canonical
 * table: the local one when the frame has one, else the global one. */
static int encode_image(struct rebuild *r, uint32_t cw, uint32_t ch)
{
    GifFileType *d = r->dec, *e = r->enc;
    const struct imsafe__palette *p = &r->gct;
    ColorMapObject lmap, *local = NULL;
    GifColorType lcolors[256];
    if (d->Image.ColorMap != NULL) {
        /* a local table serves one frame: only its transparent entry is apart */
        uint8_t apart[256] = {0};
        int fixed[2], nf = fixed_entries(r, r->index == 1, d->Image.ColorMap->ColorCount, fixed);
        if (r->gce.present && r->gce.transparent >= 0)
            apart[r->gce.transparent & 0xFF] = 1;
        if (!IMSAFE_ASSERT(canon_table(&r->lct, d->Image.ColorMap, apart, fixed, nf) == 0)) {
            r->job->internal_error = 1;
            return -1;
        }
        p = &r->lct;
        colormap_of(p, &lmap, lcolors);
        local = &lmap;
    }
    if (!p->identity)
        imsafe__palette_remap(p->map, r->frame, (size_t)cw * ch);
    if (local == NULL && e->Image.ColorMap != NULL) {
        /* giflib 5.2.1 drops (leaks) the previous local map when an image
         * without one follows: free it here */
        GifFreeMapObject(e->Image.ColorMap);
        e->Image.ColorMap = NULL;
    }
    if (put_gce(r, p) != 0 ||
        EGifPutImageDesc(e, d->Image.Left, d->Image.Top, (int)cw, (int)ch, d->Image.Interlace,
                         local) == GIF_ERROR)
        return -1;
    if (r->job->variant)
        return put_literal_lzw(r, cw, ch);
    for (uint32_t i = 0; i < ch; i++) {
        uint32_t y = d->Image.Interlace ? interlaced_row(i, ch) : i;
        if (EGifPutLine(e, r->frame + (size_t)y * cw, (int)cw) == GIF_ERROR)
            return -1;
    }
    return 0;
}

static imsafe_status do_image(struct rebuild *r)
{
    GifFileType *d = r->dec;
    uint32_t cw, ch;
    if (DGifGetImageHeader(d) == GIF_ERROR)
        return gif_fail(r->job, d->Error);
    r->index++;
    const ColorMapObject *map = d->Image.ColorMap ? d->Image.ColorMap : d->SColorMap;
    if (map == NULL) /* the walk saw a table: giflib disagrees with us */
        return gif_fail(r->job, D_GIF_ERR_NO_COLOR_MAP);
    if (decode_image(r, map, &cw, &ch) != 0)
        return imsafe__rejected(r->job) ? IMSAFE_OK : gif_fail(r->job, d->Error);
    if (r->index == 1 && r->to_png)
        compose_first(r, map, cw, ch);
    if (r->enc != NULL && (r->index == 1 || !r->flatten) && encode_image(r, cw, ch) != 0)
        return r->job->internal_error ? IMSAFE_EINTERNAL : gif_fail(r->job, r->enc->Error);
    memset(&r->gce, 0, sizeof r->gce);
    return IMSAFE_OK;
}

static imsafe_status do_extension(struct rebuild *r)
{
    GifFileType *d = r->dec;
    int code;
    GifByteType *ext;
    if (DGifGetExtension(d, &code, &ext) == GIF_ERROR)
        return gif_fail(r->job, d->Error);
    if (code == GRAPHICS_EXT_FUNC_CODE && ext != NULL && ext[0] == 4) {
        GraphicsControlBlock gcb;
        DGifExtensionToGCB(4, ext + 1, &gcb);
        r->gce.present = 1;
        r->gce.disposal = gcb.DisposalMode;
        r->gce.delay = gcb.DelayTime;
        r->gce.transparent = gcb.TransparentColor; /* -1 when off */
    } else if (code == PLAINTEXT_EXT_FUNC_CODE) {
        memset(&r->gce, 0, sizeof r->gce);
    }
    while (ext != NULL)
        if (DGifGetExtensionNext(d, &ext) == GIF_ERROR)
            return gif_fail(r->job, d->Error);
    return IMSAFE_OK;
}

static int put_loop(struct rebuild *r)
{
    GifByteType sub[3] = {1, (GifByteType)(r->f->loop & 0xFF), (GifByteType)(r->f->loop >> 8)};
    if (r->f->loop < 0 || r->flatten || r->enc == NULL)
        return 0;
    if (EGifPutExtensionLeader(r->enc, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(r->enc, 11, "NETSCAPE2.0") == GIF_ERROR ||
        EGifPutExtensionBlock(r->enc, 3, sub) == GIF_ERROR ||
        EGifPutExtensionTrailer(r->enc) == GIF_ERROR)
        return -1;
    return 0;
}

static imsafe_status records(struct rebuild *r)
{
    GifRecordType rt;
    for (;;) {
        if (DGifGetRecordType(r->dec, &rt) == GIF_ERROR)
            return gif_fail(r->job, r->dec->Error);
        imsafe_status st = IMSAFE_OK;
        if (rt == TERMINATE_RECORD_TYPE)
            return IMSAFE_OK;
        if (rt == IMAGE_DESC_RECORD_TYPE)
            st = do_image(r);
        else if (rt == EXTENSION_RECORD_TYPE)
            st = do_extension(r);
        else
            st = gif_fail(r->job, D_GIF_ERR_WRONG_RECORD);
        if (st != IMSAFE_OK || imsafe__rejected(r->job) || r->job->alloc_failed)
            return st;
    }
}

/* Start the encoder: screen, global table, loop count. */
static imsafe_status open_encoder(struct rebuild *r)
{
    int err = 0;
    r->enc = EGifOpen(r->job, write_out, &err);
    if (r->enc == NULL)
        return gif_fail(r->job, err ? err : E_GIF_ERR_NOT_ENOUGH_MEM);
    /* always 89a: graphic control and application extensions need it,
     * and one fixed version keeps the output a fixpoint */
    EGifSetGifVersion(r->enc, true);
    ColorMapObject gmap, *global = NULL;
    GifColorType gcolors[256];
    int bg = 0;
    if (r->dec->SColorMap != NULL) {
        int fixed[2];
        int nf = fixed_entries(r, !r->f->first_local, r->dec->SColorMap->ColorCount, fixed);
        if (!IMSAFE_ASSERT(canon_table(&r->gct, r->dec->SColorMap, r->f->gct_apart, fixed, nf) ==
                           0)) {
            r->job->internal_error = 1;
            return IMSAFE_EINTERNAL;
        }
        colormap_of(&r->gct, &gmap, gcolors);
        global = &gmap;
        /* a background some frame disposes to stayed in place; otherwise
         * it follows its colour */
        bg = r->f->fix_bg ? r->f->bg : r->gct.map[r->f->bg];
    }
    if (EGifPutScreenDesc(r->enc, (int)r->f->sw, (int)r->f->sh, 8, bg, global) == GIF_ERROR ||
        put_loop(r) != 0)
        return gif_fail(r->job, r->enc->Error);
    return IMSAFE_OK;
}

/* ------------------------------------------------------- entry point */

static imsafe_status rebuild(struct imsafe__job *job, const struct gif_facts *f)
{
    struct rebuild r;
    struct gif_reader rd = {job->in, f->end, 0, f->no_trailer};
    imsafe_status st = IMSAFE_OK;
    uint64_t reserved = 0;
    int err = 0;
    memset(&r, 0, sizeof r);
    r.job = job;
    r.f = f;
    r.flatten = imsafe__opt(job->policy, IMSAFE_OPT_GIF_FLATTEN) != 0;
    r.to_png = imsafe__opt(job->policy, IMSAFE_OPT_GIF_TO_PNG) != 0;
    uint64_t want = GIFLIB_DECODER_BYTES + (r.to_png ? 0 : GIFLIB_ENCODER_BYTES);
    if (imsafe__reserve(job, want, "giflib") != 0)
        goto done;
    reserved = want;
    r.line = imsafe__alloc(job, (size_t)f->max_line + 1);
    r.frame = imsafe__alloc(job, (size_t)f->max_clip + 1);
    if (r.line == NULL || r.frame == NULL)
        goto done;
    if (r.to_png && (r.canvas = imsafe__alloc(job, (size_t)f->sw * f->sh)) == NULL)
        goto done;
    r.dec = DGifOpen(&rd, read_in, &err);
    if (r.dec == NULL) {
        st = gif_fail(job, err ? err : D_GIF_ERR_NOT_ENOUGH_MEM);
        goto done;
    }
    if (!r.to_png && ((st = open_encoder(&r)) != IMSAFE_OK || imsafe__rejected(job) ||
                      job->alloc_failed))
        goto done;
    if ((st = records(&r)) != IMSAFE_OK || imsafe__rejected(job) || job->alloc_failed)
        goto done;
    if (r.enc != NULL) {
        GifFileType *e = r.enc;
        r.enc = NULL; /* EGifCloseFile frees it, whatever it returns */
        if (EGifCloseFile(e, &err) == GIF_ERROR)
            st = gif_fail(job, err);
    } else if (r.to_png) {
        st = write_png(&r);
    }
done:
    if (r.enc != NULL)
        EGifCloseFile(r.enc, &err);
    if (r.dec != NULL)
        DGifCloseFile(r.dec, &err);
    imsafe__free(job, r.canvas);
    imsafe__free(job, r.frame);
    imsafe__free(job, r.line);
    imsafe__unreserve(job, reserved);
    return st;
}

imsafe_status imsafe__gif_sanitize(struct imsafe__job *job)
{
    struct gif_facts f;
    memset(&f, 0, sizeof f);
    walk(job, &f);
    if (imsafe__rejected(job) || job->alloc_failed)
        return IMSAFE_OK;
    if (f.frames > 1 && imsafe__check_feature(job, IMSAFE_FEATURE_GIF_ANIMATED) != 0)
        return IMSAFE_OK;
    if (imsafe__check_tail(job, job->in + f.end, job->in_len - f.end) ||
        imsafe__buf_presize(&job->out, f.end) != 0)
        return IMSAFE_OK;
    imsafe_status st = rebuild(job, &f);
    if (st != IMSAFE_OK || imsafe__rejected(job) || job->alloc_failed)
        return st;
    if (f.frames > 1 && (imsafe__opt(job->policy, IMSAFE_OPT_GIF_FLATTEN) ||
                         imsafe__opt(job->policy, IMSAFE_OPT_GIF_TO_PNG)))
        imsafe__note(job, IMSAFE_R_NOTE_ANIMATION_FLATTENED);
    if (imsafe__opt(job->policy, IMSAFE_OPT_GIF_TO_PNG)) {
        imsafe__note(job, IMSAFE_R_NOTE_CONVERTED);
        job->out_type = IMSAFE_TYPE_PNG;
    }
    imsafe__accept(job, IMSAFE_SANITIZED);
    return IMSAFE_OK;
}
