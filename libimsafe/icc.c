/*
 * icc.c - an ICC profile is parsed into its colorimetry and written anew.
 *
 * Layout (ICC.1:2010 section 7, all numbers big-endian):
 *
 *   0    u32  profile size (must equal the bytes we hold)
 *   8    u8   major version (2, 3 or 4 in the wild; 5 is iccMAX, not ICC.1)
 *   12   4    device class ('mntr', 'scnr', 'spac'; 'link', 'abst', 'nmcl')
 *   16   4    data colour space ('RGB ', 'GRAY', 'CMYK', ...)
 *   20   4    profile connection space ('XYZ ' or 'Lab ')
 *   36   4    'acsp' file signature
 *   128  u32  tag count
 *   132  count x 12 bytes: u32 signature, u32 offset, u32 size
 *   ...  tag data, each element inside the profile
 *
 * Tag types read here (ICC.1 section 10): 'XYZ ' (3 s15Fixed16), 'sf32'
 * (9 s15Fixed16, the chromatic adaptation matrix), 'curv' (u32 count, then
 * count u16: 0 = identity, 1 = u8Fixed8 gamma, else a table interpolated
 * linearly) and 'para' (u16 function type 0..4, u16 reserved, 1/3/4/5/7
 * s15Fixed16 parameters).
 *
 * No byte of the sender's profile reaches the output, and no byte of it
 * reaches Little CMS: this bounded reader turns it into numbers (white
 * point, colorants, chromatic adaptation, one tone curve per channel),
 * and Little CMS writes a new profile from those numbers.  A profile
 * whose colorimetry is one of the spaces people send (sRGB, Display P3,
 * Adobe RGB (1998), ProPhoto, Rec. 2020, grey with gamma 2.2 or the sRGB
 * curve) becomes libimsafe's own canonical copy of that space; any other
 * matrix/TRC RGB or grey-TRC profile is rebuilt with only those tags (and
 * the text tags ICC v2 requires); everything else (LUT-based, CMYK, Lab,
 * named colour, device link, a profile that contradicts its image) is
 * dropped.
 *
 * Tone curves are fitted, never copied: a tabulated 'curv' written back
 * would keep the sender's 16-bit values verbatim (a "<?=" survives that
 * way), so every curve becomes an ICC parametric curve ('para').  Numbers
 * are bounded before use (colorants |v| <= 2, parameters |v| <= 16), so
 * in the s15Fixed16 words we write only the two low bytes of each word are
 * the sender's choice: no run of three chosen bytes.  A fit is accepted
 * when the rebuilt profile renders every tested colour within FIT_TOL of
 * the original (both converted to sRGB, in 8-bit levels); otherwise the
 * profile is dropped.  Profiles are written as ICC v2.1 (Firefox ignores
 * v4 profiles by default), with a fixed creation date and an MD5 profile
 * ID, so the same meaning always gives the same bytes: an output
 * sanitized again is byte-identical (the rebuilt profile parses back to
 * exactly the numbers it was written from).
 *
 * Little CMS allocates through a memory plugin charged to the call's
 * budget (one context per rebuild, so no state is shared between calls).
 * The one exception is the context structure itself, which Little CMS
 * allocates before its user data exists: that block (a few hundred bytes)
 * comes from malloc and is reserved in the budget as LCMS_CTX_RESERVE.
 */
#include <math.h>
#include <string.h>

#include <lcms2.h>
#include <lcms2_plugin.h>

#include "imsafe_private.h"

#define ICC_HEADER 128
#define ICC_TAG_ENTRY 12
/* a 'curv' table longer than this is no display curve (real ones: 256..4096) */
#define CURV_MAX 65536u
/* 8-bit levels tested by the renderings below */
#define LEVELS 256
/* lattice of colours (per axis) tested besides the per-channel ramps */
#define LATTICE 17
/* cells of the sRGB encoding table the renderings use: interpolation error
 * under 0.005 levels, and ten times faster than pow() per channel */
#define ENC_CELLS 4096
/* a canonical space whose colorants differ from a profile's by more than
 * this renders saturated colours levels apart: not worth a full rendering */
#define COLORANT_NEAR 0.01
/* worst difference, in 8-bit sRGB levels, allowed between the sender's
 * profile and ours: the fitted curves (FIT_TOL), and the canonical copy of
 * a recognised space (MATCH_TOL).  Together under one level, so the
 * rounded 8-bit results of a colour-managed reader differ by at most 1.
 * MATCH_TOL is the larger: the classic HP/Microsoft sRGB profile's
 * colorants, four decimals each, render saturated greens 0.45 levels from
 * sRGB's own numbers (sRGB's linear toe magnifies any colorant rounding). */
#define FIT_TOL 0.25
#define MATCH_TOL 0.5
/* Nelder-Mead iterations per curve fit (deterministic: fixed starts) */
#define FIT_ITER 240
/* samples of a curve the optimiser looks at (the check uses all LEVELS) */
#define FIT_SAMPLES 64
/* bytes of Little CMS's context block, allocated outside our plugin */
#define LCMS_CTX_RESERVE 4096u
/* bytes of plugin block header: the job (or NULL) and the size */
#define LCMS_HDR 16u

/* ---------------------------------------------------------------- numbers */

struct para {
    int type;     /* ICC function type 0..4 */
    double p[7];  /* g a b c d e f */
};

/* A tone curve as the sender wrote it: a table or a parametric function. */
struct src_curve {
    const uint8_t *table; /* big-endian u16 entries, or NULL */
    uint32_t entries;
    struct para para;     /* when table == NULL */
};

/* What a profile means: enough to render it, nothing else. */
struct meaning {
    int gray;
    double col[3][3];  /* rows X, Y, Z; columns R, G, B (D50 PCS) */
    double wtpt[3];
    int has_chad;
    double chad[9];
    struct para trc[3]; /* fitted (gray: trc[0]) */
};

/* An 8-bit rendering model: per-channel linear values, and the matrix
 * from linear device values to linear sRGB. */
struct model {
    int gray;
    double lin[3][LEVELS];
    double m[3][3];
    const double *enc; /* ENC_CELLS + 1 samples of srgb_enc */
};

static const int para_count[5] = {1, 3, 4, 5, 7};

/* The spaces recognised by their colorimetry (chromaticities x,y). */
struct canon {
    const char *name;
    int gray;
    double white[2];
    double prim[3][2];
    struct para trc;
};

#define SRGB_TRC {3, {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045, 0, 0}}
#define D65 {0.3127, 0.3290}

static const struct canon canons[] = {
    {"sRGB IEC61966-2.1", 0, D65, {{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}}, SRGB_TRC},
    {"Display P3", 0, D65, {{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}}, SRGB_TRC},
    {"Adobe RGB (1998)", 0, D65, {{0.64, 0.33}, {0.21, 0.71}, {0.15, 0.06}},
     {0, {563.0 / 256.0, 0, 0, 0, 0, 0, 0}}},
    {"ProPhoto RGB", 0, {0.3457, 0.3585}, {{0.7347, 0.2653}, {0.1596, 0.8404}, {0.0366, 0.0001}},
     {0, {461.0 / 256.0, 0, 0, 0, 0, 0, 0}}}, /* 1.8 as u8Fixed8, as real ones */
    {"Rec. ITU-R BT.2020", 0, D65, {{0.708, 0.292}, {0.170, 0.797}, {0.131, 0.046}},
     {3, {1.0 / 0.45, 1.0 / 1.099296826809442, 0.099296826809442 / 1.099296826809442, 1.0 / 4.5,
          0.081242858298635, 0, 0}}},
    {"Gray gamma 2.2", 1, D65, {{0, 0}, {0, 0}, {0, 0}}, {0, {2.2, 0, 0, 0, 0, 0, 0}}},
    {"Gray sRGB curve", 1, D65, {{0, 0}, {0, 0}, {0, 0}}, SRGB_TRC},
};

static const size_t canon_count = sizeof canons / sizeof canons[0];

/* The PCS illuminant, as Little CMS writes it (cmsD50_XYZ). */
static const double d50[3] = {0.9642, 1.0, 0.8249};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static double s15(const uint8_t *p)
{
    return (double)(int32_t)be32(p) / 65536.0;
}

/* The value Little CMS will write for v (_cmsDoubleTo15Fixed16). */
static double q15(double v)
{
    return floor(v * 65536.0 + 0.5) / 65536.0;
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* ------------------------------------------------------------ 3x3 algebra */

static void mat_mul(double r[3][3], const double a[3][3], const double b[3][3])
{
    double t[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
    memcpy(r, t, sizeof t);
}

/* 0 on success; -1 when the matrix is (nearly) singular. */
static int mat_inv(double r[3][3], const double a[3][3])
{
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (!(fabs(det) > 1e-9))
        return -1;
    double t[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
            t[i][j] = (a[i1][j1] * a[i2][j2] - a[i1][j2] * a[i2][j1]) / det;
        }
    memcpy(r, t, sizeof t);
    return 0;
}

/* Bradford adaptation from white w (XYZ) to D50, as Little CMS computes it. */
static void bradford(double r[3][3], const double w[3])
{
    static const double b[3][3] = {
        {0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}};
    double bi[3][3], d[3][3] = {{0}};
    mat_inv(bi, b); /* constant and regular */
    for (int i = 0; i < 3; i++) {
        double cs = b[i][0] * w[0] + b[i][1] * w[1] + b[i][2] * w[2];
        double cd = b[i][0] * d50[0] + b[i][1] * d50[1] + b[i][2] * d50[2];
        d[i][i] = cd / cs;
    }
    mat_mul(r, d, b);
    mat_mul(r, bi, r);
}

static void xy_to_xyz(double r[3], const double xy[2])
{
    r[0] = xy[0] / xy[1];
    r[1] = 1.0;
    r[2] = (1.0 - xy[0] - xy[1]) / xy[1];
}

/* Colorants (D50) of a space given by chromaticities: the RGB-to-XYZ
 * matrix scaled so that R = G = B = 1 is the white, then adapted, as
 * Little CMS computes them for our canonical copy. */
static void canon_colorants(double col[3][3], const struct canon *c)
{
    double p[3][3], pi[3][3], w[3], s[3], a[3][3];
    for (int j = 0; j < 3; j++) {
        p[0][j] = c->prim[j][0];
        p[1][j] = c->prim[j][1];
        p[2][j] = 1.0 - c->prim[j][0] - c->prim[j][1];
    }
    xy_to_xyz(w, c->white);
    mat_inv(pi, p); /* the table's primaries are regular */
    for (int i = 0; i < 3; i++)
        s[i] = pi[i][0] * w[0] + pi[i][1] * w[1] + pi[i][2] * w[2];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            col[i][j] = p[i][j] * s[j];
    bradford(a, w);
    mat_mul(col, a, col);
    /* as written: a tiny colorant (ProPhoto's blue Y is 0.0001) loses
     * digits to s15Fixed16, and the difference shows in saturated colours */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            col[i][j] = q15(col[i][j]);
}

/* ------------------------------------------------------------------ curves */

static double para_eval(const struct para *c, double x)
{
    const double *p = c->p;
    double y;
    switch (c->type) {
    case 0:
        y = pow(x, p[0]);
        break;
    case 1:
        y = x >= -p[2] / p[1] && p[1] * x + p[2] > 0 ? pow(p[1] * x + p[2], p[0]) : 0;
        break;
    case 2:
        y = (x >= -p[2] / p[1] && p[1] * x + p[2] > 0 ? pow(p[1] * x + p[2], p[0]) : 0) + p[3];
        break;
    case 3:
        y = x >= p[4] ? (p[1] * x + p[2] > 0 ? pow(p[1] * x + p[2], p[0]) : 0) : p[3] * x;
        break;
    default:
        y = x >= p[4] ? (p[1] * x + p[2] > 0 ? pow(p[1] * x + p[2], p[0]) : 0) + p[5]
                      : p[3] * x + p[6];
        break;
    }
    return isfinite(y) ? clamp01(y) : 0;
}

static double src_eval(const struct src_curve *c, double x)
{
    if (c->table == NULL)
        return para_eval(&c->para, x);
    double pos = x * (c->entries - 1);
    uint32_t i = (uint32_t)pos;
    if (i >= c->entries - 1)
        return (c->table[2 * (c->entries - 1)] << 8 | c->table[2 * (c->entries - 1) + 1]) / 65535.0;
    double f = pos - i;
    double a = (c->table[2 * i] << 8 | c->table[2 * i + 1]) / 65535.0;
    double b = (c->table[2 * i + 2] << 8 | c->table[2 * i + 3]) / 65535.0;
    return a + (b - a) * f;
}

/* sRGB encoding, the perceptual scale the differences are measured on. */
static double srgb_enc(double y)
{
    y = clamp01(y);
    return y <= 0.0031308 ? 12.92 * y : 1.055 * pow(y, 1.0 / 2.4) - 0.055;
}

/* Parameters a sender chose stay numbers in a sane range: this is also
 * what keeps the written s15Fixed16 words from spelling text. */
static int para_sane(const struct para *c)
{
    if (c->type < 0 || c->type > 4 || !(c->p[0] >= 0.1 && c->p[0] <= 16))
        return 0;
    for (int i = 1; i < para_count[c->type]; i++)
        if (!(fabs(c->p[i]) <= 16))
            return 0;
    if ((c->type == 1 || c->type == 2) && fabs(c->p[1]) < 1e-6)
        return 0;
    return 1;
}

/* Worst difference of a fit from the target on the 8-bit levels, in
 * levels of the sRGB encoding; target holds srgb_enc of the sender's
 * curve at n evenly spread levels. */
static double fit_error(const struct para *c, const double *target, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(srgb_enc(para_eval(c, (double)i / (n - 1))) - target[i]) * 255.0;
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* Type 3 from the free variables (g, a, d): b = 1 - a so the curve ends at
 * 1, c joins the two pieces at d.  Quantised as Little CMS will write it. */
static void type3_from(struct para *c, const double v[3])
{
    double g = v[0], a = v[1], d = v[2];
    memset(c, 0, sizeof *c);
    c->type = 3;
    c->p[0] = q15(g);
    c->p[1] = q15(a);
    c->p[2] = q15(1.0 - a);
    c->p[4] = q15(d);
    c->p[3] = q15(d > 1e-6 && a * d + 1.0 - a > 0 ? pow(a * d + 1.0 - a, g) / d : 0);
}

static double sq_error(const double v[3], const double *target, int n)
{
    struct para c;
    if (!(v[0] >= 0.2 && v[0] <= 10 && v[1] >= 0.5 && v[1] <= 1.0 && v[2] >= 0 && v[2] <= 0.5))
        return 1e30; /* outside the family we search */
    type3_from(&c, v);
    double s = 0;
    for (int i = 0; i < n; i++) {
        double e = srgb_enc(para_eval(&c, (double)i / (n - 1))) - target[i];
        s += e * e;
    }
    return s;
}

/* Nelder-Mead over (g, a, d) from a start point; fixed iteration count. */
static void nelder_mead(double best[3], const double start[3], const double *target, int n)
{
    double s[4][3], f[4];
    for (int k = 0; k < 4; k++) {
        memcpy(s[k], start, sizeof s[k]);
        if (k > 0)
            s[k][k - 1] += k == 1 ? 0.1 : k == 2 ? 0.02 : 0.01;
        f[k] = sq_error(s[k], target, n);
    }
    for (int it = 0; it < FIT_ITER; it++) {
        int hi = 0, lo = 0;
        for (int k = 1; k < 4; k++) {
            if (f[k] > f[hi])
                hi = k;
            if (f[k] < f[lo])
                lo = k;
        }
        double c[3] = {0}, r[3], e[3];
        for (int k = 0; k < 4; k++)
            for (int j = 0; k != hi && j < 3; j++)
                c[j] += s[k][j] / 3.0;
        for (int j = 0; j < 3; j++)
            r[j] = c[j] + (c[j] - s[hi][j]);
        double fr = sq_error(r, target, n);
        if (fr < f[lo]) {
            for (int j = 0; j < 3; j++)
                e[j] = c[j] + 2.0 * (c[j] - s[hi][j]);
            double fe = sq_error(e, target, n);
            memcpy(s[hi], fe < fr ? e : r, sizeof s[hi]);
            f[hi] = fe < fr ? fe : fr;
            continue;
        }
        int second = 0; /* is r better than the second worst? */
        for (int k = 0; k < 4; k++)
            if (k != hi && fr < f[k])
                second = 1;
        if (second) {
            memcpy(s[hi], r, sizeof s[hi]);
            f[hi] = fr;
            continue;
        }
        for (int j = 0; j < 3; j++)
            e[j] = c[j] + 0.5 * (s[hi][j] - c[j]);
        double fc = sq_error(e, target, n);
        if (fc < f[hi]) {
            memcpy(s[hi], e, sizeof s[hi]);
            f[hi] = fc;
            continue;
        }
        for (int k = 0; k < 4; k++) /* shrink towards the best */
            if (k != lo) {
                for (int j = 0; j < 3; j++)
                    s[k][j] = s[lo][j] + 0.5 * (s[k][j] - s[lo][j]);
                f[k] = sq_error(s[k], target, n);
            }
    }
    int lo = 0;
    for (int k = 1; k < 4; k++)
        if (f[k] < f[lo])
            lo = k;
    memcpy(best, s[lo], sizeof s[lo]);
}

/* Pure gamma: golden-section search for the exponent (on the optimiser's
 * samples; the caller checks the result on every level). */
static void fit_gamma(struct para *c, const double *target, int n)
{
    double lo = 0.2, hi = 10.0;
    const double r = 0.6180339887498949;
    memset(c, 0, sizeof *c);
    for (int it = 0; it < 60; it++) {
        double a = hi - r * (hi - lo), b = lo + r * (hi - lo);
        c->p[0] = a;
        double fa = fit_error(c, target, n);
        c->p[0] = b;
        double fb = fit_error(c, target, n);
        if (fa < fb)
            hi = b;
        else
            lo = a;
    }
    c->p[0] = q15((lo + hi) / 2);
}


/* The curve of a recognised space that fits best within FIT_TOL: 0 and
 * *out, or -1.  Most tables are one of these, sampled. */
static int fit_known(const double *full, struct para *out)
{
    double best = FIT_TOL;
    int found = -1;
    for (size_t k = 0; k < canon_count; k++) {
        struct para c = canons[k].trc;
        for (int i = 0; i < para_count[c.type]; i++)
            c.p[i] = q15(c.p[i]);
        double e = fit_error(&c, full, LEVELS);
        if (e <= best) {
            best = e;
            *out = c;
            found = 0;
        }
    }
    return found;
}

/*
 * Fit the sender's curve to a parametric one.  A 'para' curve is already
 * one (its bounded numbers are kept); a gamma stays a gamma; a table is
 * tried as the curve of a recognised space, as a pure gamma, then as an
 * IEC 61966-style type 3 from the usual starts (sRGB, BT.709, L*).  0 when
 * a fit is within FIT_TOL.
 */
static int fit_curve(const struct src_curve *src, struct para *out)
{
    double full[LEVELS], few[FIT_SAMPLES];
    if (src->table == NULL) {
        *out = src->para;
        return 0;
    }
    for (int i = 0; i < LEVELS; i++)
        full[i] = srgb_enc(src_eval(src, (double)i / (LEVELS - 1)));
    if (fit_known(full, out) == 0)
        return 0;
    for (int i = 0; i < FIT_SAMPLES; i++)
        few[i] = srgb_enc(src_eval(src, (double)i / (FIT_SAMPLES - 1)));
    struct para g, t3, c;
    fit_gamma(&g, few, FIT_SAMPLES);
    double eg = fit_error(&g, full, LEVELS);
    if (eg <= FIT_TOL) {
        *out = g;
        return 0;
    }
    const double starts[4][3] = {
        {2.4, 1.0 / 1.055, 0.04045}, {1.0 / 0.45, 1.0 / 1.099, 0.081}, {3.0, 1.0 / 1.16, 0.08},
        {g.p[0], 1.0, 0.0}};
    double best = 1e30, v[3];
    for (int k = 0; k < 4; k++) {
        double r = sq_error(starts[k], few, FIT_SAMPLES);
        if (r < best) {
            best = r;
            memcpy(v, starts[k], sizeof v);
        }
    }
    nelder_mead(v, v, few, FIT_SAMPLES);
    type3_from(&t3, v);
    c = fit_error(&t3, full, LEVELS) < eg ? t3 : g;
    if (fit_error(&c, full, LEVELS) > FIT_TOL)
        return -1;
    *out = c;
    return 0;
}

/* ----------------------------------------------------------------- reader */

struct profile {
    const uint8_t *p;
    size_t n;
    uint32_t count;
};

/* Header and tag table: every element inside the profile. */
static int header_ok(struct profile *pr, const uint8_t *p, size_t n, uint64_t max)
{
    if (p == NULL || n < ICC_HEADER + 4 || (uint64_t)n > max)
        return -1;
    if (be32(p) != n)
        return -1; /* the declared size must be exactly what we hold */
    if (memcmp(p + 36, "acsp", 4) != 0 || p[8] < 2 || p[8] > 4)
        return -1;
    uint64_t count = be32(p + ICC_HEADER);
    /* the tag table itself must fit: bounds count by the profile size */
    if (count > (n - ICC_HEADER - 4) / ICC_TAG_ENTRY)
        return -1;
    uint64_t table_end = ICC_HEADER + 4 + count * ICC_TAG_ENTRY;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = p + ICC_HEADER + 4 + i * ICC_TAG_ENTRY;
        uint64_t off = be32(e + 4), size = be32(e + 8), end;
        /* tag data lies after the table (ICC.1 7.3.1) and inside the file */
        if (imsafe__add_ovf(off, size, &end) || off < table_end || end > n)
            return -1;
    }
    pr->p = p;
    pr->n = n;
    pr->count = (uint32_t)count;
    return 0;
}

/* The tag with this signature: 1 found, 0 absent, -1 present twice (two
 * readers could pick different copies: the profile is dropped). */
static int find_tag(const struct profile *pr, const char *sig, const uint8_t **d, uint32_t *len)
{
    int found = 0;
    for (uint32_t i = 0; i < pr->count; i++) {
        const uint8_t *e = pr->p + ICC_HEADER + 4 + (size_t)i * ICC_TAG_ENTRY;
        if (memcmp(e, sig, 4) != 0)
            continue;
        if (found++)
            return -1;
        *d = pr->p + be32(e + 4);
        *len = be32(e + 8);
    }
    return found;
}

/* An 'XYZ ' tag: three numbers, each within [lo, hi]. */
static int read_xyz(const struct profile *pr, const char *sig, double v[3], double lo, double hi)
{
    const uint8_t *d;
    uint32_t len;
    if (find_tag(pr, sig, &d, &len) != 1 || len < 20 || memcmp(d, "XYZ ", 4) != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        v[i] = s15(d + 8 + 4 * i);
        if (!(v[i] >= lo && v[i] <= hi))
            return -1;
    }
    return 0;
}

/* The optional 'chad' tag: 1 read, 0 absent, -1 malformed. */
static int read_chad(const struct profile *pr, double m[9])
{
    const uint8_t *d;
    uint32_t len;
    int f = find_tag(pr, "chad", &d, &len);
    if (f <= 0)
        return f;
    if (len < 44 || memcmp(d, "sf32", 4) != 0)
        return -1;
    for (int i = 0; i < 9; i++) {
        m[i] = s15(d + 8 + 4 * i);
        if (!(fabs(m[i]) <= 4))
            return -1;
    }
    return 1;
}

static int read_curve(const struct profile *pr, const char *sig, struct src_curve *c)
{
    const uint8_t *d;
    uint32_t len;
    memset(c, 0, sizeof *c);
    if (find_tag(pr, sig, &d, &len) != 1 || len < 12)
        return -1;
    if (memcmp(d, "curv", 4) == 0) {
        uint32_t n = be32(d + 8);
        if (n > CURV_MAX || (uint64_t)len < 12 + 2 * (uint64_t)n)
            return -1;
        if (n == 0 || n == 1) { /* identity, or a u8Fixed8 gamma */
            c->para.type = 0;
            c->para.p[0] = n == 0 ? 1.0 : (d[12] << 8 | d[13]) / 256.0;
            return para_sane(&c->para) ? 0 : -1;
        }
        c->table = d + 12;
        c->entries = n;
        return 0;
    }
    if (memcmp(d, "para", 4) == 0) {
        unsigned type = (unsigned)d[8] << 8 | d[9];
        if (type > 4 || len < 12 + 4 * (uint32_t)para_count[type])
            return -1;
        c->para.type = (int)type;
        for (int i = 0; i < para_count[type]; i++)
            c->para.p[i] = s15(d + 12 + 4 * i);
        return para_sane(&c->para) ? 0 : -1;
    }
    return -1;
}

/* Tags that make a profile LUT-based: a reader would use them, not the
 * matrix and curves, so a rebuild from the matrix would change colours. */
static int has_lut(const struct profile *pr)
{
    static const char *const luts[] = {"A2B0", "A2B1", "A2B2", "B2A0", "B2A1", "B2A2",
                                       "D2B0", "D2B1", "D2B2", "D2B3", "B2D0"};
    const uint8_t *d;
    uint32_t len;
    for (size_t i = 0; i < sizeof luts / sizeof luts[0]; i++)
        if (find_tag(pr, luts[i], &d, &len) != 0)
            return 1;
    return 0;
}

/*
 * The colorimetry of a profile, with its curves in their sender's form
 * (src) for judging the fit.  0 when it is a matrix/TRC RGB or grey-TRC
 * profile that fits the image's channels; -1 to drop.
 */
static int parse(const struct profile *pr, int channels, struct meaning *m, struct src_curve src[3])
{
    const uint8_t *p = pr->p;
    memset(m, 0, sizeof *m);
    if (memcmp(p + 12, "mntr", 4) != 0 && memcmp(p + 12, "scnr", 4) != 0 &&
        memcmp(p + 12, "spac", 4) != 0)
        return -1; /* device links, abstract, named colour, output (LUT) */
    if (memcmp(p + 20, "XYZ ", 4) != 0 || has_lut(pr))
        return -1;
    m->gray = memcmp(p + 16, "GRAY", 4) == 0;
    if (!m->gray && memcmp(p + 16, "RGB ", 4) != 0)
        return -1;
    if (channels != (m->gray ? 1 : 3))
        return -1; /* contradicts its image */
    /* the media white matters only to absolute colorimetry: D50 if absent */
    if (find_tag(pr, "wtpt", &(const uint8_t *){0}, &(uint32_t){0}) == 0)
        memcpy(m->wtpt, d50, sizeof m->wtpt);
    else if (read_xyz(pr, "wtpt", m->wtpt, 0.01, 2) != 0)
        return -1;
    if ((m->has_chad = read_chad(pr, m->chad)) < 0)
        return -1;
    if (m->gray)
        return read_curve(pr, "kTRC", &src[0]);
    static const char *const xyz[3] = {"rXYZ", "gXYZ", "bXYZ"}, *const trc[3] = {"rTRC", "gTRC", "bTRC"};
    for (int j = 0; j < 3; j++) {
        double v[3];
        if (read_xyz(pr, xyz[j], v, -2, 2) != 0 || read_curve(pr, trc[j], &src[j]) != 0)
            return -1;
        for (int i = 0; i < 3; i++)
            m->col[i][j] = v[i];
    }
    double inv[3][3];
    if (mat_inv(inv, m->col) != 0 || !(m->col[1][0] + m->col[1][1] + m->col[1][2] > 0.1))
        return -1; /* no colour space: singular, or no white */
    return 0;
}

/* Fit every channel's curve; identical source curves share one fit. */
static int fit_all(struct meaning *m, const struct src_curve src[3])
{
    for (int j = 0; j < (m->gray ? 1 : 3); j++) {
        int same = -1;
        for (int k = 0; k < j; k++)
            if (memcmp(&src[k], &src[j], sizeof src[j]) == 0 ||
                (src[k].table != NULL && src[j].table != NULL && src[k].entries == src[j].entries &&
                 memcmp(src[k].table, src[j].table, 2 * (size_t)src[j].entries) == 0))
                same = k;
        if (same >= 0)
            m->trc[j] = m->trc[same];
        else if (fit_curve(&src[j], &m->trc[j]) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- renderings */

/* XYZ (D50) to linear sRGB: the inverse of sRGB's own colorants. */
static void srgb_from_xyz(double r[3][3])
{
    double col[3][3];
    canon_colorants(col, &canons[0]);
    mat_inv(r, col);
}

static void model_init(struct model *md, const double *enc, int gray, const double col[3][3],
                       const struct para trc[3], const struct src_curve *src)
{
    md->gray = gray;
    md->enc = enc;
    for (int j = 0; j < (gray ? 1 : 3); j++)
        for (int v = 0; v < LEVELS; v++) {
            double x = (double)v / (LEVELS - 1);
            md->lin[j][v] = src != NULL ? src_eval(&src[j], x) : para_eval(&trc[j], x);
        }
    if (!gray) {
        double s[3][3];
        srgb_from_xyz(s);
        mat_mul(md->m, s, col);
    }
}

static void enc_table(double *t)
{
    for (int i = 0; i <= ENC_CELLS; i++)
        t[i] = srgb_enc((double)i / ENC_CELLS) * 255.0;
}

static double enc_fast(const double *t, double y)
{
    y = clamp01(y) * ENC_CELLS;
    int i = (int)y;
    if (i >= ENC_CELLS)
        return t[ENC_CELLS];
    return t[i] + (t[i + 1] - t[i]) * (y - i);
}

/* One colour rendered to sRGB, in 8-bit levels (unrounded). */
static void render(const struct model *md, const int rgb[3], double out[3])
{
    if (md->gray) {
        out[0] = out[1] = out[2] = enc_fast(md->enc, md->lin[0][rgb[0]]);
        return;
    }
    double l[3] = {md->lin[0][rgb[0]], md->lin[1][rgb[1]], md->lin[2][rgb[2]]};
    for (int i = 0; i < 3; i++)
        out[i] = enc_fast(md->enc, md->m[i][0] * l[0] + md->m[i][1] * l[1] + md->m[i][2] * l[2]);
}

static double diff_at(const struct model *a, const struct model *b, const int rgb[3])
{
    double x[3], y[3], worst = 0;
    render(a, rgb, x);
    render(b, rgb, y);
    for (int i = 0; i < 3; i++)
        if (fabs(x[i] - y[i]) > worst)
            worst = fabs(x[i] - y[i]);
    return worst;
}

/* The worst difference between two renderings over every level of each
 * channel alone, the grey axis, and a lattice of colours. */
static double model_diff(const struct model *a, const struct model *b)
{
    double worst = 0, d;
    for (int v = 0; v < LEVELS; v++)
        for (int ch = 0; ch < (a->gray ? 1 : 4); ch++) {
            int rgb[3] = {ch == 0 || ch == 3 ? v : 0, ch == 1 || ch == 3 ? v : 0,
                          ch == 2 || ch == 3 ? v : 0};
            if ((d = diff_at(a, b, rgb)) > worst)
                worst = d;
        }
    for (int i = 0; !a->gray && i < LATTICE * LATTICE * LATTICE; i++) {
        int rgb[3] = {i % LATTICE * 255 / (LATTICE - 1), i / LATTICE % LATTICE * 255 / (LATTICE - 1),
                      i / (LATTICE * LATTICE) * 255 / (LATTICE - 1)};
        if ((d = diff_at(a, b, rgb)) > worst)
            worst = d;
    }
    return worst;
}

static int colorants_near(const double a[3][3], const double b[3][3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (!(fabs(a[i][j] - b[i][j]) <= COLORANT_NEAR))
                return 0;
    return 1;
}

/* The canonical space this meaning renders like, or -1. */
static int recognise(const struct meaning *m, const double *enc, struct model *mine,
                     struct model *scratch)
{
    int best = -1;
    double best_d = MATCH_TOL;
    model_init(mine, enc, m->gray, m->col, m->trc, NULL);
    for (int k = 0; k < (int)canon_count; k++) {
        const struct canon *c = &canons[k];
        struct para trc[3] = {c->trc, c->trc, c->trc};
        double col[3][3];
        if (c->gray != m->gray)
            continue;
        if (!c->gray) {
            canon_colorants(col, c);
            if (!colorants_near(col, m->col))
                continue;
        }
        model_init(scratch, enc, c->gray, col, trc, NULL);
        double d = model_diff(mine, scratch);
        if (d <= best_d) {
            best_d = d;
            best = k;
        }
    }
    return best;
}

/* ----------------------------------------------------- Little CMS memory */

/* Every block carries the job that charged it (NULL: from malloc, the
 * context block) and its size, so free and realloc need no context. */
static void *lcms_malloc(cmsContext id, cmsUInt32Number size)
{
    struct imsafe__job *job = cmsGetContextUserData(id);
    size_t total;
    uint8_t *p;
    if (imsafe__add_ovf((size_t)size, (size_t)LCMS_HDR, &total))
        return NULL;
    p = job != NULL ? imsafe__alloc(job, total) : malloc(total);
    if (p == NULL)
        return NULL;
    memcpy(p, &job, sizeof job);
    memcpy(p + sizeof job, &(size_t){size}, sizeof(size_t));
    return p + LCMS_HDR;
}

static void lcms_free(cmsContext id, void *ptr)
{
    struct imsafe__job *job;
    (void)id;
    if (ptr == NULL)
        return;
    uint8_t *p = (uint8_t *)ptr - LCMS_HDR;
    memcpy(&job, p, sizeof job);
    if (job != NULL)
        imsafe__free(job, p);
    else
        free(p);
}

static void *lcms_realloc(cmsContext id, void *ptr, cmsUInt32Number size)
{
    size_t old = 0;
    if (ptr != NULL)
        memcpy(&old, (uint8_t *)ptr - LCMS_HDR + sizeof(void *), sizeof old);
    void *q = lcms_malloc(id, size);
    if (q == NULL)
        return NULL;
    if (ptr != NULL)
        memcpy(q, ptr, old < size ? old : size);
    lcms_free(id, ptr);
    return q;
}

static void lcms_quiet(cmsContext id, cmsUInt32Number code, const char *text)
{
    (void)id;
    (void)code;
    (void)text; /* failures surface as NULL returns; nothing is printed */
}

static cmsContext lcms_context(struct imsafe__job *job)
{
    cmsPluginMemHandler mem;
    memset(&mem, 0, sizeof mem);
    mem.base.Magic = cmsPluginMagicNumber;
    mem.base.ExpectedVersion = 2080; /* memory plugins exist since 2.8 */
    mem.base.Type = cmsPluginMemHandlerSig;
    mem.MallocPtr = lcms_malloc;
    mem.FreePtr = lcms_free;
    mem.ReallocPtr = lcms_realloc;
    if (imsafe__reserve(job, LCMS_CTX_RESERVE, "Little CMS context") != 0)
        return NULL;
    cmsContext ctx = cmsCreateContext(&mem, job);
    if (ctx == NULL) {
        imsafe__unreserve(job, LCMS_CTX_RESERVE);
        return NULL;
    }
    cmsSetLogErrorHandlerTHR(ctx, lcms_quiet);
    return ctx;
}

/* -------------------------------------------------------------- writing */

static int set_text(cmsContext ctx, cmsHPROFILE h, cmsTagSignature sig, const char *text)
{
    cmsMLU *mlu = cmsMLUalloc(ctx, 1);
    int ok = mlu != NULL && cmsMLUsetASCII(mlu, "en", "US", text) && cmsWriteTag(h, sig, mlu);
    cmsMLUfree(mlu);
    return ok ? 0 : -1;
}

static cmsToneCurve *lcms_curve(cmsContext ctx, const struct para *c)
{
    /* Little CMS numbers ICC function types from 1 */
    return cmsBuildParametricToneCurve(ctx, c->type + 1, c->p);
}

static int write_xyz(cmsHPROFILE h, cmsTagSignature sig, double x, double y, double z)
{
    cmsCIEXYZ v = {x, y, z};
    return cmsWriteTag(h, sig, &v) ? 0 : -1;
}

/* The profile of a canonical space: Little CMS computes the colorants and
 * adaptation from the chromaticities, as for its own sRGB. */
static cmsHPROFILE build_canon(cmsContext ctx, const struct canon *c)
{
    cmsToneCurve *t = lcms_curve(ctx, &c->trc);
    cmsHPROFILE h = NULL;
    if (t == NULL)
        return NULL;
    if (c->gray) {
        h = cmsCreateGrayProfileTHR(ctx, cmsD50_xyY(), t);
    } else {
        cmsCIExyY w = {c->white[0], c->white[1], 1.0};
        cmsCIExyYTRIPLE p = {{c->prim[0][0], c->prim[0][1], 1.0},
                             {c->prim[1][0], c->prim[1][1], 1.0},
                             {c->prim[2][0], c->prim[2][1], 1.0}};
        cmsToneCurve *ts[3] = {t, t, t};
        h = cmsCreateRGBProfileTHR(ctx, &w, &p, ts);
        /* chrm repeats the primaries: only the tags a reader renders with */
        if (h != NULL && !cmsWriteTag(h, cmsSigChromaticityTag, NULL)) {
            cmsCloseProfile(h);
            h = NULL;
        }
    }
    cmsFreeToneCurve(t);
    return h;
}

/* A rebuilt profile: the sender's numbers, fitted curves, nothing else. */
static cmsHPROFILE build_rebuilt(cmsContext ctx, const struct meaning *m)
{
    static const cmsTagSignature xyz[3] = {cmsSigRedColorantTag, cmsSigGreenColorantTag,
                                           cmsSigBlueColorantTag};
    cmsToneCurve *t[3] = {NULL, NULL, NULL};
    int owned[3] = {0, 0, 0};
    cmsHPROFILE h = NULL;
    int n = m->gray ? 1 : 3, ok = 1;
    for (int j = 0; j < n && ok; j++) {
        for (int k = 0; k < j && t[j] == NULL; k++)
            if (memcmp(&m->trc[k], &m->trc[j], sizeof m->trc[j]) == 0)
                t[j] = t[k]; /* same pointer: Little CMS links the tags */
        if (t[j] == NULL)
            ok = owned[j] = (t[j] = lcms_curve(ctx, &m->trc[j])) != NULL;
    }
    if (ok)
        h = m->gray ? cmsCreateGrayProfileTHR(ctx, NULL, t[0])
                    : cmsCreateRGBProfileTHR(ctx, NULL, NULL, t);
    ok = h != NULL && write_xyz(h, cmsSigMediaWhitePointTag, m->wtpt[0], m->wtpt[1], m->wtpt[2]) == 0;
    if (ok && m->has_chad) {
        cmsMAT3 chad;
        for (int i = 0; i < 9; i++)
            chad.v[i / 3].n[i % 3] = m->chad[i];
        ok = cmsWriteTag(h, cmsSigChromaticAdaptationTag, &chad);
    }
    for (int j = 0; ok && !m->gray && j < 3; j++)
        ok = write_xyz(h, xyz[j], m->col[0][j], m->col[1][j], m->col[2][j]) == 0;
    for (int j = 0; j < n; j++)
        if (owned[j])
            cmsFreeToneCurve(t[j]);
    if (!ok && h != NULL) {
        cmsCloseProfile(h);
        h = NULL;
    }
    return h;
}

/* Serialise into a buffer charged to the job; NULL on failure. */
static uint8_t *save(struct imsafe__job *job, cmsHPROFILE h, size_t *len)
{
    cmsUInt32Number n = 0;
    if (!cmsSaveProfileToMem(h, NULL, &n) || n < ICC_HEADER)
        return NULL;
    uint8_t *buf = imsafe__alloc(job, n);
    if (buf != NULL && !cmsSaveProfileToMem(h, buf, &n)) {
        imsafe__free(job, buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

/* The fixed creation date (2024-01-01 00:00:00): a clock would make the
 * same image sanitize to different bytes. */
static void fix_date(uint8_t *p)
{
    static const uint8_t date[12] = {0x07, 0xE8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(p + 24, date, sizeof date);
}

/*
 * Finish a profile as ICC v2.1 with our text tags, a fixed date and an MD5
 * profile ID.  Little CMS decides a curve's tag type when it saves, and at
 * v2 it would write our parametric curves as 16-bit tables; it also stamps
 * the current time on every new profile and has no setter.  So the
 * profile is saved at v4 (curves as 'para'), dated, opened again (our own
 * bytes), switched to v2.1 with desc and cprt written again in their v2
 * types, and saved with its ID: Little CMS copies the tags it was not
 * asked to change as they are.
 */
static uint8_t *finish(struct imsafe__job *job, cmsContext ctx, cmsHPROFILE h, const char *desc,
                       size_t *len)
{
    uint8_t *first = NULL, *out = NULL;
    size_t n = 0;
    cmsSetProfileVersion(h, 4.3);
    cmsSetHeaderRenderingIntent(h, INTENT_PERCEPTUAL);
    first = save(job, h, &n);
    if (first == NULL)
        return NULL;
    fix_date(first);
    cmsHPROFILE v2 = cmsOpenProfileFromMemTHR(ctx, first, (cmsUInt32Number)n);
    if (v2 != NULL) {
        cmsSetProfileVersion(v2, 2.1);
        if (set_text(ctx, v2, cmsSigProfileDescriptionTag, desc) == 0 &&
            set_text(ctx, v2, cmsSigCopyrightTag, "No copyright, use freely") == 0 &&
            cmsMD5computeID(v2))
            out = save(job, v2, len);
        cmsCloseProfile(v2);
    }
    imsafe__free(job, first);
    return out;
}

/* --------------------------------------------------------------- entry */

struct work {
    struct profile pr;
    struct meaning m;
    struct src_curve src[3];
    struct model a, b;
    double enc[ENC_CELLS + 1];
};

/* Decide what the profile becomes: a canonical index (>= 0), REBUILD, or
 * DROP.  Pure computation, no allocation but the caller's work area. */
#define REBUILD (-1)
#define DROP (-2)

static int decide(struct work *w, int channels)
{
    if (parse(&w->pr, channels, &w->m, w->src) != 0 || fit_all(&w->m, w->src) != 0)
        return DROP;
    /* the fitted rendering against the sender's own */
    enc_table(w->enc);
    model_init(&w->a, w->enc, w->m.gray, w->m.col, NULL, w->src);
    model_init(&w->b, w->enc, w->m.gray, w->m.col, w->m.trc, NULL);
    if (model_diff(&w->a, &w->b) > FIT_TOL)
        return DROP;
    int k = recognise(&w->m, w->enc, &w->a, &w->b);
    return k >= 0 ? k : REBUILD;
}

int imsafe__icc_rebuild(struct imsafe__job *job, const uint8_t *p, size_t n, int channels,
                        uint8_t **out, size_t *out_len)
{
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_ICC_BYTES);
    int rc = IMSAFE__ICC_DROPPED;
    cmsContext ctx = NULL;
    cmsHPROFILE h = NULL;
    struct work *w = imsafe__calloc(job, 1, sizeof *w);
    *out = NULL;
    *out_len = 0;
    if (w == NULL)
        return IMSAFE__ICC_FAILED;
    if (header_ok(&w->pr, p, n, max) != 0)
        goto done;
    int k = decide(w, channels);
    if (k == DROP)
        goto done;
    rc = IMSAFE__ICC_FAILED;
    if ((ctx = lcms_context(job)) == NULL)
        goto done;
    h = k >= 0 ? build_canon(ctx, &canons[k]) : build_rebuilt(ctx, &w->m);
    if (h != NULL)
        *out = finish(job, ctx, h, k >= 0 ? canons[k].name : w->m.gray ? "Gray (rebuilt)" : "RGB (rebuilt)",
                      out_len);
    if (*out != NULL)
        rc = k >= 0 ? IMSAFE__ICC_CANONICAL : IMSAFE__ICC_REBUILT;
done:
    if (h != NULL)
        cmsCloseProfile(h);
    if (ctx != NULL) {
        cmsDeleteContext(ctx);
        imsafe__unreserve(job, LCMS_CTX_RESERVE);
    }
    imsafe__free(job, w);
    /* Little CMS failing without a rejection or allocator failure is a
     * profile we could not write: drop it rather than fail the image */
    if (rc == IMSAFE__ICC_FAILED && !imsafe__rejected(job) && !job->alloc_failed)
        rc = IMSAFE__ICC_DROPPED;
    return rc;
}
