/*
 * sanitize_file.c - the smallest complete use of libimsafe: judge one file
 * under the default policy and write what may be delivered.
 *
 *   sanitize_file INPUT OUTPUT
 *
 * Prints the verdict, the type found in the content, the reason of a
 * rejection, the notes (what was dropped or changed) and the detail.
 * OUTPUT receives the rebuilt bytes (sanitized) or the input unchanged
 * (passed); nothing is written for a rejection.  The rebuilt bytes are
 * streamed with imsafe_sanitize_to() into OUTPUT.part while the image is
 * encoded, and OUTPUT.part is renamed to OUTPUT only when the verdict is
 * sanitized: a rejection may come after some output was produced, and
 * those bytes are never an image.
 * Exit status: 0 accepted, 1 rejected, 2 usage, I/O or library error.
 *
 * Build: cc sanitize_file.c $(pkg-config --cflags --libs libimsafe)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The sink: each piece of rebuilt output goes straight to the file. */
/* The library took back a first encoding (its output gate found a foreign
 * format in it): start the part file over. */
static int rewind_file(void *opaque)
{
    FILE *f = opaque;
    return fflush(f) == 0 && ftruncate(fileno(f), 0) == 0 && fseek(f, 0, SEEK_SET) == 0 ? 0 : -1;
}

static int to_file(void *opaque, const void *data, size_t len)
{
    return fwrite(data, 1, len, opaque) == len ? 0 : -1;
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
    FILE *f = NULL;
    char part[4096];
    if (in == NULL) {
        perror(argv[1]);
        goto done;
    }
    if (policy == NULL || ctx == NULL)
        goto done;
    imsafe_policy_freeze(policy); /* sanitizing takes frozen policies only */

    /* The claimed name is what the sender said; here, the file's own name.
     * It never decides the type, but a mismatch or a dangerous name counts. */
    const char *name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    if (snprintf(part, sizeof part, "%s.part", argv[2]) >= (int)sizeof part ||
        (f = fopen(part, "wb")) == NULL) {
        perror(argv[2]);
        goto done;
    }
    /* 0: 64 KiB pieces; with rewind the output streams to the file even
     * when the output gate asks for a second encoding */
    imsafe_sink sink = {to_file, f, 0, rewind_file};
    imsafe_status st = imsafe_sanitize_to(ctx, policy, in, len, name, NULL, &sink, &res);
    if (st != IMSAFE_OK) {
        fprintf(stderr, "imsafe_sanitize_to: %s\n", imsafe_strerror(st));
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
    /* Sanitized: the sink has the rebuilt bytes.  Passed: copy the input. */
    uint64_t out_len = imsafe_result_output_size(res);
    if (v == IMSAFE_PASSED) {
        out_len = len;
        if (fwrite(in, 1, len, f) != len) {
            perror(part);
            goto done;
        }
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0 || rename(part, argv[2]) != 0) {
        perror(argv[2]);
        goto done;
    }
    printf("wrote %llu bytes to %s\n", (unsigned long long)out_len, argv[2]);
    rc = 0;
done:
    if (f != NULL) { /* rejected or failed: the partial output is not an image */
        fclose(f);
        remove(part);
    }
    imsafe_result_free(res);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(policy);
    free(in);
    return rc;
}
