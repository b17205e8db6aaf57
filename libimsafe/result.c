/*
 * result.c - the result object: verdict, type, reason, notes, detail,
 * output.  A result owns its output and a copy of the allocator, so it may
 * outlive the context that made it.
 */
#include <stdio.h>
#include <string.h>

#include "imsafe_private.h"

struct imsafe_result {
    imsafe_allocator alloc;
    imsafe_verdict verdict;
    imsafe_type type;
    imsafe_type out_type;
    imsafe_reason reason;
    imsafe_reason notes[IMSAFE_MAX_NOTES];
    size_t note_count;
    char detail[IMSAFE_DETAIL_MAX];
    char display_name[256];
    char label[IMSAFE_LABEL_MAX];
    uint8_t *out; /* imsafe__alloc block, freed with imsafe__free_detached */
    size_t out_len;
    uint64_t out_size; /* out_len, or what the sink received */
    uint64_t peak;
};

/* Format into dst and force printable ASCII: a detail ends up in logs, JSON
 * and proxy error pages, so whatever a format string pulls in, no control
 * or non-ASCII byte survives. */
void imsafe__vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
    if (size == 0)
        return;
    vsnprintf(dst, size, fmt, ap);
    for (char *c = dst; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
}

imsafe_status imsafe__reject(struct imsafe__job *job, imsafe_reason reason,
                             const char *fmt, ...)
{
    if (job->verdict == IMSAFE_REJECTED)
        return IMSAFE_OK;
    job->verdict = IMSAFE_REJECTED;
    job->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    imsafe__vformat(job->detail, sizeof job->detail, fmt, ap);
    va_end(ap);
    return IMSAFE_OK;
}

void imsafe__note(struct imsafe__job *job, imsafe_reason note)
{
    if (job->verdict == IMSAFE_REJECTED)
        return;
    for (size_t i = 0; i < job->note_count; i++)
        if (job->notes[i] == note)
            return;
    if (job->note_count < IMSAFE_MAX_NOTES)
        job->notes[job->note_count++] = note;
}

void imsafe__detail(struct imsafe__job *job, const char *fmt, ...)
{
    size_t used = strlen(job->detail);
    if (job->verdict == IMSAFE_REJECTED || used + 3 >= sizeof job->detail)
        return;
    if (used > 0) {
        memcpy(job->detail + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    imsafe__vformat(job->detail + used, sizeof job->detail - used, fmt, ap);
    va_end(ap);
}

void imsafe__accept(struct imsafe__job *job, imsafe_verdict verdict)
{
    if (job->verdict != IMSAFE_REJECTED)
        job->verdict = verdict;
}

/* Build the public result from a finished job.  Takes the job's output
 * buffer when the verdict is sanitized; frees it otherwise.  NULL when the
 * allocator fails (the caller reports ENOMEM). */
imsafe_result *imsafe__result_make(struct imsafe__job *job, const char *display_name)
{
    imsafe_result *r = job->alloc.alloc(job->alloc.opaque, sizeof *r);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->alloc = job->alloc;
    r->verdict = job->verdict;
    r->type = job->type;
    r->out_type = job->verdict == IMSAFE_SANITIZED && job->out_type != IMSAFE_TYPE_UNKNOWN
                      ? job->out_type
                      : job->type;
    r->reason = job->verdict == IMSAFE_REJECTED ? job->reason : IMSAFE_R_NONE;
    if (r->verdict != IMSAFE_REJECTED) {
        memcpy(r->notes, job->notes, sizeof r->notes);
        r->note_count = job->note_count;
    }
    memcpy(r->detail, job->detail, sizeof r->detail);
    snprintf(r->display_name, sizeof r->display_name, "%s", display_name);
    snprintf(r->label, sizeof r->label, "%s", job->policy->label);
    r->peak = job->peak;
    if (r->verdict == IMSAFE_SANITIZED)
        r->out_size = imsafe__buf_total(&job->out);
    if (r->verdict == IMSAFE_SANITIZED && job->out.sink == NULL && job->out.data != NULL) {
        /* ownership moves to the result; uncharge it from the job */
        r->out = job->out.data;
        r->out_len = job->out.len;
        imsafe__detach(job, job->out.data);
        job->out.data = NULL;
        job->out.len = job->out.cap = 0;
    }
    return r;
}

imsafe_verdict imsafe_result_verdict(const imsafe_result *res)
{
    return res ? res->verdict : IMSAFE_REJECTED;
}

imsafe_type imsafe_result_type(const imsafe_result *res)
{
    return res ? res->type : IMSAFE_TYPE_UNKNOWN;
}

imsafe_reason imsafe_result_reason(const imsafe_result *res)
{
    return res ? res->reason : IMSAFE_R_NONE;
}

size_t imsafe_result_note_count(const imsafe_result *res)
{
    return res ? res->note_count : 0;
}

imsafe_reason imsafe_result_note(const imsafe_result *res, size_t index)
{
    if (res == NULL || index >= res->note_count)
        return IMSAFE_R_NONE;
    return res->notes[index];
}

const char *imsafe_result_detail(const imsafe_result *res)
{
    return res ? res->detail : "";
}

const void *imsafe_result_output(const imsafe_result *res, size_t *len)
{
    if (len != NULL)
        *len = res ? res->out_len : 0;
    return res ? res->out : NULL;
}

uint64_t imsafe_result_output_size(const imsafe_result *res)
{
    return res ? res->out_size : 0;
}

imsafe_type imsafe_result_output_type(const imsafe_result *res)
{
    return res ? res->out_type : IMSAFE_TYPE_UNKNOWN;
}

const char *imsafe_result_ext(const imsafe_result *res)
{
    return imsafe_type_ext(imsafe_result_output_type(res));
}

const char *imsafe_result_mime(const imsafe_result *res)
{
    return imsafe_type_mime(imsafe_result_output_type(res));
}

const char *imsafe_result_display_name(const imsafe_result *res)
{
    return res ? res->display_name : "";
}

uint64_t imsafe_result_peak_bytes(const imsafe_result *res)
{
    return res ? res->peak : 0;
}

const char *imsafe_result_policy_label(const imsafe_result *res)
{
    return res ? res->label : "";
}

void imsafe_result_free(imsafe_result *res)
{
    if (res == NULL)
        return;
    imsafe_allocator a = res->alloc;
    imsafe__free_detached(&a, res->out);
    a.free(a.opaque, res);
}
