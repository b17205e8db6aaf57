/*
 * srv_imsafe.c - libimsafe as a c-icap service (RFC 3507 REQMOD and RESPMOD).
 *
 * A host of the public API like imsafe-check, nothing more: this file owns
 * the HTTP and ICAP details (which messages are in scope, Content-Encoding,
 * multipart parts, 204/200/403), the library owns every verdict.
 *
 * One ICAP request, in c-icap's calls:
 *   preview   decide the scope from the HTTP headers: out of scope (a type
 *             not in srv_imsafe.Types, a direction not in Mode, no body)
 *             is a 204; a Content-Length over MaxBodyBytes, a partial
 *             response or an unknown Content-Encoding is rejected at once;
 *             anything else asks for the whole body.  The preview never
 *             passes a payload: passing needs the whole body judged.
 *   io        store the body in memory, up to MaxBodyBytes; past it the
 *             request is rejected and the rest is read and dropped, never
 *             buffered.  Output is sent only once the verdict exists.
 *   end       decode the body, judge it (each file part of a
 *             multipart/form-data upload on its own), then answer:
 *               sanitized  the body replaced, headers corrected,
 *                          X-Imsafe-Verdict added;
 *               passed     204 when the client allows it, else the body
 *                          echoed byte for byte;
 *               rejected   an HTTP 403 with a short body naming the reason
 *                          and the policy label (never input bytes).
 *
 * Policy: read from srv_imsafe.PolicyFile at start-up; the command
 * "srv_imsafe:reload" (c-icap -N ... or echo to the control socket)
 * re-reads it in the master and in every child and swaps the frozen policy
 * in; a file with an error keeps the old policy and logs file:line.
 *
 * c-icap runs several processes, each with many threads: the module state
 * below is per process; the policy pointer is guarded by a mutex and held
 * by a reference for the length of each call.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "c-icap.h"
#include "service.h"
#include "header.h"
#include "body.h"
#include "simple_api.h"
#include "debug.h"
#include "cfg_param.h"
#include "commands.h"

#include "imsafe.h"
#include "multipart.h"

#define SRV_NAME "srv_imsafe"
/* Default body limit: the size of a large phone photo several times over;
 * raise it with srv_imsafe.MaxBodyBytes. */
#define DEFAULT_MAX_BODY ((ci_off_t)32 * 1024 * 1024)
/* A claimed name or media type longer than this is cut (the library's own
 * name limit is far lower and reports it). */
#define CLAIM_BYTES 1024
/* Scope patterns, and the text of srv_imsafe.Types */
#define MAX_TYPES 64
#define TYPE_BYTES 128
#define DEFAULT_TYPES "image/* application/octet-stream application/pdf " \
    "application/zip application/x-zip-compressed application/gzip application/x-gzip " \
    "application/x-tar application/x-7z-compressed application/vnd.rar " \
    "application/x-rar-compressed application/x-msdownload application/java-archive " \
    "application/vnd.openxmlformats-officedocument.* application/msword " \
    "application/vnd.ms-* application/vnd.oasis.opendocument.* " \
    "multipart/form-data"

/* ------------------------------------------------------------- config */

static char *cfg_policy_file;
static ci_off_t cfg_max_body = DEFAULT_MAX_BODY;
static int cfg_isolation = -1; /* -1: the library's default */
static char *cfg_isolation_helper; /* NULL: the helper libimsafe installed */
static int cfg_mode = ICAP_REQMOD | ICAP_RESPMOD;
static int cfg_partial_pass;   /* 0: a 206 or Content-Range is rejected */
static int cfg_log_level = 1;  /* ci_debug_printf level of the verdict lines */
static int cfg_preview;        /* Preview bytes offered in OPTIONS; 0: none */
static char cfg_types[MAX_TYPES][TYPE_BYTES];
static int cfg_ntypes = -1;    /* -1: DEFAULT_TYPES */

static int cfg_set_policy_file(const char *directive, const char **argv, void *setdata);
static int cfg_set_types(const char *directive, const char **argv, void *setdata);
static int cfg_set_mode(const char *directive, const char **argv, void *setdata);
static int cfg_set_isolation(const char *directive, const char **argv, void *setdata);
static int cfg_set_partial(const char *directive, const char **argv, void *setdata);

static struct ci_conf_entry conf_variables[] = {
    {"PolicyFile", NULL, cfg_set_policy_file, NULL},
    {"MaxBodyBytes", &cfg_max_body, ci_cfg_size_off, NULL},
    {"Types", NULL, cfg_set_types, NULL},
    {"Isolation", NULL, cfg_set_isolation, NULL},
    {"IsolationHelper", &cfg_isolation_helper, ci_cfg_set_str, NULL},
    {"Mode", NULL, cfg_set_mode, NULL},
    {"PartialContent", NULL, cfg_set_partial, NULL},
    {"LogLevel", &cfg_log_level, ci_cfg_set_int, NULL},
    {"PreviewBytes", &cfg_preview, ci_cfg_set_int, NULL},
    {NULL, NULL, NULL, NULL}
};

/* ------------------------------------------------------ module state */

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static imsafe_policy *current_policy; /* guarded by policy_lock */
#ifdef IMSAFE_HAVE_ISOLATION
static imsafe_pool *child_pool;       /* this child's workers, or NULL */
static int use_isolation;
#endif

static int srv_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf);
static int srv_post_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf);
static void srv_close_service(void);
static void *srv_init_request_data(ci_request_t *req);
static void srv_release_request_data(void *data);
static int srv_check_preview(char *preview_data, int preview_data_len, ci_request_t *req);
static int srv_end_of_data(ci_request_t *req);
static int srv_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req);

/* c-icap looks the module up by the symbol name "service" */
CI_DECLARE_MOD_DATA ci_service_module_t service = {
    SRV_NAME, /* the service's name in ICAP URLs and c-icap.conf */
    "libimsafe attachment sanitizer",
    ICAP_RESPMOD | ICAP_REQMOD,
    srv_init_service,
    srv_post_init_service,
    srv_close_service,
    srv_init_request_data,
    srv_release_request_data,
    srv_check_preview,
    srv_end_of_data,
    srv_io,
    conf_variables,
    NULL
};

/* ------------------------------------------------------ request state */

/* One piece of a rebuilt multipart body: a sanitized part. */
struct repl {
    size_t head_off, body_end; /* the original part's span */
    imsafe_result *res;
    char head[6 * MP_MAX_VALUE + 256]; /* its rebuilt header block */
};

struct req_data {
    int type;                 /* ICAP_REQMOD or ICAP_RESPMOD */
    int judge;                /* in scope: the body is judged */
    unsigned char *in;        /* the body as received */
    size_t in_len, in_cap;
    size_t in_hint;           /* the Content-Length, when there is one */
    int over;                 /* the body went past MaxBodyBytes */
    int eof;                  /* the client sent all of the body */
    int done;                 /* the verdict exists and out is final */
    int sending;              /* data unlocked: out goes to the client */
    const unsigned char *out; /* what goes back (points into in, own or res) */
    size_t out_len, out_pos;
    unsigned char *own;       /* a 403 page or a rebuilt multipart body */
    imsafe_result *res;       /* owns a single sanitized output */
    struct repl *repl;        /* multipart replacements */
    size_t nrepl;
    ci_membuf_t *decoded;     /* the decoded body of a Content-Encoding */
    int encoding;             /* CI_ENCODE_* */
    char boundary[MP_MAX_BOUNDARY + 1];
    int multipart;
    char name[CLAIM_BYTES];   /* the claimed name, "" for none */
    char mime[CLAIM_BYTES];   /* the claimed media type without parameters */
};

/* ------------------------------------------------------------ helpers */

static int lower_c(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Copy a media type without its parameters, trimmed, lower case. */
static void media_type(const char *v, char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    if (v == NULL)
        return;
    while (*v == ' ' || *v == '\t')
        v++;
    while (*v && *v != ';' && *v != ' ' && *v != '\t' && n + 1 < size)
        out[n++] = (char)lower_c((unsigned char)*v++);
    out[n] = '\0';
}

static int type_matches(const char *pattern, const char *mt)
{
    size_t n = strlen(pattern);

    if (strcmp(pattern, "*") == 0)
        return 1;
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, mt, n - 1) == 0;
    return strcmp(pattern, mt) == 0;
}

static int add_type(const char *t)
{
    size_t i, n = strlen(t);

    if (cfg_ntypes < 0)
        cfg_ntypes = 0;
    if (n == 0 || n >= TYPE_BYTES || cfg_ntypes >= MAX_TYPES)
        return 0;
    for (i = 0; i <= n; i++)
        cfg_types[cfg_ntypes][i] = (char)lower_c((unsigned char)t[i]);
    cfg_ntypes++;
    return 1;
}

static int in_types(const char *mt)
{
    int i;

    for (i = 0; i < cfg_ntypes; i++)
        if (type_matches(cfg_types[i], mt))
            return 1;
    return 0;
}

/* Percent-decode src into dst (size bytes); returns 0, or -1 for a bad
 * escape or an output that would not fit. */
static int pct_decode(const char *src, size_t n, char *dst, size_t size)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            unsigned v = 0;
            int k;
            if (n - i < 3)
                return -1;
            for (k = 1; k <= 2; k++) {
                int h = lower_c((unsigned char)src[i + k]);
                if (h >= '0' && h <= '9') v = v * 16 + (unsigned)(h - '0');
                else if (h >= 'a' && h <= 'f') v = v * 16 + (unsigned)(h - 'a' + 10);
                else return -1;
            }
            c = (int)v;
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return 0;
}

/*
 * The claimed name of a download or a bare upload: Content-Disposition's filename*
 * (RFC 6266 says a reader prefers it; UTF-8 only), else its filename, else
 * the last segment of the URL's path, percent-decoded.  A name that cannot
 * be read is claimed as given, so the library judges what is there.
 */
static void claimed_name(ci_request_t *req, ci_headers_list_t *h, char *out, size_t size)
{
    const char *cd = h ? ci_headers_value(h, "Content-Disposition") : NULL;
    const char *p, *q, *line, *path, *end;
    size_t n;

    out[0] = '\0';
    if (cd != NULL) {
        if ((p = strcasestr(cd, "filename*=")) != NULL) {
            p += 10;
            q = p + strcspn(p, "; \t");
            if (strncasecmp(p, "UTF-8''", 7) == 0 &&
                pct_decode(p + 7, (size_t)(q - p - 7), out, size) == 0)
                return;
        }
        if ((p = strcasestr(cd, "filename=")) != NULL) {
            p += 9;
            if (*p == '"') {
                q = strchr(++p, '"');
                n = q ? (size_t)(q - p) : strlen(p);
            } else {
                n = strcspn(p, "; \t");
            }
            if (n >= size)
                n = size - 1;
            memcpy(out, p, n);
            out[n] = '\0';
            return;
        }
    }
    /* "GET http://host/dir/name.jpg?x=1 HTTP/1.1" */
    line = ci_http_request(req);
    if (line == NULL || (path = strchr(line, ' ')) == NULL)
        return;
    path++;
    end = path + strcspn(path, " ?#");
    for (p = end; p > path && p[-1] != '/'; p--)
        ;
    if (pct_decode(p, (size_t)(end - p), out, size) != 0) {
        n = (size_t)(end - p) < size ? (size_t)(end - p) : size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

static imsafe_policy *policy_get(void)
{
    imsafe_policy *p;

    pthread_mutex_lock(&policy_lock);
    p = imsafe_policy_ref(current_policy);
    pthread_mutex_unlock(&policy_lock);
    return p;
}

/* Read the policy file into a new frozen policy; NULL on any error (logged
 * with file:line for a syntax error). */
static imsafe_policy *policy_load(void)
{
    imsafe_policy *p = imsafe_policy_new();
    char err[256], *text = NULL;
    size_t len = 0, cap = 0;
    FILE *f = NULL;
    imsafe_status st;

    if (p == NULL)
        goto fail;
    if (cfg_policy_file != NULL) {
        if ((f = fopen(cfg_policy_file, "rb")) == NULL) {
            ci_debug_printf(1, SRV_NAME ": cannot open %s: %s\n", cfg_policy_file, strerror(errno));
            goto fail;
        }
        for (;;) {
            size_t got;
            if (len + 4096 > cap) {
                char *t;
                if (cap > (1u << 20)) { /* a policy file is a few KiB */
                    ci_debug_printf(1, SRV_NAME ": %s: larger than 1 MiB\n", cfg_policy_file);
                    goto fail;
                }
                cap = cap ? cap * 2 : 8192;
                if ((t = realloc(text, cap)) == NULL)
                    goto fail;
                text = t;
            }
            got = fread(text + len, 1, cap - len, f);
            len += got;
            if (got == 0)
                break;
        }
        if (ferror(f)) {
            ci_debug_printf(1, SRV_NAME ": cannot read %s\n", cfg_policy_file);
            goto fail;
        }
        st = imsafe_policy_parse(p, text, len, cfg_policy_file, err, sizeof err);
        if (st != IMSAFE_OK) {
            ci_debug_printf(1, SRV_NAME ": %s\n", st == IMSAFE_ESYNTAX ? err : imsafe_strerror(st));
            goto fail;
        }
    }
#ifdef IMSAFE_HAVE_ISOLATION
    if (use_isolation &&
        imsafe_policy_parse(p, "isolation = process\n", 20, SRV_NAME, err, sizeof err) != IMSAFE_OK) {
        ci_debug_printf(1, SRV_NAME ": %s\n", err);
        goto fail;
    }
#endif
    if (imsafe_policy_freeze(p) != IMSAFE_OK)
        goto fail;
    free(text);
    if (f != NULL)
        fclose(f);
    return p;
fail:
    free(text);
    if (f != NULL)
        fclose(f);
    imsafe_policy_unref(p);
    return NULL;
}

/*
 * srv_imsafe:reload.  Registered for the master too, not only the children:
 * c-icap forks new children from the master as load changes, and those must
 * start with the new policy, not the one the master read at start-up.
 */
static void reload_command(const char *name, int type, const char **argv)
{
    imsafe_policy *fresh = policy_load(), *old;

    (void)name;
    (void)argv;
    if (fresh == NULL) {
        ci_debug_printf(1, SRV_NAME ": reload failed, keeping the policy in force\n");
        return;
    }
    pthread_mutex_lock(&policy_lock);
    old = current_policy;
    current_policy = fresh;
    pthread_mutex_unlock(&policy_lock);
    imsafe_policy_unref(old); /* calls still running hold their own ref */
    ci_debug_printf(1, SRV_NAME ": policy reloaded (%s, label \"%s\")%s\n",
                    cfg_policy_file ? cfg_policy_file : "built-in defaults",
                    imsafe_policy_label(fresh), type == CI_CMD_MONITOR_PROC ? " in master" : "");
}

#ifdef IMSAFE_HAVE_ISOLATION
/* Worker pools belong to a child: created after the fork, so the master's
 * waitpid(-1) never sees (and reaps) a worker. */
static void child_start_command(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    if (use_isolation && imsafe_pool_new(cfg_isolation_helper, 2, &child_pool) != IMSAFE_OK) {
        child_pool = NULL;
        ci_debug_printf(1, SRV_NAME ": cannot start the isolation workers\n");
    }
}

static void child_stop_command(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    imsafe_pool_free(child_pool);
    child_pool = NULL;
}
#endif

/* Called when c-icap loads the module, before it reads the module's
 * srv_imsafe.* lines: only what does not depend on them. */
static int srv_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    char istag[CI_SERVICE_ISTAG_SIZE + 1];

    (void)server_conf;
    snprintf(istag, sizeof istag, "imsafe-%s", imsafe_version_string());
    ci_service_set_istag(srv_xdata, istag);
    ci_service_enable_204(srv_xdata);
    return CI_OK;
}

/* Called in the master once the whole configuration is read, before any
 * child exists: a configuration error stops c-icap here. */
static int srv_post_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    imsafe_policy *p;

    (void)server_conf;
    /* No preview unless asked for: Squid 5.7 (Debian 12) stops reading a
     * response over 64 KiB for good when its body buffer fills while it
     * waits for the 100 Continue after a preview (Squid bug 5352), and a
     * service that answers only after the whole body never sends one.
     * Without a preview the headers still decide the scope before any
     * body byte is read. */
    if (cfg_preview > 0) {
        ci_service_set_preview(srv_xdata, cfg_preview);
        ci_service_set_transfer_preview(srv_xdata, "*");
    } else {
        ci_service_set_preview(srv_xdata, -1); /* no Preview header at all */
    }
    if (cfg_ntypes < 0) {
        char buf[sizeof DEFAULT_TYPES], *save = NULL, *t;
        memcpy(buf, DEFAULT_TYPES, sizeof buf);
        for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
            add_type(t);
    }
#ifdef IMSAFE_HAVE_ISOLATION
    use_isolation = cfg_isolation != 0;
#else
    if (cfg_isolation == 1) {
        ci_debug_printf(1, SRV_NAME ": Isolation on: this libimsafe has no isolation\n");
        return CI_ERROR;
    }
#endif
    if (cfg_max_body <= 0 || (uint64_t)cfg_max_body > SIZE_MAX / 2) {
        ci_debug_printf(1, SRV_NAME ": MaxBodyBytes out of range\n");
        return CI_ERROR;
    }
    if ((p = policy_load()) == NULL)
        return CI_ERROR;
    pthread_mutex_lock(&policy_lock);
    imsafe_policy_unref(current_policy);
    current_policy = p;
    pthread_mutex_unlock(&policy_lock);

    /* a control command (c-icap 0.5's ci_command_register_action takes no
     * CI_CMD_CHILDS_PROC; the control-socket form does) */
    ci_command_register_ctl_cmd(SRV_NAME ":reload", CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC,
                                reload_command);
#ifdef IMSAFE_HAVE_ISOLATION
    ci_command_register_action(SRV_NAME ":child_start", CI_CMD_CHILD_START, NULL,
                               child_start_command);
    ci_command_register_action(SRV_NAME ":child_stop", CI_CMD_CHILD_STOP, NULL,
                               child_stop_command);
#endif
    ci_debug_printf(2, SRV_NAME ": libimsafe %s, policy %s, max body %lld bytes\n",
                    imsafe_version_string(), cfg_policy_file ? cfg_policy_file : "(defaults)",
                    (long long)cfg_max_body);
    return CI_OK;
}

static void srv_close_service(void)
{
    pthread_mutex_lock(&policy_lock);
    imsafe_policy_unref(current_policy);
    current_policy = NULL;
    pthread_mutex_unlock(&policy_lock);
}

static void *srv_init_request_data(ci_request_t *req)
{
    struct req_data *d = calloc(1, sizeof *d);

    if (d != NULL)
        d->type = ci_req_type(req);
    return d;
}

static void srv_release_request_data(void *data)
{
    struct req_data *d = data;
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nrepl; i++)
        imsafe_result_free(d->repl[i].res);
    free(d->repl);
    imsafe_result_free(d->res);
    if (d->decoded != NULL)
        ci_membuf_free(d->decoded);
    free(d->own);
    free(d->in);
    free(d);
}

/* ------------------------------------------------------------- verdicts */

static void html_escape(const char *s, char *out, size_t size)
{
    size_t o = 0;

    for (; *s && o + 7 < size; s++) {
        const char *e = NULL;
        switch (*s) {
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '&': e = "&amp;"; break;
        case '"': e = "&quot;"; break;
        default: break;
        }
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

/*
 * Answer with an HTTP 403 in place of the message (REQMOD: the request
 * never reaches the origin).  The page names the reason code and the
 * policy label only: both are printable ASCII from the library, and no
 * byte of the input is in it.  Returns 0, or -1 when out of memory.
 */
static int reject(ci_request_t *req, struct req_data *d, imsafe_reason reason, const char *label)
{
    char hdr[256], esc[200];
    const char *rn = imsafe_reason_name(reason);
    int n;

    if (rn == NULL)
        rn = "unknown";
    html_escape(label ? label : "", esc, sizeof esc);
    free(d->own);
    d->own = malloc(1024);
    if (d->own == NULL)
        return -1;
    n = snprintf((char *)d->own, 1024,
                 "<!DOCTYPE html>\n<html><head><title>403 Blocked</title></head><body>\n"
                 "<h1>Blocked by the attachment filter</h1>\n"
                 "<p>reason: <code>%s</code></p>\n<p>policy: <code>%s</code></p>\n"
                 "</body></html>\n", rn, esc);
    d->out = d->own;
    d->out_len = (size_t)n;
    d->out_pos = 0;
    ci_http_response_create(req, 1, 1);
    ci_http_response_add_header(req, "HTTP/1.1 403 Forbidden");
    ci_http_response_add_header(req, "Server: c-icap/srv_imsafe");
    ci_http_response_add_header(req, "Content-Type: text/html; charset=us-ascii");
    ci_http_response_add_header(req, "Cache-Control: no-store");
    ci_http_response_add_header(req, "Connection: close");
    snprintf(hdr, sizeof hdr, "Content-Length: %d", n);
    ci_http_response_add_header(req, hdr);
    snprintf(hdr, sizeof hdr, "X-Imsafe-Verdict: rejected; reason=%s; policy=%s", rn, esc);
    ci_http_response_add_header(req, hdr);
    return 0;
}

/* The notes of a result as "a,b,c" (or "-"). */
static void notes_text(const imsafe_result *res, char *out, size_t size)
{
    size_t i, o = 0, n = imsafe_result_note_count(res);

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *nm = imsafe_reason_name(imsafe_result_note(res, i));
        size_t l = nm ? strlen(nm) : 0;
        if (l == 0 || o + l + 2 >= size)
            break;
        if (o)
            out[o++] = ',';
        memcpy(out + o, nm, l);
        o += l;
        out[o] = '\0';
    }
    if (o == 0)
        snprintf(out, size, "-");
}

#define SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

/* The SHA-256 of len bytes at p in lower-case hex; "-" if OpenSSL fails
 * (out of memory), so that the log line is still written. */
static void sha256_hex(const void *p, size_t len, char hex[SHA256_HEX_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(p, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        snprintf(hex, SHA256_HEX_SIZE, "-");
        return;
    }
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* One log line per judged payload, in key=value form for a SIEM.  No
 * claimed name (input bytes); the hashes identify the payload. */
static void log_payload(const struct req_data *d, const void *in, size_t in_len,
                        const imsafe_result *res, const void *sent, size_t sent_len,
                        const char *part)
{
    char sha_in[SHA256_HEX_SIZE], sha_out[SHA256_HEX_SIZE];
    char notes[512];
    size_t out_len = 0;
    const void *out = imsafe_result_output(res, &out_len);
    imsafe_reason r = imsafe_result_reason(res);

    sha256_hex(in, in_len, sha_in);
    if (out != NULL) {
        sha256_hex(out, out_len, sha_out);
    } else if (imsafe_result_verdict(res) == IMSAFE_PASSED) {
        /* passed: what goes on is the body as it came (still encoded, if
         * it was), the judged payload itself otherwise */
        out_len = sent_len;
        if (sent == in && sent_len == in_len)
            memcpy(sha_out, sha_in, sizeof sha_out);
        else
            sha256_hex(sent, sent_len, sha_out);
    } else {
        snprintf(sha_out, sizeof sha_out, "-");
    }
    notes_text(res, notes, sizeof notes);
    ci_debug_printf(cfg_log_level,
                    SRV_NAME ": mode=%s%s verdict=%s reason=%s type=%s out_type=%s in_bytes=%zu "
                    "out_bytes=%zu sha256_in=%s sha256_out=%s notes=%s policy=%s\n",
                    d->type == ICAP_REQMOD ? "reqmod" : "respmod", part,
                    imsafe_verdict_name(imsafe_result_verdict(res)),
                    r == IMSAFE_R_NONE ? "-" : imsafe_reason_name(r),
                    imsafe_type_name(imsafe_result_type(res)),
                    imsafe_type_name(imsafe_result_output_type(res)), in_len, out_len, sha_in,
                    sha_out, notes, imsafe_result_policy_label(res));
}

/* A rejection decided by this module (no library result): logged too. */
static int reject_here(ci_request_t *req, struct req_data *d, imsafe_reason reason,
                       const char *why)
{
    imsafe_policy *p = policy_get();
    int rc;

    ci_debug_printf(cfg_log_level, SRV_NAME ": mode=%s verdict=rejected reason=%s in_bytes=%zu "
                    "detail=\"%s\" policy=%s\n", d->type == ICAP_REQMOD ? "reqmod" : "respmod",
                    imsafe_reason_name(reason), d->in_len, why, p ? imsafe_policy_label(p) : "");
    rc = reject(req, d, reason, p ? imsafe_policy_label(p) : "");
    imsafe_policy_unref(p);
    return rc;
}

static imsafe_status judge(const imsafe_policy *p, const void *in, size_t len, const char *name,
                           const char *mime, imsafe_result **res)
{
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    imsafe_status st;

    if (ctx == NULL)
        return IMSAFE_ENOMEM;
#ifdef IMSAFE_HAVE_ISOLATION
    if (child_pool != NULL)
        imsafe_ctx_set_pool(ctx, child_pool);
#endif
    st = imsafe_sanitize(ctx, p, in, len, name && *name ? name : NULL,
                         mime && *mime ? mime : NULL, res);
    imsafe_ctx_free(ctx);
    return st;
}

/* The headers of the HTTP message being adapted. */
static ci_headers_list_t *message_headers(ci_request_t *req, const struct req_data *d)
{
    return d->type == ICAP_REQMOD ? ci_http_request_headers(req) : ci_http_response_headers(req);
}

static void set_header(ci_request_t *req, const struct req_data *d, const char *name,
                       const char *line)
{
    ci_headers_list_t *h = message_headers(req, d);

    if (h == NULL)
        return;
    /* every copy of it (bounded: a header list is finite, but be sure) */
    for (int i = 0; i < 64 && ci_headers_remove(h, name); i++)
        ;
    if (line != NULL)
        ci_headers_add(h, line);
}

/* A sanitized message: its new body, length, type and verdict header. */
static void mark_sanitized(ci_request_t *req, struct req_data *d, const imsafe_result *res,
                           const char *ctype)
{
    char line[700], notes[512];

    set_header(req, d, "Content-Encoding", NULL); /* the output is not encoded */
    set_header(req, d, "Content-MD5", NULL);
    set_header(req, d, "Digest", NULL);
    set_header(req, d, "ETag", NULL);
    set_header(req, d, "Transfer-Encoding", NULL);
    snprintf(line, sizeof line, "Content-Length: %zu", d->out_len);
    set_header(req, d, "Content-Length", line);
    if (ctype != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        set_header(req, d, "Content-Type", line);
    }
    notes_text(res, notes, sizeof notes);
    snprintf(line, sizeof line, "X-Imsafe-Verdict: sanitized; type=%s; notes=%s",
             imsafe_type_name(imsafe_result_output_type(res)), notes);
    set_header(req, d, "X-Imsafe-Verdict", line);
}

/* A name or value for a rebuilt part header: '"', '\' and controls
 * percent-encoded, as browsers do (WHATWG multipart/form-data). */
static size_t quote_value(const char *s, char *out, size_t size)
{
    size_t o = 0;

    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

static imsafe_reason mp_reason(int rc)
{
    switch (rc) {
    case MP_ERR_TRUNCATED: return IMSAFE_R_MALFORMED_TRUNCATED;
    case MP_ERR_LIMIT: return IMSAFE_R_LIMIT_ARCHIVE_ENTRIES;
    case MP_ERR_AMBIGUOUS: return IMSAFE_R_ARCHIVE_AMBIGUOUS;
    default: return IMSAFE_R_MALFORMED_SIGNATURE;
    }
}

/* Is this part a file to judge?  A part with a filename (a browser's empty
 * file input, filename="" and no bytes, is not), or one whose type says it
 * is not a text field. */
static int is_file_part(const struct mp_part *pt)
{
    char mt[TYPE_BYTES];

    if (pt->has_filename)
        return pt->filename[0] != '\0' || pt->body_len > 0;
    if (!pt->has_ctype)
        return 0;
    media_type(pt->ctype, mt, sizeof mt);
    return strcmp(mt, "text/plain") != 0;
}

/* Room for one more replacement (at most MP_MAX_PARTS, as parts). */
static int add_repl(struct req_data *d)
{
    size_t cap = d->nrepl ? d->nrepl * 2 : 2;
    struct repl *t;

    if (d->nrepl > 0 && (d->nrepl & (d->nrepl - 1)) != 0)
        return 0; /* not a power of two: there is room */
    if (d->nrepl >= MP_MAX_PARTS || (t = realloc(d->repl, cap * sizeof *t)) == NULL)
        return -1;
    d->repl = t;
    return 0;
}

/* Join the original body with the sanitized parts put in. */
static int rebuild_multipart(struct req_data *d, const unsigned char *body, size_t len)
{
    size_t i, total = 0, prev = 0, o = 0;
    const void *out;
    size_t out_len;

    for (i = 0; i < d->nrepl; i++) {
        imsafe_result_output(d->repl[i].res, &out_len);
        if (__builtin_add_overflow(total, d->repl[i].head_off - prev, &total) ||
            __builtin_add_overflow(total, strlen(d->repl[i].head), &total) ||
            __builtin_add_overflow(total, out_len, &total))
            return -1;
        prev = d->repl[i].body_end;
    }
    if (__builtin_add_overflow(total, len - prev, &total) || (d->own = malloc(total ? total : 1)) == NULL)
        return -1;
    prev = 0;
    for (i = 0; i < d->nrepl; i++) {
        size_t hl = strlen(d->repl[i].head);
        memcpy(d->own + o, body + prev, d->repl[i].head_off - prev);
        o += d->repl[i].head_off - prev;
        memcpy(d->own + o, d->repl[i].head, hl);
        o += hl;
        out = imsafe_result_output(d->repl[i].res, &out_len);
        memcpy(d->own + o, out, out_len);
        o += out_len;
        prev = d->repl[i].body_end;
    }
    memcpy(d->own + o, body + prev, len - prev);
    d->out = d->own;
    d->out_len = total;
    return 0;
}

/*
 * An upload form: each file part judged on its own with its filename and
 * Content-Type as the claim; form fields pass.  The first rejected part
 * rejects the request.  Returns 1 when the body was changed, 0 when it
 * passes as is, -1 when the request was rejected, -2 on an internal error.
 */
static int judge_multipart(ci_request_t *req, struct req_data *d, const imsafe_policy *p,
                           const unsigned char *body, size_t len)
{
    struct mp_reader r;
    struct mp_part pt;
    char mt[CLAIM_BYTES], part[32], qn[3 * MP_MAX_VALUE + 1], qf[3 * MP_MAX_VALUE + 1];
    imsafe_result *res;
    struct repl *rp;
    unsigned idx = 0;
    int rc, n;

    mp_init(&r, body, len, d->boundary);
    while ((rc = mp_next(&r, &pt)) == MP_OK) {
        idx++;
        if (!is_file_part(&pt))
            continue;
        media_type(pt.ctype, mt, sizeof mt);
        res = NULL;
        if (judge(p, body + pt.body_off, pt.body_len, pt.filename, mt, &res) != IMSAFE_OK)
            return -2;
        snprintf(part, sizeof part, " part=%u", idx);
        log_payload(d, body + pt.body_off, pt.body_len, res, body + pt.body_off, pt.body_len,
                    part);
        if (imsafe_result_verdict(res) == IMSAFE_REJECTED) {
            rc = reject(req, d, imsafe_result_reason(res), imsafe_result_policy_label(res));
            imsafe_result_free(res);
            return rc == 0 ? -1 : -2;
        }
        if (imsafe_result_verdict(res) != IMSAFE_SANITIZED) {
            imsafe_result_free(res);
            continue;
        }
        if (add_repl(d) != 0) {
            imsafe_result_free(res);
            return -2;
        }
        quote_value(pt.name, qn, sizeof qn);
        quote_value(imsafe_result_display_name(res), qf, sizeof qf);
        rp = &d->repl[d->nrepl++];
        rp->res = res;
        rp->head_off = pt.head_off;
        rp->body_end = pt.body_off + pt.body_len;
        n = snprintf(rp->head, sizeof rp->head,
                     "Content-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                     "Content-Type: %s\r\n\r\n", qn, qf, imsafe_result_mime(res));
        if (n < 0 || (size_t)n >= sizeof rp->head)
            return -2; /* cannot happen: the values are bounded above */
    }
    if (rc != MP_END) {
        ci_debug_printf(cfg_log_level, SRV_NAME ": multipart: %s\n", mp_strerror(rc));
        return reject_here(req, d, mp_reason(rc), mp_strerror(rc)) == 0 ? -1 : -2;
    }
    if (d->nrepl == 0)
        return 0;
    return rebuild_multipart(d, body, len) == 0 ? 1 : -2;
}

/* Decode a Content-Encoding body within MaxBodyBytes.  Returns 0, or -1
 * after rejecting. */
static int decode_body(ci_request_t *req, struct req_data *d, const unsigned char **body,
                       size_t *len)
{
    int rc;

    if (d->encoding == CI_ENCODE_NONE)
        return 0;
    /* ci_membuf counts in int */
    if (d->in_len > INT_MAX / 2 || (d->decoded = ci_membuf_new_sized(64 * 1024)) == NULL) {
        reject_here(req, d, IMSAFE_R_LIMIT_INPUT_BYTES, "cannot decode");
        return -1;
    }
    rc = ci_decompress_to_membuf(d->encoding, (const char *)d->in, d->in_len, d->decoded,
                                 cfg_max_body);
    if (rc != CI_UNCOMP_OK) {
        imsafe_reason r = (rc == CI_UNCOMP_ERR_BOMB || rc == CI_UNCOMP_ERR_OUTPUT)
                              ? IMSAFE_R_LIMIT_DECOMPRESSED_BYTES
                              : IMSAFE_R_MALFORMED_GZIP;
        reject_here(req, d, r, ci_decompress_error(rc));
        return -1;
    }
    *body = (const unsigned char *)d->decoded->buf;
    *len = (size_t)ci_membuf_size(d->decoded);
    return 0;
}

/* The whole body is here: judge it and set up the answer.  Returns a
 * CI_MOD_* code for c-icap. */
static int decide(ci_request_t *req, struct req_data *d)
{
    const unsigned char *body = d->in;
    size_t len = d->in_len;
    imsafe_policy *p = NULL;
    imsafe_result *res = NULL;
    int rc = CI_MOD_DONE, changed;

    if (decode_body(req, d, &body, &len) != 0)
        goto done;
    if ((p = policy_get()) == NULL)
        return CI_ERROR;
    if (d->multipart) {
        changed = judge_multipart(req, d, p, body, len);
        if (changed == -2)
            rc = CI_ERROR;
        else if (changed == 1)
            mark_sanitized(req, d, d->repl[0].res, NULL);
        else if (changed == 0)
            goto passed;
        goto done;
    }
    if (judge(p, body, len, d->name, d->mime, &res) != IMSAFE_OK) {
        rc = CI_ERROR;
        goto done;
    }
    log_payload(d, body, len, res, d->in, d->in_len, "");
    switch (imsafe_result_verdict(res)) {
    case IMSAFE_REJECTED:
        if (reject(req, d, imsafe_result_reason(res), imsafe_result_policy_label(res)) != 0)
            rc = CI_ERROR;
        break;
    case IMSAFE_SANITIZED:
        d->out = imsafe_result_output(res, &d->out_len);
        d->res = res;
        res = NULL;
        mark_sanitized(req, d, d->res, imsafe_result_mime(d->res));
        break;
    case IMSAFE_PASSED:
    default:
        goto passed;
    }
    goto done;
passed:
    /* unchanged: a 204 where the client allows one, else the body as it
     * came (still encoded, if it was), byte for byte */
    if (ci_req_allow204(req) && !ci_req_sent_data(req))
        rc = CI_MOD_ALLOW204;
    d->out = d->in;
    d->out_len = d->in_len;
done:
    imsafe_result_free(res);
    imsafe_policy_unref(p);
    return rc;
}

/* ---------------------------------------------------------- c-icap calls */

/* Store body bytes, up to MaxBodyBytes; past it, drop them. */
static int store(struct req_data *d, const char *buf, size_t n)
{
    size_t need, cap;
    unsigned char *t;

    if (d->over || n == 0)
        return 0;
    if (__builtin_add_overflow(d->in_len, n, &need) || need > (size_t)cfg_max_body) {
        d->over = 1;
        free(d->in);
        d->in = NULL;
        d->in_len = d->in_cap = 0;
        return 0;
    }
    if (need > d->in_cap) {
        /* the Content-Length at once (it is within MaxBodyBytes): no
         * copies and fresh pages for every doubling */
        cap = d->in_cap ? d->in_cap : d->in_hint >= need ? d->in_hint : 16384;
        while (cap < need)
            cap = cap > (size_t)cfg_max_body / 2 ? (size_t)cfg_max_body : cap * 2;
        if ((t = realloc(d->in, cap)) == NULL)
            return -1;
        d->in = t;
        d->in_cap = cap;
    }
    memcpy(d->in + d->in_len, buf, n);
    d->in_len = need;
    return 0;
}

/* Decide the scope from the HTTP headers: 1 judge, 0 out of scope, -1
 * rejected here. */
static int scope(ci_request_t *req, struct req_data *d)
{
    ci_headers_list_t *h = message_headers(req, d);
    const char *ct, *ce, *first;
    char mt[CLAIM_BYTES];
    ci_off_t clen;
    int b;

    if (!ci_req_hasbody(req) || !(cfg_mode & d->type) || h == NULL)
        return 0;
    ct = ci_headers_value(h, "Content-Type");
    media_type(ct, mt, sizeof mt);
    if (d->type == ICAP_RESPMOD) {
        /* "HTTP/1.1 206 Partial Content" */
        first = ci_headers_first_line(h);
        if (first != NULL && strncmp(first, "HTTP/", 5) == 0 && (first = strchr(first, ' ')) &&
            strncmp(first, " 206", 4) == 0 && (first[4] == ' ' || first[4] == '\0'))
            return cfg_partial_pass ? 0 : (reject_here(req, d, IMSAFE_R_MALFORMED_TRUNCATED,
                                                       "partial content") ? -2 : -1);
    }
    /* a download marked as an attachment is judged whatever its type;
     * otherwise only the configured types (no type: judged) */
    if (mt[0] != '\0' && !in_types(mt) &&
        !(d->type == ICAP_RESPMOD && ci_headers_value(h, "Content-Disposition") != NULL &&
          strcasestr(ci_headers_value(h, "Content-Disposition"), "attachment") != NULL))
        return 0;
    if (d->type == ICAP_RESPMOD && ci_headers_value(h, "Content-Range") != NULL && !cfg_partial_pass)
        return reject_here(req, d, IMSAFE_R_MALFORMED_TRUNCATED, "partial content") ? -2 : -1;
    clen = ci_http_content_length(req);
    if (clen > cfg_max_body)
        return reject_here(req, d, IMSAFE_R_LIMIT_INPUT_BYTES, "Content-Length over the limit")
                   ? -2 : -1;
    d->in_hint = clen > 0 ? (size_t)clen : 0;
    ce = ci_headers_value(h, "Content-Encoding");
    d->encoding = CI_ENCODE_NONE;
    if (ce != NULL && strcasecmp(ce, "identity") != 0) {
        d->encoding = ci_encoding_method(ce);
        if (d->encoding != CI_ENCODE_GZIP && d->encoding != CI_ENCODE_DEFLATE &&
            d->encoding != CI_ENCODE_BROTLI)
            return reject_here(req, d, IMSAFE_R_UNSUPPORTED_ARCHIVE_METHOD,
                               "unsupported Content-Encoding") ? -2 : -1;
    }
    if (d->type == ICAP_REQMOD) {
        b = mp_boundary(ct, d->boundary);
        if (b < 0)
            return reject_here(req, d, mp_reason(b), mp_strerror(b)) ? -2 : -1;
        d->multipart = b == 1;
    }
    if (!d->multipart) {
        claimed_name(req, h, d->name, sizeof d->name);
        media_type(ct, d->mime, sizeof d->mime);
    }
    return 1;
}

static int srv_check_preview(char *preview_data, int preview_data_len, ci_request_t *req)
{
    struct req_data *d = ci_service_data(req);
    int s;

    if (d == NULL)
        return CI_ERROR;
    s = scope(req, d);
    if (s == -2)
        return CI_ERROR;
    if (s == 0)
        return CI_MOD_ALLOW204;
    if (s < 0) {
        /* rejected from the headers: the 403 goes out now, the body is
         * read and dropped */
        d->done = 1;
        d->sending = 1;
        ci_req_unlock_data(req);
        return CI_MOD_CONTINUE;
    }
    d->judge = 1;
    if (preview_data_len > 0 && store(d, preview_data, (size_t)preview_data_len) != 0)
        return CI_ERROR;
    ci_req_lock_data(req); /* nothing leaves before the verdict */
    return CI_MOD_CONTINUE;
}

static int srv_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct req_data *d = ci_service_data(req);
    size_t n;

    if (d == NULL)
        return CI_ERROR;
    if (rbuf != NULL && rlen != NULL && *rlen > 0) {
        if (d->judge && !d->sending) {
            if (store(d, rbuf, (size_t)*rlen) != 0)
                return CI_ERROR;
            if (d->over) {
                /* over the limit: reject now, drop the rest unread */
                if (reject_here(req, d, IMSAFE_R_LIMIT_INPUT_BYTES, "body over the limit") != 0)
                    return CI_ERROR;
                d->done = 1;
                d->sending = 1;
                ci_req_unlock_data(req);
            }
        }
        /* else: dropped (a rejection is on its way) */
    }
    if (iseof)
        d->eof = 1;
    if (wbuf != NULL && wlen != NULL) {
        if (!d->sending) {
            *wlen = 0;
        } else {
            n = d->out_len - d->out_pos;
            if (n > (size_t)*wlen)
                n = (size_t)*wlen;
            if (n > 0)
                memcpy(wbuf, d->out + d->out_pos, n);
            d->out_pos += n;
            *wlen = (int)n;
            if (n == 0 && d->done && d->eof)
                *wlen = CI_EOF;
        }
    }
    return CI_OK;
}

static int srv_end_of_data(ci_request_t *req)
{
    struct req_data *d = ci_service_data(req);
    int rc;

    if (d == NULL)
        return CI_ERROR;
    d->eof = 1;
    if (d->sending || !d->judge)
        return CI_MOD_DONE;
    rc = decide(req, d);
    if (rc == CI_MOD_ALLOW204 || rc == CI_ERROR)
        return rc;
    d->done = 1;
    d->sending = 1;
    ci_req_unlock_data(req);
    return CI_MOD_DONE;
}

/* ------------------------------------------------------------- config */

/*
 * The file is read and parsed here, while c-icap reads its configuration:
 * a directive that fails stops c-icap with the file:line of the policy
 * error (a failing post-init would only disable the service and leave
 * c-icap running).  The policy in force is built again in post-init, once
 * every srv_imsafe.* setting is known.
 */
static int cfg_set_policy_file(const char *directive, const char **argv, void *setdata)
{
    imsafe_policy *p;
    char *path;

    (void)setdata;
    if (argv[0] == NULL || (path = strdup(argv[0])) == NULL) {
        ci_debug_printf(1, SRV_NAME ": %s: a file name\n", directive);
        return 0;
    }
    free(cfg_policy_file);
    cfg_policy_file = path;
    if ((p = policy_load()) == NULL)
        return 0;
    imsafe_policy_unref(p);
    return 1;
}

static int cfg_set_types(const char *directive, const char **argv, void *setdata)
{
    int i;

    (void)setdata;
    cfg_ntypes = 0;
    for (i = 0; argv[i] != NULL; i++)
        if (!add_type(argv[i])) {
            ci_debug_printf(1, SRV_NAME ": %s: bad or too many types\n", directive);
            return 0;
        }
    return 1;
}

static int cfg_set_mode(const char *directive, const char **argv, void *setdata)
{
    (void)setdata;
    if (argv[0] != NULL && strcasecmp(argv[0], "reqmod") == 0)
        cfg_mode = ICAP_REQMOD;
    else if (argv[0] != NULL && strcasecmp(argv[0], "respmod") == 0)
        cfg_mode = ICAP_RESPMOD;
    else if (argv[0] != NULL && strcasecmp(argv[0], "both") == 0)
        cfg_mode = ICAP_REQMOD | ICAP_RESPMOD;
    else {
        ci_debug_printf(1, SRV_NAME ": %s: reqmod, respmod or both\n", directive);
        return 0;
    }
    return 1;
}

static int on_off(const char *directive, const char **argv, int *out)
{
    if (argv[0] != NULL && strcasecmp(argv[0], "on") == 0)
        *out = 1;
    else if (argv[0] != NULL && strcasecmp(argv[0], "off") == 0)
        *out = 0;
    else {
        ci_debug_printf(1, SRV_NAME ": %s: on or off\n", directive);
        return 0;
    }
    return 1;
}

static int cfg_set_isolation(const char *directive, const char **argv, void *setdata)
{
    (void)setdata;
    if (!on_off(directive, argv, &cfg_isolation))
        return 0;
#ifndef IMSAFE_HAVE_ISOLATION
    if (cfg_isolation == 1) {
        ci_debug_printf(1, SRV_NAME ": %s on: this libimsafe has no isolation\n", directive);
        return 0;
    }
#endif
    return 1;
}

static int cfg_set_partial(const char *directive, const char **argv, void *setdata)
{
    (void)setdata;
    if (argv[0] != NULL && strcasecmp(argv[0], "reject") == 0)
        cfg_partial_pass = 0;
    else if (argv[0] != NULL && strcasecmp(argv[0], "pass") == 0)
        cfg_partial_pass = 1;
    else {
        ci_debug_printf(1, SRV_NAME ": %s: reject or pass\n", directive);
        return 0;
    }
    return 1;
}
