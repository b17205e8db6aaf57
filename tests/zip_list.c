/*
 * zip_list.c - what libimsafe saw in each archive, for the differential
 * test (tests/diff_archives.py).  Reads file paths, one per line, on
 * standard input; sanitizes each with the default policy and no claimed
 * name, and prints
 *
 *   F <verdict> <reason> <path>
 *   E <depth> <kind> <size> <name as hex>     once per accepted entry
 *
 * The entries come from the library's internal listing hook
 * (imsafe__ctx_set_lister), so this program links the static library.
 * Entries are printed only for accepted payloads (a rejected walk may
 * have reported some before it stopped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imsafe_private.h"

struct entry {
    int depth, kind;
    unsigned long long size;
    char *hex;
};

struct listing {
    struct entry *e;
    size_t n, cap;
};

static void on_entry(void *opaque, int depth, const uint8_t *name, size_t nlen, uint64_t size,
                     int kind)
{
    struct listing *l = opaque;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = realloc(l->e, l->cap * sizeof *l->e);
        if (l->e == NULL)
            abort();
    }
    char *hex = malloc(nlen * 2 + 1);
    if (hex == NULL)
        abort();
    for (size_t i = 0; i < nlen; i++)
        sprintf(hex + 2 * i, "%02x", name[i]);
    hex[nlen * 2] = '\0';
    l->e[l->n++] = (struct entry){depth, kind, (unsigned long long)size, hex};
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *b = realloc(buf, cap);
            if (b == NULL)
                abort();
            buf = b;
        }
        size_t k = fread(buf + *n, 1, cap - *n, f);
        *n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    return buf;
}

int main(void)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_policy *pol = imsafe_policy_new();
    struct listing l = {0};
    struct imsafe__lister hook = {on_entry, &l};
    char path[4096];
    if (ctx == NULL || pol == NULL || imsafe_policy_freeze(pol) != IMSAFE_OK)
        return 99;
    imsafe__ctx_set_lister(ctx, &hook);
    while (fgets(path, sizeof path, stdin) != NULL) {
        path[strcspn(path, "\n")] = '\0';
        size_t n;
        unsigned char *buf = slurp(path, &n);
        imsafe_result *r = NULL;
        l.n = 0;
        if (buf == NULL || imsafe_sanitize(ctx, pol, buf, n, NULL, NULL, &r) != IMSAFE_OK) {
            printf("F error - %s\n", path);
        } else {
            imsafe_reason why = imsafe_result_reason(r);
            int ok = imsafe_result_verdict(r) != IMSAFE_REJECTED;
            printf("F %s %s %s\n", imsafe_verdict_name(imsafe_result_verdict(r)),
                   why ? imsafe_reason_name(why) : "-", path);
            for (size_t i = 0; ok && i < l.n; i++)
                printf("E %d %d %llu %s\n", l.e[i].depth, l.e[i].kind, l.e[i].size, l.e[i].hex);
        }
        for (size_t i = 0; i < l.n; i++)
            free(l.e[i].hex);
        imsafe_result_free(r);
        free(buf);
    }
    free(l.e);
    imsafe_policy_unref(pol);
    imsafe_ctx_free(ctx);
    return 0;
}
