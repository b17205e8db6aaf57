/*
 * webp.c - WebP (still, alpha, animated): a strict RIFF walk of our own,
 * then a rebuild on libwebp.
 *
 * Layout (WebP container specification, RFC 9649):
 *
 *   "RIFF" u32le size "WEBP"          size = file size - 8, even
 *   chunk* = FourCC u32le n payload[n] pad[n & 1]
 *
 *   simple lossy      VP8
 *   simple lossless   VP8L
 *   extended          VP8X (10 bytes: flags, 3 reserved, canvas w-1, h-1 as u24le)
 *                     ICCP?  then either  ANIM ANMF+        (animation flag)
 *                                   or    ALPH? VP8 | VP8L  (still)
 *                     EXIF? XMP?  (unknown chunks anywhere)
 *   ANMF              x/2 y/2 w-1 h-1 duration (u24le each), flags byte,
 *                     then ALPH? VP8 | VP8L (unknown chunks dropped)
 *   ALPH              header byte (reserved 2, pre-processing 2, filter 2,
 *                     compression 2), then raw w*h bytes or a headerless
 *                     VP8L stream
 *
 * Order of work, and why: every number that sizes something (canvas,
 * frames, frame rectangles, the sum of frame areas, memory, work) is read
 * and checked by this walk before libwebp decodes a byte, and every VP8L
 * stream (still, each frame, ALPH method 1) goes through imsafe__vp8l_check()
 * first, so the input class behind CVE-2023-4863 (BLASTPASS: crafted
 * prefix codes overflowing libwebp's Huffman tables) is refused by our
 * walk, not only by a patched library.
 *
 * Allowlist: kept = pixels (a lossless input rebuilt lossless with exact
 * RGB under transparent pixels; a lossy one re-encoded at webp_quality),
 * alpha, the animation (timing, loop count, background colour), the ICC
 * profile rebuilt by icc.c, the EXIF orientation rebuilt by exif.c;
 * dropped = XMP, every other EXIF tag, unknown chunks (noted).
 *
 * Animation: libwebp's WebPAnimDecoder composites each frame onto the
 * canvas (blend and dispose applied) and WebPAnimEncoder encodes those
 * full canvases again: it stores each frame as the rectangle that changed,
 * with its own blend/dispose choice, so what a viewer shows is the input's
 * composited frames and timing; a frame identical to the one before it is
 * merged into it (its duration added), as libwebp's encoder does.  Fully
 * transparent pixels of an animation are written as 0,0,0,0 (nobody sees
 * their colour), which makes the rebuild a fixpoint.
 *
 * Memory: libwebp takes no allocator.  Its decoder's and encoder's needs
 * are bounded from the header values and reserved in the call's budget
 * (imsafe__reserve) before it runs, as for libjpeg; decoded pixels we hold
 * ourselves are charged as usual.
 *
 * Lossy quality (webp_quality, default 90): on the corpus's lossy stills
 * libwebp at 90 writes a median 1.05 times the inputs' bytes at 43 dB
 * median PSNR against the decoded input (policy.c gives the other settings
 * measured).
 */
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "imsafe_private.h"

#define FLAG_ICC 0x20
#define FLAG_ALPHA 0x10
#define FLAG_EXIF 0x08
#define FLAG_XMP 0x04
#define FLAG_ANIM 0x02
#define VP8X_BYTES 10
#define ANIM_BYTES 6
#define ANMF_HEADER 16
#define VP8_HEADER 10
#define MAX_UNKNOWN 64 /* unknown chunks dropped before the file is refused */

/* Reserve for libwebp (bytes), from the heap peaks measured over the corpus
 * and the bench set (the fuzz harness's malloc count checks them), less
 * the RGBA picture we hold ourselves (charged apart), rounded up.  The
 * lossless encoder at method 4 tries several entropy configurations, each
 * with its own histograms and backward references: about 16 MiB whatever
 * the size (a 300x300 image peaks at 15 MiB, a 390x390 palette image at
 * 34 MiB) plus 28 bytes a pixel (43 MiB for 1 MP, 141 MiB for 4 MP).  The
 * lossy path holds a YUVA picture and the encoder's token buffers: about
 * 7 bytes a pixel (a 24 MP photo peaks at 262 MiB with our RGBA). */
#define RESERVE_LOSSLESS_PX 32u
#define RESERVE_LOSSLESS_FIXED (32u << 20)
#define RESERVE_LOSSY_PX 10u
/* An animation: two decoder canvases, the encoder's previous, current and
 * candidate canvases (about 6) and one frame encoding. */
#define RESERVE_ANIM_CANVAS 8u
#define RESERVE_FIXED (8u << 20) /* tables, lines, containers */

struct chunk {
    const uint8_t *p;
    uint32_t n;
};

/* One image bitstream: the still one or one frame's. */
struct frame {
    uint32_t x, y, w, h;
    struct chunk alph, bits;
    int lossless;
};

struct walk {
    int extended, animated, lossy, alpha;
    uint8_t flags;
    uint32_t cw, ch;
    struct chunk iccp, exif, xmp, anim;
    struct frame still;
    uint32_t frames;
    uint64_t area; /* sum of frame areas */
    unsigned unknown;
    int seen_image; /* a bitstream or frame was walked: ICCP/ANIM come before */
};

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le24(const uint8_t *p)
{
    return le16(p) | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
    return le24(p) | (uint32_t)p[3] << 24;
}

static int is_id(const uint8_t *id, const char *s)
{
    return memcmp(id, s, 4) == 0;
}

/* The chunk ids the container specification defines. */
static int known_id(const uint8_t *id)
{
    static const char *const ids[] = {"VP8 ", "VP8L", "VP8X", "ALPH", "ANIM",
                                      "ANMF", "ICCP", "EXIF", "XMP "};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (is_id(id, ids[i]))
            return 1;
    return 0;
}

static int fail(struct imsafe__job *job, imsafe_reason r, const char *what)
{
    imsafe__reject(job, r, "%s", what);
    return -1;
}

/* ------------------------------------------------------------ the walk */

/* Next chunk in p[*off..end): its id and payload.  Sizes and padding are
 * checked against the enclosing chunk; the pad byte must be there (RIFF
 * pads every odd payload) but its value is not judged. */
static int next_chunk(struct imsafe__job *job, const uint8_t *p, size_t end, size_t *off,
                      const uint8_t **id, struct chunk *c)
{
    if (end - *off < 8)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_RIFF, "a chunk header runs past its container");
    uint32_t n = le32(p + *off + 4);
    size_t room = end - *off - 8;
    if (n > room || (n & 1u && n == room))
        return fail(job, IMSAFE_R_MALFORMED_WEBP_RIFF,
                    "a chunk (or its padding) runs past its container");
    *id = p + *off;
    c->p = p + *off + 8;
    c->n = n;
    *off += 8 + (size_t)n + (n & 1u);
    return 0;
}

/* VP8 key-frame header (RFC 6386 9.1): size and sanity of the tag. */
static int vp8_size(struct imsafe__job *job, const struct chunk *c, uint32_t *w, uint32_t *h)
{
    if (c->n < VP8_HEADER)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8, "VP8 frame header truncated");
    uint32_t tag = le24(c->p);
    if ((tag & 1u) != 0 || ((tag >> 1) & 7u) > 3 || ((tag >> 4) & 1u) == 0)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8, "VP8 frame is not a shown key frame");
    if ((tag >> 5) > c->n - VP8_HEADER)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8, "VP8 first partition runs past the chunk");
    if (c->p[3] != 0x9d || c->p[4] != 0x01 || c->p[5] != 0x2a)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8, "VP8 start code missing");
    *w = le16(c->p + 6) & 0x3fffu;
    *h = le16(c->p + 8) & 0x3fffu;
    if (*w == 0 || *h == 0)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8, "VP8 image of zero size");
    return 0;
}

static int vp8l_size(struct imsafe__job *job, const struct chunk *c, uint32_t *w, uint32_t *h)
{
    if (c->n < 5 || c->p[0] != 0x2f)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_VP8L, "VP8L signature or header missing");
    uint32_t v = le32(c->p + 1);
    *w = (v & 0x3fffu) + 1;
    *h = ((v >> 14) & 0x3fffu) + 1;
    return 0;
}

/* ALPH (container spec, "Alpha"): reserved bits 0, compression 0 (raw,
 * exactly w*h bytes) or 1 (VP8L, checked like any VP8L stream),
 * pre-processing 0 or 1.  Only beside a VP8 bitstream. */
static int check_alpha(struct imsafe__job *job, const struct frame *f)
{
    const struct chunk *a = &f->alph;
    if (f->lossless)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_ALPHA, "ALPH beside a lossless bitstream");
    if (a->n < 1 || (a->p[0] >> 6) != 0 || ((a->p[0] >> 4) & 3u) > 1 || (a->p[0] & 3u) > 1)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_ALPHA, "ALPH header with reserved values");
    if ((a->p[0] & 3u) == 0) {
        if ((uint64_t)a->n - 1 != (uint64_t)f->w * f->h)
            return fail(job, IMSAFE_R_MALFORMED_WEBP_ALPHA,
                        "raw ALPH data is not one byte per pixel");
        return 0;
    }
    return imsafe__vp8l_check(job, a->p + 1, a->n - 1, f->w, f->h, 1) == IMSAFE_R_NONE ? 0 : -1;
}

/* One bitstream (with its ALPH): its size must be the frame's, and VP8L
 * prefix codes are checked before libwebp builds a table from them. */
static int check_frame(struct imsafe__job *job, struct walk *w, const struct frame *f)
{
    uint32_t bw, bh;
    if (f->bits.p == NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "no image bitstream");
    if ((f->lossless ? vp8l_size(job, &f->bits, &bw, &bh) : vp8_size(job, &f->bits, &bw, &bh)))
        return -1;
    if (bw != f->w || bh != f->h) {
        imsafe__reject(job, w->animated ? IMSAFE_R_MALFORMED_WEBP_FRAME
                                        : IMSAFE_R_MALFORMED_WEBP_CHUNK,
                       "bitstream %ux%u, the container says %ux%u", (unsigned)bw,
                       (unsigned)bh, (unsigned)f->w, (unsigned)f->h);
        return -1;
    }
    if (f->alph.p != NULL && check_alpha(job, f) != 0)
        return -1;
    if (f->lossless &&
        imsafe__vp8l_check(job, f->bits.p, f->bits.n, f->w, f->h, 0) != IMSAFE_R_NONE)
        return -1;
    w->lossy |= !f->lossless;
    w->alpha |= f->alph.p != NULL || (f->lossless && (f->bits.p[4] & 0x10u));
    return 0;
}

static int count_unknown(struct imsafe__job *job, struct walk *w)
{
    if (++w->unknown > MAX_UNKNOWN)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "too many unknown chunks");
    return 0;
}

/* The image chunks of a still or of one frame: ALPH? then VP8 | VP8L;
 * unknown chunks are skipped (and dropped).  *got says a bitstream was
 * taken; a second one, or an ALPH after it, is an error. */
static int image_chunk(struct imsafe__job *job, struct walk *w, struct frame *f,
                       const uint8_t *id, const struct chunk *c)
{
    int vp8 = is_id(id, "VP8 "), vp8l = is_id(id, "VP8L");
    if (is_id(id, "ALPH")) {
        if (f->alph.p != NULL || f->bits.p != NULL)
            return fail(job, IMSAFE_R_MALFORMED_WEBP_ALPHA, "ALPH repeated or after the image");
        f->alph = *c;
        return 0;
    }
    if (!vp8 && !vp8l)
        return 1; /* not an image chunk */
    if (f->bits.p != NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "more than one image bitstream");
    f->bits = *c;
    f->lossless = vp8l;
    w->seen_image = 1;
    return 0;
}

/* ANMF: the rectangle lies inside the canvas (offsets are stored halved,
 * so they are even by construction) and holds one image. */
static int walk_anmf(struct imsafe__job *job, struct walk *w, const struct chunk *c)
{
    struct frame f = {0};
    if (!w->animated || w->anim.p == NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "ANMF without the animation flag and ANIM");
    if (c->n < ANMF_HEADER)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_FRAME, "ANMF header truncated");
    f.x = 2 * le24(c->p);
    f.y = 2 * le24(c->p + 3);
    f.w = le24(c->p + 6) + 1;
    f.h = le24(c->p + 9) + 1;
    if ((uint64_t)f.x + f.w > w->cw || (uint64_t)f.y + f.h > w->ch) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_FRAME,
                       "frame %u (%ux%u at %u,%u) outside the %ux%u canvas",
                       (unsigned)w->frames + 1, (unsigned)f.w, (unsigned)f.h, (unsigned)f.x,
                       (unsigned)f.y, (unsigned)w->cw, (unsigned)w->ch);
        return -1;
    }
    w->frames++;
    uint64_t max_frames = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_FRAMES);
    uint64_t max_area = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS);
    if (w->frames > max_frames)
        return imsafe__reject(job, IMSAFE_R_LIMIT_FRAMES, "more than %llu frames",
                              (unsigned long long)max_frames), -1;
    w->area += (uint64_t)f.w * f.h; /* both < 2^25: no overflow in 64 bits per frame */
    if (w->area > max_area)
        return imsafe__reject(job, IMSAFE_R_LIMIT_FRAME_PIXELS,
                              "frame areas add up past %llu pixels",
                              (unsigned long long)max_area), -1;
    size_t off = ANMF_HEADER;
    while (off < c->n) {
        const uint8_t *id;
        struct chunk s;
        if (next_chunk(job, c->p, c->n, &off, &id, &s) != 0)
            return -1;
        int r = image_chunk(job, w, &f, id, &s);
        if (r < 0 || (r > 0 && count_unknown(job, w) != 0))
            return -1;
    }
    return check_frame(job, w, &f);
}

/* Metadata and animation chunks of the extended format.  Each at most
 * once, in the order the specification gives, and only when the VP8X
 * flags announce them. */
static int meta_chunk(struct imsafe__job *job, struct walk *w, const uint8_t *id,
                      const struct chunk *c)
{
    struct chunk *slot = NULL;
    uint8_t flag = 0;
    if (is_id(id, "ICCP"))
        slot = &w->iccp, flag = FLAG_ICC;
    else if (is_id(id, "EXIF"))
        slot = &w->exif, flag = FLAG_EXIF;
    else if (is_id(id, "XMP "))
        slot = &w->xmp, flag = FLAG_XMP;
    else if (is_id(id, "ANIM"))
        slot = &w->anim, flag = FLAG_ANIM;
    else
        return 1;
    if (slot->p != NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "a metadata or ANIM chunk repeated");
    if (!w->extended || (w->flags & flag) == 0)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK,
                    "a chunk the VP8X flags do not announce");
    if ((flag == FLAG_ICC || flag == FLAG_ANIM) && w->seen_image)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "ICCP or ANIM after the image data");
    if (flag == FLAG_ANIM && c->n != ANIM_BYTES)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "ANIM is not 6 bytes");
    if (flag == FLAG_ICC &&
        (uint64_t)c->n > (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_ICC_BYTES))
        return imsafe__reject(job, IMSAFE_R_LIMIT_ICC_BYTES, "ICCP chunk %u bytes, limit %llu",
                              (unsigned)c->n,
                              (unsigned long long)imsafe__opt(job->policy,
                                                              IMSAFE_OPT_MAX_ICC_BYTES)), -1;
    *slot = *c;
    return 0;
}

static int check_canvas(struct imsafe__job *job, uint32_t cw, uint32_t ch)
{
    uint64_t mw = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_WIDTH_PX);
    uint64_t mh = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_HEIGHT_PX);
    uint64_t mp = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_PIXELS);
    if (cw > mw)
        return imsafe__reject(job, IMSAFE_R_LIMIT_WIDTH, "%u px wide, limit %llu", (unsigned)cw,
                              (unsigned long long)mw), -1;
    if (ch > mh)
        return imsafe__reject(job, IMSAFE_R_LIMIT_HEIGHT, "%u px tall, limit %llu",
                              (unsigned)ch, (unsigned long long)mh), -1;
    if ((uint64_t)cw * ch > mp)
        return imsafe__reject(job, IMSAFE_R_LIMIT_PIXELS, "%llu pixels, limit %llu",
                              (unsigned long long)cw * ch, (unsigned long long)mp), -1;
    return 0;
}

static int walk_vp8x(struct imsafe__job *job, struct walk *w, const struct chunk *c)
{
    if (c->n != VP8X_BYTES)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "VP8X is not 10 bytes");
    w->extended = 1;
    w->flags = c->p[0];
    w->animated = (w->flags & FLAG_ANIM) != 0;
    w->cw = le24(c->p + 4) + 1;
    w->ch = le24(c->p + 7) + 1;
    return check_canvas(job, w->cw, w->ch);
}

/* Chunks after the first, in the extended format. */
static int walk_extended(struct imsafe__job *job, struct walk *w, const uint8_t *id,
                         const struct chunk *c)
{
    if (is_id(id, "VP8X"))
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "VP8X repeated");
    int r = meta_chunk(job, w, id, c);
    if (r <= 0)
        return r;
    if (is_id(id, "ANMF"))
        return walk_anmf(job, w, c);
    if (w->animated && (is_id(id, "ALPH") || is_id(id, "VP8 ") || is_id(id, "VP8L")))
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "a still bitstream in an animation");
    r = image_chunk(job, w, &w->still, id, c);
    if (r <= 0)
        return r;
    return count_unknown(job, w);
}

/* What the flags promise and the chunks hold agree (alpha excepted: the
 * flag is a hint that encoders set for frames that may lack alpha). */
static int check_flags(struct imsafe__job *job, const struct walk *w)
{
    if (!w->extended)
        return 0;
    if (((w->flags & FLAG_ICC) != 0) != (w->iccp.p != NULL) ||
        ((w->flags & FLAG_EXIF) != 0 && w->exif.p == NULL) ||
        ((w->flags & FLAG_XMP) != 0 && w->xmp.p == NULL))
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "VP8X flags and chunks disagree");
    if (w->animated && (w->anim.p == NULL || w->frames == 0))
        return fail(job, IMSAFE_R_MALFORMED_WEBP_FRAME, "an animation without ANIM or frames");
    return 0;
}

static int walk(struct imsafe__job *job, struct walk *w)
{
    const uint8_t *p = job->in;
    size_t n = job->in_len, off = 12;
    if (n < 12 + 8 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_RIFF, "RIFF/WEBP header truncated");
    /* no tail: a polyglot's appended archive has nowhere to hide */
    if ((uint64_t)le32(p + 4) + 8 != n || (le32(p + 4) & 1u))
        return imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_RIFF,
                              "RIFF size %llu, the payload has %zu bytes after the header",
                              (unsigned long long)le32(p + 4), n - 8), -1;
    const uint8_t *id;
    struct chunk c;
    if (next_chunk(job, p, n, &off, &id, &c) != 0)
        return -1;
    if (is_id(id, "VP8X")) {
        if (walk_vp8x(job, w, &c) != 0)
            return -1;
    } else if (image_chunk(job, w, &w->still, id, &c) != 0 || w->still.bits.p == NULL) {
        return imsafe__rejected(job) ? -1
                                     : fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK,
                                            "the first chunk is not VP8X, VP8 or VP8L");
    }
    while (off < n) {
        if (next_chunk(job, p, n, &off, &id, &c) != 0)
            return -1;
        /* the simple format is one image chunk; libwebp reads no further,
         * and some encoders append RIFF INFO chunks (IART, ICMT): those
         * are dropped like any unknown chunk, a WebP chunk is an error */
        if (!w->extended && (known_id(id) || count_unknown(job, w) != 0))
            return imsafe__rejected(job)
                       ? -1
                       : fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "a WebP chunk after a "
                                                                  "simple-format image");
        if (w->extended && walk_extended(job, w, id, &c) != 0)
            return -1;
    }
    if (check_flags(job, w) != 0)
        return -1;
    if (w->animated)
        return 0;
    uint32_t bw = 0, bh = 0;
    const struct chunk *b = &w->still.bits;
    if (b->p == NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_CHUNK, "no image bitstream");
    if ((w->still.lossless ? vp8l_size(job, b, &bw, &bh) : vp8_size(job, b, &bw, &bh)) != 0)
        return -1;
    if (!w->extended) {
        w->cw = bw;
        w->ch = bh;
        if (check_canvas(job, bw, bh) != 0)
            return -1;
    }
    w->still.w = w->cw;
    w->still.h = w->ch;
    w->frames = 1;
    w->area = (uint64_t)w->cw * w->ch;
    return check_frame(job, w, &w->still);
}

/* ------------------------------------------------- policy, memory, work */

static int check_features(struct imsafe__job *job, const struct walk *w)
{
    if (w->animated && imsafe__check_feature(job, IMSAFE_FEATURE_WEBP_ANIMATED) != 0)
        return -1;
    if (w->iccp.p != NULL && imsafe__check_feature(job, IMSAFE_FEATURE_ICC_PROFILE) != 0)
        return -1;
    return 0;
}

/* libwebp's memory, from header values only.  Canvas and frame sizes are
 * below 2^24 each, so the products fit in 64 bits. */
static uint64_t reserve_bound(const struct walk *w)
{
    uint64_t px = (uint64_t)w->cw * w->ch;
    uint64_t per = w->lossy ? RESERVE_LOSSY_PX : RESERVE_LOSSLESS_PX;
    uint64_t fixed = RESERVE_FIXED + (w->lossy ? 0 : RESERVE_LOSSLESS_FIXED);
    if (w->animated)
        return px * (4u * RESERVE_ANIM_CANVAS + per) + fixed;
    return px * per + fixed;
}

/* limit.work, in the units of every format (imsafe_private.h): libwebp
 * decodes and re-encodes every pixel of a still, and for an animation
 * decodes each frame's rectangle and encodes the composited canvas once a
 * frame.  Known from the headers, so checked before libwebp runs. */
static int check_work(struct imsafe__job *job, const struct walk *w)
{
    uint64_t px = (uint64_t)w->cw * w->ch, units; /* canvas <= 2^28, frames <= 10^6 */
    if (w->animated) {
        uint64_t canvases;
        if (imsafe__mul_ovf(px, (uint64_t)w->frames, &canvases) ||
            imsafe__add_ovf(canvases, w->area, &units) ||
            imsafe__mul_ovf(units, (uint64_t)IMSAFE__WORK_WEBP_PIXEL / 2, &units))
            units = UINT64_MAX;
    } else if (imsafe__mul_ovf(px, (uint64_t)IMSAFE__WORK_WEBP_PIXEL, &units)) {
        units = UINT64_MAX;
    }
    return imsafe__work_expect(job, units, "WebP pixels");
}

/* ------------------------------------------------------------- metadata */

struct meta {
    uint8_t *icc; /* rebuilt profile (budget), or NULL */
    size_t icc_len;
    uint8_t exif[64]; /* rebuilt orientation-only TIFF block */
    size_t exif_len;
};

static int keep_icc(struct imsafe__job *job, const struct walk *w, struct meta *m)
{
    if (w->iccp.p == NULL)
        return 0;
    if (!imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ICC)) {
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        return 0;
    }
    /* never the sender's bytes: a profile written anew from its numbers */
    int kind = imsafe__icc_rebuild(job, w->iccp.p, w->iccp.n, 3, &m->icc, &m->icc_len);
    if (kind == IMSAFE__ICC_FAILED)
        return -1;
    if (kind == IMSAFE__ICC_DROPPED) {
        imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        imsafe__detail(job, "ICC profile dropped: no matrix/TRC rebuild for this image");
    }
    return 0;
}

/* WebP's EXIF chunk holds the TIFF structure itself; some writers put the
 * JPEG APP1 identifier first.  exif.c reads the APP1 form. */
static int orientation(struct imsafe__job *job, const struct chunk *c)
{
    static const uint8_t id[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (c->n >= 6 && memcmp(c->p, id, 6) == 0)
        return imsafe__exif_orientation(c->p, c->n);
    uint8_t *t = imsafe__alloc(job, (size_t)c->n + 6);
    if (t == NULL)
        return -2;
    memcpy(t, id, 6);
    memcpy(t + 6, c->p, c->n);
    int o = imsafe__exif_orientation(t, (size_t)c->n + 6);
    imsafe__free(job, t);
    return o;
}

static int keep_exif(struct imsafe__job *job, const struct walk *w, struct meta *m)
{
    if (w->xmp.p != NULL)
        imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
    if (w->exif.p == NULL)
        return 0;
    int o = imsafe__opt(job->policy, IMSAFE_OPT_KEEP_ORIENTATION) ? orientation(job, &w->exif)
                                                                  : 0;
    if (o == -2)
        return -1;
    if (o == -1)
        imsafe__note(job, IMSAFE_R_NOTE_EXIF_IGNORED);
    uint8_t app1[64];
    size_t n = o >= 2 ? imsafe__exif_build(o, app1, sizeof app1) : 0;
    if (n > 6) { /* the chunk takes the TIFF structure without "Exif\0\0" */
        m->exif_len = n - 6;
        memcpy(m->exif, app1 + 6, m->exif_len);
        imsafe__note(job, IMSAFE_R_NOTE_ORIENTATION_KEPT);
    }
    if (m->exif_len != w->exif.n || memcmp(m->exif, w->exif.p, m->exif_len) != 0)
        imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
    return 0;
}

/* Put the rebuilt ICC profile and EXIF block around an encoded image
 * (WebPMux writes the VP8X header and its flags), then into the output. */
static int emit(struct imsafe__job *job, const WebPData *img, const struct meta *m)
{
    if (m->icc == NULL && m->exif_len == 0)
        return imsafe__buf_append(&job->out, img->bytes, img->size);
    int rc = -1;
    WebPData out = {NULL, 0};
    WebPMux *mux = WebPMuxCreate(img, 0);
    WebPData icc = {m->icc, m->icc_len}, exif = {m->exif, m->exif_len};
    if (mux == NULL)
        goto done;
    if (m->icc != NULL && WebPMuxSetChunk(mux, "ICCP", &icc, 0) != WEBP_MUX_OK)
        goto done;
    if (m->exif_len > 0 && WebPMuxSetChunk(mux, "EXIF", &exif, 0) != WEBP_MUX_OK)
        goto done;
    if (WebPMuxAssemble(mux, &out) != WEBP_MUX_OK)
        goto done;
    rc = imsafe__buf_append(&job->out, out.bytes, out.size);
done:
    if (rc != 0 && !imsafe__rejected(job) && !job->alloc_failed)
        job->alloc_failed = 1; /* libwebpmux fails only when malloc does */
    WebPDataClear(&out);
    WebPMuxDelete(mux);
    return rc;
}

/* ------------------------------------------------------------- encoding */

/* Lossy canvases over 4 MP are encoded at method 2 instead of libwebp's
 * default 4.  The rate-distortion search of method 4 costs in proportion
 * to the picture's detail, which the sender controls: the corpus's 24 MP
 * photo (bryce.webp, 3.5 MB) took 10.2 s of CPU at method 4 and 2.2 s at
 * method 2 (cwebp -q 90, this machine), for 2.3% more bytes. */
#define LOSSY_FAST_PIXELS (4u << 20)

/* The encoder settings: lossless with exact RGB under transparent pixels
 * (libwebp otherwise recolours them), or lossy at webp_quality.  The
 * output gate's second encoding (variant) changes the method, which
 * changes every byte of the entropy-coded data and keeps the pixels.  A
 * lossy variant also uses one segment instead of four: the method alone
 * can leave the frame header and the first partition (the bytes the gate's
 * short tag rules read, within the first 512) as they were, so a chance
 * hit there came back in the second encoding (found by fuzz_webp; the
 * input is in fuzz/regress/webp). */
static int encoder_config(struct imsafe__job *job, const struct walk *w, WebPConfig *cfg)
{
    if (!WebPConfigInit(cfg))
        return -1;
    if (w->lossy) {
        cfg->quality = (float)imsafe__opt(job->policy, IMSAFE_OPT_WEBP_QUALITY);
        if ((uint64_t)w->cw * w->ch > LOSSY_FAST_PIXELS)
            cfg->method = 2;
    } else {
        cfg->lossless = 1;
        cfg->exact = 1;
    }
    cfg->thread_level = 0;
    if (job->variant) {
        cfg->method = 3;
        if (w->lossy)
            cfg->segments = 1;
    }
    return WebPValidateConfig(cfg) ? 0 : -1;
}

static int writer(const uint8_t *data, size_t n, const WebPPicture *pic)
{
    struct imsafe__buf *b = pic->custom_ptr;
    return imsafe__buf_append(b, data, n) == 0;
}

static imsafe_reason decode_reason(const struct walk *w, VP8StatusCode st)
{
    if (st == VP8_STATUS_NOT_ENOUGH_DATA)
        return IMSAFE_R_MALFORMED_TRUNCATED;
    return w->still.lossless ? IMSAFE_R_MALFORMED_WEBP_VP8L : IMSAFE_R_MALFORMED_WEBP_VP8;
}

struct still {
    uint8_t *rgba;
    uint32_t w, h;
};

static const uint8_t *still_row(void *opaque, uint32_t y)
{
    const struct still *s = opaque;
    return s->rgba + (size_t)y * s->w * 4u;
}

static int decode_still(struct imsafe__job *job, const struct walk *w, struct still *s)
{
    WebPDecoderConfig dc;
    size_t bytes = (size_t)w->cw * w->ch * 4u;
    if (!WebPInitDecoderConfig(&dc))
        return -1;
    s->w = w->cw;
    s->h = w->ch;
    if ((s->rgba = imsafe__alloc(job, bytes)) == NULL)
        return -1;
    /* into our own (charged) buffer: libwebp allocates no picture */
    dc.output.colorspace = MODE_RGBA;
    dc.output.is_external_memory = 1;
    dc.output.u.RGBA.rgba = s->rgba;
    dc.output.u.RGBA.stride = (int)w->cw * 4;
    dc.output.u.RGBA.size = bytes;
    dc.options.use_threads = 0;
    VP8StatusCode st = WebPDecode(job->in, job->in_len, &dc);
    WebPFreeDecBuffer(&dc.output);
    if (st != VP8_STATUS_OK)
        return imsafe__reject(job, decode_reason(w, st), "libwebp could not decode the image "
                              "(status %d)", (int)st), -1;
    return 0;
}

static int encode_still(struct imsafe__job *job, const struct walk *w, const struct still *s,
                        struct imsafe__buf *tmp)
{
    WebPConfig cfg;
    WebPPicture pic;
    int rc = -1;
    if (encoder_config(job, w, &cfg) != 0 || !WebPPictureInit(&pic)) {
        job->internal_error = 1; /* our settings are valid by construction */
        return -1;
    }
    pic.width = (int)s->w;
    pic.height = (int)s->h;
    /* lossy: straight into YUVA, without an ARGB copy of the picture */
    pic.use_argb = !w->lossy;
    int ok = w->alpha ? WebPPictureImportRGBA(&pic, s->rgba, (int)s->w * 4)
                      : WebPPictureImportRGBX(&pic, s->rgba, (int)s->w * 4);
    if (!ok) {
        job->alloc_failed = 1;
        goto done;
    }
    pic.writer = writer;
    pic.custom_ptr = tmp;
    if (!WebPEncode(&cfg, &pic)) {
        if (!imsafe__rejected(job))
            job->alloc_failed = 1; /* valid config and pixels: only memory fails */
        goto done;
    }
    rc = 0;
done:
    WebPPictureFree(&pic);
    return rc;
}

static int rebuild_still(struct imsafe__job *job, const struct walk *w, const struct meta *m)
{
    struct still s = {NULL, 0, 0};
    struct imsafe__buf tmp;
    int rc = -1;
    imsafe__buf_init(&tmp, job);
    if (decode_still(job, w, &s) != 0)
        goto done;
    if (imsafe__opt(job->policy, IMSAFE_OPT_WEBP_TO) == IMSAFE_WEBP_TO_PNG) {
        /* png_encode.c writes no profile or EXIF: both are noted dropped */
        if (w->iccp.p != NULL)
            imsafe__note(job, IMSAFE_R_NOTE_ICC_DROPPED);
        if (m->exif_len > 0)
            imsafe__note(job, IMSAFE_R_NOTE_METADATA_DROPPED);
        if (!w->alpha) /* as the WebP rebuild (RGBX) and every decoder show it */
            for (size_t i = 3; i < (size_t)s.w * s.h * 4u; i += 4)
                s.rgba[i] = 255;
        rc = imsafe__png_encode_indexed(job, s.w, s.h, NULL, 0, -1, still_row, &s);
        if (rc == 0) {
            imsafe__note(job, IMSAFE_R_NOTE_CONVERTED);
            job->out_type = IMSAFE_TYPE_PNG;
        }
        goto done;
    }
    if (encode_still(job, w, &s, &tmp) != 0)
        goto done;
    WebPData img = {tmp.data, tmp.len};
    rc = emit(job, &img, m);
done:
    imsafe__free(job, s.rgba);
    imsafe__buf_free(&tmp);
    return rc;
}

/* Fully transparent pixels to 0,0,0,0: their colour is never shown, and
 * libwebp's animation encoder does not keep it anyway. */
static void clear_transparent(uint8_t *rgba, size_t px)
{
    for (size_t i = 0; i < px; i++)
        if (rgba[4 * i + 3] == 0)
            memset(rgba + 4 * i, 0, 4);
}

struct anim {
    WebPAnimDecoder *dec;
    WebPAnimEncoder *enc;
    WebPPicture pic;
    uint8_t *canvas; /* our copy of the decoded canvas (budget) */
    WebPData out;
};

static int anim_open(struct imsafe__job *job, const struct walk *w, struct anim *a)
{
    WebPAnimDecoderOptions dopt;
    WebPAnimEncoderOptions eopt;
    WebPAnimInfo info;
    WebPData in = {job->in, job->in_len};
    if (!WebPAnimDecoderOptionsInit(&dopt) || !WebPAnimEncoderOptionsInit(&eopt) ||
        !WebPPictureInit(&a->pic))
        return job->internal_error = 1, -1;
    dopt.color_mode = MODE_RGBA;
    dopt.use_threads = 0;
    if ((a->dec = WebPAnimDecoderNew(&in, &dopt)) == NULL)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_FRAME, "libwebp refused the animation");
    if (!WebPAnimDecoderGetInfo(a->dec, &info) || info.canvas_width != w->cw ||
        info.canvas_height != w->ch || info.frame_count != w->frames)
        return fail(job, IMSAFE_R_MALFORMED_WEBP_FRAME, "libwebp sees another animation");
    eopt.anim_params.loop_count = (int)info.loop_count;
    eopt.anim_params.bgcolor = info.bgcolor;
    eopt.allow_mixed = 0;
    if ((a->enc = WebPAnimEncoderNew((int)w->cw, (int)w->ch, &eopt)) == NULL)
        return job->alloc_failed = 1, -1;
    a->pic.width = (int)w->cw;
    a->pic.height = (int)w->ch;
    a->pic.use_argb = 1;
    a->canvas = imsafe__alloc(job, (size_t)w->cw * w->ch * 4u);
    return a->canvas == NULL ? -1 : 0;
}

/* Every composited frame of the input into the encoder, at the time it
 * starts; the decoder reports the time each frame ends. */
static int anim_frames(struct imsafe__job *job, const struct walk *w, struct anim *a)
{
    WebPConfig cfg;
    int start = 0;
    size_t px = (size_t)w->cw * w->ch;
    if (encoder_config(job, w, &cfg) != 0)
        return job->internal_error = 1, -1;
    while (WebPAnimDecoderHasMoreFrames(a->dec)) {
        uint8_t *buf;
        int end;
        if (!WebPAnimDecoderGetNext(a->dec, &buf, &end))
            return fail(job, w->lossy ? IMSAFE_R_MALFORMED_WEBP_VP8 : IMSAFE_R_MALFORMED_WEBP_VP8L,
                        "libwebp could not decode a frame");
        memcpy(a->canvas, buf, px * 4u);
        clear_transparent(a->canvas, px);
        if (!WebPPictureImportRGBA(&a->pic, a->canvas, (int)w->cw * 4) ||
            !WebPAnimEncoderAdd(a->enc, &a->pic, start, &cfg))
            return job->alloc_failed = 1, -1;
        start = end;
    }
    if (!WebPAnimEncoderAdd(a->enc, NULL, start, NULL) ||
        !WebPAnimEncoderAssemble(a->enc, &a->out))
        return job->alloc_failed = 1, -1;
    return 0;
}

static int rebuild_anim(struct imsafe__job *job, const struct walk *w, const struct meta *m)
{
    struct anim a;
    memset(&a, 0, sizeof a);
    int rc = anim_open(job, w, &a);
    if (rc == 0)
        rc = anim_frames(job, w, &a);
    if (rc == 0)
        rc = emit(job, &a.out, m);
    WebPDataClear(&a.out);
    WebPPictureFree(&a.pic);
    WebPAnimEncoderDelete(a.enc);
    WebPAnimDecoderDelete(a.dec);
    imsafe__free(job, a.canvas);
    return rc;
}

/* ------------------------------------------------------------ entry */

imsafe_status imsafe__webp_sanitize(struct imsafe__job *job)
{
    struct walk w;
    struct meta m;
    uint64_t reserved = 0;
    memset(&w, 0, sizeof w);
    memset(&m, 0, sizeof m);
    if (walk(job, &w) != 0 || check_features(job, &w) != 0 || check_work(job, &w) != 0)
        goto done;
    if (imsafe_policy_action(job->policy, IMSAFE_TYPE_WEBP) == IMSAFE_ACTION_PASS) {
        /* "action webp = pass" (0.1.0 policies): the walk and the VP8L
         * check still judge it, and the caller forwards its own bytes */
        imsafe__accept(job, IMSAFE_PASSED);
        goto done;
    }
    if (w.unknown > 0)
        imsafe__note(job, IMSAFE_R_NOTE_EXTENSIONS_DROPPED);
    if (keep_icc(job, &w, &m) != 0 || keep_exif(job, &w, &m) != 0)
        goto done;
    uint64_t bound = reserve_bound(&w);
    if (imsafe__reserve(job, bound, "libwebp") != 0)
        goto done;
    reserved = bound;
    if ((w.animated ? rebuild_anim(job, &w, &m) : rebuild_still(job, &w, &m)) != 0)
        goto done;
    if (w.animated)
        imsafe__detail(job, "%u frames, %s", (unsigned)w.frames, w.lossy ? "lossy" : "lossless");
    imsafe__accept(job, IMSAFE_SANITIZED);
done:
    imsafe__unreserve(job, reserved);
    imsafe__free(job, m.icc);
    if (!imsafe__rejected(job) && job->verdict == 0 && !job->alloc_failed &&
        !job->internal_error)
        imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_RIFF, "the WebP could not be rebuilt");
    return IMSAFE_OK;
}
