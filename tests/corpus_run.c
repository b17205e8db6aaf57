/*
 * corpus_run - runs one third-party corpus set through imsafe_sanitize().
 *
 *   corpus_run [--lossy] [--allow-gate] [--policy TEXT] SET OUTDIR
 *
 * Reads $IMSAFE_CORPUS/SET/MANIFEST.tsv (file, ..., expected, note) and
 * $IMSAFE_SRCDIR/tests/expect/corpus-overrides.tsv, where rows
 * "SET/file  accepted|rejected  reason|-  why" replace the MANIFEST's verdict
 * on purpose (a row whose reason is unsupported.jpeg.arithmetic does not apply
 * to a run whose policy says jpeg_arithmetic = allow: there the MANIFEST's
 * verdict holds, so the arithmetic path stays tested).  Requires valid -> accepted, invalid -> rejected (unknown: either,
 * but judged without crash), the override's reason when it names one, no
 * output on rejection, and the fixpoint: an accepted output sanitized again
 * is accepted with identical bytes; and imsafe_sanitize_to() gives the same
 * verdict and bytes through a sink.  Writes accepted outputs to OUTDIR/<file>
 * and "input<TAB>output" lines to OUTDIR/pairs.tsv for the pixel checks done
 * by an independent decoder afterwards.  Ends with "N passed, N failed".
 */
#include <sys/stat.h>

#include "testutil.h"

struct override {
    char file[512];
    char verdict[16];
    char reason[64];
    int used;
};

static struct override overrides[512];
static size_t n_overrides;

static void load_overrides(const char *set, const imsafe_policy *p)
{
    int64_t arith = IMSAFE_JPEG_ARITHMETIC_REJECT;
    imsafe_policy_get(p, IMSAFE_OPT_JPEG_ARITHMETIC, &arith);
    char path[4096], line[4096];
    tu_fmt(path, "%s/tests/expect/corpus-overrides.tsv", tu_env("IMSAFE_SRCDIR"));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        tu_die("cannot open tests/expect/corpus-overrides.tsv");
    size_t setlen = strlen(set);
    while (fgets(line, sizeof line, f) && n_overrides < 512) {
        if (line[0] == '#' || strncmp(line, set, setlen) != 0 || line[setlen] != '/')
            continue;
        struct override *o = &overrides[n_overrides];
        if (sscanf(line + setlen + 1, "%511[^\t]\t%15[^\t]\t%63[^\t]", o->file, o->verdict,
                   o->reason) != 3)
            tu_die("corpus-overrides.tsv: bad row");
        if (arith == IMSAFE_JPEG_ARITHMETIC_ALLOW &&
            strcmp(o->reason, "unsupported.jpeg.arithmetic") == 0)
            continue;
        n_overrides++;
    }
    fclose(f);
}

static struct override *find_override(const char *file)
{
    for (size_t i = 0; i < n_overrides; i++)
        if (strcmp(overrides[i].file, file) == 0)
            return &overrides[i];
    return NULL;
}

/* mkdir -p for the directory part of path */
static void make_parents(char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(path, 0755);
            *s = '/';
        }
    }
}

struct counts {
    int files, valid_ok, invalid_ok, unknown_acc, unknown_rej, overridden, rebuilt, gate_hits;
};

/* With --lossy (JPEG pixel mode: re-encoding is lossy) an output sanitized
 * again must be accepted, not byte-identical. */
static int lossy;
/* With --allow-gate an output gate hit (the second encoding passed) is
 * counted, not failed: the webp_to = png run writes large photos as RGBA
 * PNG, whose deflate data can spell a PHP short tag ("<?" + a printable
 * run) that the gate then encodes away, as it must. */
static int allow_gate;

static void fixpoint(imsafe_ctx *ctx, const imsafe_policy *p, const imsafe_result *r,
                     const char *name, const char *file)
{
    size_t n1, n2;
    const void *o1 = imsafe_result_output(r, &n1);
    if (o1 == NULL)
        return; /* passed, not rebuilt */
    imsafe_result *r2 = tu_sanitize(ctx, p, o1, n1, name, NULL);
    const void *o2 = imsafe_result_output(r2, &n2);
    int same = lossy || webp_is_lossy(o1, n1) || (n1 == n2 && o2 && memcmp(o1, o2, n1) == 0);
    TU_CHECK(imsafe_result_verdict(r2) == IMSAFE_SANITIZED && same,
             "%s: fixpoint broken (%s %s: %s)", file,
             imsafe_verdict_name(imsafe_result_verdict(r2)),
             imsafe_reason_name(imsafe_result_reason(r2)), imsafe_result_detail(r2));
    imsafe_result_free(r2);
}

static void save_output(const char *outdir, const char *file, const char *in_path,
                        const imsafe_result *r, FILE *pairs)
{
    size_t n;
    const void *o = imsafe_result_output(r, &n);
    char path[4096];
    if (o == NULL)
        return;
    tu_fmt(path, "%s/%s", outdir, file);
    make_parents(path);
    if (tu_write_file(path, o, n) != 0)
        tu_die("cannot write output");
    fprintf(pairs, "%s\t%s\n", in_path, path);
}

static void judge(imsafe_ctx *ctx, const imsafe_policy *p, const char *setdir,
                  const char *outdir, const char *file, const char *expected, FILE *pairs,
                  struct counts *c)
{
    char path[4096];
    tu_fmt(path, "%s/%s", setdir, file);
    size_t n;
    unsigned char *in = tu_read_file(path, &n);
    if (in == NULL) {
        TU_CHECK(0, "%s: cannot read", path);
        return;
    }
    const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    imsafe_result *r = tu_sanitize(ctx, p, in, n, name, NULL);
    int accepted = imsafe_result_verdict(r) != IMSAFE_REJECTED;
    const char *reason = imsafe_reason_name(imsafe_result_reason(r));
    struct override *o = find_override(file);
    c->files++;
    if (o != NULL) {
        o->used = 1;
        c->overridden++;
        TU_CHECK(accepted == (strcmp(o->verdict, "accepted") == 0), "%s: override says %s, got %s (%s: %s)",
                 file, o->verdict, accepted ? "accepted" : "rejected", reason, imsafe_result_detail(r));
        if (strcmp(o->reason, "-") != 0)
            TU_CHECK(strcmp(o->reason, reason) == 0, "%s: override reason %s, got %s", file,
                     o->reason, reason);
    } else if (strcmp(expected, "valid") == 0) {
        TU_CHECK(accepted, "%s: valid file rejected: %s: %s", file, reason, imsafe_result_detail(r));
        c->valid_ok += accepted;
    } else if (strcmp(expected, "invalid") == 0) {
        TU_CHECK(!accepted, "%s: invalid file accepted (%s)", file, imsafe_result_detail(r));
        c->invalid_ok += !accepted;
    } else {
        TU_CHECK(1, "unknown");
        c->unknown_acc += accepted;
        c->unknown_rej += !accepted;
    }
    size_t olen;
    const void *out = imsafe_result_output(r, &olen);
    if (!accepted)
        TU_CHECK(out == NULL && olen == 0, "%s: rejection carries output", file);
    /* the streaming form agrees byte for byte; 4 KiB chunks make most
     * outputs several sink writes */
    tu_check_sink(ctx, p, in, n, name, NULL, r, 4096, file);
    /* the output gate looks where readers look, so no corpus output trips
     * it: a hit would cost a second encoding (note.reencoded) or reject */
    int gate = tu_has_note(r, IMSAFE_R_NOTE_REENCODED) ||
               imsafe_result_reason(r) == IMSAFE_R_POLYGLOT_OUTPUT;
    c->gate_hits += gate;
    c->rebuilt += out != NULL || gate;
    TU_CHECK(!gate || allow_gate, "%s: the output gate hit the rebuild (%s)", file,
             imsafe_result_detail(r));
    if (accepted) {
        fixpoint(ctx, p, r, name, file);
        save_output(outdir, file, path, r, pairs);
    }
    imsafe_result_free(r);
    free(in);
}

int main(int argc, char **argv)
{
    const char *policy_text = NULL;
    if (argc >= 2 && strcmp(argv[1], "--lossy") == 0) {
        lossy = 1;
        argv++;
        argc--;
    }
    if (argc >= 2 && strcmp(argv[1], "--allow-gate") == 0) {
        allow_gate = 1;
        argv++;
        argc--;
    }
    if (argc >= 3 && strcmp(argv[1], "--policy") == 0) {
        policy_text = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3)
        tu_die("usage: corpus_run [--lossy] [--allow-gate] [--policy TEXT] SET OUTDIR");
    const char *set = argv[1], *outdir = argv[2];
    char setdir[4096], manifest[4096], pairs_path[4096], line[16384];
    tu_fmt(setdir, "%s/%s", tu_env("IMSAFE_CORPUS"), set);
    tu_fmt(manifest, "%s/MANIFEST.tsv", setdir);
    tu_fmt(pairs_path, "%s/pairs.tsv", outdir);
    mkdir(outdir, 0755);
    FILE *mf = fopen(manifest, "r"), *pairs = fopen(pairs_path, "w");
    if (mf == NULL)
        tu_die("corpus MANIFEST.tsv missing: the corpus is required (see --with-corpus)");
    if (pairs == NULL)
        tu_die("cannot write pairs.tsv");
    imsafe_policy *p = tu_policy(policy_text);
    load_overrides(set, p);
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    struct counts c = {0};
    int row = 0;
    while (fgets(line, sizeof line, mf)) {
        if (row++ == 0)
            continue; /* header */
        char *col[7] = {0};
        char *s = line;
        for (int i = 0; i < 7 && s; i++) {
            col[i] = s;
            s = strchr(s, '\t');
            if (s)
                *s++ = '\0';
        }
        if (col[5] == NULL)
            tu_die("MANIFEST row with fewer than 6 columns");
        judge(ctx, p, setdir, outdir, col[0], col[5], pairs, &c);
    }
    for (size_t i = 0; i < n_overrides; i++)
        TU_CHECK(overrides[i].used, "override %s/%s names no file of the set", set,
                 overrides[i].file);
    fclose(mf);
    fclose(pairs);
    imsafe_ctx_free(ctx);
    imsafe_policy_unref(p);
    printf("%s: %d files: %d valid accepted, %d invalid rejected, unknown %d accepted / %d "
           "rejected, %d overridden; output gate: %d of %d rebuilds hit\n",
           set, c.files, c.valid_ok, c.invalid_ok, c.unknown_acc, c.unknown_rej, c.overridden,
           c.gate_hits, c.rebuilt);
    TU_CHECK(c.files > 0, "%s: empty manifest", set);
    return tu_finish();
}
