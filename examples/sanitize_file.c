/*
 * sanitize_file.c - the smallest complete use of libimsafe: judge one file
 * under the default policy and write what may be delivered.
 *
 *   sanitize_file INPUT OUTPUT
 *
 * Prints the verdict, the type found in the content, the reason of a
 * rejection, the notes (what was dropped or changed) and the detail.
 * OUTPUT receives the rebuilt bytes (sanitized) or the input unchanged
 * (passed); nothing is written for a rejection.
 * Exit status: 0 accepted, 1 rejected, 2 usage, I/O or library error.
 *
 * Build: cc sanitize_file.c $(pkg-config --cflags --libs libimsafe)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imsafe.h"

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (nb == NULL)
                break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            int ok = !ferror(f);
            fclose(f);
            *len = n;
            if (ok)
                return buf;
            free(buf);
            return NULL;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

static int write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
        return 2;
    }
    int rc = 2;
    size_t len = 0;
    unsigned char *in = read_all(argv[1], &len);
    imsafe_policy *policy = imsafe_policy_new(); /* strict defaults */
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);      /* malloc and free */
    imsafe_result *res = NULL;
    if (in == NULL) {
        perror(argv[1]);
        goto done;
    }
    if (policy == NULL || ctx == NULL)
        goto done;
    imsafe_policy_freeze(policy); /* imsafe_sanitize() takes frozen policies only */

    /* The claimed name is what the sender said; here, the file's own name.
     * It never decides the type, but a mismatch or a dangerous name counts. */
    const char *name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    imsafe_status st = imsafe_sanitize(ctx, policy, in, len, name, NULL, &res);
    if (st != IMSAFE_OK) {
        fprintf(stderr, "imsafe_sanitize: %s\n", imsafe_strerror(st));
        goto done;
    }
    imsafe_verdict v = imsafe_result_verdict(res);
    printf("verdict: %s\ntype: %s\n", imsafe_verdict_name(v),
           imsafe_type_name(imsafe_result_type(res)));
    if (v == IMSAFE_REJECTED)
        printf("reason: %s (%s)\n", imsafe_reason_name(imsafe_result_reason(res)),
               imsafe_reason_meaning(imsafe_result_reason(res)));
    for (size_t i = 0; i < imsafe_result_note_count(res); i++)
        printf("note: %s\n", imsafe_reason_name(imsafe_result_note(res, i)));
    printf("detail: %s\n", imsafe_result_detail(res));
    if (v == IMSAFE_REJECTED) {
        rc = 1;
        goto done;
    }
    /* Sanitized: deliver the rebuilt bytes.  Passed: the input as it is. */
    size_t out_len = len;
    const void *out = v == IMSAFE_SANITIZED ? imsafe_result_output(res, &out_len) : in;
    if (write_all(argv[2], out, out_len) != 0) {
        perror(argv[2]);
        goto done;
    }
    printf("wrote %zu bytes to %s\n", out_len, argv[2]);
    rc = 0;
done:
    imsafe_result_free(res);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(policy);
    free(in);
    return rc;
}
