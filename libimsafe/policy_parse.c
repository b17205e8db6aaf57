/*
 * policy_parse.c - the policy text format (imsafe-policy(5)): a strict,
 * hand-written line grammar, and the printer that writes a policy back in
 * the same format.
 *
 * Grammar (one statement per line; ASCII only):
 *
 *   line       = [ statement ] [ "#" comment ]
 *   statement  = "label" "=" string
 *              | key "=" value
 *              | "action" type "=" ( "sanitize" | "pass" | "reject" )
 *              | "kill" type kill-opts
 *              | "kill" "feature" feature kill-opts
 *   kill-opts  = [ "message" string ] [ "until" time ]   (either order)
 *   value      = number [ unit ]            integer keys; units on *_bytes only
 *              | "yes"|"no"|"true"|"false"|"on"|"off"|"1"|"0"   0/1 keys
 *              | name                      jpeg_mode, png_filters,
 *                                           filename_findings, jpeg_progressive,
 *                                           jpeg_arithmetic, apng,
 *                                           office_macros, office_active,
 *                                           pdf_active, pdf_encrypted,
 *                                           isolation,
 *                                           webp_to
 *   number     = digit { digit | "_" digit }            decimal, e.g. 60_000_000
 *   unit       = "KiB" | "MiB" | "GiB" | "TiB"          attached or after a space
 *   time       = YYYY-MM-DD "T" HH:MM:SS "Z"            UTC, year >= 1970
 *   string     = '"' { printable ASCII | '\"' | '\\' } '"'
 *
 * Words (keys, values, type and feature names) are runs of letters, digits,
 * '_', '-', ':' and '.'; '=' and quoted strings separate themselves, so
 * spaces around '=' are optional.  Blank lines and comments are ignored;
 * '#' inside a quoted string is text.  Lines end in LF (a CR before it is
 * dropped).
 *
 * Strictness, and why: a policy file is an operator's security decision,
 * so nothing in it may be guessed.  Unknown keys, types, features and
 * values, a key, action or kill given twice in one text, a value out of the
 * option table's range, anything after a complete statement, an unterminated
 * string, an unknown escape, a control or non-ASCII byte (anywhere, comments
 * included), a NUL byte and a line over 1024 bytes are all errors.  An error
 * reports "origin:line: message"; the message names the key and the
 * problem, quotes only words (which are made of the safe characters above)
 * and never echoes raw input bytes, since it ends up in logs and consoles.
 *
 * Atomicity: the text is applied to a scratch copy of the policy, which is
 * copied back only when the whole text parsed, so a failed reload leaves
 * the policy exactly as it was.  Times are converted by hand (days from the
 * civil date), so the result does not depend on the host's time zone,
 * locale or timegm().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imsafe_private.h"

#define LINE_MAX_BYTES 1024 /* longer lines are an error, not truncated */
#define MAX_TOKENS 16       /* the longest statement has 7 */
#define ECHO_MAX 32         /* words quoted in errors are cut to this */
#define YEAR_DIGITS_MAX 12  /* int64 seconds end in year 292277026596 */

#define N_OPTS (sizeof(((struct imsafe_policy *)0)->opt) / sizeof(int64_t))

enum tok_kind { T_WORD, T_EQ, T_STR };

struct tok {
    enum tok_kind kind;
    const char *s; /* words: into the line; strings: decoded, NUL-terminated */
    size_t len;
};

/* Parser state: one per call, on the caller's stack. */
struct parser {
    struct imsafe_policy *p; /* the scratch copy */
    const char *origin;
    char *err;
    size_t err_size;
    unsigned long lineno;
    struct tok tok[MAX_TOKENS];
    int ntok;
    char strings[LINE_MAX_BYTES + 2]; /* decoded strings of this line */
    size_t strused;
    /* the line each statement was first seen on, for duplicate errors */
    unsigned long opt_seen[N_OPTS];
    unsigned long action_seen[IMSAFE_TYPE_COUNT];
    unsigned long kill_type_seen[IMSAFE_TYPE_COUNT];
    unsigned long kill_feature_seen[IMSAFE_FEATURE_COUNT];
    unsigned long label_seen;
};

/* Options whose values are names.  Index = value. */
struct enum_opt {
    imsafe_opt opt;
    const char *names[4];
};
static const struct enum_opt enum_opts[] = {
    {IMSAFE_OPT_JPEG_MODE, {"lossless", "pixels", NULL, NULL}},
    {IMSAFE_OPT_PNG_FILTERS, {"none", "adaptive", "fast", NULL}},
    {IMSAFE_OPT_FILENAME_FINDINGS, {"reject", "note", NULL, NULL}},
    {IMSAFE_OPT_JPEG_PROGRESSIVE, {"keep", "baseline", NULL, NULL}},
    {IMSAFE_OPT_JPEG_ARITHMETIC, {"reject", "allow", NULL, NULL}},
    {IMSAFE_OPT_APNG, {"keep", "flatten", NULL, NULL}},
    {IMSAFE_OPT_OFFICE_MACROS, {"reject", "pass", NULL, NULL}},
    {IMSAFE_OPT_OFFICE_ACTIVE, {"reject", "pass", NULL, NULL}},
    {IMSAFE_OPT_PDF_ACTIVE, {"reject", "pass", NULL, NULL}},
    {IMSAFE_OPT_PDF_ENCRYPTED, {"reject", "pass", NULL, NULL}},
    {IMSAFE_OPT_ISOLATION, {"none", "process", NULL, NULL}},
    {IMSAFE_OPT_WEBP_TO, {"webp", "png", NULL, NULL}},
};

static const char *const action_names[] = {
    [IMSAFE_ACTION_REJECT] = "reject",
    [IMSAFE_ACTION_PASS] = "pass",
    [IMSAFE_ACTION_SANITIZE] = "sanitize",
};

static const struct {
    const char *name;
    int64_t mul;
} units[] = {
    {"TiB", 1024LL * 1024 * 1024 * 1024},
    {"GiB", 1024LL * 1024 * 1024},
    {"MiB", 1024LL * 1024},
    {"KiB", 1024LL},
};

/* ------------------------------------------------------------------ errors */

static imsafe_status fail(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write "origin:line: message".  Forced to printable ASCII afterwards: the
 * origin comes from the caller and might hold anything. */
static imsafe_status fail(struct parser *ps, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->err != NULL && ps->err_size > 0) {
        snprintf(ps->err, ps->err_size, "%s:%lu: %s", ps->origin, ps->lineno, msg);
        for (char *c = ps->err; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
    }
    return IMSAFE_ESYNTAX;
}

/* Quote a word in an error: words hold only safe characters (is_word), and
 * long ones are cut. */
#define ECHO_FMT "'%.*s%s'"
#define ECHO(t) (int)((t)->len > ECHO_MAX ? ECHO_MAX : (t)->len), (t)->s, \
                ((t)->len > ECHO_MAX ? "..." : "")

/* --------------------------------------------------------------- tokenizer */

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == ':' || c == '.';
}

static int word_is(const struct tok *t, const char *w)
{
    return t->kind == T_WORD && strlen(w) == t->len && memcmp(t->s, w, t->len) == 0;
}

/* Bytes the format forbids anywhere in a line, comments included. */
static imsafe_status check_bytes(struct parser *ps, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0)
            return fail(ps, "NUL byte at column %zu", i + 1);
        if (c >= 0x80)
            return fail(ps, "non-ASCII byte 0x%02X at column %zu (the format is ASCII)", c,
                        i + 1);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(ps, "control character 0x%02X at column %zu", c, i + 1);
    }
    return IMSAFE_OK;
}

/* A quoted string starting at s[*i] == '"': decode it into ps->strings. */
static imsafe_status read_string(struct parser *ps, const char *s, size_t n, size_t *i,
                                 struct tok *t)
{
    char *out = ps->strings + ps->strused;
    size_t o = 0, j = *i + 1;
    for (;; j++) {
        if (j >= n)
            return fail(ps, "unterminated string (opened at column %zu)", *i + 1);
        char c = s[j];
        if (c == '"')
            break;
        if (c == '\t')
            return fail(ps, "tab inside a string at column %zu", j + 1);
        if (c == '\\') {
            if (j + 1 >= n)
                return fail(ps, "unterminated string (opened at column %zu)", *i + 1);
            c = s[++j];
            if (c != '"' && c != '\\')
                return fail(ps, "unknown escape at column %zu (only \\\" and \\\\)", j);
        }
        out[o++] = c;
    }
    /* a decoded string is shorter than its quoted form, so strings fit */
    out[o] = '\0';
    ps->strused += o + 1;
    t->kind = T_STR;
    t->s = out;
    t->len = o;
    *i = j + 1;
    return IMSAFE_OK;
}

static imsafe_status tokenize(struct parser *ps, const char *s, size_t n)
{
    ps->ntok = 0;
    ps->strused = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (c == '#')
            break;
        if (ps->ntok == MAX_TOKENS)
            return fail(ps, "too many words on one line");
        struct tok *t = &ps->tok[ps->ntok++];
        if (c == '"') {
            imsafe_status rc = read_string(ps, s, n, &i, t);
            if (rc != IMSAFE_OK)
                return rc;
        } else if (c == '=') {
            t->kind = T_EQ;
            t->s = s + i++;
            t->len = 1;
        } else if (is_word(c)) {
            t->kind = T_WORD;
            t->s = s + i;
            while (i < n && is_word(s[i]))
                i++;
            t->len = (size_t)(s + i - t->s);
        } else {
            /* check_bytes() let only printable ASCII through */
            return fail(ps, "unexpected character '%c' at column %zu", c, i + 1);
        }
    }
    return IMSAFE_OK;
}

/* ------------------------------------------------------------------ values */

/* Leading decimal digits with single '_' between digits.  Returns how many
 * characters were used (0: no number), or -1 on overflow. */
static long read_number(const char *s, size_t n, int64_t *v)
{
    int64_t acc = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (imsafe__mul_ovf(acc, (int64_t)10, &acc) || imsafe__add_ovf(acc, s[i] - '0', &acc))
            return -1;
        i++;
        if (i + 1 < n && s[i] == '_' && s[i + 1] >= '0' && s[i + 1] <= '9')
            i++;
    }
    *v = acc;
    return (long)i;
}

static int is_bytes_key(const struct imsafe__optdef *d)
{
    size_t l = strlen(d->name);
    return l > 6 && strcmp(d->name + l - 6, "_bytes") == 0;
}

static const struct enum_opt *enum_of(imsafe_opt opt)
{
    for (size_t i = 0; i < sizeof enum_opts / sizeof enum_opts[0]; i++)
        if (enum_opts[i].opt == opt)
            return &enum_opts[i];
    return NULL;
}

/* A 0/1 option that is not an enum reads as a boolean. */
static int is_bool(const struct imsafe__optdef *d)
{
    return d->min == 0 && d->max == 1 && enum_of(d->opt) == NULL;
}

static imsafe_status unit_value(struct parser *ps, const struct imsafe__optdef *d,
                                const char *u, size_t ulen, int64_t *v)
{
    if (!is_bytes_key(d))
        return fail(ps, "%s: expected a plain decimal number (size units are for *_bytes keys)",
                    d->name);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0) {
            if (imsafe__mul_ovf(*v, units[i].mul, v))
                return fail(ps, "%s: value too large", d->name);
            return IMSAFE_OK;
        }
    return fail(ps, "%s: unknown unit (use KiB, MiB, GiB or TiB)", d->name);
}

static imsafe_status int_value(struct parser *ps, const struct imsafe__optdef *d, int64_t *v)
{
    const struct tok *t = &ps->tok[2];
    long used = read_number(t->s, t->len, v);
    if (used < 0)
        return fail(ps, "%s: value too large", d->name);
    /* the unit, if any: the rest of the word ("64MiB") or the next word */
    const char *u = t->s + used;
    size_t ulen = t->len - (size_t)used;
    int last = 2;
    if (ulen == 0 && ps->ntok > 3 && ps->tok[3].kind == T_WORD && is_letter(ps->tok[3].s[0])) {
        u = ps->tok[3].s;
        ulen = ps->tok[3].len;
        last = 3;
    }
    /* "x", "1__0", "10_": no number, or a separator not between digits */
    if (used == 0 || (ulen > 0 && !is_letter(u[0])))
        return fail(ps, "%s: expected a decimal number", d->name);
    if (ps->ntok > last + 1)
        return fail(ps, "%s: unexpected text after the value", d->name);
    if (ulen > 0) {
        imsafe_status rc = unit_value(ps, d, u, ulen, v);
        if (rc != IMSAFE_OK)
            return rc;
    }
    if (*v < d->min || *v > d->max)
        return fail(ps, "%s: %lld is out of range %lld..%lld", d->name, (long long)*v,
                    (long long)d->min, (long long)d->max);
    return IMSAFE_OK;
}

static imsafe_status bool_value(struct parser *ps, const struct imsafe__optdef *d, int64_t *v)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    const struct tok *t = &ps->tok[2];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (word_is(t, yes[i]) || word_is(t, no[i])) {
            *v = word_is(t, yes[i]);
            return IMSAFE_OK;
        }
    }
    return fail(ps, "%s: expected yes or no", d->name);
}

static imsafe_status enum_value(struct parser *ps, const struct imsafe__optdef *d,
                                const struct enum_opt *e, int64_t *v)
{
    char list[64] = "";
    for (int i = 0; i < 4 && e->names[i] != NULL; i++) {
        if (word_is(&ps->tok[2], e->names[i])) {
            *v = i;
            return IMSAFE_OK;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", e->names[i]);
    }
    return fail(ps, "%s: expected one of %s", d->name, list);
}

/* ------------------------------------------------------------- statements */

static imsafe_status do_option(struct parser *ps)
{
    const struct tok *t = ps->tok;
    const struct imsafe__optdef *d = imsafe__optdef_find(t->s, t->len);
    if (d == NULL)
        return fail(ps, "unknown key " ECHO_FMT, ECHO(t));
    if (ps->ntok < 2 || ps->tok[1].kind != T_EQ)
        return fail(ps, "%s: expected '=' after the key", d->name);
    if (ps->opt_seen[d->opt])
        return fail(ps, "%s: set twice (first on line %lu)", d->name, ps->opt_seen[d->opt]);
    if (ps->ntok < 3 || ps->tok[2].kind != T_WORD)
        return fail(ps, "%s: missing value", d->name);
    const struct enum_opt *e = enum_of(d->opt);
    if ((e != NULL || is_bool(d)) && ps->ntok > 3)
        return fail(ps, "%s: unexpected text after the value", d->name);
    int64_t v = 0;
    imsafe_status rc = e != NULL    ? enum_value(ps, d, e, &v)
                       : is_bool(d) ? bool_value(ps, d, &v)
                                    : int_value(ps, d, &v);
    if (rc != IMSAFE_OK)
        return rc;
    if (imsafe_policy_set(ps->p, d->opt, v) != IMSAFE_OK)
        return fail(ps, "%s: value refused", d->name);
    ps->opt_seen[d->opt] = ps->lineno;
    return IMSAFE_OK;
}

static imsafe_status do_label(struct parser *ps)
{
    if (ps->ntok < 2 || ps->tok[1].kind != T_EQ)
        return fail(ps, "label: expected '=' after the key");
    if (ps->ntok < 3 || ps->tok[2].kind != T_STR)
        return fail(ps, "label: expected a quoted string");
    if (ps->ntok > 3)
        return fail(ps, "label: unexpected text after the value");
    if (ps->label_seen)
        return fail(ps, "label: set twice (first on line %lu)", ps->label_seen);
    if (ps->tok[2].len > IMSAFE_LABEL_MAX - 1)
        return fail(ps, "label: longer than %d bytes", IMSAFE_LABEL_MAX - 1);
    if (imsafe_policy_set_label(ps->p, ps->tok[2].s) != IMSAFE_OK)
        return fail(ps, "label: refused");
    ps->label_seen = ps->lineno;
    return IMSAFE_OK;
}

/* A type name as a word; -1 when unknown. */
static int type_of(const struct tok *t)
{
    char name[ECHO_MAX + 1];
    if (t->kind != T_WORD || t->len > ECHO_MAX)
        return -1;
    memcpy(name, t->s, t->len);
    name[t->len] = '\0';
    int v = strcmp(name, "unknown") == 0 ? IMSAFE_TYPE_UNKNOWN : imsafe_type_from_name(name);
    return v >= 0 && v < IMSAFE_TYPE_COUNT ? v : -1;
}

static imsafe_status do_action(struct parser *ps)
{
    if (ps->ntok < 2 || ps->tok[1].kind != T_WORD)
        return fail(ps, "action: expected a type name");
    int type = type_of(&ps->tok[1]);
    if (type < 0)
        return fail(ps, "action: unknown type " ECHO_FMT, ECHO(&ps->tok[1]));
    const char *tn = imsafe_type_name((imsafe_type)type);
    if (ps->ntok < 3 || ps->tok[2].kind != T_EQ)
        return fail(ps, "action %s: expected '=' after the type", tn);
    if (ps->action_seen[type])
        return fail(ps, "action %s: set twice (first on line %lu)", tn, ps->action_seen[type]);
    int a = -1;
    for (int i = 0; ps->ntok > 3 && i < 3; i++)
        if (word_is(&ps->tok[3], action_names[i]))
            a = i;
    if (a < 0)
        return fail(ps, "action %s: expected sanitize, pass or reject", tn);
    if (ps->ntok > 4)
        return fail(ps, "action %s: unexpected text after the value", tn);
    if (imsafe_policy_set_action(ps->p, (imsafe_type)type, (imsafe_action)a) != IMSAFE_OK)
        return fail(ps, "action %s: %s", tn,
                    a == IMSAFE_ACTION_SANITIZE
                        ? "only png, jpeg and gif can be sanitized"
                        : "an image that can be sanitized is never passed as is");
    ps->action_seen[type] = ps->lineno;
    return IMSAFE_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number; -1 if any is not a digit. */
static int64_t digits(const char *s, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* YYYY-MM-DDTHH:MM:SSZ (four or more year digits) to seconds since the
 * epoch; -1 when malformed, -2 when not after the epoch, -3 when it does
 * not fit in 64 bits. */
static int64_t parse_time(const char *s, size_t n)
{
    if (n < 20 || n - 16 > YEAR_DIGITS_MAX)
        return -1;
    size_t yl = n - 16; /* "-MM-DDTHH:MM:SSZ" is 16 characters */
    const char *r = s + yl;
    if (r[0] != '-' || r[3] != '-' || r[6] != 'T' || r[9] != ':' || r[12] != ':' ||
        r[15] != 'Z')
        return -1;
    int64_t y = digits(s, yl), mo = digits(r + 1, 2), d = digits(r + 4, 2),
            h = digits(r + 7, 2), mi = digits(r + 10, 2), se = digits(r + 13, 2);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 59)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    int64_t t;
    if (imsafe__mul_ovf(days_from_civil(y, (int)mo, (int)d), (int64_t)86400, &t) ||
        imsafe__add_ovf(t, h * 3600 + mi * 60 + se, &t))
        return -3;
    return t > 0 ? t : -2;
}

/* The feature named by a word; 0 when unknown. */
static int feature_of(const struct tok *t)
{
    for (int f = 1; f < IMSAFE_FEATURE_COUNT; f++)
        if (word_is(t, imsafe_feature_name((imsafe_feature)f)))
            return f;
    return 0;
}

/* Target of a kill statement: tok[1] (and tok[2] for "feature").  Returns
 * the index of the first clause, or -1 after an error. */
static int kill_target(struct parser *ps, int *type, int *feature, imsafe_status *rc)
{
    const struct tok *t = &ps->tok[1];
    *rc = IMSAFE_ESYNTAX;
    if (ps->ntok < 2 || t->kind != T_WORD) {
        *rc = fail(ps, "kill: expected a type name or 'feature NAME'");
        return -1;
    }
    if (word_is(t, "feature")) {
        if (ps->ntok < 3 || (*feature = feature_of(&ps->tok[2])) == 0) {
            fail(ps, "kill feature: expected one of all_images, jpeg_progressive, "
                     "gif_animated, icc_profile, png_interlaced, apng, archives, webp_animated");
            return -1;
        }
        return 3;
    }
    *type = type_of(t);
    if (*type < 0)
        fail(ps, "kill: unknown type " ECHO_FMT, ECHO(t));
    else if (*type == IMSAFE_TYPE_UNKNOWN)
        fail(ps, "kill: unrecognised payloads are governed by 'action unknown'");
    return *type > 0 ? 2 : -1;
}

static imsafe_status do_kill(struct parser *ps)
{
    int type = IMSAFE_TYPE_UNKNOWN, feature = 0;
    imsafe_status rc;
    int i = kill_target(ps, &type, &feature, &rc);
    if (i < 0)
        return rc;
    char what[48];
    snprintf(what, sizeof what, "%s%s", feature ? "feature " : "",
             feature ? imsafe_feature_name((imsafe_feature)feature)
                     : imsafe_type_name((imsafe_type)type));
    unsigned long *seen = feature ? &ps->kill_feature_seen[feature] : &ps->kill_type_seen[type];
    if (*seen)
        return fail(ps, "kill %s: given twice (first on line %lu)", what, *seen);
    const char *message = NULL;
    int64_t until = -1;
    for (; i < ps->ntok; i += 2) {
        const struct tok *k = &ps->tok[i], *v = i + 1 < ps->ntok ? &ps->tok[i + 1] : NULL;
        if (word_is(k, "message") && message == NULL) {
            if (v == NULL || v->kind != T_STR)
                return fail(ps, "kill %s: message needs a quoted string", what);
            if (v->len > IMSAFE_KILL_MSG_MAX - 1)
                return fail(ps, "kill %s: message longer than %d bytes", what,
                            IMSAFE_KILL_MSG_MAX - 1);
            message = v->s;
        } else if (word_is(k, "until") && until < 0) {
            int64_t t = v != NULL && v->kind == T_WORD ? parse_time(v->s, v->len) : -1;
            if (t == -1)
                return fail(ps, "kill %s: until needs a UTC time YYYY-MM-DDTHH:MM:SSZ", what);
            if (t == -2)
                return fail(ps, "kill %s: until must lie after 1970-01-01T00:00:00Z", what);
            if (t < 0)
                return fail(ps, "kill %s: until is too far in the future", what);
            until = t;
        } else {
            return fail(ps, "kill %s: expected 'message \"TEXT\"' or 'until TIME' "
                            "(each at most once)", what);
        }
    }
    if (imsafe_policy_kill(ps->p, (imsafe_type)type, (imsafe_feature)feature, message,
                           until < 0 ? 0 : until) != IMSAFE_OK)
        return fail(ps, "kill %s: refused", what);
    *seen = ps->lineno;
    return IMSAFE_OK;
}

static imsafe_status parse_line(struct parser *ps, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n > LINE_MAX_BYTES)
        return fail(ps, "line longer than %d bytes", LINE_MAX_BYTES);
    imsafe_status rc = check_bytes(ps, s, n);
    if (rc == IMSAFE_OK)
        rc = tokenize(ps, s, n);
    if (rc != IMSAFE_OK || ps->ntok == 0)
        return rc;
    const struct tok *t = ps->tok;
    if (t->kind != T_WORD)
        return fail(ps, "expected a key, 'label', 'action' or 'kill' at the start of the line");
    if (word_is(t, "label"))
        return do_label(ps);
    if (word_is(t, "action"))
        return do_action(ps);
    if (word_is(t, "kill"))
        return do_kill(ps);
    return do_option(ps);
}

/* Copy what the text may change; frozen, refs and header_version stay. */
static void commit(struct imsafe_policy *dst, const struct imsafe_policy *src)
{
    memcpy(dst->opt, src->opt, sizeof dst->opt);
    memcpy(dst->action, src->action, sizeof dst->action);
    memcpy(dst->kill_type, src->kill_type, sizeof dst->kill_type);
    memcpy(dst->kill_feature, src->kill_feature, sizeof dst->kill_feature);
    memcpy(dst->label, src->label, sizeof dst->label);
}

imsafe_status imsafe_policy_parse(imsafe_policy *policy, const char *text, size_t len,
                                  const char *origin, char *err, size_t err_size)
{
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (policy == NULL || text == NULL)
        return IMSAFE_EINVAL;
    if (imsafe_policy_is_frozen(policy))
        return IMSAFE_EBUSY;
    /* about 12 KiB with the kill messages: kept off the caller's stack */
    struct imsafe_policy *scratch = malloc(sizeof *scratch);
    struct parser *ps = calloc(1, sizeof *ps);
    imsafe_status rc = IMSAFE_ENOMEM;
    if (scratch == NULL || ps == NULL)
        goto done;
    memcpy(scratch, policy, sizeof *scratch);
    ps->p = scratch;
    ps->origin = origin != NULL ? origin : "policy";
    ps->err = err;
    ps->err_size = err_size;
    rc = IMSAFE_OK;
    for (size_t pos = 0; pos < len && rc == IMSAFE_OK;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        ps->lineno++;
        rc = parse_line(ps, text + pos, end - pos);
        pos = end + 1;
    }
    if (rc == IMSAFE_OK)
        commit(policy, scratch);
done:
    free(ps);
    free(scratch);
    return rc;
}

/* ----------------------------------------------------------------- printer */

struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (int pass = 0; pass < 2 && !b->failed; pass++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
        } else if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = (b->cap + (size_t)n + 1) * 2;
            char *np = realloc(b->p, cap);
            if (np == NULL)
                b->failed = 1;
            b->p = np ? np : b->p;
            b->cap = np ? cap : b->cap;
        }
    }
}

/* A quoted string with '"' and '\' escaped (the text is printable ASCII:
 * the setters refuse anything else). */
static void sb_quoted(struct sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s != '\0'; s++)
        sb_printf(b, "%s%c", (*s == '"' || *s == '\\') ? "\\" : "", *s);
    sb_printf(b, "\"");
}

static void print_option(struct sbuf *b, const struct imsafe__optdef *d, int64_t v)
{
    const struct enum_opt *e = enum_of(d->opt);
    if (e != NULL && v >= 0 && v < 4 && e->names[v] != NULL) {
        sb_printf(b, "%s = %s\n", d->name, e->names[v]);
        return;
    }
    if (is_bool(d)) {
        sb_printf(b, "%s = %s\n", d->name, v ? "yes" : "no");
        return;
    }
    for (size_t i = 0; is_bytes_key(d) && v > 0 && i < sizeof units / sizeof units[0]; i++)
        if (v % units[i].mul == 0) {
            sb_printf(b, "%s = %lld %s\n", d->name, (long long)(v / units[i].mul),
                      units[i].name);
            return;
        }
    sb_printf(b, "%s = %lld\n", d->name, (long long)v);
}

static void print_kill(struct sbuf *b, const char *what, const struct imsafe__kill *k)
{
    if (!k->active)
        return;
    sb_printf(b, "kill %s", what);
    if (k->message[0] != '\0') {
        sb_printf(b, " message ");
        sb_quoted(b, k->message);
    }
    if (k->expires > 0) {
        int64_t y;
        int m, d;
        civil_from_days(k->expires / 86400, &y, &m, &d);
        int64_t s = k->expires % 86400;
        sb_printf(b, " until %04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
                  (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    }
    sb_printf(b, "\n");
}

char *imsafe_policy_print(const imsafe_policy *p)
{
    if (p == NULL)
        return NULL;
    struct sbuf b = {NULL, 0, 0, 0};
    sb_printf(&b, "# libimsafe policy, see imsafe-policy(5)\nlabel = ");
    sb_quoted(&b, p->label);
    sb_printf(&b, "\n\n# limits and options\n");
    for (size_t i = 0; i < imsafe__optdef_count; i++)
        print_option(&b, &imsafe__optdefs[i], p->opt[imsafe__optdefs[i].opt]);
    sb_printf(&b, "\n# action per detected type\n");
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++) {
        unsigned a = p->action[t];
        sb_printf(&b, "action %s = %s\n", imsafe_type_name((imsafe_type)t),
                  a < 3 ? action_names[a] : "reject");
    }
    sb_printf(&b, "\n# kill switch\n");
    for (int t = 1; t < IMSAFE_TYPE_COUNT; t++)
        print_kill(&b, imsafe_type_name((imsafe_type)t), &p->kill_type[t]);
    char what[64];
    for (int f = 1; f < IMSAFE_FEATURE_COUNT; f++) {
        snprintf(what, sizeof what, "feature %s", imsafe_feature_name((imsafe_feature)f));
        print_kill(&b, what, &p->kill_feature[f]);
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
