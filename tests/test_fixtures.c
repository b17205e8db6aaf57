/*
 * test_fixtures.c - runs every generated fixture named in tests/expect/<name>.tsv
 * (all but corpus-overrides.tsv) through imsafe_sanitize() and checks the
 * verdict, the reason, the notes, and for accepted outputs the fixpoint
 * (sanitized again: sanitized and byte-identical; for JPEG pixel mode,
 * which re-encodes lossily, sanitized again) and forbidden bytes; and that
 * imsafe_sanitize_to() with a 512-byte chunk agrees byte for byte.
 *
 * Columns (tab-separated; '-' for "not given"; lines starting '#' skipped):
 *   1 fixture   path under $IMSAFE_FIXTURES (made by a tests/gen script)
 *   2 verdict   sanitized | passed | rejected
 *   3 reason    the rejection's reason name (for accepted: '-')
 *   4 notes     comma-separated note names that must be present
 *   5 name      claimed name (default: the fixture's base name)
 *   6 policy    policy text, ';' separating lines
 *   7 mime      claimed MIME type
 *   8 absent    an ASCII string that must not occur in the output
 */
#include <dirent.h>

#include "testutil.h"

#define NCOL 8

static int split(char *line, char *col[NCOL])
{
    int n = 0;
    for (char *s = line; n < NCOL;) {
        col[n++] = s;
        char *t = strchr(s, '\t');
        if (t == NULL)
            break;
        *t = '\0';
        s = t + 1;
    }
    for (int i = n; i < NCOL; i++)
        col[i] = "-";
    return n;
}

static const char *given(const char *c)
{
    return strcmp(c, "-") == 0 ? NULL : c;
}

static int contains(const unsigned char *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(p + i, s, m) == 0)
            return 1;
    return 0;
}

static void check_notes(const imsafe_result *r, const char *where, char *notes)
{
    for (char *tok = strtok(notes, ","); tok; tok = strtok(NULL, ",")) {
        int v = imsafe_reason_from_name(tok);
        TU_CHECK(v >= 0, "%s: unknown note name %s in expect file", where, tok);
        if (v >= 0)
            TU_CHECK(tu_has_note(r, (imsafe_reason)v), "%s: note %s missing", where, tok);
    }
}

/* Sanitized again, an output is accepted with identical bytes; a JPEG
 * pixel-mode output (lossy re-encoding) is accepted. */
static void check_fixpoint(imsafe_ctx *ctx, imsafe_policy *p, const imsafe_result *r,
                           const char *name, const char *where)
{
    size_t n1, n2;
    int64_t mode = 0;
    const void *o1 = imsafe_result_output(r, &n1);
    imsafe_result *r2 = tu_sanitize(ctx, p, o1, n1, name, NULL);
    const void *o2 = imsafe_result_output(r2, &n2);
    imsafe_policy_get(p, IMSAFE_OPT_JPEG_MODE, &mode);
    int lossy = mode == IMSAFE_JPEG_PIXELS && imsafe_result_type(r) == IMSAFE_TYPE_JPEG;
    /* the output gate's second JPEG encoding may have gone to pixels */
    lossy |= tu_has_note(r, IMSAFE_R_NOTE_REENCODED) && imsafe_result_type(r) == IMSAFE_TYPE_JPEG;
    lossy |= webp_is_lossy(o1, n1);
    TU_CHECK(imsafe_result_verdict(r2) == IMSAFE_SANITIZED, "%s: output not accepted again (%s: %s)",
             where, imsafe_reason_name(imsafe_result_reason(r2)), imsafe_result_detail(r2));
    TU_CHECK(lossy || (n1 == n2 && o2 != NULL && memcmp(o1, o2, n1) == 0),
             "%s: sanitizing the output again changed it (%zu -> %zu bytes)", where, n1, n2);
    imsafe_result_free(r2);
}

static void run_row(imsafe_ctx *ctx, const char *fixdir, char *col[NCOL], const char *where)
{
    char path[4096], policy_text[2048];
    tu_fmt(path, "%s/%s", fixdir, col[0]);
    size_t n;
    unsigned char *in = tu_read_file(path, &n);
    if (in == NULL) {
        TU_CHECK(0, "%s: cannot read fixture %s", where, path);
        return;
    }
    tu_fmt(policy_text, "%s", given(col[5]) ? col[5] : "");
    for (char *c = policy_text; *c; c++)
        if (*c == ';')
            *c = '\n';
    imsafe_policy *p = tu_policy(given(col[5]) ? policy_text : NULL);
    const char *base = strrchr(col[0], '/');
    const char *name = given(col[4]) ? col[4] : (base ? base + 1 : col[0]);
    imsafe_result *r = tu_sanitize(ctx, p, in, n, name, given(col[6]));
    const char *verdict = imsafe_verdict_name(imsafe_result_verdict(r));
    const char *reason = imsafe_reason_name(imsafe_result_reason(r));
    TU_CHECK(strcmp(verdict, col[1]) == 0, "%s: verdict %s, expected %s (%s: %s)", where,
             verdict, col[1], reason, imsafe_result_detail(r));
    if (given(col[2]))
        TU_CHECK(strcmp(reason, col[2]) == 0, "%s: reason %s, expected %s (%s)", where, reason,
                 col[2], imsafe_result_detail(r));
    if (given(col[3]))
        check_notes(r, where, col[3]);
    tu_check_sink(ctx, p, in, n, name, given(col[6]), r, 512, where);
    size_t olen;
    const unsigned char *out = imsafe_result_output(r, &olen);
    if (imsafe_result_verdict(r) == IMSAFE_SANITIZED) {
        check_fixpoint(ctx, p, r, name, where);
        if (given(col[7]))
            TU_CHECK(!contains(out, olen, col[7]), "%s: output still holds \"%s\"", where, col[7]);
    } else {
        TU_CHECK(out == NULL && olen == 0, "%s: %s verdict carries output", where, verdict);
    }
    imsafe_result_free(r);
    imsafe_policy_unref(p);
    free(in);
}

static void run_file(imsafe_ctx *ctx, const char *fixdir, const char *tsv)
{
    FILE *f = fopen(tsv, "r");
    if (f == NULL)
        tu_die("cannot open expect file");
    char line[8192], where[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *col[NCOL];
        if (split(line, col) < 3) {
            TU_CHECK(0, "%s:%d: fewer than 3 columns", tsv, lineno);
            continue;
        }
        tu_fmt(where, "%s:%d %s", strrchr(tsv, '/') + 1, lineno, col[0]);
        run_row(ctx, fixdir, col, where);
    }
    fclose(f);
}

int main(void)
{
    char dir[4096];
    const char *fixdir = tu_env("IMSAFE_FIXTURES");
    tu_fmt(dir, "%s/tests/expect", tu_env("IMSAFE_SRCDIR"));
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    DIR *d = opendir(dir);
    if (d == NULL || ctx == NULL)
        tu_die("cannot open tests/expect");
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".tsv") != 0 ||
            strcmp(e->d_name, "corpus-overrides.tsv") == 0)
            continue;
        char tsv[8192];
        tu_fmt(tsv, "%s/%s", dir, e->d_name);
        run_file(ctx, fixdir, tsv);
        files++;
    }
    closedir(d);
    imsafe_ctx_free(ctx);
    TU_CHECK(files > 0, "no expect files found in %s", dir);
    return tu_finish();
}
