/*
 * fuzz_policy.c - the policy-text parser (imsafe_policy_parse) and its
 * printer (imsafe_policy_print).  Operators write policy files by hand and
 * reload them while the host runs, so a typo must give an error, never a
 * crash or a half-applied policy.
 *
 * Properties: a parse that fails leaves the policy exactly as it was and
 * writes "origin:line: message" as printable ASCII inside the error buffer
 * (never past err_size); a parse that succeeds leaves every option inside
 * its range, and its printed text parses again to a policy that prints as
 * the same text (print -> parse -> print is a fixpoint).
 */
#include "fuzz_common.h"

/* Policy files are small; a longer input only repeats lines. */
#define POLICY_MAX_INPUT (64u << 10)

static void check_err(const char *err, size_t size, const unsigned char *guard)
{
    size_t n = strnlen(err, size);
    if (n == size)
        fuzz_fail("the error message is not terminated inside err_size %zu", size);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] > 0x7e)
            fuzz_fail("the error message holds byte 0x%02x", (unsigned char)err[i]);
    for (size_t i = 0; i < 16; i++)
        if (guard[i] != 0xa5)
            fuzz_fail("the parser wrote past err_size %zu", size);
    if (size > 6 && strncmp(err, "fuzz:", 5) != 0)
        fuzz_fail("the error message does not start with the origin");
}

static void check_ranges(const imsafe_policy *p)
{
    for (size_t i = 0; i < imsafe__optdef_count; i++) {
        const struct imsafe__optdef *d = &imsafe__optdefs[i];
        int64_t v = 0;
        if (imsafe_policy_get(p, d->opt, &v) != IMSAFE_OK || v < d->min || v > d->max)
            fuzz_fail("option %s = %lld is outside %lld..%lld", d->name, (long long)v,
                      (long long)d->min, (long long)d->max);
    }
}

static char *print_or_die(const imsafe_policy *p)
{
    char *t = imsafe_policy_print(p);
    if (t == NULL)
        fuzz_fail("imsafe_policy_print failed");
    fuzz_fold(t, strlen(t));
    return t;
}

/* Parse text into a new policy; the error buffer sits before a guard. */
static imsafe_status parse_new(const char *text, size_t len, size_t err_size,
                               imsafe_policy **out)
{
    unsigned char buf[256 + 16];
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL || err_size > 256)
        fuzz_fail("cannot make a policy");
    memset(buf, 0xa5, sizeof buf);
    imsafe_status rc = imsafe_policy_parse(p, text, len, "fuzz", (char *)buf, err_size);
    if (rc == IMSAFE_ESYNTAX)
        check_err((char *)buf, err_size, buf + err_size);
    else if (rc != IMSAFE_OK)
        fuzz_fail("imsafe_policy_parse returned %s", imsafe_strerror(rc));
    *out = p;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *defaults;
    if (defaults == NULL) {
        imsafe_policy *d = imsafe_policy_new();
        defaults = print_or_die(d);
        imsafe_policy_unref(d);
    }
    if (size > POLICY_MAX_INPUT)
        return 0;
    imsafe_policy *p = NULL, *q = NULL;
    if (parse_new((const char *)data, size, 256, &p) == IMSAFE_ESYNTAX) {
        char *t = print_or_die(p);
        if (strcmp(t, defaults) != 0)
            fuzz_fail("a failed parse changed the policy");
        free(t);
        imsafe_policy_unref(p);
        /* a short error buffer: the message is cut, never overrun */
        if (parse_new((const char *)data, size, 7, &p) != IMSAFE_ESYNTAX)
            fuzz_fail("the same text parsed differently with a shorter error buffer");
        imsafe_policy_unref(p);
        return 0;
    }
    check_ranges(p);
    char *t1 = print_or_die(p);
    if (parse_new(t1, strlen(t1), 256, &q) != IMSAFE_OK)
        fuzz_fail("the printed policy does not parse again");
    char *t2 = print_or_die(q);
    if (strcmp(t1, t2) != 0)
        fuzz_fail("print -> parse -> print is not a fixpoint");
    if (imsafe_policy_freeze(q) != IMSAFE_OK)
        fuzz_fail("a parsed policy does not freeze");
    free(t1);
    free(t2);
    imsafe_policy_unref(p);
    imsafe_policy_unref(q);
    return 0;
}
