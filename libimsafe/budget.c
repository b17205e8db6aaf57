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
 *
 * Work (max_work, limit.work) and the CPU deadline (max_cpu_ms,
 * limit.time) are accounted here too: the cost of a call in time, as the
 * budget is its cost in memory.
 */
#include <string.h>
#include <time.h>

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

/* ------------------------------------------------------------------ work */

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    /* the calling thread's CPU time: a host's other threads and the
     * machine's load do not count against this call */
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void imsafe__work_start(struct imsafe__job *job)
{
    int64_t ms = imsafe__opt(job->policy, IMSAFE_OPT_MAX_CPU_MS);
    int64_t now = ms > 0 ? thread_cpu_ns() : -1;
    job->work = 0;
    job->work_poll = IMSAFE__WORK_POLL;
    /* ms <= 86400000 (policy.c): the product fits; no clock, no deadline */
    job->cpu_deadline_ns = now >= 0 ? now + ms * 1000000 + 1 : 0;
}

int imsafe__work_clock(struct imsafe__job *job)
{
    if (job->cpu_deadline_ns == 0)
        return 0;
    int64_t now = thread_cpu_ns();
    if (now < job->cpu_deadline_ns)
        return 0;
    imsafe__reject(job, IMSAFE_R_LIMIT_TIME,
                   "past the CPU deadline of %lld ms, after %llu units of work",
                   (long long)imsafe__opt(job->policy, IMSAFE_OPT_MAX_CPU_MS),
                   (unsigned long long)job->work);
    return -1;
}

static int over(struct imsafe__job *job, uint64_t units, const char *what)
{
    uint64_t max = (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_WORK);
    imsafe__reject(job, IMSAFE_R_LIMIT_WORK, "%s: %llu more units of work after %llu, limit %llu",
                   what, (unsigned long long)units, (unsigned long long)job->work,
                   (unsigned long long)max);
    return -1;
}

int imsafe__work_expect(struct imsafe__job *job, uint64_t units, const char *what)
{
    uint64_t total;
    if (imsafe__add_ovf(job->work, units, &total) ||
        total > (uint64_t)imsafe__opt(job->policy, IMSAFE_OPT_MAX_WORK))
        return over(job, units, what);
    return 0;
}

int imsafe__work_charge(struct imsafe__job *job, uint64_t units, const char *what)
{
    if (imsafe__work_expect(job, units, what) != 0)
        return -1;
    job->work += units;
    if (job->work < job->work_poll)
        return 0;
    /* the next poll one interval past now: a big charge reads once */
    if (imsafe__add_ovf(job->work, (uint64_t)IMSAFE__WORK_POLL, &job->work_poll))
        job->work_poll = UINT64_MAX;
    return imsafe__work_clock(job);
}
