/*
 * buffer.c - the growable output buffer every format writes into.
 * Grows geometrically (x1.5, at least 4 KiB) through the call's budget; the
 * allocator has no realloc, so growth is allocate + copy + free.
 */
#include <string.h>

#include "imsafe_private.h"

void imsafe__buf_init(struct imsafe__buf *b, struct imsafe__job *job)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->job = job;
}

int imsafe__buf_reserve(struct imsafe__buf *b, size_t extra)
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

int imsafe__buf_append(struct imsafe__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (imsafe__buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void imsafe__buf_free(struct imsafe__buf *b)
{
    imsafe__free(b->job, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* A rebuilt image is usually about as large as its input: reserve that much
 * (+1/8 and 16 KiB) up front, so growth never holds the old and the new
 * block at once (2.5x the output at the peak). */
int imsafe__buf_presize(struct imsafe__buf *b, size_t input_len)
{
    size_t want = input_len / 8, total;
    if (imsafe__add_ovf(input_len, want, &total) || imsafe__add_ovf(total, (size_t)16384, &total))
        return imsafe__reject(b->job, IMSAFE_R_LIMIT_MEMORY, "output size overflows"), -1;
    return imsafe__buf_reserve(b, total);
}
