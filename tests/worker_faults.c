/*
 * worker_faults.c - the test build of the isolation helper
 * (tests/imsafe-worker-test; never installed).  It is the helper of
 * tools/imsafe-worker.c plus fault injectors, chosen by the claimed name
 * of a payload, that run inside the locked-down worker:
 *
 *   before the payload is judged
 *     fault-open fault-socket fault-execve   a forbidden system call (SIGSYS)
 *     fault-null                             a write through NULL (SIGSEGV)
 *     fault-abort                            abort() (SIGABRT)
 *     fault-spin                             burn CPU forever (the CPU timer)
 *     fault-hang                             block without CPU (the wall deadline)
 *     fault-exit                             exit without an answer
 *     fault-hog                              eat address space until malloc fails
 *   after it was judged, on the answer
 *     fault-badlen     an output length over the budget
 *     fault-badreason  a reason value no table names
 *     fault-baddetail  a control byte in the detail
 *     fault-badimage   one byte of the image changed (a PNG chunk's CRC breaks,
 *                      or a JPEG's or GIF's end marker)
 *     fault-liar       "passed" for a type the policy sanitizes
 *
 * The installed helper has no such code: the hooks are a parameter of
 * imsafe__worker_main() that tools/imsafe-worker.c passes as NULL.
 */
#define _GNU_SOURCE /* syscall */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "imsafe_private.h"

#define DETAIL_OFFSET 112 /* frame.c's layout */

static int is(const char *name, const char *fault)
{
    return name != NULL && strcmp(name, fault) == 0;
}

static void before(const char *name)
{
    if (name == NULL || strncmp(name, "fault-", 6) != 0)
        return;
    if (is(name, "fault-open"))
        (void)open("/etc/hostname", O_RDONLY);
    else if (is(name, "fault-socket"))
        (void)socket(AF_INET, SOCK_STREAM, 0);
    else if (is(name, "fault-execve")) {
        char *argv[] = {(char *)"sh", NULL}, *envp[] = {NULL};
        (void)execve("/bin/sh", argv, envp);
    } else if (is(name, "fault-null"))
        *(volatile int *)(uintptr_t)0 = 1;
    else if (is(name, "fault-abort"))
        abort();
    else if (is(name, "fault-spin"))
        for (volatile unsigned long i = 0;; i++)
            ;
    else if (is(name, "fault-hang")) {
        /* wait on a futex nobody wakes: no CPU, so only the host's
         * wall-clock deadline ends it */
        static int never;
        for (;;)
            syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    } else if (is(name, "fault-exit"))
        _exit(0);
    else if (is(name, "fault-hog"))
        /* address space counts when mapped: no need to touch it; down to
         * small blocks, so that nothing is left for the decoder */
        for (size_t n = 1 << 20; n >= 16; n /= 2)
            while (malloc(n) != NULL)
                ;
}

static void after(const char *name, uint8_t frame[IMSAFE__FRAME_SIZE], uint8_t *out,
                  size_t out_len)
{
    struct imsafe__frame f;
    if (name == NULL || imsafe__frame_parse(frame, IMSAFE__FRAME_SIZE, UINT64_MAX, &f, NULL) != 0)
        return;
    if (is(name, "fault-badlen"))
        f.out_len = (uint64_t)1 << 62;
    else if (is(name, "fault-badreason"))
        f.reason = 9999;
    else if (is(name, "fault-liar")) {
        f.verdict = IMSAFE_PASSED;
        f.out_len = 0;
        f.out_type = 0;
    } else if (is(name, "fault-badimage") && out_len > 40) {
        /* a PNG's CRC catches any changed byte; a JPEG's or GIF's end
         * marker is what a structural walk sees */
        out[out[0] == 0x89 ? out_len / 2 : out_len - 1] ^= 0x55;
        return;
    } else if (!is(name, "fault-baddetail")) {
        return;
    }
    imsafe__frame_write(&f, frame);
    if (is(name, "fault-baddetail"))
        frame[DETAIL_OFFSET] = 0x07;
}

int main(void)
{
    static const struct imsafe__worker_hooks hooks = {before, after};
    imsafe__worker_main(3, &hooks);
}
