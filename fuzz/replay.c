/*
 * replay.c - runs files through a harness without libFuzzer, so make check
 * (gcc, any build) and make check-valgrind replay every seed and every
 * saved crasher (libspng's fuzz_main.c, zstd's regression_driver.c).
 *
 *   replay_<target> PATH...   each PATH a file or a directory (walked
 *                             recursively, in name order)
 *
 * Each file is read into a buffer of exactly its size, so ASan and
 * valgrind catch a read one byte past the input.  A property violation in
 * the harness aborts; a signal handler and ASan's death callback name the
 * file being run first.  Exit status: 0 when every file ran, 1 when a path
 * could not be read, 2 for a usage error.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static const char *current; /* the file being run, for crash reports */
static unsigned long ran, refused;

static void say_current(void)
{
    if (current == NULL)
        return;
    /* only async-signal-safe calls: this runs from a signal handler */
    static const char pre[] = "replay: crashed on ";
    if (write(2, pre, sizeof pre - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static void on_signal(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        perror(path);
        fclose(f);
        return 1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    current = path;
    if (LLVMFuzzerTestOneInput(buf, n) != 0)
        refused++; /* not this harness's format: nothing was checked */
    current = NULL;
    ran++;
    free(buf);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, by_name), rc = 0;
    if (n < 0) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        const char *e = ents[i]->d_name;
        if (strcmp(e, ".") != 0 && strcmp(e, "..") != 0) {
            size_t len = strlen(path) + strlen(e) + 2;
            char *sub = malloc(len);
            if (sub == NULL)
                return 1;
            snprintf(sub, len, "%s/%s", path, e);
            rc |= run_path(sub);
            free(sub);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(say_current);
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= run_path(argv[i]);
    printf("%s: ran %lu inputs (%lu not of this harness's format)\n", argv[0], ran, refused);
    return rc;
}
