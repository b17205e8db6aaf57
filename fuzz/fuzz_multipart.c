/*
 * fuzz_multipart.c - the ICAP service's multipart/form-data reader
 * (icap/multipart.c): mp_boundary() on a Content-Type value, then mp_next()
 * over a body.  The input's first line (up to '\n', at most 256 bytes) is
 * the Content-Type value, the rest the body.  When the value names no
 * valid boundary, the line itself (cut to 70 bytes) is used as one, so the
 * part reader is fuzzed either way.
 *
 * Properties (checked with code written apart from the reader's):
 *   - mp_boundary() returns 1 only with a boundary of 1 to 70 RFC 2046
 *     characters, not ending in a space, NUL-terminated;
 *   - parts come in order, inside the body, never overlapping: each header
 *     block starts after the previous body, each body starts after its
 *     headers and is followed in the buffer by CRLF "--" boundary;
 *   - no body contains that delimiter (the reader split at the first one);
 *   - the copied values are NUL-terminated within their arrays and hold
 *     no CR, LF or NUL; name and filename hold no '"';
 *   - at most MP_MAX_PARTS parts; after MP_END or an error every further
 *     call returns the same;
 *   - at MP_END, the delimiters in the body up to the close delimiter are
 *     exactly one per part.
 * Every byte of every part is read into a checksum a branch depends on, so
 * a read past the buffer is seen by ASan and valgrind.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../icap/multipart.h"

static void violated(const char *what)
{
    fprintf(stderr, "fuzz property violated: %s\n", what);
    abort();
}

static void check_value(const char *v, size_t cap, int no_quote)
{
    size_t n = strnlen(v, cap + 1);
    if (n > cap)
        violated("value not terminated");
    for (size_t i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || (no_quote && v[i] == '"'))
            violated("value holds CR, LF or a quote");
}

static size_t count_delims(const uint8_t *b, size_t n, const char *d, size_t dl)
{
    size_t c = 0;
    for (size_t i = 0; i + dl <= n; i++)
        if (memcmp(b + i, d, dl) == 0)
            c++;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ctype[257], boundary[MP_MAX_BOUNDARY + 1], delim[MP_MAX_BOUNDARY + 5];
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    size_t hl = nl ? (size_t)(nl - data) : 0, off = nl ? hl + 1 : 0, prev_end = 0, dl;
    const uint8_t *body = data + off;
    size_t len = size - off;
    struct mp_reader r;
    struct mp_part p;
    unsigned parts = 0, sum = 0;
    int rc;

    memcpy(ctype, data, hl);
    ctype[hl] = '\0';
    memset(boundary, 'x', sizeof boundary);
    rc = mp_boundary(ctype, boundary);
    if (rc == 1) {
        size_t bl = strnlen(boundary, sizeof boundary);
        if (bl == 0 || bl > MP_MAX_BOUNDARY || boundary[bl - 1] == ' ')
            violated("boundary length");
        for (size_t i = 0; i < bl; i++)
            if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ",
                        boundary[i]) || boundary[i] == '\0')
                violated("boundary character");
    } else {
        if (rc > 1 || rc < MP_ERR_AMBIGUOUS)
            violated("mp_boundary status");
        size_t bl = strnlen(ctype, MP_MAX_BOUNDARY);
        memcpy(boundary, ctype, bl);
        boundary[bl] = '\0';
    }
    dl = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);

    mp_init(&r, body, len, boundary);
    while ((rc = mp_next(&r, &p)) == MP_OK) {
        if (++parts > MP_MAX_PARTS)
            violated("too many parts");
        if (p.head_off < prev_end || p.body_off < p.head_off || p.body_off > len ||
            p.body_len > len - p.body_off)
            violated("part outside the body or out of order");
        if (len - (p.body_off + p.body_len) < dl ||
            memcmp(body + p.body_off + p.body_len, delim, dl) != 0)
            violated("body not followed by its delimiter");
        if (memmem(body + p.body_off, p.body_len, delim, dl) != NULL)
            violated("delimiter inside a body");
        check_value(p.name, MP_MAX_VALUE, 1);
        check_value(p.filename, MP_MAX_VALUE, 1);
        check_value(p.ctype, MP_MAX_VALUE, 0);
        for (size_t i = 0; i < p.body_len; i++)
            sum += body[p.body_off + i];
        prev_end = p.body_off + p.body_len;
    }
    if (rc != MP_END && (rc > MP_ERR_SYNTAX || rc < MP_ERR_AMBIGUOUS))
        violated("mp_next status");
    if (mp_next(&r, &p) != rc || mp_next(&r, &p) != rc)
        violated("status not sticky");
    if (rc == MP_END && dl <= len &&
        count_delims(body, prev_end + dl, delim, dl) != parts)
        violated("delimiter count differs from part count");
    if (mp_strerror(rc) == NULL)
        violated("no status text");
    return sum == 0xffffffffu; /* a branch on every byte read */
}
