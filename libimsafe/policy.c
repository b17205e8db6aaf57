/*
 * policy.c - the policy object: numeric options (one table: key, range,
 * default), per-type actions, the kill switch, freezing and reference
 * counting.  The text grammar lives in policy_parse.c.
 *
 * Default limits and why (anchors: libspng's untrusted-input checklist,
 * imgproxy's 16.8 MP source cap, ImageMagick's web-safe policy of 8K x 8K,
 * 32 MP and 512 MiB).  Ours must accept a 50 MP phone photo and a
 * 20000x1500 panorama, and refuse a 900 MP image before allocating it.
 */
#include <stdlib.h>
#include <string.h>

#include "imsafe_private.h"

#define KiB 1024LL
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)
#define TiB (1024LL * GiB)

const struct imsafe__optdef imsafe__optdefs[] = {
    /* payloads above 100 MiB are not IM attachments */
    {IMSAFE_OPT_MAX_INPUT_BYTES, "max_input_bytes", 1, TiB, 100 * MiB},
    /* 32768 px per side: panoramas fit, libjpeg's 65500 and GIF's 65535 do not */
    {IMSAFE_OPT_MAX_WIDTH_PX, "max_width_px", 1, 1000000, 32768},
    {IMSAFE_OPT_MAX_HEIGHT_PX, "max_height_px", 1, 1000000, 32768},
    /* 60 MP: a 50 MP phone photo passes; 900 MP floods are refused */
    {IMSAFE_OPT_MAX_PIXELS, "max_pixels", 1, TiB, 60000000},
    /* animation bombs: a 60-frame sticker is typical, 1000 is generous */
    {IMSAFE_OPT_MAX_FRAMES, "max_frames", 1, 1000000, 1000},
    {IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS, "max_total_frame_pixels", 1, TiB, 200000000},
    /* ImageMagick's web-safe memory limit */
    {IMSAFE_OPT_MAX_MEMORY_BYTES, "max_memory_bytes", 1 * MiB, TiB, 512 * MiB},
    /* PNG ancillary chunks (text/iCCP bombs) */
    {IMSAFE_OPT_MAX_CHUNK_BYTES, "max_chunk_bytes", 1 * KiB, 2147483647LL, 8 * MiB},
    /* real ICC profiles are a few KiB; 4 MiB covers large LUT profiles */
    {IMSAFE_OPT_MAX_ICC_BYTES, "max_icc_bytes", 132, GiB, 4 * MiB},
    /* normal progressive JPEGs have about 10 scans; scan bombs thousands */
    {IMSAFE_OPT_MAX_JPEG_SCANS, "max_jpeg_scans", 1, 100000, 150},
    {IMSAFE_OPT_TOLERATE_WARNINGS, "tolerate_warnings", 0, 1, 0},
    {IMSAFE_OPT_KEEP_ICC, "keep_icc", 0, 1, 1},
    {IMSAFE_OPT_KEEP_COLORSPACE, "keep_colorspace", 0, 1, 1},
    {IMSAFE_OPT_KEEP_ORIENTATION, "keep_orientation", 0, 1, 1},
    {IMSAFE_OPT_JPEG_MODE, "jpeg_mode", IMSAFE_JPEG_LOSSLESS, IMSAFE_JPEG_PIXELS,
     IMSAFE_JPEG_LOSSLESS},
    {IMSAFE_OPT_JPEG_QUALITY, "jpeg_quality", 1, 100, 90},
    /* level 5 with adaptive filters, measured on the bench set: 6% (1080p
     * screenshot) and 21% (RGBA sticker) less CPU than zlib's default 6 for
     * 1.5-1.8% larger files; level 3 saves 22-41% for 9-10% more bytes */
    {IMSAFE_OPT_PNG_ZLIB_LEVEL, "png_zlib_level", 0, 9, 5},
    {IMSAFE_OPT_PNG_FILTERS, "png_filters", IMSAFE_PNG_FILTERS_NONE, IMSAFE_PNG_FILTERS_FAST,
     IMSAFE_PNG_FILTERS_ADAPTIVE},
    {IMSAFE_OPT_GIF_FLATTEN, "gif_flatten", 0, 1, 0},
    {IMSAFE_OPT_GIF_TO_PNG, "gif_to_png", 0, 1, 0},
    {IMSAFE_OPT_MAX_ARCHIVE_ENTRIES, "max_archive_entries", 1, 10000000, 10000},
    {IMSAFE_OPT_MAX_ARCHIVE_BYTES, "max_archive_bytes", 1, TiB, GiB},
    {IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES, "max_archive_entry_bytes", 1, TiB, 256 * MiB},
    /* deflate rarely beats 100:1 on real documents; bombs reach 1000:1+ */
    {IMSAFE_OPT_MAX_ARCHIVE_RATIO, "max_archive_ratio", 1, 100000, 100},
    {IMSAFE_OPT_MAX_ARCHIVE_DEPTH, "max_archive_depth", 0, 32, 2},
    {IMSAFE_OPT_ALLOW_ENCRYPTED, "allow_encrypted", 0, 1, 0},
    {IMSAFE_OPT_FILENAME_FINDINGS, "filename_findings", IMSAFE_FINDINGS_REJECT,
     IMSAFE_FINDINGS_NOTE, IMSAFE_FINDINGS_REJECT},
    {IMSAFE_OPT_MAX_FILENAME_BYTES, "max_filename_bytes", 16, 4096, 255},
    /* keep: a progressive input stays progressive (libjpeg's standard
     * script); a sequential rebuild of one is larger, and loses the
     * block smoothing of a file that stops before its last scans */
    {IMSAFE_OPT_JPEG_PROGRESSIVE, "jpeg_progressive", IMSAFE_JPEG_PROGRESSIVE_KEEP,
     IMSAFE_JPEG_PROGRESSIVE_BASELINE, IMSAFE_JPEG_PROGRESSIVE_KEEP},
    /* reject: a cut arithmetic scan decodes as zeros without a warning */
    {IMSAFE_OPT_JPEG_ARITHMETIC, "jpeg_arithmetic", IMSAFE_JPEG_ARITHMETIC_REJECT,
     IMSAFE_JPEG_ARITHMETIC_ALLOW, IMSAFE_JPEG_ARITHMETIC_REJECT},
    /* work units a call may spend decoding and re-encoding (budget.c,
     * imsafe_private.h: the weights).  Measured on a 2-core 2026 server,
     * user + system CPU of imsafe-check on the dearest inputs a small file
     * can be, units from the charging formulas: JPEG 64 scans over 60 MP
     * 0.23 ns a unit; PNG 60 MP 16-bit zero rows 0.24-0.26, interlaced
     * 0.25; GIF 1000 blank frames 0.26, 11 blank 4096x4096 frames
     * 0.21-0.24.  So 4e9 is about 1 s of CPU, ten times what a 60 MP camera
     * JPEG with libjpeg's standard progression needs; the dearest file of
     * the corpora needs 5.8e8 units, of the benchmark set 3.1e8 */
    {IMSAFE_OPT_MAX_WORK, "max_work", 1, 1024 * TiB, 4000000000LL},
    /* a per-call CPU deadline, off by default: work units already bound
     * every call, and a deadline makes the verdict depend on the machine
     * and its load; hosts that want a hard stop set it */
    {IMSAFE_OPT_MAX_CPU_MS, "max_cpu_ms", 0, 86400000LL, 0},
    /* keep: stickers and reactions stay animated, every frame rebuilt */
    {IMSAFE_OPT_APNG, "apng", IMSAFE_APNG_KEEP, IMSAFE_APNG_FLATTEN, IMSAFE_APNG_KEEP},
    /* reject: macros and remote templates are how Office documents run
     * code (Emotet's docm, CVE-2017-0199, Follina) */
    {IMSAFE_OPT_OFFICE_MACROS, "office_macros", IMSAFE_OFFICE_REJECT, IMSAFE_OFFICE_PASS,
     IMSAFE_OFFICE_REJECT},
    {IMSAFE_OPT_OFFICE_ACTIVE, "office_active", IMSAFE_OFFICE_REJECT, IMSAFE_OFFICE_PASS,
     IMSAFE_OFFICE_REJECT},
    /* reject: a PDF that runs code or drops a file when opened (pdf.c) */
    {IMSAFE_OPT_PDF_ACTIVE, "pdf_active", IMSAFE_PDF_ACTIVE_REJECT, IMSAFE_PDF_ACTIVE_PASS,
     IMSAFE_PDF_ACTIVE_REJECT},
    /* reject: an encrypted PDF's streams cannot be inspected */
    {IMSAFE_OPT_PDF_ENCRYPTED, "pdf_encrypted", IMSAFE_PDF_ENCRYPTED_REJECT,
     IMSAFE_PDF_ENCRYPTED_PASS, IMSAFE_PDF_ENCRYPTED_REJECT},
    /* off in the library (a host opts in and provides the helper); the
     * ICAP service and imsafe-check --isolate turn it on */
    {IMSAFE_OPT_ISOLATION, "isolation", IMSAFE_ISOLATION_NONE, IMSAFE_ISOLATION_PROCESS,
     IMSAFE_ISOLATION_NONE},
    /* one payload per worker: a worker an exploit took over never sees a
     * second payload (one trust domain per worker) */
    {IMSAFE_OPT_ISOLATION_REUSE, "isolation_reuse", 1, 100000, 1},
    /* lossy WebP re-encoding, measured on the corpus's 123 lossy stills
     * (median output/input bytes, median PSNR against the decoded input):
     * 80: 0.91, 40.0 dB; 85: 0.98, 41.0 dB; 90: 1.05, 43.1 dB; 95: 1.21,
     * 45.4 dB.  90 is the lowest setting whose median stays above 42 dB,
     * past where re-encoding artefacts stop showing, at about the input's
     * size. */
    {IMSAFE_OPT_WEBP_QUALITY, "webp_quality", 1, 100, 90},
    {IMSAFE_OPT_WEBP_TO, "webp_to", IMSAFE_WEBP_TO_WEBP, IMSAFE_WEBP_TO_PNG, IMSAFE_WEBP_TO_WEBP},
};
const size_t imsafe__optdef_count = sizeof imsafe__optdefs / sizeof imsafe__optdefs[0];

const struct imsafe__optdef *imsafe__optdef_get(imsafe_opt opt)
{
    for (size_t i = 0; i < imsafe__optdef_count; i++)
        if (imsafe__optdefs[i].opt == opt)
            return &imsafe__optdefs[i];
    return NULL;
}

const struct imsafe__optdef *imsafe__optdef_find(const char *name, size_t len)
{
    for (size_t i = 0; i < imsafe__optdef_count; i++)
        if (strlen(imsafe__optdefs[i].name) == len &&
            memcmp(imsafe__optdefs[i].name, name, len) == 0)
            return &imsafe__optdefs[i];
    return NULL;
}

/*
 * Default action per type.  Secure defaults: the image formats we can
 * rebuild are sanitized (WebP only under a 0.2.0 header, see below); everything that runs code (executables, scripts,
 * HTML/SVG/XML/MVG) and everything unrecognised is rejected; image formats
 * we cannot rebuild (HEIC/AVIF, TIFF, BMP, ICO, MNG) are
 * rejected.  Containers we inspect (ZIP and its documents, gzip, tar) pass after
 * inspection; containers we cannot inspect (7z, rar, OLE2, RTF) are
 * rejected.  PDF passes after its objects are scanned (pdf.c: active keys
 * and encryption reject by default).  Plain text and audio/video pass
 * unchanged: libimsafe does not parse them, so an operator who wants them
 * off sets their action (or the kill switch).
 */
static imsafe_action default_action(imsafe_type t, long header_version)
{
    switch (t) {
    case IMSAFE_TYPE_WEBP:
        /* WebP gained its sanitizer in 0.2.0: a program built against an
         * older header keeps the default it was tested with (reject), as a
         * security library never loosens a default under an existing
         * binary */
        return header_version >= 2000 ? IMSAFE_ACTION_SANITIZE : IMSAFE_ACTION_REJECT;
    case IMSAFE_TYPE_PNG:
    case IMSAFE_TYPE_JPEG:
    case IMSAFE_TYPE_GIF:
        return IMSAFE_ACTION_SANITIZE;
    case IMSAFE_TYPE_PDF:
    case IMSAFE_TYPE_TEXT:
    case IMSAFE_TYPE_ZIP:
    case IMSAFE_TYPE_DOCX:
    case IMSAFE_TYPE_XLSX:
    case IMSAFE_TYPE_PPTX:
    case IMSAFE_TYPE_ODF:
    case IMSAFE_TYPE_EPUB:
    case IMSAFE_TYPE_GZIP:
    case IMSAFE_TYPE_TAR:
    case IMSAFE_TYPE_MP4:
    case IMSAFE_TYPE_MOV:
    case IMSAFE_TYPE_WEBM:
    case IMSAFE_TYPE_OGG:
    case IMSAFE_TYPE_MP3:
    case IMSAFE_TYPE_WAV:
        return IMSAFE_ACTION_PASS;
    default:
        return IMSAFE_ACTION_REJECT;
    }
}

imsafe_policy *imsafe_policy_new_v(long header_version)
{
    imsafe_policy *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->refs = 1;
    p->header_version = header_version;
    for (size_t i = 0; i < imsafe__optdef_count; i++)
        p->opt[imsafe__optdefs[i].opt] = imsafe__optdefs[i].def;
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++)
        p->action[t] = (unsigned char)default_action((imsafe_type)t, header_version);
    return p;
}

imsafe_status imsafe_policy_set(imsafe_policy *p, imsafe_opt opt, int64_t value)
{
    if (p == NULL)
        return IMSAFE_EINVAL;
    const struct imsafe__optdef *d = imsafe__optdef_get(opt);
    if (d == NULL || value < d->min || value > d->max)
        return IMSAFE_EINVAL;
    if (p->frozen)
        return IMSAFE_EBUSY;
    p->opt[opt] = value;
    return IMSAFE_OK;
}

imsafe_status imsafe_policy_get(const imsafe_policy *p, imsafe_opt opt, int64_t *value)
{
    if (p == NULL || value == NULL || imsafe__optdef_get(opt) == NULL)
        return IMSAFE_EINVAL;
    *value = p->opt[opt];
    return IMSAFE_OK;
}

static int has_sanitizer(imsafe_type t)
{
    return t == IMSAFE_TYPE_PNG || t == IMSAFE_TYPE_JPEG || t == IMSAFE_TYPE_GIF ||
           t == IMSAFE_TYPE_WEBP;
}

imsafe_status imsafe_policy_set_action(imsafe_policy *p, imsafe_type t, imsafe_action a)
{
    if (p == NULL || (unsigned)t >= IMSAFE_TYPE_COUNT)
        return IMSAFE_EINVAL;
    if (a != IMSAFE_ACTION_REJECT && a != IMSAFE_ACTION_PASS && a != IMSAFE_ACTION_SANITIZE)
        return IMSAFE_EINVAL;
    /* a type either has a sanitizer or not: images are never passed raw,
     * and nothing else can be "sanitized" */
    if ((has_sanitizer(t) ? a == IMSAFE_ACTION_PASS : a == IMSAFE_ACTION_SANITIZE) &&
        t != IMSAFE_TYPE_WEBP) /* 0.1.0 allowed "action webp = pass": it still does */
        return IMSAFE_EINVAL;
    if (p->frozen)
        return IMSAFE_EBUSY;
    p->action[t] = (unsigned char)a;
    return IMSAFE_OK;
}

imsafe_action imsafe_policy_action(const imsafe_policy *p, imsafe_type t)
{
    if (p == NULL || (unsigned)t >= IMSAFE_TYPE_COUNT)
        return IMSAFE_ACTION_REJECT;
    return (imsafe_action)p->action[t];
}

static int printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
            return 0;
    return 1;
}

imsafe_status imsafe_policy_kill(imsafe_policy *p, imsafe_type type, imsafe_feature feature,
                                 const char *message, int64_t expires_unix)
{
    if (p == NULL || expires_unix < 0)
        return IMSAFE_EINVAL;
    if (message != NULL && !printable(message, IMSAFE_KILL_MSG_MAX - 1))
        return IMSAFE_EINVAL;
    struct imsafe__kill *k;
    if (feature == 0 && type != IMSAFE_TYPE_UNKNOWN && (unsigned)type < IMSAFE_TYPE_COUNT)
        k = &p->kill_type[type];
    else if (type == IMSAFE_TYPE_UNKNOWN && feature >= 1 && feature < IMSAFE_FEATURE_COUNT)
        k = &p->kill_feature[feature];
    else
        return IMSAFE_EINVAL;
    if (p->frozen)
        return IMSAFE_EBUSY;
    k->active = 1;
    k->expires = expires_unix;
    strcpy(k->message, message ? message : "");
    return IMSAFE_OK;
}

static const struct imsafe__kill *live(const struct imsafe__kill *k, int64_t now)
{
    if (!k->active || (k->expires != 0 && now >= k->expires))
        return NULL;
    return k;
}

const struct imsafe__kill *imsafe__killed_type(const struct imsafe_policy *p, imsafe_type t,
                                               int64_t now)
{
    if ((unsigned)t >= IMSAFE_TYPE_COUNT)
        return NULL;
    return live(&p->kill_type[t], now);
}

const struct imsafe__kill *imsafe__killed_feature(const struct imsafe_policy *p,
                                                  imsafe_feature f, int64_t now)
{
    if (f < 1 || f >= IMSAFE_FEATURE_COUNT)
        return NULL;
    return live(&p->kill_feature[f], now);
}

static const char *const feature_names[IMSAFE_FEATURE_COUNT] = {
    [IMSAFE_FEATURE_ALL_IMAGES] = "all_images",
    [IMSAFE_FEATURE_JPEG_PROGRESSIVE] = "jpeg_progressive",
    [IMSAFE_FEATURE_GIF_ANIMATED] = "gif_animated",
    [IMSAFE_FEATURE_ICC_PROFILE] = "icc_profile",
    [IMSAFE_FEATURE_PNG_INTERLACED] = "png_interlaced",
    [IMSAFE_FEATURE_APNG] = "apng",
    [IMSAFE_FEATURE_ARCHIVES] = "archives",
    [IMSAFE_FEATURE_WEBP_ANIMATED] = "webp_animated",
};

const char *imsafe_feature_name(imsafe_feature f)
{
    if ((unsigned)f >= IMSAFE_FEATURE_COUNT)
        return NULL;
    return feature_names[f];
}

imsafe_status imsafe_policy_set_label(imsafe_policy *p, const char *label)
{
    if (p == NULL || label == NULL || !printable(label, IMSAFE_LABEL_MAX - 1))
        return IMSAFE_EINVAL;
    if (p->frozen)
        return IMSAFE_EBUSY;
    strcpy(p->label, label);
    return IMSAFE_OK;
}

const char *imsafe_policy_label(const imsafe_policy *p)
{
    return p ? p->label : "";
}

imsafe_status imsafe_policy_freeze(imsafe_policy *p)
{
    if (p == NULL)
        return IMSAFE_EINVAL;
    __atomic_store_n(&p->frozen, 1, __ATOMIC_RELEASE);
    return IMSAFE_OK;
}

int imsafe_policy_is_frozen(const imsafe_policy *p)
{
    return p != NULL && __atomic_load_n(&p->frozen, __ATOMIC_ACQUIRE);
}

imsafe_policy *imsafe_policy_ref(imsafe_policy *p)
{
    if (p != NULL)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void imsafe_policy_unref(imsafe_policy *p)
{
    if (p != NULL && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(p);
}
