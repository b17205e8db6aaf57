/*
 * test_reasons.c - the reason table, the header's enum and the man page
 * agree: every value has a unique, well-formed dotted name and a meaning;
 * the enum constant is IMSAFE_R_ + the name upper-cased with dots as
 * underscores; doc/libimsafe-reasons.3 lists exactly these names.
 */
#include <ctype.h>

#include "testutil.h"

static const char *const classes[] = {"limit",  "malformed", "unsupported", "type",
                                      "filename", "archive", "polyglot",    "policy", "note",
                                      "isolation"};

static int well_formed(const char *name)
{
    const char *dot = strchr(name, '.');
    if (dot == NULL)
        return 0;
    int cls = 0;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        cls |= strlen(classes[i]) == (size_t)(dot - name) &&
               strncmp(classes[i], name, (size_t)(dot - name)) == 0;
    int dots = 0;
    for (const char *c = name; *c; c++) {
        if (*c == '.')
            dots++;
        else if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
            return 0;
    }
    return cls && dots >= 1 && dots <= 2 && name[strlen(name) - 1] != '.';
}

/* Values the header defines (check_header fills it first).  A value that
 * neither the header nor the table has is one not (yet) in this tree: the
 * enum only grows, and values are handed out before they are merged. */
static int in_header[IMSAFE_REASON_COUNT];

static void check_table(void)
{
    TU_CHECK(strcmp(imsafe_reason_name(IMSAFE_R_NONE), "none") == 0, "R_NONE name");
    TU_CHECK(in_header[IMSAFE_REASON_COUNT - 1], "IMSAFE_REASON_COUNT is past the last value");
    for (int i = 1; i < IMSAFE_REASON_COUNT; i++) {
        const char *n = imsafe_reason_name((imsafe_reason)i);
        TU_CHECK(in_header[i] == (n != NULL), "reason %d: in the %s only", i,
                 n ? "table" : "header");
        if (!in_header[i] && n == NULL)
            continue;
        const char *m = imsafe_reason_meaning((imsafe_reason)i);
        TU_CHECK(n != NULL && well_formed(n), "reason %d: name %s malformed", i, n ? n : "NULL");
        TU_CHECK(m != NULL && strlen(m) > 10, "reason %d: no meaning", i);
        TU_CHECK(n && imsafe_reason_from_name(n) == i, "reason %d: name not unique or not found", i);
    }
    TU_CHECK(imsafe_reason_name((imsafe_reason)IMSAFE_REASON_COUNT) == NULL, "past the end");
    TU_CHECK(imsafe_reason_from_name("no.such_reason") == -1, "unknown name found");
}

/* "IMSAFE_R_LIMIT_PIXELS = 4," lines of the public header */
static void check_header(void)
{
    char path[4096], line[512], cname[128];
    tu_fmt(path, "%s/include/imsafe.h", tu_env("IMSAFE_SRCDIR"));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        tu_die("cannot open include/imsafe.h");
    int seen = 0, value;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, " IMSAFE_R_%127[A-Z0-9_] = %d", cname, &value) != 2)
            continue;
        seen++;
        if (value >= 0 && value < IMSAFE_REASON_COUNT)
            in_header[value]++;
        const char *n = imsafe_reason_name((imsafe_reason)value);
        char want[128];
        size_t k = 0;
        for (; n && n[k] && k < sizeof want - 1; k++)
            want[k] = n[k] == '.' ? '_' : (char)toupper((unsigned char)n[k]);
        want[k] = '\0';
        TU_CHECK(n && strcmp(want, cname) == 0, "IMSAFE_R_%s = %d but the table says %s", cname,
                 value, n ? n : "nothing");
    }
    fclose(f);
    int distinct = 0;
    for (int i = 0; i < IMSAFE_REASON_COUNT; i++) {
        TU_CHECK(in_header[i] <= 1, "reason value %d defined %d times", i, in_header[i]);
        distinct += in_header[i] != 0;
    }
    TU_CHECK(seen == distinct, "header has %d reason constants for %d values", seen, distinct);
}

/* ".It Sy name" entries of the reasons man page, both ways. */
static void check_man_page(void)
{
    char path[4096], line[512], name[128];
    tu_fmt(path, "%s/doc/libimsafe-reasons.3", tu_env("IMSAFE_SRCDIR"));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        tu_die("cannot open doc/libimsafe-reasons.3");
    int listed[IMSAFE_REASON_COUNT] = {0};
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, ".It Sy %127s", name) != 1)
            continue;
        int v = imsafe_reason_from_name(name);
        TU_CHECK(v >= 0, "man page lists %s, which the table does not have", name);
        if (v >= 0)
            listed[v]++;
    }
    fclose(f);
    for (int i = 1; i < IMSAFE_REASON_COUNT; i++)
        TU_CHECK(listed[i] == (imsafe_reason_name((imsafe_reason)i) != NULL), "%s listed %d times in the man page",
                 imsafe_reason_name((imsafe_reason)i), listed[i]);
}

int main(void)
{
    check_header();
    check_table();
    check_man_page();
    return tu_finish();
}
