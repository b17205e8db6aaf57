/*
 * multipart.h - a bounded multipart/form-data reader for the ICAP service.
 *
 * The reader works in place on a body held in memory: it never allocates,
 * never copies part bodies, and reports each part as offsets into the
 * caller's buffer plus the few header values the service needs (the field
 * name, the claimed file name and the part's Content-Type), copied into
 * fixed arrays.
 *
 * It is strict on purpose (RFC 7578, RFC 2046 section 5.1.1): what an
 * ordinary browser or HTTP library sends is read, anything that two
 * servers could read in two different ways is an error, so the part the
 * service judges is the part the origin stores.  Errors: no preamble, CRLF
 * line ends only, no folded headers, no duplicate Content-Disposition,
 * Content-Type, name or filename, no filename* (RFC 7578 4.2 forbids it),
 * no Content-Transfer-Encoding other than 7bit, 8bit or binary (a base64
 * part would hide its bytes from the judge), a close delimiter required.
 */
#ifndef IMSAFE_ICAP_MULTIPART_H
#define IMSAFE_ICAP_MULTIPART_H

#include <stddef.h>

/* RFC 2046 5.1.1: a boundary is 1 to 70 characters. */
#define MP_MAX_BOUNDARY 70
/* More parts than any upload form has; a flood of tiny parts is refused. */
#define MP_MAX_PARTS 256
/* One part's header block, CRLFs included (browsers send about 200 bytes). */
#define MP_MAX_HEADER_BYTES 8192
/* The copied values: a field name, a file name (the library limits names
 * to far less), a media type. */
#define MP_MAX_VALUE 1024

enum mp_status {
    MP_OK = 0,            /* a part was read */
    MP_END = 1,           /* the close delimiter was read: no more parts */
    MP_ERR_SYNTAX = -1,   /* a delimiter, header or parameter is malformed */
    MP_ERR_TRUNCATED = -2,/* the body ends inside a part or before the close */
    MP_ERR_LIMIT = -3,    /* too many parts, a header block or value too long */
    MP_ERR_AMBIGUOUS = -4 /* duplicates, filename*, an encoded part */
};

struct mp_part {
    size_t head_off;  /* first byte of the part's header block */
    size_t body_off;  /* first byte of the part's body */
    size_t body_len;  /* body bytes, up to the CRLF before the next delimiter */
    int has_filename; /* a filename parameter was given (maybe empty) */
    int has_ctype;    /* the part had a Content-Type header */
    char name[MP_MAX_VALUE + 1];
    char filename[MP_MAX_VALUE + 1];
    char ctype[MP_MAX_VALUE + 1];
};

struct mp_reader {
    const unsigned char *buf;
    size_t len;
    size_t pos;       /* at the next dash-boundary */
    char delim[MP_MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
    size_t delim_len;
    unsigned parts;
    int state;        /* 0 reading, 1 ended, -1 failed */
};

/* The boundary of a Content-Type header value that names
 * multipart/form-data, copied into out (MP_MAX_BOUNDARY + 1 bytes).
 * Returns 1 when the value is multipart/form-data with a valid boundary, 0
 * when it is another media type, or an MP_ERR_* code when it claims to be
 * multipart/form-data but its boundary is missing, repeated or invalid. */
int mp_boundary(const char *content_type, char out[MP_MAX_BOUNDARY + 1]);

/* Start reading buf/len (borrowed until the last mp_next call). */
void mp_init(struct mp_reader *r, const void *buf, size_t len, const char *boundary);

/* The next part into *part: MP_OK, MP_END, or an MP_ERR_* code (after an
 * error every later call returns the same kind of error). */
int mp_next(struct mp_reader *r, struct mp_part *part);

/* A short constant text for an mp_status, for logs. */
const char *mp_strerror(int status);

#endif
