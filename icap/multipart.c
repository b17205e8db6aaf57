/*
 * multipart.c - a bounded multipart/form-data reader (see multipart.h).
 *
 * Layout read (RFC 2046 5.1.1, RFC 7578):
 *
 *   "--" boundary [padding] CRLF          first dash-boundary at offset 0
 *   header-line CRLF ... CRLF             at most MP_MAX_HEADER_BYTES
 *   body                                  up to the next CRLF "--" boundary
 *   CRLF "--" boundary [padding] CRLF     next part ...
 *   CRLF "--" boundary "--" [epilogue]    close delimiter; epilogue ignored
 *
 * Kept: the parts' offsets, the name and filename parameters of
 * Content-Disposition, the Content-Type value.  Everything else in a
 * part's header block is skipped unread but still bounded.
 */
#define _GNU_SOURCE /* memmem */
#include "multipart.h"

#include <string.h>

/* RFC 9110 5.6.2 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (space allowed, but not last) */
static int is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("'()+_,-./:=? ", c) != NULL;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* s/n equals the lower-case word w, ignoring case */
static int word_is(const char *s, size_t n, const char *w)
{
    size_t i;
    if (strlen(w) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

/* A cursor over one header value (not NUL-terminated). */
struct cur {
    const char *s;
    size_t n, i;
};

static void skip_ows(struct cur *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static size_t take_token(struct cur *c)
{
    size_t start = c->i;
    while (c->i < c->n && is_tchar((unsigned char)c->s[c->i]))
        c->i++;
    return c->i - start;
}

/*
 * One parameter "; name=value" at the cursor: name, nlen and val, vlen
 * point into the value.  Returns 1 for a parameter, 0 at the end, or an
 * MP_ERR_* code.  Quoted strings end at the next quote: browsers escape a
 * quote in a name as %22 (WHATWG), and a backslash is a literal character,
 * so "a\".php" leaves junk after the value and is an error here rather than
 * a name that servers which honour quoted-pairs would read differently.
 */
static int next_param(struct cur *c, const char **name, size_t *nlen,
                      const char **val, size_t *vlen)
{
    size_t start;

    skip_ows(c);
    if (c->i == c->n)
        return 0;
    if (c->s[c->i] != ';')
        return MP_ERR_SYNTAX;
    c->i++;
    skip_ows(c);
    if (c->i == c->n)
        return 0; /* a trailing ';' is harmless */
    *name = c->s + c->i;
    *nlen = take_token(c);
    if (*nlen == 0 || c->i == c->n || c->s[c->i] != '=')
        return MP_ERR_SYNTAX;
    c->i++;
    if (c->i < c->n && c->s[c->i] == '"') {
        start = ++c->i;
        while (c->i < c->n && c->s[c->i] != '"') {
            unsigned char ch = (unsigned char)c->s[c->i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return MP_ERR_SYNTAX;
            c->i++;
        }
        if (c->i == c->n)
            return MP_ERR_SYNTAX;
        *val = c->s + start;
        *vlen = c->i - start;
        c->i++;
        return 1;
    }
    *val = c->s + c->i;
    *vlen = take_token(c);
    return *vlen ? 1 : MP_ERR_SYNTAX;
}

static int copy_value(char *dst, const char *src, size_t n)
{
    if (n > MP_MAX_VALUE)
        return MP_ERR_LIMIT;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return MP_OK;
}

int mp_boundary(const char *content_type, char out[MP_MAX_BOUNDARY + 1])
{
    struct cur c;
    const char *name, *val;
    size_t nlen, vlen, i, tlen;
    int rc, seen = 0;

    if (content_type == NULL)
        return 0;
    c.s = content_type;
    c.n = strlen(content_type);
    c.i = 0;
    skip_ows(&c);
    tlen = take_token(&c);
    if (c.i == c.n || c.s[c.i] != '/' || !word_is(c.s + c.i - tlen, tlen, "multipart"))
        return 0;
    c.i++;
    tlen = take_token(&c);
    if (!word_is(c.s + c.i - tlen, tlen, "form-data"))
        return 0;
    while ((rc = next_param(&c, &name, &nlen, &val, &vlen)) == 1) {
        if (!word_is(name, nlen, "boundary"))
            continue;
        if (seen++)
            return MP_ERR_AMBIGUOUS;
        if (vlen == 0 || vlen > MP_MAX_BOUNDARY || val[vlen - 1] == ' ')
            return MP_ERR_SYNTAX;
        for (i = 0; i < vlen; i++)
            if (!is_bchar((unsigned char)val[i]))
                return MP_ERR_SYNTAX;
        memcpy(out, val, vlen);
        out[vlen] = '\0';
    }
    if (rc < 0)
        return rc;
    return seen ? 1 : MP_ERR_SYNTAX;
}

void mp_init(struct mp_reader *r, const void *buf, size_t len, const char *boundary)
{
    size_t blen = boundary ? strlen(boundary) : 0;

    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = buf ? len : 0;
    if (blen == 0 || blen > MP_MAX_BOUNDARY) {
        r->state = MP_ERR_SYNTAX;
        return;
    }
    memcpy(r->delim, "\r\n--", 4);
    memcpy(r->delim + 4, boundary, blen);
    r->delim_len = blen + 4;
}

/* Content-Disposition: form-data; name="..."; filename="..." */
static int parse_disposition(const char *s, size_t n, struct mp_part *p)
{
    struct cur c = {s, n, 0};
    const char *name, *val;
    size_t nlen, vlen, tlen;
    int rc, have_name = 0;

    tlen = take_token(&c);
    if (!word_is(s, tlen, "form-data"))
        return MP_ERR_SYNTAX;
    while ((rc = next_param(&c, &name, &nlen, &val, &vlen)) == 1) {
        if (word_is(name, nlen, "filename*"))
            return MP_ERR_AMBIGUOUS; /* RFC 7578 4.2: MUST NOT be used */
        if (word_is(name, nlen, "name")) {
            if (have_name++)
                return MP_ERR_AMBIGUOUS;
            if ((rc = copy_value(p->name, val, vlen)) != MP_OK)
                return rc;
        } else if (word_is(name, nlen, "filename")) {
            if (p->has_filename++)
                return MP_ERR_AMBIGUOUS;
            if ((rc = copy_value(p->filename, val, vlen)) != MP_OK)
                return rc;
        }
    }
    return rc < 0 ? rc : MP_OK;
}

/* One header line s/n (no CRLF) of a part. */
static int parse_header(const char *s, size_t n, struct mp_part *p, int *have_cd)
{
    struct cur c = {s, n, 0};
    size_t nlen, i, end;
    const char *v;

    for (i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return MP_ERR_SYNTAX;
    nlen = take_token(&c);
    if (nlen == 0 || c.i == n || s[c.i] != ':')
        return MP_ERR_SYNTAX; /* also a folded line, which starts with SP */
    c.i++;
    skip_ows(&c);
    v = s + c.i;
    end = n - c.i;
    while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
    if (word_is(s, nlen, "content-disposition")) {
        if ((*have_cd)++)
            return MP_ERR_AMBIGUOUS;
        return parse_disposition(v, end, p);
    }
    if (word_is(s, nlen, "content-type")) {
        if (p->has_ctype++)
            return MP_ERR_AMBIGUOUS;
        return copy_value(p->ctype, v, end);
    }
    if (word_is(s, nlen, "content-transfer-encoding")) {
        /* 7bit/8bit/binary are identities; anything else would make the
         * judged bytes differ from what a decoding server stores */
        if (word_is(v, end, "7bit") || word_is(v, end, "8bit") || word_is(v, end, "binary"))
            return MP_OK;
        return MP_ERR_AMBIGUOUS;
    }
    return MP_OK;
}

/* The header block from *pos to its empty line; *pos ends at the body. */
static int parse_headers(struct mp_reader *r, size_t *pos, struct mp_part *p)
{
    size_t start = *pos, left, e;
    const unsigned char *crlf;
    int rc, have_cd = 0;

    for (;;) {
        if (*pos - start > MP_MAX_HEADER_BYTES)
            return MP_ERR_LIMIT;
        left = r->len - *pos;
        /* look no further than the header budget allows */
        if (left > MP_MAX_HEADER_BYTES + 2 - (*pos - start))
            left = MP_MAX_HEADER_BYTES + 2 - (*pos - start);
        crlf = memmem(r->buf + *pos, left, "\r\n", 2);
        if (crlf == NULL)
            return r->len - *pos > left ? MP_ERR_LIMIT : MP_ERR_TRUNCATED;
        e = (size_t)(crlf - r->buf);
        if (e == *pos) {
            *pos += 2;
            return have_cd ? MP_OK : MP_ERR_SYNTAX; /* RFC 7578 4.2: MUST */
        }
        /* a delimiter inside the header block: another reader would end
         * the part here (RFC 2046: it must not occur inside a part) */
        if (e - *pos >= r->delim_len - 2 && memcmp(r->buf + *pos, r->delim + 2, r->delim_len - 2) == 0)
            return MP_ERR_AMBIGUOUS;
        rc = parse_header((const char *)r->buf + *pos, e - *pos, p, &have_cd);
        if (rc != MP_OK)
            return rc;
        *pos = e + 2;
    }
}

static int fail(struct mp_reader *r, int rc)
{
    r->state = rc;
    return rc;
}

int mp_next(struct mp_reader *r, struct mp_part *p)
{
    size_t pos, dash_len = r->delim_len - 2;
    const unsigned char *hit;
    int rc;

    if (r->state == 1)
        return MP_END;
    if (r->state < 0)
        return r->state;
    memset(p, 0, sizeof *p);
    pos = r->pos;
    /* a dash-boundary: at offset 0 (no preamble), else where the last
     * body's search stopped */
    if (r->len - pos < dash_len)
        return fail(r, MP_ERR_TRUNCATED);
    if (memcmp(r->buf + pos, r->delim + 2, dash_len) != 0)
        return fail(r, MP_ERR_SYNTAX);
    pos += dash_len;
    if (r->len - pos >= 2 && r->buf[pos] == '-' && r->buf[pos + 1] == '-') {
        if (r->parts == 0)
            return fail(r, MP_ERR_SYNTAX); /* a form with no part at all */
        r->state = 1;
        return MP_END;
    }
    while (pos < r->len && (r->buf[pos] == ' ' || r->buf[pos] == '\t'))
        pos++;
    if (r->len - pos < 2)
        return fail(r, MP_ERR_TRUNCATED);
    if (r->buf[pos] != '\r' || r->buf[pos + 1] != '\n')
        return fail(r, MP_ERR_SYNTAX);
    pos += 2;
    if (++r->parts > MP_MAX_PARTS)
        return fail(r, MP_ERR_LIMIT);
    p->head_off = pos;
    if ((rc = parse_headers(r, &pos, p)) != MP_OK)
        return fail(r, rc);
    p->body_off = pos;
    /* "...\r\n\r\n--boundary": the blank line's CRLF would also serve as
     * the delimiter's, and readers differ on whether the body is empty
     * (fuzz_multipart found it) */
    if (r->len - pos >= dash_len && memcmp(r->buf + pos, r->delim + 2, dash_len) == 0)
        return fail(r, MP_ERR_AMBIGUOUS);
    hit = memmem(r->buf + pos, r->len - pos, r->delim, r->delim_len);
    if (hit == NULL)
        return fail(r, MP_ERR_TRUNCATED);
    p->body_len = (size_t)(hit - (r->buf + pos));
    r->pos = (size_t)(hit - r->buf) + 2;
    return MP_OK;
}

const char *mp_strerror(int status)
{
    switch (status) {
    case MP_OK: return "ok";
    case MP_END: return "end";
    case MP_ERR_SYNTAX: return "malformed multipart syntax";
    case MP_ERR_TRUNCATED: return "multipart body ends early";
    case MP_ERR_LIMIT: return "multipart limit exceeded";
    case MP_ERR_AMBIGUOUS: return "ambiguous multipart part";
    default: return "unknown multipart status";
    }
}
