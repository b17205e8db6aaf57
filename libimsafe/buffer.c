/*
 * buffer.c - the output buffer every format writes into.
 * Without a sink it holds the whole output and grows geometrically (x1.5,
 * at least 4 KiB) through the call's budget; the allocator has no realloc,
 * so growth is allocate + copy + free.  With a sink (imsafe_sanitize_to) it
 * is one chunk, sent to the sink each time it fills.  A host sink without
 * rewind is not attached here: the output is held whole until the output
 * gate passed it, then delivered (imsafe__buf_deliver).
 */
#include <string.h>

#include "imsafe_private.h"

void imsafe__buf_init(struct imsafe__buf *b, struct imsafe__job *job)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->job = job;
    b->sink = NULL;
    b->chunk = 0;
    b->sent = 0;
    b->scan = NULL;
}

/* Room for extra more bytes in one block (no sink). */
static int reserve(struct imsafe__buf *b, size_t extra)
{
    size_t need, cap;
    if (imsafe__add_ovf(b->len, extra, &need)) {
        imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "output size overflows");
        return -1;
    }
    if (need <= b->cap)
        return 0;
    cap = b->cap < 4096 ? 4096 : b->cap + b->cap / 2;
    if (cap < need)
        cap = need;
    uint8_t *p = imsafe__alloc(b->job, cap);
    if (p == NULL)
        return -1;
    if (b->len > 0)
        memcpy(p, b->data, b->len);
    imsafe__free(b->job, b->data);
    b->data = p;
    b->cap = cap;
    return 0;
}

/* With a sink: the one chunk, allocated on first use. */
static int chunk_ready(struct imsafe__buf *b)
{
    if (b->data != NULL)
        return 0;
    b->data = imsafe__alloc(b->job, b->chunk);
    if (b->data == NULL)
        return -1;
    b->cap = b->chunk;
    return 0;
}

int imsafe__buf_flush(struct imsafe__buf *b)
{
    if (b->job->sink_failed)
        return -1; /* never call a failed sink again (encoders' clean-up writes) */
    if (b->sink == NULL || b->len == 0)
        return 0;
    if (b->scan != NULL)
        imsafe__scan_feed(b->scan, b->data, b->len); /* the gate sees what leaves */
    if (b->sink->write(b->sink->opaque, b->data, b->len) != 0) {
        /* the host's failure, not the payload's: imsafe_sanitize_to()
         * returns IMSAFE_ESINK; the rejection only stops the module */
        b->job->sink_failed = 1;
        imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "the output sink failed");
        return -1;
    }
    b->sent += b->len;
    b->len = 0;
    return 0;
}

/* With a sink: fill the chunk, send it when full, repeat. */
static int append_sink(struct imsafe__buf *b, const uint8_t *p, size_t n)
{
    if (b->job->sink_failed || chunk_ready(b) != 0)
        return -1;
    while (n > 0) {
        size_t k = b->cap - b->len < n ? b->cap - b->len : n;
        memcpy(b->data + b->len, p, k);
        b->len += k;
        p += k;
        n -= k;
        if (b->len == b->cap && imsafe__buf_flush(b) != 0)
            return -1;
    }
    return 0;
}

int imsafe__buf_append(struct imsafe__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->sink != NULL)
        return append_sink(b, p, n);
    if (reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int imsafe__buf_room(struct imsafe__buf *b, size_t want)
{
    if (b->sink == NULL)
        return reserve(b, want == 0 ? 1 : want);
    if (chunk_ready(b) != 0)
        return -1;
    return b->len == b->cap ? imsafe__buf_flush(b) : 0;
}

uint64_t imsafe__buf_total(const struct imsafe__buf *b)
{
    return b->sent + b->len;
}

void imsafe__buf_free(struct imsafe__buf *b)
{
    imsafe__free(b->job, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* A rebuilt image is usually about as large as its input: reserve that much
 * (+1/8 and 16 KiB) up front, so growth never holds the old and the new
 * block at once (2.5x the output at the peak).  With a sink: one chunk. */
int imsafe__buf_presize(struct imsafe__buf *b, size_t input_len)
{
    size_t want = input_len / 8, total;
    if (b->sink != NULL)
        return chunk_ready(b);
    if (imsafe__add_ovf(input_len, want, &total) || imsafe__add_ovf(total, (size_t)16384, &total))
        return imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "output size overflows"), -1;
    return reserve(b, total);
}

int imsafe__buf_restart(struct imsafe__buf *b)
{
    imsafe__buf_free(b);
    uint64_t sent = b->sent;
    b->sent = 0;
    if (b->sink == NULL || sent == 0 || b->job->sink_failed)
        return b->job->sink_failed ? -1 : 0;
    if (b->sink->rewind(b->sink->opaque) != 0) {
        b->job->sink_failed = 1;
        imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "the output sink failed to rewind");
        return -1;
    }
    return 0;
}

int imsafe__buf_deliver(struct imsafe__buf *b, const imsafe_sink *sink, size_t chunk)
{
    size_t done = 0;
    while (done < b->len) {
        size_t k = b->len - done < chunk ? b->len - done : chunk;
        if (sink->write(sink->opaque, b->data + done, k) != 0) {
            b->job->sink_failed = 1;
            return -1;
        }
        done += k;
    }
    /* from now on the buffer is a sink's: the result holds no bytes */
    b->sink = sink;
    b->chunk = chunk;
    b->sent = b->len;
    b->len = 0;
    return 0;
}
