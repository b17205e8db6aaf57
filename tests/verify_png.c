/*
 * verify_png - checks rebuilt PNGs against their inputs with an independent
 * decoder (libspng, not libpng): for every "input<TAB>output" line of the
 * given pairs.tsv files, both decode to RGBA16 (tRNS applied, no gamma) and
 * must hold exactly the same pixels and dimensions, and the output is
 * interlaced exactly when its input is.  Only PNG pairs are
 * checked; other lines are skipped and counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>

static int passed, failed, skipped;

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *p = len > 0 ? malloc((size_t)len) : NULL;
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Decode to RGBA16; returns a malloc'ed buffer or NULL with *err set. */
static unsigned char *decode(const char *path, struct spng_ihdr *ihdr, size_t *size, int *err)
{
    size_t n;
    unsigned char *data = slurp(path, &n), *out = NULL;
    spng_ctx *ctx = spng_ctx_new(0);
    *err = -1;
    if (data == NULL || ctx == NULL)
        goto done;
    spng_set_png_buffer(ctx, data, n);
    if ((*err = spng_get_ihdr(ctx, ihdr)) != 0 ||
        (*err = spng_decoded_image_size(ctx, SPNG_FMT_RGBA16, size)) != 0)
        goto done;
    out = malloc(*size);
    if (out && (*err = spng_decode_image(ctx, out, *size, SPNG_FMT_RGBA16, SPNG_DECODE_TRNS)) != 0) {
        free(out);
        out = NULL;
    }
done:
    spng_ctx_free(ctx);
    free(data);
    return out;
}

static void check_pair(const char *in, const char *out)
{
    struct spng_ihdr a, b;
    size_t na, nb;
    int ea, eb;
    unsigned char *pa = decode(in, &a, &na, &ea), *pb = decode(out, &b, &nb, &eb);
    if (pb == NULL) {
        failed++;
        fprintf(stderr, "FAIL %s: libspng cannot decode our output: %s\n", out, spng_strerror(eb));
    } else if (pa == NULL) {
        failed++;
        fprintf(stderr, "FAIL %s: accepted, but libspng rejects the input: %s\n", in,
                spng_strerror(ea));
    } else if (a.width != b.width || a.height != b.height || na != nb || memcmp(pa, pb, na) != 0) {
        failed++;
        fprintf(stderr, "FAIL %s: pixels differ from the input\n", in);
    } else if (b.interlace_method != a.interlace_method) {
        /* interlaced input is rebuilt pass by pass and stays interlaced */
        failed++;
        fprintf(stderr, "FAIL %s: interlace method %d, the input's is %d\n", out,
                b.interlace_method, a.interlace_method);
    } else {
        passed++;
    }
    free(pa);
    free(pb);
}

int main(int argc, char **argv)
{
    char line[8192];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (f == NULL) {
            fprintf(stderr, "hard error: cannot open %s\n", argv[i]);
            return 99;
        }
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *tab = strchr(line, '\t');
            if (tab == NULL)
                continue;
            *tab = '\0';
            unsigned char sig[8];
            FILE *o = fopen(tab + 1, "rb");
            size_t got = o ? fread(sig, 1, 8, o) : 0;
            if (o)
                fclose(o);
            if (got == 8 && memcmp(sig, "\x89PNG", 4) == 0)
                check_pair(line, tab + 1);
            else
                skipped++;
        }
        fclose(f);
    }
    printf("verify_png: %d pairs decode to identical pixels (libspng), %d other pairs skipped\n",
           passed, skipped);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (passed ? 0 : 99);
}
