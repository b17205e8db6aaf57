/*
 * worker.c - isolation (policy isolation = process): the pool of worker
 * processes, their start and lock-down, the channel, and the host's side
 * of a call.  The format modules do not know whether they run isolated;
 * nothing else in the library forks.
 *
 * Why a process: the decoders (libpng, libjpeg-turbo, giflib) run on
 * hostile bytes, and a memory-safety bug in one of them (MS05-009,
 * BLASTPASS) would otherwise run code inside the host (a proxy, a server).
 * In a worker that can only compute, such a bug buys nothing: no file, no
 * socket, no exec, no other process, bounded memory and time.
 *
 * A worker's life:
 *   1. Once per pool, the pool starts the helper program
 *      (LIBEXECDIR/imsafe-worker) with posix_spawn: a clean image (a fork
 *      of a threaded host would inherit its address-space reservations and
 *      make RLIMIT_AS meaningless), an environment of one fixed variable
 *      (HELPER_ENV, below; nothing of the host's), /dev/null on 0-2,
 *      its channel (an AF_UNIX SOCK_SEQPACKET socket) on 3, default signal
 *      dispositions, its own process group (a terminal's ^C is the host's
 *      to handle).  This process is the pool's zygote.
 *   2. The zygote closes every other descriptor, sets RLIMIT_CORE 0 and a
 *      minimal RLIMIT_NOFILE, warms the codecs up (libjpeg-turbo's SIMD
 *      probe, malloc, lazy state) by judging four tiny images, sets
 *      PR_SET_NO_NEW_PRIVS and loads a seccomp filter (libseccomp, default
 *      SCMP_ACT_KILL_PROCESS) that adds to the workers' set only what
 *      forking one needs.  It says "ready" ("refused": the kernel would not
 *      take the filter) and from then on judges nothing: it forks a worker
 *      per request, as the host's child (CLONE_PARENT), so the host waits
 *      for it and sees how it ended.  An exec per worker cost about 8 ms
 *      of CPU on the 2-core test machine (mapping nine libraries,
 *      relocating, tearing down); a fork of the warm zygote about 2.
 *   3. The worker loads its own, narrower filter on top (no fork, no
 *      seccomp, no prctl; tgkill only to itself) and says "ready".
 *   4. Per call the host sets the worker's RLIMIT_AS (budget + input +
 *      slack) and RLIMIT_FSIZE (budget) with prlimit() (the worker cannot
 *      touch its limits: prlimit64 and setrlimit are not in its filter),
 *      copies the payload, claimed name and MIME into a memfd sealed
 *      against any change (F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW), and
 *      sends it with an empty output memfd and the policy.  The worker
 *      arms a CPU timer (ITIMER_PROF, whose default action kills it), runs
 *      the ordinary in-process pipeline, writes the output into the output
 *      memfd and answers with one frame (frame.c).
 *   5. The host waits for the frame until a wall-clock deadline, parses it
 *      strictly, copies the output out of the memfd (the worker cannot
 *      change what was checked), walks its structure, runs the output gate
 *      again, and only then fills the result or calls the host's sink.
 *   6. By default the worker has judged its one payload: the host kills it
 *      and waits for it.  With isolation_reuse = N it goes back to the pool
 *      until it has judged N.
 *
 * Faults are verdicts: a worker killed by its filter (SIGSYS) gives
 * isolation.syscall, by its CPU timer or the wall deadline limit.time, by
 * any other signal isolation.crash; an out-of-memory failure limit.memory;
 * a bad frame isolation.protocol; an image that fails the walk
 * isolation.output.  The worker is always reaped; the host goes on.
 *
 * Sanitizer builds (--enable-sanitizers, --enable-fuzzing define
 * IMSAFE_SANITIZER_BUILD): ASan reserves terabytes of address space and
 * LSan needs ptrace, so such builds leave out exactly two things, the
 * seccomp filter and RLIMIT_AS; everything else is the same.  A release
 * build never does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, prlimit, close_range */
#endif
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <jpeglib.h>
#include <lcms2.h>
#include <seccomp.h>

#include "imsafe_private.h"

#ifndef IMSAFE_WORKER_PATH
#define IMSAFE_WORKER_PATH "/usr/local/libexec/imsafe-worker"
#endif

#define MAX_WORKERS 256u
/* Address space a worker needs besides the call's budget and input:
 * libraries, stacks, malloc's own overhead (a worker's baseline is about
 * 20 MiB; the rest is headroom for fragmentation). */
#define AS_SLACK (192ull << 20)
/* A CPU deadline that no input judged under the default limits comes near
 * (max_work bounds a call to about 1 s of CPU), and a wall deadline that
 * leaves room for a busy machine. */
#define CPU_MS_DEFAULT 20000u
#define WALL_MS_DEFAULT 60000u
/* How long a new worker may take to exec, warm up and lock down. */
#define READY_MS 10000
/* The helper's whole environment.  A worker is a fresh process: every page
 * of its working set is faulted in anew for each payload, where a host
 * reuses its warm heap.  On the 2-core VM the tests run on a page fault
 * costs about 13 us, 9,000 of them for a 12 MP photo's coefficients.
 * glibc's malloc.hugetlb=1 asks for transparent huge pages (madvise) on
 * the heap and on large blocks: a 12 MP photo judged isolated went from
 * 12,600 page faults and 350 ms of CPU to 5,100 and 230 ms; the avatars
 * did not change.  Where the kernel has no transparent huge pages it
 * changes nothing. */
#define HELPER_ENV "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"
#define REQ_MAGIC 0x51534d49u /* "IMSQ" */
#define FLAG_NAME 1u          /* a claimed name was given (it may be "") */
#define FLAG_MIME 2u
#define FLAG_LAST 4u          /* exit after this payload */
#define READY_OK 1u
#define READY_REFUSED 2u

/* One request: fixed header, then the policy; the payload, name and MIME
 * travel in the sealed memfd, in that order. */
struct request {
    uint32_t magic, version, policy_size, flags;
    uint64_t in_len, name_len, mime_len;
    uint32_t cpu_ms, pad;
    struct imsafe_policy policy;
};

struct worker {
    pid_t pid;
    int fd;        /* the host's end of the channel */
    unsigned used; /* payloads judged */
    int ready;     /* its ready message was read */
};

struct imsafe_pool {
    pthread_mutex_t mu;  /* the idle list and the deadlines */
    pthread_mutex_t zmu; /* the zygote and its channel */
    struct worker zygote;
    char *helper;
    unsigned target; /* idle workers kept started */
    unsigned nidle;
    struct worker idle[MAX_WORKERS];
    unsigned cpu_ms, wall_ms;
};

/* ------------------------------------------------------------------ time */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline: 1 readable (or hung up),
 * 0 timed out. */
static int wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let the read report it */
    }
}

/* Has fd something to read (a worker that said more than one answer)? */
static int pending(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    return poll(&pf, 1, 0) != 0;
}

/* ------------------------------------------------------------- processes */

/* Kill and reap: afterwards no zombie and no descriptor is left. */
static void worker_end(struct worker *w)
{
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (w->fd >= 0)
        close(w->fd);
    w->pid = -1;
    w->fd = -1;
}

/* The exit status of a worker that hung up: it is dead or dying, so wait
 * briefly for the kernel to post its status, then make sure. */
static int worker_status(struct worker *w)
{
    int st = 0;
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(w->pid, &st, WNOHANG);
        if (r == w->pid) {
            w->pid = -1;
            close(w->fd);
            w->fd = -1;
            return st;
        }
        if (r < 0 && errno != EINTR)
            break; /* the host reaped it (SIGCHLD ignored): status lost */
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    worker_end(w);
    return -1;
}

/* Start the helper: the pool's zygote. */
static int exec_helper(const char *helper, struct worker *w)
{
    int sv[2], rc = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all, none;
    char *argv[] = {(char *)"imsafe-worker", NULL};
    char *envp[] = {(char *)HELPER_ENV, NULL};
    w->pid = -1;
    w->fd = -1;
    w->used = 0;
    w->ready = 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    sigfillset(&all);
    sigemptyset(&none);
    /* a host that ignores SIGPROF or blocks signals must not switch off
     * the worker's CPU timer: exec keeps ignored and blocked signals */
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    if (posix_spawn(&w->pid, helper, &fa, &at, argv, envp) != 0) {
        w->pid = -1;
        close(sv[0]);
        goto done;
    }
    w->fd = sv[0];
    rc = 0;
done:
    close(sv[1]);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

/* Read a started worker's ready message.  0 ready; -1 it refused or died
 * before locking itself down (the caller reports EUNSUPPORTED). */
static int worker_ready(struct worker *w)
{
    uint8_t msg[8];
    uint32_t state;
    if (w->ready)
        return 0;
    if (!wait_readable(w->fd, now_ms() + READY_MS) ||
        recv(w->fd, msg, sizeof msg, MSG_DONTWAIT) != (ssize_t)sizeof msg ||
        memcmp(msg, "IMSW", 4) != 0)
        return -1;
    memcpy(&state, msg + 4, sizeof state);
    if (state != READY_OK)
        return -1;
    w->ready = 1;
    return 0;
}

/* The zygote, started and locked down if it is not running.  Under zmu. */
static int zygote_up(imsafe_pool *pool)
{
    if (pool->zygote.pid > 0)
        return 0;
    if (exec_helper(pool->helper, &pool->zygote) != 0 || worker_ready(&pool->zygote) != 0) {
        worker_end(&pool->zygote);
        return -1;
    }
    return 0;
}

/* Ask the zygote for a worker: it forks one (as the host's child, with
 * CLONE_PARENT) on the channel end sent along.  0, or -1 (zygote gone). */
static int zygote_fork(imsafe_pool *pool, struct worker *w)
{
    int sv[2];
    int32_t pid = -1;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)"FORK", 4};
    struct msghdr mh = {0};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    memset(&u, 0, sizeof u);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    int fd = pool->zygote.fd;
    int ok = sendmsg(fd, &mh, MSG_NOSIGNAL) == 4 && wait_readable(fd, now_ms() + READY_MS) &&
             recv(fd, &pid, sizeof pid, MSG_DONTWAIT) == (ssize_t)sizeof pid && pid > 0;
    close(sv[1]);
    if (!ok) {
        close(sv[0]);
        return -1;
    }
    w->pid = pid;
    w->fd = sv[0];
    return 0;
}

/*
 * A new worker.  The helper is exec'd once per pool as a zygote: a clean
 * image that loads the codecs, warms them up and locks itself down (with
 * fork allowed), then forks one worker per request, which adds the
 * worker's filter.  An exec per payload cost about 8 ms of CPU (mapping
 * nine libraries, relocating, tearing down); a fork of the small warm
 * zygote costs a fraction of that.
 */
static int spawn(imsafe_pool *pool, struct worker *w)
{
    int rc = -1;
    w->pid = -1;
    w->fd = -1;
    w->used = 0;
    w->ready = 0;
    pthread_mutex_lock(&pool->zmu);
    for (int attempt = 0; rc != 0 && attempt < 2; attempt++) {
        if (zygote_up(pool) != 0)
            break;
        rc = zygote_fork(pool, w);
        if (rc != 0)
            worker_end(&pool->zygote); /* it died: start another once */
    }
    pthread_mutex_unlock(&pool->zmu);
    return rc;
}

/* ------------------------------------------------------------------- pool */

static void push_idle(imsafe_pool *pool, struct worker *w)
{
    pthread_mutex_lock(&pool->mu);
    if (pool->nidle < MAX_WORKERS) {
        pool->idle[pool->nidle++] = *w;
        w->pid = -1;
        w->fd = -1;
    }
    pthread_mutex_unlock(&pool->mu);
    if (w->pid > 0)
        worker_end(w);
}

/* Start workers until target are idle (one at a time, outside the lock,
 * so callers never wait on another's start). */
static void refill(imsafe_pool *pool)
{
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        int need = pool->nidle < pool->target;
        pthread_mutex_unlock(&pool->mu);
        struct worker w;
        if (!need || spawn(pool, &w) != 0)
            return;
        push_idle(pool, &w);
    }
}

/* Take the oldest idle worker (the most likely to be ready), or start one. */
static int take(imsafe_pool *pool, struct worker *w)
{
    pthread_mutex_lock(&pool->mu);
    int have = pool->nidle > 0;
    if (have) {
        *w = pool->idle[0];
        memmove(&pool->idle[0], &pool->idle[1], (pool->nidle - 1) * sizeof pool->idle[0]);
        pool->nidle--;
    }
    pthread_mutex_unlock(&pool->mu);
    return have ? 0 : spawn(pool, w);
}

imsafe_status imsafe_pool_new(const char *helper_path, unsigned workers, imsafe_pool **out)
{
    imsafe_status st = IMSAFE_ENOMEM;
    if (out != NULL)
        *out = NULL;
    if (out == NULL || workers > MAX_WORKERS)
        return IMSAFE_EINVAL;
    imsafe_pool *pool = calloc(1, sizeof *pool);
    const char *path = helper_path != NULL ? helper_path : IMSAFE_WORKER_PATH;
    if (pool == NULL || (pool->helper = strdup(path)) == NULL)
        goto fail;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_mutex_init(&pool->zmu, NULL);
    pool->zygote.pid = -1;
    pool->zygote.fd = -1;
    pool->target = workers;
    pool->cpu_ms = CPU_MS_DEFAULT;
    pool->wall_ms = WALL_MS_DEFAULT;
    /* one worker must start and lock itself down here, so that a missing
     * helper or a kernel without seccomp shows at set-up time */
    struct worker w;
    if (take(pool, &w) != 0 || worker_ready(&w) != 0) {
        st = IMSAFE_EUNSUPPORTED;
        if (w.pid > 0 || w.fd >= 0)
            worker_end(&w);
        worker_end(&pool->zygote);
        pthread_mutex_destroy(&pool->mu);
        pthread_mutex_destroy(&pool->zmu);
        goto fail;
    }
    if (workers > 0)
        push_idle(pool, &w);
    else
        worker_end(&w);
    refill(pool);
    *out = pool;
    return IMSAFE_OK;
fail:
    if (pool != NULL)
        free(pool->helper);
    free(pool);
    return st;
}

void imsafe_pool_free(imsafe_pool *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; i < pool->nidle; i++)
        worker_end(&pool->idle[i]);
    worker_end(&pool->zygote);
    pthread_mutex_destroy(&pool->mu);
    pthread_mutex_destroy(&pool->zmu);
    free(pool->helper);
    free(pool);
}

void imsafe__pool_set_deadline(imsafe_pool *pool, unsigned cpu_ms, unsigned wall_ms)
{
    pthread_mutex_lock(&pool->mu);
    pool->cpu_ms = cpu_ms;
    pool->wall_ms = wall_ms;
    pthread_mutex_unlock(&pool->mu);
}

/* ------------------------------------------------------------ host: send */

/* Set the worker's soft limit, keeping its hard limit: a host without
 * CAP_SYS_RESOURCE could not raise a hard limit again for the next payload
 * of a reused worker, and the worker cannot raise its soft limit anyway
 * (prlimit64 and setrlimit are not in its filter). */
static int set_limit(pid_t pid, int resource, uint64_t v)
{
    struct rlimit rl;
    if (prlimit(pid, resource, NULL, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max ? rl.rlim_max : (rlim_t)v;
    return prlimit(pid, resource, &rl, NULL);
}

/* The input memfd: payload, name, MIME; sealed so that the worker (or
 * anyone holding it) can change nothing the host sent. */
static int input_memfd(const struct imsafe__job *job, size_t nlen, size_t mlen)
{
    int fd = memfd_create("imsafe-in", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    const void *part[3] = {job->in, job->claimed_name, job->claimed_mime};
    size_t len[3] = {job->in_len, nlen, mlen};
    for (int i = 0; i < 3; i++) {
        const uint8_t *p = part[i];
        size_t left = len[i];
        while (left > 0) {
            ssize_t k = write(fd, p, left);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto fail;
            p += k;
            left -= (size_t)k;
        }
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

static int send_request(int sock, const struct request *rq, int in_fd, int out_fd)
{
    int fds[2] = {in_fd, out_fd};
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)rq, sizeof *rq};
    struct msghdr mh = {0};
    memset(&u, 0, sizeof u);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t k;
    do
        k = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (k < 0 && errno == EINTR);
    return k == (ssize_t)sizeof *rq ? 0 : -1;
}

/* ---------------------------------------------------------- host: answer */

/* One call's deadlines: the worker's CPU timer and the host's wall clock. */
struct deadlines {
    unsigned cpu_ms, wall_ms;
};

/* The pool's deadlines, shortened by the policy's max_cpu_ms: the worker's
 * timer gets a quarter more (and 100 ms), so that the cooperative check
 * inside the worker normally stops the call first with its own detail; the
 * wall clock gets three times the CPU time and a second, for a busy
 * machine.  Every limit applies: the smaller deadline wins. */
static void call_deadlines(const struct imsafe_policy *p, struct deadlines *d)
{
    int64_t max = imsafe__opt(p, IMSAFE_OPT_MAX_CPU_MS); /* 0 .. 86,400,000 */
    if (max <= 0)
        return;
    uint64_t cpu = (uint64_t)max + (uint64_t)max / 4 + 100;
    uint64_t wall = 3 * cpu + 1000;
    if (cpu < d->cpu_ms)
        d->cpu_ms = (unsigned)cpu;
    if (wall < d->wall_ms)
        d->wall_ms = (unsigned)wall;
}

/* A worker that ended without a valid answer: its end becomes the verdict. */
static void fault_verdict(struct imsafe__job *job, struct worker *w, int timed_out,
                          const struct deadlines *d)
{
    if (timed_out) {
        worker_end(w);
        imsafe__reject(job, IMSAFE_R_LIMIT_TIME,
                       "the isolated worker ran past the wall-clock deadline of %u ms",
                       d->wall_ms);
        return;
    }
    int st = worker_status(w);
    int sig = st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (sig == SIGSYS)
        imsafe__reject(job, IMSAFE_R_ISOLATION_SYSCALL,
                       "the isolated worker was killed by its seccomp filter");
    else if (sig == SIGPROF || sig == SIGXCPU)
        imsafe__reject(job, IMSAFE_R_LIMIT_TIME,
                       "the isolated worker ran past its CPU deadline of %u ms", d->cpu_ms);
    else if (sig != 0)
        imsafe__reject(job, IMSAFE_R_ISOLATION_CRASH, "the isolated worker died of signal %d",
                       sig);
    else if (st != -1 && WIFEXITED(st))
        imsafe__reject(job, IMSAFE_R_ISOLATION_PROTOCOL,
                       "the isolated worker exited with status %d without an answer",
                       WEXITSTATUS(st));
    else
        imsafe__reject(job, IMSAFE_R_ISOLATION_CRASH,
                       "the isolated worker ended; its exit status was not available");
}

/* The verdict must be one the host's own view allows: the type the host
 * sniffs, and an action the policy gives that type (a worker that lies
 * "passed" about an executable must not get it forwarded). */
static const char *check_claims(const struct imsafe__job *job, const struct imsafe__frame *f)
{
    if (f->status != IMSAFE_OK)
        return NULL;
    if (f->type != (uint32_t)imsafe__sniff(job->in, job->in_len))
        return "the worker names another type than the content";
    imsafe_action a = imsafe_policy_action(job->policy, (imsafe_type)f->type);
    if (f->verdict == IMSAFE_SANITIZED && a != IMSAFE_ACTION_SANITIZE)
        return "a sanitized verdict for a type the policy does not sanitize";
    if (f->verdict == IMSAFE_PASSED && a != IMSAFE_ACTION_PASS)
        return "a passed verdict for a type the policy does not pass";
    if (f->verdict == IMSAFE_SANITIZED && f->out_type != IMSAFE_TYPE_UNKNOWN &&
        !(f->type == IMSAFE_TYPE_GIF && f->out_type == IMSAFE_TYPE_PNG))
        return "an output type the type cannot be converted to";
    return NULL;
}

/* Copy the output out of the memfd (after this the worker cannot change
 * what is checked), walk it and scan it.  0, or -1 with the job rejected
 * or failed. */
static int take_output(struct imsafe__job *job, const struct imsafe__frame *f, int out_fd)
{
    struct stat sb;
    size_t n = (size_t)f->out_len, got = 0;
    if (fstat(out_fd, &sb) != 0 || (uint64_t)sb.st_size != f->out_len) {
        imsafe__reject(job, IMSAFE_R_ISOLATION_PROTOCOL,
                       "the worker's output is not the length its frame gives");
        return -1;
    }
    if (imsafe__buf_room(&job->out, n) != 0)
        return -1;
    while (got < n) {
        ssize_t k = pread(out_fd, job->out.data + got, n - got, (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            imsafe__reject(job, IMSAFE_R_ISOLATION_PROTOCOL, "the worker's output is short");
            return -1;
        }
        got += (size_t)k;
    }
    job->out.len = n;
    imsafe_type t = f->out_type != IMSAFE_TYPE_UNKNOWN ? (imsafe_type)f->out_type
                                                       : (imsafe_type)f->type;
    const char *bad = imsafe__walk_image(t, job->out.data, n);
    struct imsafe__scan_hit hit;
    if (bad != NULL) {
        imsafe__reject(job, IMSAFE_R_ISOLATION_OUTPUT, "the worker's image fails the walk: %s",
                       bad);
        return -1;
    }
    if (imsafe__scan_buf(job->out.data, n, IMSAFE__SCAN_OUTPUT, &hit)) {
        imsafe__reject(job, IMSAFE_R_ISOLATION_OUTPUT, "the worker's image holds %s", hit.what);
        return -1;
    }
    return 0;
}

/* Fill the job from a validated frame. */
static void apply_frame(struct imsafe__job *job, const struct imsafe__frame *f)
{
    job->type = (imsafe_type)f->type;
    if (f->status == IMSAFE_ENOMEM) {
        /* the worker's allocator failed: its RLIMIT_AS, i.e. memory */
        imsafe__reject(job, IMSAFE_R_LIMIT_MEMORY,
                       "the isolated worker ran out of its address-space limit");
        return;
    }
    if (f->status != IMSAFE_OK) {
        imsafe__reject(job, IMSAFE_R_ISOLATION_CRASH,
                       "the isolated worker reported an internal error");
        return;
    }
    job->out_type = (imsafe_type)f->out_type;
    job->verdict = (imsafe_verdict)f->verdict;
    job->reason = (imsafe_reason)f->reason;
    job->note_count = f->note_count;
    for (size_t i = 0; i < f->note_count; i++)
        job->notes[i] = (imsafe_reason)f->notes[i];
    memcpy(job->detail, f->detail, sizeof job->detail);
}

/* Read and judge the answer of worker w to the request it was sent.
 * 1 when the worker answered soundly (it may judge another payload). */
static int read_answer(struct imsafe__job *job, struct worker *w, int out_fd,
                       const struct deadlines *d)
{
    uint8_t buf[IMSAFE__FRAME_SIZE + 1];
    struct imsafe__frame f;
    const char *why = NULL;
    if (!wait_readable(w->fd, now_ms() + d->wall_ms)) {
        fault_verdict(job, w, 1, d);
        return 0;
    }
    ssize_t k;
    do
        k = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
        fault_verdict(job, w, 0, d);
        return 0;
    }
    if (imsafe__frame_parse(buf, (size_t)k, job->budget, &f, &why) != 0 ||
        (why = check_claims(job, &f)) != NULL) {
        worker_end(w);
        imsafe__reject(job, IMSAFE_R_ISOLATION_PROTOCOL, "the isolated worker's answer: %s",
                       why);
        return 0;
    }
    if (f.status == IMSAFE_OK && f.verdict == IMSAFE_SANITIZED && take_output(job, &f, out_fd) != 0)
        return 0;
    apply_frame(job, &f);
    /* what the worker used is the call's peak, as in process */
    job->peak = f.peak;
    return f.status == IMSAFE_OK;
}

/* Send one payload to worker w.  0 sent; -1 the host could not make its
 * memfds (ENOMEM) or the worker is gone (*gone). */
static int send_job(struct imsafe__job *job, struct worker *w, int last, unsigned cpu_ms,
                    int *in_fd, int *out_fd)
{
    struct request *rq = calloc(1, sizeof *rq);
    size_t nlen = job->claimed_name ? strlen(job->claimed_name) : 0;
    size_t mlen = job->claimed_mime ? strlen(job->claimed_mime) : 0;
    uint64_t as = job->budget, in_total = (uint64_t)job->in_len + nlen + mlen;
    int rc = -1;
    *in_fd = *out_fd = -1;
    if (rq == NULL)
        return -1;
    if (imsafe__add_ovf(as, in_total, &as) || imsafe__add_ovf(as, AS_SLACK, &as))
        as = RLIM_INFINITY;
#ifndef IMSAFE_SANITIZER_BUILD
    if (set_limit(w->pid, RLIMIT_AS, as) != 0)
        goto done;
#endif
    if (set_limit(w->pid, RLIMIT_FSIZE, job->budget) != 0)
        goto done;
    *in_fd = input_memfd(job, nlen, mlen);
    *out_fd = memfd_create("imsafe-out", MFD_CLOEXEC);
    if (*in_fd < 0 || *out_fd < 0)
        goto done;
    rq->magic = REQ_MAGIC;
    rq->version = IMSAFE__WIRE_VERSION;
    rq->policy_size = sizeof rq->policy;
    rq->flags = (job->claimed_name ? FLAG_NAME : 0) | (job->claimed_mime ? FLAG_MIME : 0) |
                (last ? FLAG_LAST : 0);
    rq->in_len = job->in_len;
    rq->name_len = nlen;
    rq->mime_len = mlen;
    rq->cpu_ms = cpu_ms;
    memcpy(&rq->policy, job->policy, sizeof rq->policy);
    rc = send_request(w->fd, rq, *in_fd, *out_fd);
done:
    free(rq);
    return rc;
}

imsafe_status imsafe__isolated_run(struct imsafe__job *job, imsafe_pool *pool)
{
    struct worker w = {-1, -1, 0, 0};
    int in_fd = -1, out_fd = -1, sound = 0;
    imsafe_status st = IMSAFE_EUNSUPPORTED;
    int64_t reuse = imsafe__opt(job->policy, IMSAFE_OPT_ISOLATION_REUSE);
    pthread_mutex_lock(&pool->mu);
    struct deadlines d = {pool->cpu_ms, pool->wall_ms};
    pthread_mutex_unlock(&pool->mu);
    call_deadlines(job->policy, &d);
    /* a pre-started worker may have died meanwhile: one more try */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (take(pool, &w) != 0)
            return IMSAFE_EUNSUPPORTED;
        if (worker_ready(&w) == 0)
            break;
        worker_end(&w);
    }
    if (w.pid <= 0)
        return IMSAFE_EUNSUPPORTED;
    w.used++;
    int last = (int64_t)w.used >= reuse;
    if (send_job(job, &w, last, d.cpu_ms, &in_fd, &out_fd) != 0) {
        st = IMSAFE_ENOMEM;
        goto done;
    }
    /* the replacement starts while this payload is judged, so starting
     * workers stays off the calls' path */
    refill(pool);
    sound = read_answer(job, &w, out_fd, &d);
    st = IMSAFE_OK;
done:
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (w.pid > 0 && !last && sound && !pending(w.fd))
        push_idle(pool, &w); /* reuse: it answered soundly and may judge more */
    else if (w.pid > 0 || w.fd >= 0)
        worker_end(&w);
    return st;
}

/* ============================================================ worker side */

/* GCOVR_EXCL_START - from here to the end of the file the code runs only in
 * the worker process.  Its seccomp filter forbids the open() with which gcov
 * writes its counters, and it ends by _exit() or a signal, so a coverage
 * report would count every line below as never run although
 * tests/test_isolate drives each path (lock-down, faults, deadlines, reuse,
 * the zygote).  Reports therefore leave this part out. */

static void send_ready(int fd, uint32_t state)
{
    uint8_t msg[8];
    memcpy(msg, "IMSW", 4);
    memcpy(msg + 4, &state, sizeof state);
    /* write, not send: sendto is not in the filter (SIGPIPE cannot
     * happen while the host holds its end) */
    (void)!write(fd, msg, sizeof msg);
}

#ifndef IMSAFE_SANITIZER_BUILD
/* "argument 0 equals v", every field named: libseccomp's SCMP_A0() leaves
 * the second datum to the compound literal, which clang's
 * -Wmissing-field-initializers reports. */
static struct scmp_arg_cmp arg0_eq(scmp_datum_t v)
{
    struct scmp_arg_cmp c = {0, SCMP_CMP_EQ, v, 0};
    return c;
}
#endif

/* The filter: what judging a payload needs, nothing else.  mmap and
 * mprotect never with PROT_EXEC; tgkill only to itself (abort()); no
 * open, socket, connect, exec, fork, ptrace, kill, prlimit. */

static int load_filter(int zygote)
{
#ifdef IMSAFE_SANITIZER_BUILD
    (void)zygote;
    return 0; /* documented relaxation: ASan/LSan cannot run under it */
#else
    static const int plain[] = {
        SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(recvmsg), SCMP_SYS(close),
        SCMP_SYS(munmap), SCMP_SYS(brk), SCMP_SYS(mremap), SCMP_SYS(madvise),
        SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
        SCMP_SYS(rt_sigprocmask), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
        SCMP_SYS(time), SCMP_SYS(futex), SCMP_SYS(setitimer), SCMP_SYS(getpid),
        SCMP_SYS(gettid),
    };
    int rc = -1;
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (seccomp_rule_add(f, SCMP_ACT_ALLOW, plain[i], 0) != 0)
            goto done;
    if (seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
        seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
        goto done;
    /* The zygote judges nothing and reads only the host's requests; it
     * may fork workers as the host's children (nothing else: no thread,
     * no new namespace) and let them load their own, narrower filter.
     * tgkill is left to that filter, which names the worker's own pid
     * (a worker must never signal its host). */
    if (zygote ? seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                  arg0_eq(CLONE_PARENT | SIGCHLD)) != 0 ||
                     seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0) != 0 ||
                     seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                                      arg0_eq(PR_SET_NO_NEW_PRIVS)) != 0 ||
                     seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 0) != 0
               : seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                                  arg0_eq((scmp_datum_t)getpid())) != 0)
        goto done;
    rc = seccomp_load(f);
done:
    seccomp_release(f);
    return rc;
#endif
}

/* A 1x1 GIF: warming up giflib, the GIF-to-PNG encoder and libpng. */
static const uint8_t warm_gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
    0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};

/* An 8x8 grey JPEG from libjpeg itself (its compressor's once-only set-up
 * runs too).  *out is libjpeg's malloc()ed buffer, or NULL. */
static void warm_jpeg(unsigned char **out, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    JSAMPLE row[8] = {0, 32, 64, 96, 128, 160, 192, 224};
    JSAMPROW rows[1] = {row};
    *out = NULL;
    *len = 0;
    c.err = jpeg_std_error(&err); /* cannot fail on these fixed values */
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, out, len);
    c.image_width = c.image_height = 8;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < 8; y++)
        jpeg_write_scanlines(&c, rows, 1);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
}

static int cmp_int(const void *a, const void *b)
{
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Judge tiny images before the lock-down, so that whatever the codecs do
 * once per process (libjpeg-turbo's SIMD probe, allocator set-up) happens
 * while system calls are still allowed: a GIF converted to PNG, that PNG,
 * and a JPEG in both JPEG modes. */
static void warm_up(imsafe_ctx *ctx)
{
    imsafe_policy *p = imsafe_policy_new(), *px = imsafe_policy_new();
    imsafe_result *r[4] = {NULL, NULL, NULL, NULL};
    unsigned char *jpg;
    unsigned long jlen;
    /* Little CMS stamps a profile it creates with the local time: glibc
     * reads /etc/localtime on its first tzset() and caches it after, so
     * the first read must happen here (icc.c rebuilds profiles) */
    tzset();
    cmsCloseProfile(cmsCreate_sRGBProfile());
    /* glibc's qsort() asks sysinfo() for the machine's memory the first
     * time it sorts 1 KiB or more, and caches it (zip.c sorts entries) */
    int order[512];
    for (int i = 0; i < 512; i++)
        order[i] = (i * 7919) % 512;
    qsort(order, 512, sizeof order[0], cmp_int);
    if (p == NULL || px == NULL)
        goto done;
    imsafe_policy_set(p, IMSAFE_OPT_GIF_TO_PNG, 1);
    imsafe_policy_set(px, IMSAFE_OPT_JPEG_MODE, IMSAFE_JPEG_PIXELS);
    imsafe_policy_freeze(p);
    imsafe_policy_freeze(px);
    if (imsafe_sanitize(ctx, p, warm_gif, sizeof warm_gif, NULL, NULL, &r[0]) == IMSAFE_OK) {
        size_t n;
        const void *png = imsafe_result_output(r[0], &n);
        if (png != NULL)
            (void)imsafe_sanitize(ctx, p, png, n, NULL, NULL, &r[1]);
    }
    warm_jpeg(&jpg, &jlen);
    if (jpg != NULL) {
        (void)imsafe_sanitize(ctx, p, jpg, jlen, NULL, NULL, &r[2]);
        (void)imsafe_sanitize(ctx, px, jpg, jlen, NULL, NULL, &r[3]);
        free(jpg);
    }
done:
    for (int i = 0; i < 4; i++)
        imsafe_result_free(r[i]);
    imsafe_policy_unref(p);
    imsafe_policy_unref(px);
}

static void lock_down(int fd, imsafe_ctx *ctx)
{
    struct rlimit core = {0, 0}, nofile = {8, 8};
    /* no PR_SET_PDEATHSIG: it fires when the *thread* that started the
     * worker ends, which in a host with a thread pool is any time.  An
     * idle worker sees its channel close when the host exits (only the
     * host holds the other end, close-on-exec); a busy one has its CPU
     * timer. */
    /* every inherited descriptor but 0-2 (/dev/null) and the channel */
    if (close_range(4, ~0u, 0) != 0)
        for (int i = 4; i < 65536; i++)
            close(i);
    if (setrlimit(RLIMIT_CORE, &core) != 0 || setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        goto refuse;
    /* an output over RLIMIT_FSIZE fails its write instead of killing */
    signal(SIGXFSZ, SIG_IGN);
    warm_up(ctx);
    /* give back the warm-up's free heap: a worker then faults in fresh
     * pages where it would have copied the zygote's (a copy-on-write
     * fault also flushes the TLB, a hypercall on a paravirtualized VM) */
    malloc_trim(0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || load_filter(1) != 0)
        goto refuse;
    send_ready(fd, READY_OK);
    return;
refuse:
    send_ready(fd, READY_REFUSED);
    _exit(3);
}

/* Receive one request and its two descriptors.  0, or -1 (the host hung
 * up or sent garbage: the worker exits). */
static int recv_request(int fd, struct request *rq, int *in_fd, int *out_fd)
{
    int fds[2];
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {rq, sizeof *rq};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    ssize_t k = recvmsg(fd, &mh, 0);
    struct cmsghdr *c = k == (ssize_t)sizeof *rq ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof fds))
        return -1;
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    *in_fd = fds[0];
    *out_fd = fds[1];
    if (rq->magic != REQ_MAGIC || rq->version != IMSAFE__WIRE_VERSION ||
        rq->policy_size != sizeof rq->policy)
        return -1;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Copy a NUL-terminated string out of the input mapping. */
static char *dup_part(const uint8_t *p, uint64_t n)
{
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        memcpy(s, p, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

/* Judge one request; the answer goes out on fd.  -1 when the request
 * could not be served at all. */
static int serve(int fd, imsafe_ctx *ctx, struct request *rq, int in_fd, int out_fd,
                 const struct imsafe__worker_hooks *hooks)
{
    uint64_t total;
    uint8_t frame[IMSAFE__FRAME_SIZE];
    struct imsafe__frame f;
    if (imsafe__add_ovf(rq->in_len, rq->name_len, &total) ||
        imsafe__add_ovf(total, rq->mime_len, &total) || total > SIZE_MAX)
        return -1;
    const uint8_t *in = NULL;
    if (total > 0 &&
        (in = mmap(NULL, (size_t)total, PROT_READ, MAP_PRIVATE, in_fd, 0)) == MAP_FAILED)
        return -1;
    char *name = rq->flags & FLAG_NAME ? dup_part(in + rq->in_len, rq->name_len) : NULL;
    char *mime = rq->flags & FLAG_MIME ? dup_part(in + rq->in_len + rq->name_len, rq->mime_len)
                                       : NULL;
    struct itimerval it = {{0, 0}, {rq->cpu_ms / 1000, (rq->cpu_ms % 1000) * 1000}};
    setitimer(ITIMER_PROF, &it, NULL);
    if (hooks != NULL && hooks->before != NULL)
        hooks->before(name);
    /* the policy is the host's, frozen; here it runs in process */
    rq->policy.refs = 1;
    rq->policy.frozen = 1;
    rq->policy.opt[IMSAFE_OPT_ISOLATION] = IMSAFE_ISOLATION_NONE;
    imsafe_result *r = NULL;
    memset(&f, 0, sizeof f);
    f.status = imsafe_sanitize(ctx, &rq->policy, in, (size_t)rq->in_len, name, mime, &r);
    size_t out_len = 0;
    uint8_t *out = NULL;
    if (f.status == IMSAFE_OK) {
        f.verdict = imsafe_result_verdict(r);
        f.type = imsafe_result_type(r);
        f.out_type = f.verdict == IMSAFE_SANITIZED && imsafe_result_output_type(r) != f.type
                         ? imsafe_result_output_type(r)
                         : IMSAFE_TYPE_UNKNOWN;
        f.reason = imsafe_result_reason(r);
        f.note_count = imsafe_result_note_count(r);
        for (size_t i = 0; i < f.note_count; i++)
            f.notes[i] = imsafe_result_note(r, i);
        f.peak = imsafe_result_peak_bytes(r);
        snprintf(f.detail, sizeof f.detail, "%s", imsafe_result_detail(r));
        out = (uint8_t *)imsafe_result_output(r, &out_len);
        f.out_len = out_len;
    } else if (f.status != IMSAFE_ENOMEM) {
        f.status = IMSAFE_EINTERNAL;
    }
    imsafe__frame_write(&f, frame);
    if (hooks != NULL && hooks->after != NULL)
        hooks->after(name, frame, out, out_len);
    int rc = out_len > 0 && write_all(out_fd, out, out_len) != 0 ? -1 : 0;
    if (rc == 0)
        rc = write_all(fd, frame, sizeof frame);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    imsafe_result_free(r);
    free(name);
    free(mime);
    if (in != NULL)
        munmap((void *)in, (size_t)total);
    return rc;
}

/* A forked worker: its own filter on top of the zygote's, "ready", then
 * requests until the last. */
static void serve_all(int chan, imsafe_ctx *ctx, struct request *rq,
                      const struct imsafe__worker_hooks *hooks)
{
    if (load_filter(0) != 0) {
        send_ready(chan, READY_REFUSED);
        _exit(3);
    }
    send_ready(chan, READY_OK);
    for (;;) {
        int in_fd = -1, out_fd = -1;
        if (recv_request(chan, rq, &in_fd, &out_fd) != 0)
            _exit(0);
        int rc = serve(chan, ctx, rq, in_fd, out_fd, hooks);
        close(in_fd);
        close(out_fd);
        if (rc != 0 || (rq->flags & FLAG_LAST))
            _exit(rc != 0 ? 4 : 0);
    }
}

/* The zygote's request: "FORK" and the new worker's end of its channel.
 * The descriptor, or -1 when the host hung up or sent anything else. */
static int recv_fork(int fd)
{
    char msg[4];
    int chan = -1;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {msg, sizeof msg};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    ssize_t k = recvmsg(fd, &mh, 0);
    struct cmsghdr *c = k == 4 && memcmp(msg, "FORK", 4) == 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    memcpy(&chan, CMSG_DATA(c), sizeof chan);
    return chan;
}

void imsafe__worker_main(int fd, const struct imsafe__worker_hooks *hooks)
{
    int type = 0;
    socklen_t tl = sizeof type;
    /* started by hand (no channel): refuse before touching anything */
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_SEQPACKET) {
        static const char msg[] = "imsafe-worker: started by libimsafe only (no channel)\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(2);
    }
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    struct request *rq = malloc(sizeof *rq);
    if (ctx == NULL || rq == NULL)
        _exit(3);
    lock_down(fd, ctx);
    for (;;) {
        int chan = recv_fork(fd);
        if (chan < 0)
            _exit(0); /* the host closed the pool (or exited) */
        /* fork as the host's child, so that the host waits for it and
         * sees how it ended (a raw clone: glibc's fork() has no
         * CLONE_PARENT; the zygote is single-threaded and holds no lock) */
        long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) {
            close(fd);
            serve_all(chan, ctx, rq, hooks);
        }
        close(chan);
        int32_t reply = pid > 0 ? (int32_t)pid : -1;
        if (write(fd, &reply, sizeof reply) != (ssize_t)sizeof reply)
            _exit(0);
    }
}
/* GCOVR_EXCL_STOP */
