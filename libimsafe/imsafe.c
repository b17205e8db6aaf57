/*
 * imsafe.c - imsafe_sanitize(): the one way through the library.
 *
 *   budget -> sniff -> filename -> policy -> format -> gate -> result
 *
 * The content is sniffed before the claimed name is judged so that every
 * result names its type; the verdicts keep their order (a name finding
 * still rejects before an empty or unknown payload does).
 *
 * Only this file dispatches: a table maps a detected type to its module.
 * Adding a format is one new file and one line in that table.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imsafe_private.h"

struct imsafe_ctx {
    imsafe_allocator alloc;
    int poisoned; /* an internal error happened: refuse further work */
    struct imsafe__lister lister; /* tests only: archive listing hook */
    imsafe_pool *pool;     /* isolation: the host's pool (borrowed), or own_pool */
    imsafe_pool *own_pool; /* started on first isolated call without a pool */
};

/* --------------------------------------------------------------- dispatch */

static const struct {
    imsafe_type type;
    imsafe__format_fn fn;
} dispatch[] = {
    {IMSAFE_TYPE_PNG, imsafe__png_sanitize},
    {IMSAFE_TYPE_JPEG, imsafe__jpeg_sanitize},
    {IMSAFE_TYPE_GIF, imsafe__gif_sanitize},
    {IMSAFE_TYPE_ZIP, imsafe__zip_inspect},
    {IMSAFE_TYPE_DOCX, imsafe__zip_inspect},
    {IMSAFE_TYPE_XLSX, imsafe__zip_inspect},
    {IMSAFE_TYPE_PPTX, imsafe__zip_inspect},
    {IMSAFE_TYPE_ODF, imsafe__zip_inspect},
    {IMSAFE_TYPE_EPUB, imsafe__zip_inspect},
    {IMSAFE_TYPE_JAR, imsafe__zip_inspect},
    {IMSAFE_TYPE_APK, imsafe__zip_inspect},
    {IMSAFE_TYPE_GZIP, imsafe__gzip_inspect},
    {IMSAFE_TYPE_TAR, imsafe__tar_inspect},
    {IMSAFE_TYPE_PDF, imsafe__pdf_inspect},
    {IMSAFE_TYPE_WEBP, imsafe__webp_sanitize},
};

static imsafe__format_fn module_for(imsafe_type t)
{
    for (size_t i = 0; i < sizeof dispatch / sizeof dispatch[0]; i++)
        if (dispatch[i].type == t)
            return dispatch[i].fn;
    return NULL;
}

/* ------------------------------------------------------------------ policy */

static int in_set(imsafe_type t, const imsafe_type *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t == set[i])
            return 1;
    return 0;
}

/* Types that are the same thing under another name: a .docx that sniffs as
 * a plain ZIP, a .mov that is an MP4, a .heif whose brand says HEIC (Nokia's
 * HEIF files and phone photos name HEIF, HEIC and AVIF brands freely; one
 * ISO-BMFF image container, one parser), a .tar that is gzip-compressed. */
static int same_family(imsafe_type a, imsafe_type b)
{
    static const imsafe_type zipdocs[] = {IMSAFE_TYPE_ZIP, IMSAFE_TYPE_DOCX, IMSAFE_TYPE_XLSX,
                                          IMSAFE_TYPE_PPTX, IMSAFE_TYPE_ODF, IMSAFE_TYPE_EPUB};
    static const imsafe_type movies[] = {IMSAFE_TYPE_MP4, IMSAFE_TYPE_MOV};
    static const imsafe_type heif[] = {IMSAFE_TYPE_HEIC, IMSAFE_TYPE_HEIF, IMSAFE_TYPE_AVIF};
#define SAME(set) (in_set(a, set, sizeof set / sizeof set[0]) && \
                   in_set(b, set, sizeof set / sizeof set[0]))
    /* tar readers open a gzip-compressed tar under either name */
    static const imsafe_type tars[] = {IMSAFE_TYPE_TAR, IMSAFE_TYPE_GZIP};
    return SAME(zipdocs) || SAME(movies) || SAME(heif) || SAME(tars);
#undef SAME
}

static imsafe_reason reject_reason(imsafe_type t);

/* Is the payload rebuilt?  WebP only when its action says so: a policy may
 * still pass it as it is (0.1.0 allowed that). */
static int sanitizable(const struct imsafe__job *job)
{
    imsafe_type t = job->type;
    if (t == IMSAFE_TYPE_WEBP)
        return imsafe_policy_action(job->policy, t) == IMSAFE_ACTION_SANITIZE;
    return t == IMSAFE_TYPE_PNG || t == IMSAFE_TYPE_JPEG || t == IMSAFE_TYPE_GIF;
}

/*
 * Disguise (FORCEDENTRY: a PDF named .gif; ImageTragick: MVG named .jpg):
 * the content decides the type, and a claim that names another type is a
 * finding.  An image we rebuild, claimed as any other image type
 * ("favicon.ico" that is a PNG, "sticker.webp" that is a JPEG), is harmless
 * once rebuilt: a note, and the display name gets the true extension.  Any
 * other disagreement rejects (SVG is active content, not an image, here).
 * Returns 1 when it rejected.
 */
static int check_claim(struct imsafe__job *job, imsafe_type claimed, const char *what)
{
    imsafe_type t = job->type;
    if (claimed == IMSAFE_TYPE_UNKNOWN || claimed == t || same_family(claimed, t))
        return 0;
    if (sanitizable(job) && imsafe__type_class(claimed) == IMSAFE_CLASS_IMAGE) {
        imsafe__note(job, IMSAFE_R_NOTE_TYPE_MISMATCH);
        imsafe__detail(job, "content is %s, %s says %s", imsafe_type_name(t), what,
                       imsafe_type_name(claimed));
        return 0;
    }
    /* text that is a program or markup is judged as what it is, whatever
     * the name: a web shell named notes.txt is a script */
    if (claimed == IMSAFE_TYPE_TEXT && (imsafe__type_class(t) == IMSAFE_CLASS_SCRIPT ||
                                        imsafe__type_class(t) == IMSAFE_CLASS_ACTIVE)) {
        imsafe__reject(job, reject_reason(t), "content is %s, %s says text",
                       imsafe_type_name(t), what);
        return 1;
    }
    /* a batch file or a script without a shebang is plain text by content */
    if (imsafe__type_class(claimed) == IMSAFE_CLASS_SCRIPT && t == IMSAFE_TYPE_TEXT) {
        imsafe__reject(job, IMSAFE_R_TYPE_SCRIPT, "%s names a script (%s)", what,
                       imsafe_type_name(claimed));
        return 1;
    }
    imsafe__reject(job, IMSAFE_R_TYPE_MISMATCH, "content is %s, %s says %s",
                   imsafe_type_name(t), what, imsafe_type_name(claimed));
    return 1;
}

/* The reason a name from the extension table rejects with: by the class
 * of the type it claims (a name with no type of its own runs as a
 * program). */
static imsafe_reason name_reason(const struct imsafe__ext *e)
{
    switch (imsafe__type_class(e->type)) {
    case IMSAFE_CLASS_SCRIPT: return IMSAFE_R_TYPE_SCRIPT;
    case IMSAFE_CLASS_ACTIVE: return IMSAFE_R_TYPE_ACTIVE_CONTENT;
    default: return IMSAFE_R_TYPE_EXECUTABLE;
    }
}

/*
 * The claimed name's extension, looked up in the one table (sniff.c) that
 * archive entries and the hidden-extension check also use.  A name that
 * runs (".reg", ".url", ".php", ".msi") rejects whatever the content is,
 * unless the content is that very program: then the policy's action for
 * the program's type decides (a ".jar" that is a JAR an operator passes).
 * A name that means markup (".htm", ".xhtml", ".mht", ".svgz") is active
 * content whatever the bytes look like: a browser renders it by its name.
 * Returns 1 when it rejected.
 */
static int check_name_claim(struct imsafe__job *job)
{
    const char *dot = job->display_name != NULL ? strrchr(job->display_name, '.') : NULL;
    const struct imsafe__ext *e = dot != NULL ? imsafe__ext_lookup(dot + 1, strlen(dot + 1))
                                              : NULL;
    if (e == NULL)
        return 0;
    enum imsafe__class c = imsafe__type_class(job->type);
    int same = e->type != IMSAFE_TYPE_UNKNOWN &&
               (e->type == job->type || same_family(e->type, job->type));
    enum imsafe__class claimed = imsafe__type_class(e->type);
    /* a PNG named .exe or .reg stays a plain mismatch, and so does text
     * named .exe (nothing runs it); text named .reg or .url is run by its
     * name, and an .msi or .hta is never judged as a mere document */
    if ((e->flags & IMSAFE__EXT_RUNS) != 0 &&
        !(same && (c == IMSAFE_CLASS_EXECUTABLE || c == IMSAFE_CLASS_SCRIPT)) &&
        (e->type == IMSAFE_TYPE_UNKNOWN || same ||
         (c == IMSAFE_CLASS_TEXT && claimed != IMSAFE_CLASS_EXECUTABLE))) {
        /* the extension is a constant string of the table, never input */
        imsafe__reject(job, name_reason(e), "the name's extension .%s runs when opened", e->ext);
        return 1;
    }
    if (claimed == IMSAFE_CLASS_ACTIVE && !same &&
        (c == IMSAFE_CLASS_TEXT || job->type == IMSAFE_TYPE_GZIP)) {
        imsafe__reject(job, IMSAFE_R_TYPE_ACTIVE_CONTENT,
                       "the name's extension .%s is rendered as %s", e->ext,
                       imsafe_type_name(e->type));
        return 1;
    }
    return check_claim(job, e->type, "the name");
}

int imsafe__check_feature(struct imsafe__job *job, imsafe_feature f)
{
    const struct imsafe__kill *k = imsafe__killed_feature(job->policy, f, job->now);
    if (k == NULL)
        return 0;
    imsafe__reject(job, IMSAFE_R_POLICY_KILLED_FEATURE, "%s switched off by the operator: %s",
                   imsafe_feature_name(f), k->message);
    return -1;
}

static int check_kills(struct imsafe__job *job)
{
    const struct imsafe__kill *k = imsafe__killed_type(job->policy, job->type, job->now);
    if (k != NULL) {
        imsafe__reject(job, IMSAFE_R_POLICY_KILLED_TYPE, "%s switched off by the operator: %s",
                       imsafe_type_name(job->type), k->message);
        return 1;
    }
    enum imsafe__class c = imsafe__type_class(job->type);
    imsafe_feature f = 0;
    if (c == IMSAFE_CLASS_IMAGE)
        f = IMSAFE_FEATURE_ALL_IMAGES;
    else if (module_for(job->type) == imsafe__zip_inspect || job->type == IMSAFE_TYPE_GZIP ||
             job->type == IMSAFE_TYPE_TAR)
        f = IMSAFE_FEATURE_ARCHIVES;
    return f != 0 && imsafe__check_feature(job, f) != 0;
}

static imsafe_reason reject_reason(imsafe_type t)
{
    switch (imsafe__type_class(t)) {
    case IMSAFE_CLASS_UNKNOWN: return IMSAFE_R_TYPE_UNKNOWN;
    case IMSAFE_CLASS_EXECUTABLE: return IMSAFE_R_TYPE_EXECUTABLE;
    case IMSAFE_CLASS_SCRIPT: return IMSAFE_R_TYPE_SCRIPT;
    case IMSAFE_CLASS_ACTIVE: return IMSAFE_R_TYPE_ACTIVE_CONTENT;
    default: return IMSAFE_R_POLICY_TYPE_REJECTED;
    }
}

/* Type + claimed name/MIME -> the action.  Returns the action, or
 * IMSAFE_ACTION_REJECT after rejecting the job. */
static imsafe_action decide(struct imsafe__job *job)
{
    if (check_kills(job))
        return IMSAFE_ACTION_REJECT;
    /* the extension of the name a host will show and save under */
    if (check_name_claim(job) ||
        check_claim(job, imsafe__type_from_mime(job->claimed_mime), "the MIME type"))
        return IMSAFE_ACTION_REJECT;
    imsafe_action a = imsafe_policy_action(job->policy, job->type);
    if (a == IMSAFE_ACTION_REJECT)
        imsafe__reject(job, reject_reason(job->type), "the policy rejects %s",
                       imsafe_type_name(job->type));
    return a;
}

/* ------------------------------------------------------------ output gate */

/*
 * The last step before any byte leaves the library.  A rebuilt output is
 * new bytes, but some runs are kept for a lossless rebuild (quantisation
 * tables, palettes, profiles) and an encoder can be steered into emitting
 * chosen bytes (stored deflate blocks, crafted pixel rows).  Every output
 * is scanned for what another program would act on (scan.c); on a hit the
 * module encodes once more in its variant way, and a second hit rejects.
 */
struct saved {
    imsafe_reason notes[IMSAFE_MAX_NOTES];
    size_t note_count;
    char detail[IMSAFE_DETAIL_MAX];
};

static void save(const struct imsafe__job *job, struct saved *sv)
{
    memcpy(sv->notes, job->notes, sizeof sv->notes);
    sv->note_count = job->note_count;
    memcpy(sv->detail, job->detail, sizeof sv->detail);
}

/* Back to the state before the module ran, so the second encoding's notes
 * and detail are its own. */
static void restore(struct imsafe__job *job, const struct saved *sv)
{
    memcpy(job->notes, sv->notes, sizeof sv->notes);
    job->note_count = sv->note_count;
    memcpy(job->detail, sv->detail, sizeof job->detail);
    job->verdict = 0;
    job->reason = IMSAFE_R_NONE;
}

/* 1 when the finished output holds a foreign format.  A streaming sink's
 * scanner saw every piece as it left; the last piece leaves now. */
static int gate_hit(struct imsafe__job *job, struct imsafe__scan *sc, struct imsafe__scan_hit *h)
{
    if (job->out.scan == NULL)
        return imsafe__scan_buf(job->out.data, job->out.len, IMSAFE__SCAN_OUTPUT, h);
    if (imsafe__buf_flush(&job->out) != 0)
        return 0; /* sink_failed: the call ends in ESINK */
    return imsafe__scan_end(sc, h);
}

static imsafe_status run_module(struct imsafe__job *job, imsafe__format_fn fn)
{
    struct imsafe__scan sc;
    struct imsafe__scan_hit first, again;
    struct saved sv;
    save(job, &sv);
    if (job->out.sink != NULL) {
        imsafe__scan_init(&sc, IMSAFE__SCAN_OUTPUT);
        job->out.scan = &sc;
    }
    imsafe_status st = fn(job);
    if (st != IMSAFE_OK || job->verdict != IMSAFE_SANITIZED || !gate_hit(job, &sc, &first))
        goto done;
    if (imsafe__buf_restart(&job->out) != 0)
        goto done;
    restore(job, &sv);
    imsafe__scan_init(&sc, IMSAFE__SCAN_OUTPUT);
    job->variant = 1;
    job->gate_hit = first;
    st = fn(job);
    if (st != IMSAFE_OK || job->verdict != IMSAFE_SANITIZED)
        goto done;
    if (gate_hit(job, &sc, &again)) {
        /* a rejection carries no output: a streaming host is rewound too */
        if (imsafe__buf_restart(&job->out) == 0)
            imsafe__reject(job, IMSAFE_R_POLYGLOT_OUTPUT,
                           "the rebuilt output still holds %s after a second encoding",
                           again.what);
        goto done;
    }
    imsafe__note(job, IMSAFE_R_NOTE_REENCODED);
    imsafe__detail(job, "encoded again: the first output held %s at byte %llu", first.what,
                   (unsigned long long)first.offset);
done:
    job->out.scan = NULL;
    return st;
}

/* ---------------------------------------------------------- passed payloads */

/* The archive walkers account for every byte of their payload: records,
 * entries (each judged by its content), comments and trailing data. */
static int walked_archive(imsafe_type t)
{
    imsafe__format_fn fn = module_for(t);
    return fn == imsafe__zip_inspect || fn == imsafe__gzip_inspect || fn == imsafe__tar_inspect;
}

/*
 * A passed payload leaves with the sender's bytes, so whatever a second
 * program would act on in them is checked here, once, for every passed
 * verdict (no module, or a module that passes its format unchanged): an
 * MP3 or a PDF with a ZIP appended opens in unzip and Explorer.  scan.c
 * counts each signature only where its reader looks, so a long video is
 * not rejected by a chance match.
 */
static void check_passed(struct imsafe__job *job)
{
    struct imsafe__scan_hit h;
    if (job->verdict != IMSAFE_PASSED || walked_archive(job->type) ||
        !imsafe__scan_payload(job->in, job->in_len, job->type, &h))
        return;
    imsafe__reject(job, h.reason, "%s at byte %llu of the %s", h.what,
                   (unsigned long long)h.offset, imsafe_type_name(job->type));
}

/* ---------------------------------------------------------------- pipeline */

static imsafe_status pipeline(struct imsafe__job *job)
{
    int64_t max_in = imsafe__opt(job->policy, IMSAFE_OPT_MAX_INPUT_BYTES);
    if ((uint64_t)job->in_len > (uint64_t)max_in)
        return imsafe__reject(job, IMSAFE_R_LIMIT_INPUT_BYTES, "%zu bytes, limit %lld",
                              job->in_len, (long long)max_in);
    /* sniffed first so a payload rejected for its name still says what it
     * is; sniffing reads a bounded prefix and allocates nothing */
    job->type = imsafe__sniff(job->in, job->in_len);
    imsafe__filename_check(job, job->claimed_name);
    if (imsafe__rejected(job))
        return IMSAFE_OK;
    if (job->in_len == 0)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_EMPTY, "the payload has no bytes");
    imsafe_type damaged = job->type == IMSAFE_TYPE_UNKNOWN
                              ? imsafe__sniff_damaged(job->in, job->in_len)
                              : IMSAFE_TYPE_UNKNOWN;
    if (damaged != IMSAFE_TYPE_UNKNOWN)
        return imsafe__reject(job, IMSAFE_R_MALFORMED_SIGNATURE, "a damaged %s signature",
                              imsafe_type_name(damaged));
    imsafe_action a = decide(job);
    if (a == IMSAFE_ACTION_REJECT)
        return IMSAFE_OK;
    imsafe__format_fn fn = module_for(job->type);
    if (fn == NULL) {
        /* allowed as is: libimsafe has no parser for it (see policy.c) */
        imsafe__accept(job, IMSAFE_PASSED);
        return IMSAFE_OK;
    }
    return run_module(job, fn);
}

static imsafe_status run(struct imsafe__job *job)
{
    imsafe_status st = pipeline(job);
    if (st == IMSAFE_OK)
        check_passed(job);
    return st;
}

/* isolation = process: steps 2-6 run in a worker (worker.c).  The input
 * limit is checked here as well, so an oversized payload is never copied
 * into a memfd at all. */
static imsafe_status isolated(imsafe_ctx *ctx, struct imsafe__job *job)
{
    int64_t max_in = imsafe__opt(job->policy, IMSAFE_OPT_MAX_INPUT_BYTES);
    if ((uint64_t)job->in_len > (uint64_t)max_in)
        return run(job);
    if (ctx->pool == NULL && ctx->own_pool == NULL &&
        imsafe_pool_new(NULL, 1, &ctx->own_pool) != IMSAFE_OK)
        return IMSAFE_EUNSUPPORTED;
    return imsafe__isolated_run(job, ctx->pool != NULL ? ctx->pool : ctx->own_pool);
}

static void job_init(struct imsafe__job *job, const imsafe_ctx *ctx, const imsafe_policy *p,
                     const void *in, size_t n, const char *name, const char *mime)
{
    memset(job, 0, sizeof *job);
    job->policy = p;
    job->alloc = ctx->alloc;
    job->budget = (uint64_t)imsafe__opt(p, IMSAFE_OPT_MAX_MEMORY_BYTES);
    job->now = (int64_t)time(NULL);
    imsafe__work_start(job);
    job->in = in;
    job->in_len = n;
    job->claimed_name = name;
    job->claimed_mime = mime;
    imsafe__buf_init(&job->out, job);
}

/* Checks a finished job: a module must decide, a sanitized verdict must
 * carry output, and with a sink the last partial chunk is sent. */
static imsafe_status finish(struct imsafe__job *job, imsafe_status st)
{
    if (st == IMSAFE_OK && job->verdict == IMSAFE_SANITIZED && job->held_sink != NULL)
        (void)imsafe__buf_deliver(&job->out, job->held_sink, job->held_chunk);
    else if (st == IMSAFE_OK && job->verdict == IMSAFE_SANITIZED)
        (void)imsafe__buf_flush(&job->out); /* a failure sets sink_failed */
    if (job->sink_failed && st != IMSAFE_EINTERNAL)
        return IMSAFE_ESINK;
    if (st == IMSAFE_OK && job->internal_error)
        st = IMSAFE_EINTERNAL; /* a module caught itself in an impossible state */
    if (st == IMSAFE_OK && job->alloc_failed)
        st = IMSAFE_ENOMEM;
    if (st == IMSAFE_OK && !IMSAFE_ASSERT(job->verdict != 0))
        st = IMSAFE_EINTERNAL;
    if (st == IMSAFE_OK &&
        !IMSAFE_ASSERT(job->verdict != IMSAFE_SANITIZED || imsafe__buf_total(&job->out) > 0))
        st = IMSAFE_EINTERNAL;
    return st;
}

static imsafe_status sanitize(imsafe_ctx *ctx, const imsafe_policy *policy, const void *in,
                              size_t in_len, const char *claimed_name, const char *claimed_mime,
                              const imsafe_sink *sink, imsafe_result **res)
{
    if (res != NULL)
        *res = NULL;
    if (ctx == NULL || policy == NULL || res == NULL || (in == NULL && in_len > 0) ||
        !imsafe_policy_is_frozen(policy))
        return IMSAFE_EINVAL;
    if (ctx->poisoned)
        return IMSAFE_EINTERNAL;

    struct imsafe__job job;
    char display[256];
    job_init(&job, ctx, policy, in, in_len, claimed_name, claimed_mime);
    job.lister = ctx->lister;
    if (sink != NULL) {
        size_t chunk = sink->chunk_bytes ? sink->chunk_bytes : IMSAFE__SINK_CHUNK;
        /* without rewind the host could not take back a first encoding the
         * gate refuses: hold the output until the gate passed it.  An
         * isolated call holds it too: the sink sees only bytes the host
         * has walked and scanned. */
        if (sink->rewind != NULL &&
            imsafe__opt(policy, IMSAFE_OPT_ISOLATION) != IMSAFE_ISOLATION_PROCESS) {
            job.out.sink = sink;
            job.out.chunk = chunk;
        } else {
            job.held_sink = sink;
            job.held_chunk = chunk;
        }
    }
    size_t max_name = (size_t)imsafe__opt(policy, IMSAFE_OPT_MAX_FILENAME_BYTES);
    imsafe__filename_display(claimed_name, max_name, IMSAFE_TYPE_UNKNOWN, display, sizeof display);
    job.display_name = display;
    imsafe_status st;
    if (imsafe__opt(policy, IMSAFE_OPT_ISOLATION) == IMSAFE_ISOLATION_PROCESS) {
        st = isolated(ctx, &job);
        if (st == IMSAFE_EUNSUPPORTED) /* the context stays usable */
            return st;
    } else {
        st = run(&job);
    }
    st = finish(&job, st);
    if (st == IMSAFE_OK && job.verdict == IMSAFE_SANITIZED)
        /* the true type shows: a rebuilt "sticker.webp" that is a JPEG is
         * "sticker.jpg", a GIF converted by policy gets ".png" */
        imsafe__filename_display(claimed_name, max_name,
                                 job.out_type != IMSAFE_TYPE_UNKNOWN ? job.out_type : job.type,
                                 display, sizeof display);
    if (st == IMSAFE_OK)
        *res = imsafe__result_make(&job, display);
    if (st == IMSAFE_OK && *res == NULL)
        st = IMSAFE_ENOMEM;
    imsafe__buf_free(&job.out); /* a rejection never carries output */
    if (st == IMSAFE_OK && !IMSAFE_ASSERT(job.charged == 0))
        st = IMSAFE_EINTERNAL; /* a module leaked: refuse to go on */
    if (st == IMSAFE_EINTERNAL) {
        ctx->poisoned = 1;
        imsafe_result_free(*res);
        *res = NULL;
    }
    return st;
}

imsafe_status imsafe_sanitize(imsafe_ctx *ctx, const imsafe_policy *policy, const void *in,
                              size_t in_len, const char *claimed_name, const char *claimed_mime,
                              imsafe_result **res)
{
    return sanitize(ctx, policy, in, in_len, claimed_name, claimed_mime, NULL, res);
}

imsafe_status imsafe_sanitize_to(imsafe_ctx *ctx, const imsafe_policy *policy, const void *in,
                                 size_t in_len, const char *claimed_name,
                                 const char *claimed_mime, const imsafe_sink *sink,
                                 imsafe_result **res)
{
    if (res != NULL)
        *res = NULL;
    if (sink == NULL || sink->write == NULL ||
        (sink->chunk_bytes != 0 &&
         (sink->chunk_bytes < IMSAFE__SINK_CHUNK_MIN || sink->chunk_bytes > IMSAFE__SINK_CHUNK_MAX)))
        return IMSAFE_EINVAL;
    return sanitize(ctx, policy, in, in_len, claimed_name, claimed_mime, sink, res);
}

/* ----------------------------------------------------------------- context */

static void *default_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return malloc(n);
}

static void default_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

imsafe_ctx *imsafe_ctx_new(const imsafe_allocator *allocator)
{
    imsafe_allocator a = {default_alloc, default_free, NULL};
    if (allocator != NULL) {
        if (allocator->alloc == NULL || allocator->free == NULL)
            return NULL;
        a = *allocator;
    }
    imsafe_ctx *ctx = a.alloc(a.opaque, sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->alloc = a;
    ctx->poisoned = 0;
    ctx->lister.fn = NULL;
    ctx->lister.opaque = NULL;
    ctx->pool = NULL;
    ctx->own_pool = NULL;
    return ctx;
}

void imsafe__ctx_set_lister(imsafe_ctx *ctx, const struct imsafe__lister *l)
{
    ctx->lister.fn = l != NULL ? l->fn : NULL;
    ctx->lister.opaque = l != NULL ? l->opaque : NULL;
}

imsafe_status imsafe_ctx_set_pool(imsafe_ctx *ctx, imsafe_pool *pool)
{
    if (ctx == NULL)
        return IMSAFE_EINVAL;
    ctx->pool = pool;
    return IMSAFE_OK;
}

void imsafe_ctx_free(imsafe_ctx *ctx)
{
    if (ctx == NULL)
        return;
    imsafe_pool_free(ctx->own_pool);
    ctx->alloc.free(ctx->alloc.opaque, ctx);
}

/* ------------------------------------------------------------ names, version */

const char *imsafe_strerror(imsafe_status status)
{
    switch (status) {
    case IMSAFE_OK: return "success";
    case IMSAFE_EINVAL: return "invalid argument, option or value";
    case IMSAFE_EBUSY: return "the policy is frozen";
    case IMSAFE_ENOMEM: return "out of memory";
    case IMSAFE_ESINK: return "the output sink failed";
    case IMSAFE_EINTERNAL: return "internal error in libimsafe";
    case IMSAFE_ESYNTAX: return "syntax error in policy text";
    case IMSAFE_EUNSUPPORTED: return "isolation is not available (helper missing or lock-down refused)";
    }
    return "unknown status";
}

const char *imsafe_verdict_name(imsafe_verdict v)
{
    switch (v) {
    case IMSAFE_SANITIZED: return "sanitized";
    case IMSAFE_PASSED: return "passed";
    case IMSAFE_REJECTED: return "rejected";
    }
    return "unknown";
}

long imsafe_version_number(void)
{
    return IMSAFE_VERSION_NUMBER;
}

const char *imsafe_version_string(void)
{
    return IMSAFE_VERSION_STRING;
}
