/*
 * imsafe_private.h - declarations shared across libimsafe's own files.
 * Nothing here is public; every cross-file name starts with imsafe__.
 */
#ifndef IMSAFE_PRIVATE_H
#define IMSAFE_PRIVATE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <zlib.h>

#include "imsafe.h"

#define IMSAFE_MAX_NOTES 16
#define IMSAFE_DETAIL_MAX 256
/* imsafe_sink.chunk_bytes: the default and the range */
#define IMSAFE__SINK_CHUNK 65536
#define IMSAFE__SINK_CHUNK_MIN 512
#define IMSAFE__SINK_CHUNK_MAX 16777216
#define IMSAFE_LABEL_MAX 64
#define IMSAFE_KILL_MSG_MAX 201

/* An invariant of our own code.  Debug builds (--enable-debug) abort; release
 * builds evaluate to 0 so the caller returns IMSAFE_EINTERNAL and poisons the
 * context, as curl bans assert() in its library. */
#ifdef IMSAFE_DEBUG
#define IMSAFE_ASSERT(cond) ((cond) ? 1 : (abort(), 0))
#else
#define IMSAFE_ASSERT(cond) ((cond) ? 1 : 0)
#endif

/* Checked arithmetic on attacker-controlled numbers: 1 when it overflowed. */
#define imsafe__mul_ovf(a, b, r) __builtin_mul_overflow((a), (b), (r))
#define imsafe__add_ovf(a, b, r) __builtin_add_overflow((a), (b), (r))

/* ------------------------------------------------------------------ policy */

struct imsafe__kill {
    int active;
    int64_t expires; /* 0 = never */
    char message[IMSAFE_KILL_MSG_MAX];
};

struct imsafe_policy {
    int frozen;
    int refs; /* atomic */
    long header_version;
    int64_t opt[IMSAFE_OPT_WEBP_TO + 1];
    unsigned char action[IMSAFE_TYPE_COUNT];
    struct imsafe__kill kill_type[IMSAFE_TYPE_COUNT];
    struct imsafe__kill kill_feature[IMSAFE_FEATURE_COUNT];
    char label[IMSAFE_LABEL_MAX];
};

/* Option table (policy.c): name, range, default.  Used by the parser too. */
struct imsafe__optdef {
    imsafe_opt opt;
    const char *name; /* policy-file key */
    int64_t min, max, def;
};
extern const struct imsafe__optdef imsafe__optdefs[];
extern const size_t imsafe__optdef_count;
const struct imsafe__optdef *imsafe__optdef_find(const char *name, size_t len);
const struct imsafe__optdef *imsafe__optdef_get(imsafe_opt opt);

static inline int64_t imsafe__opt(const struct imsafe_policy *p, imsafe_opt o)
{
    return p->opt[o];
}

/* Is the kill switch for this type / feature on at time now? */
const struct imsafe__kill *imsafe__killed_type(const struct imsafe_policy *p,
                                               imsafe_type t, int64_t now);
const struct imsafe__kill *imsafe__killed_feature(const struct imsafe_policy *p,
                                                  imsafe_feature f, int64_t now);
/* The modules' kill-switch check (imsafe.c): when the operator switched
 * feature f off, reject the job as policy.killed_feature, naming the
 * feature and the operator's message, and return -1; else 0. */
struct imsafe__job;
int imsafe__check_feature(struct imsafe__job *job, imsafe_feature f);

/* ------------------------------------------------------------------- scan */

/*
 * The one scanner for foreign formats (scan.c): tails, passed payloads and
 * the output gate.  One linear pass, fed in pieces of any size; each check
 * looks at most IMSAFE__SCAN_WINDOW bytes ahead.
 *   TAIL     bytes after an image's end: strong signatures anywhere
 *   OUTPUT   a sanitized output: each signature where its reader looks
 *   PAYLOAD  a payload passed as is: signatures where their readers look,
 *            plus executables at offset 0
 *            (judged on the first piece fed: feed a whole payload at once)
 */
#define IMSAFE__SCAN_WINDOW 128
/* At most this many start bytes: the scanner leaps to each with memchr. */
#define IMSAFE__SCAN_FEW 4
#define IMSAFE__SCAN_CDIRS 64 /* ZIP central headers remembered */
#define IMSAFE__SCAN_ENDS 16  /* ZIP end records within reach of the end */
enum imsafe__scan_mode { IMSAFE__SCAN_TAIL = 1, IMSAFE__SCAN_OUTPUT, IMSAFE__SCAN_PAYLOAD };
struct imsafe__scan_hit {
    imsafe_reason reason; /* a polyglot.* reason; IMSAFE_R_NONE: no hit */
    uint64_t offset;      /* where the signature starts */
    const char *what;     /* constant text for details */
};
struct imsafe__scan_end {
    uint64_t off;
    uint32_t cd_size, cd_off;
    unsigned entries;
};
struct imsafe__scan {
    enum imsafe__scan_mode mode;
    unsigned modes;
    uint64_t off;     /* absolute offset of carry[0] */
    size_t carry_len; /* positions not scanned yet (<= window) */
    uint8_t carry[2 * IMSAFE__SCAN_WINDOW];
    struct imsafe__scan_hit hit;
    uint64_t cdir[IMSAFE__SCAN_CDIRS];
    size_t ncdir;
    int cdir_overflow;
    struct imsafe__scan_end end[IMSAFE__SCAN_ENDS];
    size_t nend;
    uint64_t end_overflow; /* 1 + offset, 0: none */
    uint64_t pdf_tail;     /* 1 + offset of the last trailer keyword, 0: none */
    imsafe_type head_type;
    int head_known; /* head_type given by the caller: not sniffed again */
    /* signature groups by first byte (and after '<' by the second): the
     * table's indices in order, each group's start and length */
    uint8_t order[64];
    uint32_t pre_mask[64], pre_val[64]; /* their first bytes, by order (scan.c) */
    uint8_t starts[256]; /* bytes that start one of them, in either case if nocase */
    uint8_t grp_start[256], grp_len[256];
    uint8_t lt_start[256], lt_len[256];
    unsigned skip; /* payload scans: signature classes left out (scan.c) */
};
void imsafe__scan_init(struct imsafe__scan *s, enum imsafe__scan_mode mode);
void imsafe__scan_feed(struct imsafe__scan *s, const uint8_t *p, size_t n);
/* Finish the pass: 1 and *hit filled (hit may be NULL) when something was
 * found, else 0. */
int imsafe__scan_end(struct imsafe__scan *s, struct imsafe__scan_hit *hit);
/* init + feed + end over one buffer. */
int imsafe__scan_buf(const uint8_t *p, size_t n, enum imsafe__scan_mode mode,
                     struct imsafe__scan_hit *hit);
/* PAYLOAD mode over a whole payload passed as is, of type t: t must be
 * imsafe__sniff(p, n), as imsafe.c's pipeline has it (its own format's
 * signatures are no finding, and the payload is not sniffed twice). */
int imsafe__scan_payload(const uint8_t *p, size_t n, imsafe_type t,
                         struct imsafe__scan_hit *hit);
/* The next position at or after i (i <= n) whose byte is in a set of a few
 * bytes (the PDF parser's keyword letters, a passed payload's signature
 * starts; scan.c).  The 16 bytes from i are looked up in the set's table,
 * so close matches (a flood) cost what a table walk costs; after them,
 * memchr finds each byte's next occurrence, which is looked for again only
 * once it is passed: every byte is read a bounded number of times. */
struct imsafe__seek {
    const uint8_t *p;
    size_t n;
    const uint8_t *in_set; /* 256 entries, nonzero for the set's bytes */
    unsigned nbytes;
    int many; /* more than IMSAFE__SCAN_FEW: no leaps, the table walks */
    uint8_t bytes[IMSAFE__SCAN_FEW];
    size_t next[IMSAFE__SCAN_FEW]; /* each byte's next position; SIZE_MAX
                                    * until it is looked for */
};
void imsafe__seek_init(struct imsafe__seek *k, const uint8_t *p, size_t n, const uint8_t *in_set);
size_t imsafe__seek_leap(struct imsafe__seek *k, size_t i);
static inline size_t imsafe__seek_next(struct imsafe__seek *k, size_t i)
{
    size_t stop = k->n - i > 16 ? i + 16 : k->n;
    for (; i < stop; i++)
        if (k->in_set[k->p[i]])
            return i;
    return i < k->n ? imsafe__seek_leap(k, i) : k->n;
}

/* ------------------------------------------------------------------- job */

struct imsafe__buf {
    uint8_t *data;
    size_t len, cap;
    struct imsafe__job *job;
    /* imsafe_sanitize_to(): full chunks go to the sink; data holds at most
     * one chunk (cap == chunk) and sent counts what the sink took */
    const imsafe_sink *sink;
    size_t chunk;
    uint64_t sent;
    /* the output gate's scanner, fed each piece before the sink gets it
     * (a sink with rewind); NULL otherwise */
    struct imsafe__scan *scan;
};

/*
 * One sanitize call.  Owned by imsafe.c; format modules receive a pointer.
 * Modules set the verdict through imsafe__reject()/imsafe__accept() and add
 * notes with imsafe__note(); output goes into job->out.
 */
struct imsafe__job {
    const struct imsafe_policy *policy;
    imsafe_allocator alloc;
    uint64_t budget;  /* bytes this call may have charged at once */
    uint64_t charged; /* bytes charged now */
    uint64_t peak;    /* most bytes charged at once */
    int alloc_failed; /* the allocator returned NULL under budget */
    int sink_failed;  /* the host's output sink refused a write */
    int internal_error;
    int64_t now;      /* time of the call, for kill-switch expiry */
    /* work accounting (budget.c): units charged so far against max_work,
     * and the per-call CPU deadline (max_cpu_ms) read every
     * IMSAFE__WORK_POLL units charged */
    uint64_t work;
    uint64_t work_poll; /* the clock is read when work reaches this */
    int64_t cpu_deadline_ns; /* thread CPU time to stop at; 0: no deadline */

    const uint8_t *in;
    size_t in_len;
    const char *claimed_name;
    const char *claimed_mime;
    const char *display_name; /* the safe display name; its extension is the claim */
    imsafe_type type;
    imsafe_type out_type; /* format of the output when it differs from type (GIF to PNG) */
    int depth; /* archive nesting */

    imsafe_verdict verdict; /* 0 while undecided */
    imsafe_reason reason;
    imsafe_reason notes[IMSAFE_MAX_NOTES];
    size_t note_count;
    char detail[IMSAFE_DETAIL_MAX];
    struct imsafe__buf out;

    /* The output gate (imsafe.c).  variant 0: the module's usual encoding;
     * 1: the second encoding after the first output was hit (gate_hit says
     * where), which must change the bytes and stays lossless where the
     * format allows.  held_sink: a host sink without rewind, which gets
     * the output only after the gate passed it. */
    int variant;
    struct imsafe__scan_hit gate_hit;
    const imsafe_sink *held_sink;
    size_t held_chunk;
    /* archive listing hook (tests only, see imsafe__ctx_set_lister) */
    struct imsafe__lister {
        void (*fn)(void *opaque, int depth, const uint8_t *name, size_t nlen, uint64_t size,
                   int kind);
        void *opaque;
    } lister;
};

/* Reject with one reason; the first rejection wins, later ones are ignored.
 * fmt must format only numbers and constant strings (never input bytes);
 * the result is forced to printable ASCII anyway.  Returns IMSAFE_OK so a
 * module can `return imsafe__reject(...)`. */
imsafe_status imsafe__reject(struct imsafe__job *job, imsafe_reason reason,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add a note (deduplicated); ignored after a rejection. */
void imsafe__note(struct imsafe__job *job, imsafe_reason note);
/* Append to the detail of an accepted payload ("; "-separated). */
void imsafe__detail(struct imsafe__job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int imsafe__rejected(const struct imsafe__job *job)
{
    return job->verdict == IMSAFE_REJECTED;
}
/* Printable-ASCII formatting into a fixed buffer (result.c). */
void imsafe__vformat(char *dst, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* ----------------------------------------------------------------- budget */

/* Allocate n bytes charged to the call.  Over budget: rejects the job with
 * limit.memory and returns NULL.  Allocator failure under budget: marks
 * job->alloc_failed and returns NULL.  imsafe__free(job, NULL) is fine. */
void *imsafe__alloc(struct imsafe__job *job, size_t n);
void *imsafe__calloc(struct imsafe__job *job, size_t count, size_t size);
void imsafe__free(struct imsafe__job *job, void *p);
/* Free a block imsafe__alloc() made after its job has ended (the result's
 * output buffer). */
/* Uncharge a block whose ownership leaves the call (into the result). */
void imsafe__detach(struct imsafe__job *job, void *p);
void imsafe__free_detached(const imsafe_allocator *a, void *p);
/* Reserve bytes for a library that cannot take our allocator (libjpeg,
 * giflib).  0 on success; on failure the job is rejected (limit.memory). */
int imsafe__reserve(struct imsafe__job *job, uint64_t n, const char *what);
void imsafe__unreserve(struct imsafe__job *job, uint64_t n);
/* zlib-shaped callbacks charging the job (opaque = job). */
void *imsafe__zalloc(void *opaque, unsigned items, unsigned size);
void imsafe__zfree(void *opaque, void *p);
/* inflateInit2() on a cleared stream whose memory is charged to the job.
 * 0 on success; -1 when zlib could not allocate (the job says why). */
int imsafe__inflate_init(struct imsafe__job *job, z_stream *zs, int window_bits);

/*
 * Work accounting: decoding and re-encoding work in units that do not
 * depend on the machine, against max_work (limit.work).  One unit is about
 * what libjpeg spends on one coefficient of one block in one scan; the
 * other formats charge their own operations in the same currency (the
 * weights below were measured against it, see policy.c).
 *   expect  up front, from header values: would `units` more exceed the
 *           limit?  Rejects (limit.work) and returns -1; charges nothing.
 *   charge  as the work happens (per row, frame or chunk): adds, rejects
 *           over the limit, and reads the CPU clock every
 *           IMSAFE__WORK_POLL units when max_cpu_ms is set (limit.time).
 *   clock   reads the CPU clock now (loops that count no units, such as
 *           libjpeg's progress monitor); 0 when no deadline is set.
 * All return 0 to go on, -1 after rejecting the job.
 */
#define IMSAFE__WORK_POLL (1u << 22) /* about 1 ms of work */
/* The units charge what the declared image makes a call do, which a small
 * file controls; the entropy coding of the bytes actually sent costs on top
 * of that in proportion to the input (20-50 ns a byte here, as for JPEG's
 * Huffman data), which max_input_bytes bounds.
 * PNG: per byte of filtered scanlines, all passes (inflate, unfilter,
 * filter choice, deflate: 10-13 ns a byte of zero rows).
 * GIF: per pixel of each frame (LZW walk, decode, index check and LZW
 * coding: 8-10 ns a pixel of blank frames). */
#define IMSAFE__WORK_PNG_BYTE 40u
#define IMSAFE__WORK_GIF_PIXEL 40u
/* WebP: per pixel of a still (libwebp's decode and re-encode of a blank
 * image, lossy or lossless: 46-52 ns a pixel, so about 0.33 ns a unit:
 * the largest blank still the default allows, 26 MP, costs about 1.3 s and
 * the corpus's 24 MP photo passes); an animation counts half for each
 * frame's rectangle decoded and half for each canvas encoded */
#define IMSAFE__WORK_WEBP_PIXEL 150u
int imsafe__work_expect(struct imsafe__job *job, uint64_t units, const char *what);
int imsafe__work_charge(struct imsafe__job *job, uint64_t units, const char *what);
int imsafe__work_clock(struct imsafe__job *job);
/* Start the call's CPU deadline from the policy (imsafe.c, once). */
void imsafe__work_start(struct imsafe__job *job);

/* ----------------------------------------------------------------- buffer */

void imsafe__buf_init(struct imsafe__buf *b, struct imsafe__job *job);
/* Append n bytes, growing geometrically.  0 on success, -1 on failure (the
 * job is rejected or marked alloc_failed). */
int imsafe__buf_append(struct imsafe__buf *b, const void *p, size_t n);
/* Direct writers (libjpeg's destination): make free room at data + len,
 * ideally want bytes, at least one.  With a sink, full chunks are sent
 * first and the room is what is left of one chunk. */
int imsafe__buf_room(struct imsafe__buf *b, size_t want);
/* Reserve room for an output about the size of an input of input_len (one
 * chunk with a sink). */
int imsafe__buf_presize(struct imsafe__buf *b, size_t input_len);
/* Send what is held to the sink (no-op without one).  0 or -1. */
int imsafe__buf_flush(struct imsafe__buf *b);
/* Bytes written so far: held plus sent. */
uint64_t imsafe__buf_total(const struct imsafe__buf *b);
/* Forget the output for a second encoding: a streaming sink is rewound
 * (0, or -1 when its rewind failed: sink_failed is set). */
int imsafe__buf_restart(struct imsafe__buf *b);
/* Send a whole held output to sink in pieces of chunk bytes; afterwards
 * the buffer counts as sent to that sink.  0 or -1 (sink_failed set). */
int imsafe__buf_deliver(struct imsafe__buf *b, const imsafe_sink *sink, size_t chunk);
void imsafe__buf_free(struct imsafe__buf *b);

/* ------------------------------------------------------------------ sniff */

/* The type of a payload, from its content only. */
imsafe_type imsafe__sniff(const uint8_t *p, size_t n);
/* For an unknown payload: the image type whose damaged signature it has. */
imsafe_type imsafe__sniff_damaged(const uint8_t *p, size_t n);
/* Classes the pipeline and the tail checks reason about. */
enum imsafe__class {
    IMSAFE_CLASS_UNKNOWN = 0,
    IMSAFE_CLASS_IMAGE,      /* png jpeg gif webp bmp tiff ico heic heif avif mng */
    IMSAFE_CLASS_MEDIA,      /* audio and video */
    IMSAFE_CLASS_DOCUMENT,   /* pdf rtf ole2 office */
    IMSAFE_CLASS_ARCHIVE,    /* zip gzip 7z rar (jar and apk run: executables) */
    IMSAFE_CLASS_EXECUTABLE, /* pe elf macho class dex lnk jar apk */
    IMSAFE_CLASS_SCRIPT,
    IMSAFE_CLASS_ACTIVE,     /* html svg xml mvg */
    IMSAFE_CLASS_TEXT
};
enum imsafe__class imsafe__type_class(imsafe_type t);
/* Is this type one of those a claimed name extension or MIME type names?
 * Returns the type a name's extension implies, or UNKNOWN. */
imsafe_type imsafe__type_from_extension(const char *name);
imsafe_type imsafe__type_from_mime(const char *mime);
/* Extension or MIME that names an executable or script. */
int imsafe__mime_is_dangerous(const char *mime);
/* The one extension table (sniff.c), read by the claim check, the
 * hidden-extension check and archive entries alike.  RUNS: opening the file
 * executes, installs or points at code (Outlook Level 1, Gmail's blocked
 * types, web-shell extensions); TRUSTED: a name people trust (the first half
 * of "invoice.pdf.exe").  type: the type the extension claims, or UNKNOWN. */
#define IMSAFE__EXT_RUNS 1u
#define IMSAFE__EXT_TRUSTED 2u
struct imsafe__ext {
    const char *ext; /* lower case, without the dot */
    imsafe_type type;
    unsigned flags;
};
/* The row for an extension (ext[0..len), ASCII case folded), or NULL. */
const struct imsafe__ext *imsafe__ext_lookup(const char *ext, size_t len);

/*
 * Trailing bytes after an image's end.  Looks at the start of the tail and
 * searches the whole tail for archive, executable, script, HTML, XML/SVG and
 * PDF signatures (an archive's end record may sit at the very end).  Rejects
 * the job with a polyglot.* reason and returns 1 when one is found;
 * otherwise adds note.trailing_dropped (if n > 0) and returns 0.
 */
int imsafe__check_tail(struct imsafe__job *job, const uint8_t *tail, size_t n);

/* -------------------------------------------------------------- filename */

/* Check the claimed name; rejects or notes per policy. */
void imsafe__filename_check(struct imsafe__job *job, const char *name);
/* The safe display name of a claimed name into dst (size bytes,
 * NUL-terminated; "" for NULL): sanitized, file-system findings repaired,
 * within min(max_bytes, size - 1) bytes keeping the extension, and with
 * type t's extension when the name's extension names another known type
 * (IMSAFE_TYPE_UNKNOWN: keep it).  It has no finding of its own. */
void imsafe__filename_display(const char *name, size_t max_bytes, imsafe_type t, char *dst,
                              size_t size);
/* 0 when fine, else the first finding's reason. */
imsafe_reason imsafe__filename_finding(const char *name, size_t max_bytes);
/* The finding that rejects under the default policy (one that deceives a
 * person), or 0; *repaired gets the file-system finding (reserved,
 * trailing, too_long) the display name repairs, or 0. */
imsafe_reason imsafe__filename_judge(const char *name, size_t max_bytes, imsafe_reason *repaired);
/* Does this (archive entry or claimed) name end in an executable/script
 * extension? */
int imsafe__name_is_dangerous(const char *name, size_t len);

/* ----------------------------------------------------------------- formats */

/* One entry point per format, one signature.  The module validates
 * job->in / job->in_len and either rejects, or accepts with output in
 * job->out (sanitize) or without (inspect).  Returns a status: OK unless the
 * allocator failed or an internal error happened. */
typedef imsafe_status (*imsafe__format_fn)(struct imsafe__job *job);
imsafe_status imsafe__png_sanitize(struct imsafe__job *job);
imsafe_status imsafe__jpeg_sanitize(struct imsafe__job *job);
imsafe_status imsafe__gif_sanitize(struct imsafe__job *job);
imsafe_status imsafe__zip_inspect(struct imsafe__job *job);
imsafe_status imsafe__gzip_inspect(struct imsafe__job *job);
imsafe_status imsafe__pdf_inspect(struct imsafe__job *job);

/* vp8l.c: validate a VP8L bitstream's prefix codes before libwebp sees it. bits points at the VP8L chunk payload (starting with the 0x2f signature byte) or, for ALPH method 1, at the headerless stream (is_alpha = 1; width/height from the frame). Returns IMSAFE_R_NONE or a rejection reason (detail set via imsafe__reject on job). */
imsafe_reason imsafe__vp8l_check(struct imsafe__job *job, const uint8_t *bits, size_t n, uint32_t width, uint32_t height, int is_alpha);
imsafe_status imsafe__webp_sanitize(struct imsafe__job *job);

imsafe_result *imsafe__result_make(struct imsafe__job *job, const char *display_name);

/* Accept the job as sanitized (output in job->out) or passed. */
void imsafe__accept(struct imsafe__job *job, imsafe_verdict verdict);

/* ---------------------------------------------------------- shared helpers */

/* Encode 8-bit palette or RGBA rows as PNG (used by GIF-to-PNG conversion).
 * Rows are pulled through the callback one at a time (y = 0..height-1). */
struct imsafe__png_enc;
typedef const uint8_t *(*imsafe__row_fn)(void *opaque, uint32_t y);
int imsafe__png_encode_indexed(struct imsafe__job *job, uint32_t width,
                               uint32_t height, const uint8_t *palette_rgb,
                               int palette_len, int transparent_index,
                               imsafe__row_fn row, void *opaque);
#ifdef PNG_H
/* Write a canonical palette (palette.c) as PLTE and the shortest tRNS; for
 * the files that include libpng's header (png.c, apng.c, png_encode.c). */
struct imsafe__palette;
void imsafe__png_set_palette(png_structp png, png_infop info,
                             const struct imsafe__palette *p);

/* The libpng glue of the still rebuild (png.c) and of each APNG frame
 * (apng.c), in png_encode.c.  libpng allocates through the call's budget,
 * reads src[0..src_len) and appends what it writes to *dst.  On a libpng
 * error, fail() rejects the job with the module's own reason (writing
 * says whether the error is about our output), then the callback jumps to
 * jb, which the caller sets once, where both libpng objects live, and
 * marks with jb_ready.  Decoder warnings reject unless the policy
 * tolerates them; warnings about our own output are ignored.  A module
 * that needs more state embeds this struct as its first member. */
struct imsafe__pngio {
    struct imsafe__job *job;
    jmp_buf jb;
    int jb_ready;
    int writing;
    const uint8_t *src;
    size_t src_len, pos;
    struct imsafe__buf *dst;
    void (*fail)(struct imsafe__pngio *io, const char *msg);
};
/* A reader or writer wired to io as above; NULL when libpng cannot start. */
png_structp imsafe__png_new_reader(struct imsafe__pngio *io);
png_structp imsafe__png_new_writer(struct imsafe__pngio *io);
/* The strict read: CRC errors fatal, no benign errors, the policy's
 * dimension and chunk limits, every ancillary chunk ignored (the walk
 * checked them and nothing of libpng's parse is carried over). */
void imsafe__png_strict_reader(png_structp rd, struct imsafe__pngio *io);
/* The policy's row filters and zlib level; with job->variant, the output
 * gate's second encoding (Paeth rows, run-length matches, never stored
 * blocks). */
void imsafe__png_set_encoding(png_structp wr, const struct imsafe__job *job);
#endif

/* PNG rows (png_encode.c), one rule for png.c's image and apng.c's
 * frames. */
struct imsafe__png_rowfmt {
    uint8_t color, depth;
    int plte_entries;   /* colour type 3: the entries an index may name */
    const uint8_t *lut; /* colour type 3: input to canonical indices (palette.c);
                         * NULL when unchanged */
};
/* Bits per pixel from IHDR, 0 for a depth/colour combination the format
 * forbids (PNG spec table 11.1). */
unsigned imsafe__png_bits_per_pixel(unsigned color, unsigned depth);
/* One decoded row of width pixels (rowbytes bytes) made canonical: every
 * palette index must name a PLTE entry (-1 when one does not; libpng 1.6
 * only warns, late, and misses index == num_palette), indices go to the
 * canonical palette, and the padding bits after the last pixel of a short
 * last byte are cleared (libpng keeps whatever the buffer held there, and
 * stale memory must never reach an output: libvips CVE-2019-6976). */
int imsafe__png_fix_row(const struct imsafe__png_rowfmt *f, uint8_t *row, uint32_t width,
                        size_t rowbytes);

/* APNG (apng.c): what png.c's walk established about an animated PNG,
 * first to imsafe__apng_check() (the frame walk and every limit, before
 * any pixel is decoded), then with png.c's still rebuild of the default
 * image (a whole PNG in still[0..still_len), made by libpng) to
 * imsafe__apng_rebuild().  apng.c walks the frames,
 * decodes and re-encodes each one after the default image and writes the
 * animated output into job->out.  0, or -1 when the job was rejected or
 * the allocator failed. */
struct imsafe__apng_src {
    uint32_t width, height;
    uint8_t depth, color, interlace;
    int plte_entries;
    const uint8_t *plte;                /* plte_entries x R,G,B of the input */
    const struct imsafe__palette *pal;  /* the canonical palette (colour type 3) */
    const uint8_t *lut;                 /* input to canonical indices; NULL: identity */
    size_t first_chunk;                 /* offset of the chunk after IHDR */
    size_t iend_off;                    /* offset of the IEND chunk */
};
int imsafe__apng_check(struct imsafe__job *job, const struct imsafe__apng_src *s);
int imsafe__apng_rebuild(struct imsafe__job *job, const struct imsafe__apng_src *s,
                         const uint8_t *still, size_t still_len);

/* EXIF orientation (exif.c): 1..8, or 0 when absent; -1 when the EXIF is
 * malformed (the caller ignores it and notes note.exif_ignored). */
int imsafe__exif_orientation(const uint8_t *p, size_t n);
/* Build a minimal EXIF APP1 payload ("Exif\0\0" + TIFF) holding only the
 * Orientation tag.  Returns its length (<= size) or 0. */
size_t imsafe__exif_build(int orientation, uint8_t *dst, size_t size);

/* ICC profiles (icc.c): the profile is parsed into its colorimetry and a
 * new one is written from the numbers (never a byte of the sender's).
 * channels: the image's colour channels (1 grey, 3 RGB; anything else
 * drops every profile).  Returns CANONICAL (a recognised standard space,
 * libimsafe's own copy) or REBUILT with *out (charged to the job, free
 * with imsafe__free()), DROPPED with *out NULL (invalid, LUT-based,
 * CMYK, contradicting the image, or no parametric fit: the caller notes
 * note.icc_dropped), or FAILED when the job was rejected (over budget) or
 * the allocator failed.  The profile must be at most max_icc_bytes. */
enum imsafe__icc_kind {
    IMSAFE__ICC_FAILED = -1,
    IMSAFE__ICC_DROPPED = 0,
    IMSAFE__ICC_CANONICAL = 1,
    IMSAFE__ICC_REBUILT = 2
};
int imsafe__icc_rebuild(struct imsafe__job *job, const uint8_t *p, size_t n, int channels,
                        uint8_t **out, size_t *out_len);

/* Canonical palettes (palette.c): the table's order is decided from the
 * colours, never taken from the input.  rgba holds n (1..256) entries of
 * R,G,B,A.  apart (NULL: none) marks entries never merged with another
 * (GIF transparent indices); fixed (nfixed <= 2 distinct input indices)
 * entries keep their index.  pow2: pad to a power of two >= 2 (GIF).
 * Fills out: the table (count entries) and map (input index -> output
 * index; entries >= n map to 0).  0, or -1 on invalid arguments. */
#define IMSAFE__PALETTE_MAX 256
struct imsafe__palette {
    int count;
    int identity; /* map is i -> i and the table is the input's */
    uint8_t rgba[IMSAFE__PALETTE_MAX * 4];
    uint8_t map[IMSAFE__PALETTE_MAX];
};
int imsafe__palette_canon(struct imsafe__palette *out, const uint8_t *rgba, int n,
                          const uint8_t *apart, const int *fixed, int nfixed, int pow2);
/* A table remapping each byte of packed pixels of depth 1, 2, 4 or 8. */
void imsafe__palette_byte_lut(const struct imsafe__palette *p, unsigned depth,
                              uint8_t lut[256]);
/* px[i] = lut[px[i]] for n bytes. */
void imsafe__palette_remap(const uint8_t lut[256], uint8_t *px, size_t n);

/* ------------------------------------------------------------- archives */

/* sniff.c: a ustar/GNU tar header with a valid checksum at p[0..512). */
int imsafe__is_tar(const uint8_t *p, size_t n);
/* sniff.c: "xz", "bzip2", "zstd", "cab", "7z", "rar" by magic, else NULL. */
const char *imsafe__unsupported_archive(const uint8_t *p, size_t n);

/*
 * Listing hook for the differential test (tests/zip_list.c): every entry
 * an archive walk accepted is reported with its nesting depth (0 = the
 * payload itself), its name as readers use it (the Unicode Path or pax
 * path when there is one), its size and its kind.  Not public: a test
 * links the static library.  fn NULL turns it off.
 */
#define IMSAFE__ENTRY_DIR 1      /* a directory */
#define IMSAFE__ENTRY_LEGACY 2   /* ZIP name bytes in a legacy code page (no UTF-8 flag) */
#define IMSAFE__ENTRY_DESCRIPTOR 4 /* ZIP sizes follow the data (flag bit 3) */
#define IMSAFE__ENTRY_DOS_HOST 8 /* ZIP made on FAT, NTFS or VFAT */
void imsafe__ctx_set_lister(imsafe_ctx *ctx, const struct imsafe__lister *l);

/*
 * One archive inspection (zip.c owns it; tar.c uses it): limits, the
 * running total and the zlib state shared by every nesting level (a nested
 * archive is walked after its parent's inflate finished, so one window
 * and one stream serve all levels).
 */
struct imsafe__arc {
    struct imsafe__job *job;
    uint64_t total; /* bytes inflated (or stored) so far, all levels */
    uint64_t max_total, max_entry, max_entries, ratio;
    int64_t max_depth;
    int allow_encrypted;
    uint8_t *win;
    z_stream zs;
    int zs_ready;
};
/* Stop code of the archive walkers: the job is rejected (or failed). */
#define IMSAFE__ARC_STOP (-1)
imsafe_status imsafe__tar_inspect(struct imsafe__job *job);
/* tar.c: walk a tar held in p[0..n); 0, or STOP after rejecting. */
int imsafe__tar_walk(struct imsafe__arc *zc, const uint8_t *p, size_t n);
/* zip.c, for tar.c: begin and end an inspection; */
int imsafe__arc_init(struct imsafe__arc *zc, struct imsafe__job *job);
imsafe_status imsafe__arc_finish(struct imsafe__arc *zc, int rc);
/* the checks every entry name gets (paths, Windows names, executables); */
int imsafe__arc_name(struct imsafe__arc *zc, unsigned long index, const uint8_t *s, size_t n);
/* an entry's bytes held in place: limits, content, nested archives. */
int imsafe__arc_data(struct imsafe__arc *zc, unsigned long index, const uint8_t *p, size_t n);

/*
 * ooxml.c: Office documents met in a ZIP walk, one state per archive
 * level.  zip.c shows every entry name to imsafe__doc_see() first (the
 * kind), then each name to imsafe__doc_name(); before inflating an entry
 * it asks imsafe__doc_hold() for a buffer (non-NULL: the XML part is
 * read), and after the CRC check it passes the first bytes and the held
 * part to imsafe__doc_content().  Each returns 0, or STOP after rejecting.
 */
#define IMSAFE__DOC_OOXML 1 /* has [Content_Types].xml */
#define IMSAFE__DOC_ODF 2   /* has META-INF/manifest.xml */
struct imsafe__doc {
    int kind;      /* IMSAFE__DOC_* bits; 0: not an Office document */
    uint8_t *part; /* buffer for held parts (charged), reused */
    size_t part_cap;
};
void imsafe__doc_see(struct imsafe__doc *d, const uint8_t *name, size_t n);
int imsafe__doc_name(struct imsafe__arc *zc, const struct imsafe__doc *d, unsigned long index,
                     const uint8_t *name, size_t n);
/* NULL and *stop 0: not read; NULL and *stop 1: rejected or out of memory */
uint8_t *imsafe__doc_hold(struct imsafe__arc *zc, struct imsafe__doc *d, unsigned long index,
                          const uint8_t *name, size_t n, uint64_t usize, int *stop);
int imsafe__doc_content(struct imsafe__arc *zc, struct imsafe__doc *d, unsigned long index,
                        const uint8_t *name, size_t n, const uint8_t *head, size_t hl,
                        const uint8_t *held, size_t heldn);
void imsafe__doc_end(struct imsafe__arc *zc, struct imsafe__doc *d);
/* --------------------------------------------------------------- isolation */

/*
 * Isolation (worker.c: pool, processes, lock-down, channel; frame.c: the
 * framed answer and the structural walks the host runs on it).
 */
#define IMSAFE__WIRE_VERSION 1
#define IMSAFE__FRAME_SIZE 368
struct imsafe__frame {
    uint32_t status, verdict, type, out_type, reason, note_count;
    uint32_t notes[IMSAFE_MAX_NOTES];
    uint64_t peak, out_len;
    char detail[IMSAFE_DETAIL_MAX];
};
void imsafe__frame_write(const struct imsafe__frame *f, uint8_t out[IMSAFE__FRAME_SIZE]);
/* Parse and validate a worker's frame: every field in range, lengths and
 * peak within budget, detail printable.  0, or -1 with *why (constant
 * text; why may be NULL). */
int imsafe__frame_parse(const uint8_t *p, size_t n, uint64_t budget, struct imsafe__frame *f,
                        const char **why);
/* The structure of a rebuilt PNG, JPEG or GIF (chunks and CRCs, markers
 * and segment lengths, blocks), not a decode: NULL when sound, else what
 * is wrong (constant text). */
const char *imsafe__walk_image(imsafe_type t, const uint8_t *p, size_t n);

/* The isolated call (worker.c): judge job->in in a worker of pool and fill
 * the job from its validated answer.  IMSAFE_OK (the job has a verdict),
 * EUNSUPPORTED, ENOMEM. */
imsafe_status imsafe__isolated_run(struct imsafe__job *job, imsafe_pool *pool);
/* Per-call deadlines of a pool's workers (tests shorten them). */
void imsafe__pool_set_deadline(imsafe_pool *pool, unsigned cpu_ms, unsigned wall_ms);

/*
 * The worker's side (the helper program calls it with its channel on fd
 * 3): lock down, then serve requests until told to stop; never returns.
 * hooks: NULL in the installed helper; the test build of the helper passes
 * fault injectors (tests/worker_faults.c), called after the lock-down.
 */
struct imsafe__worker_hooks {
    /* before the payload is judged (claimed name as given, may be NULL) */
    void (*before)(const char *name);
    /* after: may change the frame and the output before they are sent */
    void (*after)(const char *name, uint8_t frame[IMSAFE__FRAME_SIZE], uint8_t *out,
                  size_t out_len);
};
void imsafe__worker_main(int fd, const struct imsafe__worker_hooks *hooks)
    __attribute__((noreturn));
/* ------------------------------------------------------------------ webp */

/* vp8l.c: validate a VP8L bitstream's prefix codes before libwebp sees it. bits points at the VP8L chunk payload (starting with the 0x2f signature byte) or, for ALPH method 1, at the headerless stream (is_alpha = 1; width/height from the frame). Returns IMSAFE_R_NONE or a rejection reason (detail set via imsafe__reject on job). */
imsafe_reason imsafe__vp8l_check(struct imsafe__job *job, const uint8_t *bits, size_t n, uint32_t width, uint32_t height, int is_alpha);

#endif /* IMSAFE_PRIVATE_H */
