/*
 * budget.c - every allocation of a sanitize call goes through here and is
 * charged to the call's budget (IMSAFE_OPT_MAX_MEMORY_BYTES).
 *
 * Each block carries a 16-byte header holding its size, so a free uncharges
 * exactly what the allocation charged.  libpng and zlib allocate through
 * imsafe__alloc()/imsafe__zalloc(); libjpeg and giflib cannot take an
 * allocator, so their modules reserve an upper bound computed from the
 * header with imsafe__reserve() before calling them.
 *
 * Over budget is a rejection (limit.memory), never a crash: the caller gets
 * NULL and the job carries the reason.  An allocator failure while under
 * budget is different (the machine is out of memory): job->alloc_failed,
 * and imsafe_sanitize() returns IMSAFE_ENOMEM.
 */
#include <string.h>

#include "imsafe_private.h"

/* Header size: keeps the returned pointer aligned for any type. */
#define HDR 16

static int charge(struct imsafe__job *job, uint64_t n, const char *what)
{
    uint64_t next;
    if (imsafe__add_ovf(job->charged, n, &next) || next > job->budget) {
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY,
                       "%s needs %llu more bytes; budget %llu, in use %llu", what,
                       (unsigned long long)n, (unsigned long long)job->budget,
                       (unsigned long long)job->charged);
        return -1;
    }
    job->charged = next;
    if (next > job->peak)
        job->peak = next;
    return 0;
}

void *imsafe__alloc(struct imsafe__job *job, size_t n)
{
    size_t total;
    if (imsafe__add_ovf(n, (size_t)HDR, &total)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY, "allocation size overflows");
        return NULL;
    }
    if (charge(job, total, "allocation") != 0)
        return NULL;
    unsigned char *p = job->alloc.alloc(job->alloc.opaque, total);
    if (p == NULL) {
        job->charged -= total;
        job->alloc_failed = 1;
        return NULL;
    }
    memcpy(p, &total, sizeof total);
    return p + HDR;
}

void *imsafe__calloc(struct imsafe__job *job, size_t count, size_t size)
{
    size_t n;
    if (imsafe__mul_ovf(count, size, &n)) {
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY, "allocation size overflows");
        return NULL;
    }
    void *p = imsafe__alloc(job, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void imsafe__free(struct imsafe__job *job, void *ptr)
{
    if (ptr == NULL)
        return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t total;
    memcpy(&total, p, sizeof total);
    job->charged -= total;
    job->alloc.free(job->alloc.opaque, p);
}

int imsafe__reserve(struct imsafe__job *job, uint64_t n, const char *what)
{
    return charge(job, n, what);
}

void imsafe__unreserve(struct imsafe__job *job, uint64_t n)
{
    job->charged = n > job->charged ? 0 : job->charged - n;
}

void *imsafe__zalloc(void *opaque, unsigned items, unsigned size)
{
    return imsafe__calloc(opaque, items, size);
}

void imsafe__zfree(void *opaque, void *p)
{
    imsafe__free(opaque, p);
}

int imsafe__inflate_init(struct imsafe__job *job, z_stream *zs, int window_bits)
{
    memset(zs, 0, sizeof *zs);
    zs->zalloc = imsafe__zalloc;
    zs->zfree = imsafe__zfree;
    zs->opaque = job;
    return inflateInit2(zs, window_bits) == Z_OK ? 0 : -1;
}

void imsafe__free_detached(const imsafe_allocator *a, void *ptr)
{
    if (ptr != NULL)
        a->free(a->opaque, (unsigned char *)ptr - HDR);
}

void imsafe__detach(struct imsafe__job *job, void *ptr)
{
    if (ptr == NULL)
        return;
    size_t total;
    memcpy(&total, (unsigned char *)ptr - HDR, sizeof total);
    job->charged -= total;
}
