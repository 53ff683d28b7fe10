/*
 * web.c: the web server of `eota device` (see web.h and docs/web.md).
 *
 * libmicrohttpd runs without threads: MHD_USE_EPOLL in external-polling
 * mode, so each daemon is one epoll descriptor in the device's poll set, and
 * MHD_run does the work without blocking. The upload is parsed by a small
 * streaming multipart scanner (below) rather than MHD's post processor, so
 * that it can stop taking input when the backend is slow (emulated flash):
 * the connection is then suspended and resumed a few milliseconds later,
 * with the unread bytes left in MHD's connection buffer. Memory per upload:
 * one 64 KiB buffer, whatever the image size.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "eota/ingest.h"
#include "eota/posix.h"
#include "eota/protocol.h"
#include "log.h"
#include "net.h"

#define TAG "web_server"
#define MAX_DAEMONS 8
#define PEND_CAP (64u * 1024u)     /* image bytes between the wire and the backend */
#define HDR_MAX 4096u              /* headers of one multipart part */
#define BOUNDARY_MAX 200u          /* RFC 2046 says 70; be lenient */
#define RETRY_MS 5                 /* a busy backend is tried again after this */
#define REBOOT_DELAY_MS 100        /* after a success reply, as stock devices do */
#define FRAMING_ALLOWANCE (64u * 1024u) /* multipart framing and small fields */
#define CONN_TIMEOUT_S 60u
#define MAX_LINGER 16              /* connections drained after an early reply */
#define LINGER_MS 5000             /* ... for at most this long */

enum mp_state {
    MP_PREAMBLE,   /* before the first delimiter */
    MP_AFTER_DELIM,/* "--" (the end) or CRLF (a part) follows */
    MP_AFTER_DASH,
    MP_AFTER_CR,
    MP_HEADERS,    /* the part's headers, up to the empty line */
    MP_FILE,       /* the image */
    MP_SKIP,       /* another part */
    MP_EPILOGUE    /* after the closing delimiter */
};

typedef struct web_req web_req;

struct eota_web {
    eota_web_opts o;
    const eota_config *cfg;
    struct MHD_Daemon *d[MAX_DAEMONS];
    int nd;
    uint16_t port;
    int upload_enabled;          /* ota: - platform: web_server */
    char realm[128];
    char opaque[33];
    char digest_random[32];
    web_req *upload;             /* the request that holds the backend */
    web_req *suspended;          /* the upload, waiting for the backend */
    uint64_t resume_at;
    int reboot_pending;          /* an image was committed over the web */
    uint64_t reboot_at;          /* 0 until the reply went out */
    /* early replies to requests whose body still comes: the socket is kept
     * (a dup) and drained after MHD closed it, so that the client reads the
     * reply instead of a reset (a "lingering close") */
    int linger_fd[MAX_LINGER];
    uint64_t linger_until[MAX_LINGER];
    int nlinger;
    /* the page */
    char last_result[512];
    int in_web_event;            /* the events come from a web request */
    /* MD5 of the running image, cached */
    char md5_slot;
    uint32_t md5_seq;
    off_t md5_size;
    struct timespec md5_mtime;
    char md5_hex[33];
};

struct web_req {
    eota_web *w;
    struct MHD_Connection *conn;
    char peer[80];
    int is_upload;               /* holds the backend */
    /* the multipart scanner */
    char delim[BOUNDARY_MAX + 8]; /* CRLF "--" boundary */
    size_t dlen;
    size_t match;                /* delimiter bytes held back */
    int state;
    char hdr[HDR_MAX];
    size_t hdr_len;
    int file_seen, file_done, closing_seen;
    uint64_t body_len;           /* Content-Length, 0 when not given */
    uint64_t body_seen;          /* body bytes taken so far */
    uint64_t file_start;         /* body offset where the image starts */
    uint64_t file_bytes;         /* image bytes found so far */
    char filename[128];
    /* the upload */
    uint8_t *pend;
    size_t pend_off, pend_len;
    int begun, started, committed, failed;
    int backend_failed;          /* the failure came from the backend */
    uint32_t total;              /* announced to the events: an upper bound */
    uint64_t started_ms, last_progress_ms;
    unsigned status;             /* the reply when failed */
    char reason[640];
};

static uint64_t now_ms(void) { return eota_posix_now_ms64(); }

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void describe_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(buf, len, sa && sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void emit(web_req *r, eota_state st, uint8_t code)
{
    eota_web *w = r->w;
    eota_event ev;
    memset(&ev, 0, sizeof ev);
    ev.state = st;
    ev.code = code;
    ev.received = r->file_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)r->file_bytes;
    ev.total = st == EOTA_STATE_COMPLETED ? ev.received : r->total;
    w->in_web_event = 1;
    if (w->o.on_event)
        w->o.on_event(w->o.ctx, &ev);
    w->in_web_event = 0;
}

void eota_web_note_event(eota_web *w, const eota_event *ev)
{
    if (!w)
        return;
    const char *via = w->in_web_event ? "web" : "native";
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    switch (ev->state) {
    case EOTA_STATE_STARTED:
        snprintf(w->last_result, sizeof w->last_result, "in progress (%s upload of %u bytes, started %s)", via,
                 ev->total, when);
        break;
    case EOTA_STATE_IN_PROGRESS: break;
    case EOTA_STATE_COMPLETED:
        snprintf(w->last_result, sizeof w->last_result, "successful: %u bytes (%s upload, %s)", ev->total, via,
                 when);
        break;
    case EOTA_STATE_ABORT:
        snprintf(w->last_result, sizeof w->last_result, "aborted after %u bytes (%s upload, %s): the old image runs",
                 ev->received, via, when);
        break;
    case EOTA_STATE_ERROR: {
        const char *name = eota_response_name(ev->code);
        snprintf(w->last_result, sizeof w->last_result, "failed: %s (0x%02X)%s%.300s (%s upload, %s): the old image runs",
                 name ? name : "?", ev->code, w->o.storage->why[0] ? ": " : "", w->o.storage->why, via, when);
        break;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                             int close_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A reply queued before the body was read: MHD sends it, then shuts the
 * socket down and closes it, and a client still sending its body would get
 * a reset, often before it reads the reply (curl then reports a send
 * failure). Keep a duplicate of the socket and read what still comes,
 * until the client closes or LINGER_MS have passed. */
static void linger_if_body(eota_web *w, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if ((!cl || strtoull(cl, NULL, 10) == 0) && !te)
        return;
    if (w->nlinger == MAX_LINGER)
        return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    int fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return;
    w->linger_fd[w->nlinger] = fd;
    w->linger_until[w->nlinger] = now_ms() + LINGER_MS;
    w->nlinger++;
}

static void linger_run(eota_web *w)
{
    uint64_t t = now_ms();
    for (int i = 0; i < w->nlinger;) {
        char buf[16384];
        ssize_t n;
        while ((n = recv(w->linger_fd[i], buf, sizeof buf, MSG_DONTWAIT)) > 0)
            ;
        int done = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
        if (done || t >= w->linger_until[i]) {
            close(w->linger_fd[i]);
            w->linger_fd[i] = w->linger_fd[w->nlinger - 1];
            w->linger_until[i] = w->linger_until[w->nlinger - 1];
            w->nlinger--;
            continue;
        }
        i++;
    }
}

static enum MHD_Result reply_failed(web_req *r, unsigned status, const char *reason)
{
    char body[800];
    snprintf(body, sizeof body, "Update Failed! %s", reason);
    LOGW(TAG, "POST /update from %s: %u %s", r->peer, status, body);
    return reply(r->conn, status, "text/plain; charset=utf-8", body, 1);
}

/* ------------------------------------------------------------------ */
/* Authentication                                                      */
/* ------------------------------------------------------------------ */

enum { AUTH_OK, AUTH_MISSING, AUTH_WRONG, AUTH_STALE };

static int check_auth(eota_web *w, struct MHD_Connection *c)
{
    const eota_web_server_config *ws = &w->cfg->web_server;
    if (!ws->has_auth)
        return AUTH_OK;
    if (ws->auth_type == EOTA_WEB_AUTH_DIGEST) {
        char *user = MHD_digest_auth_get_username(c);
        if (!user)
            return AUTH_MISSING;
        MHD_free(user);
        int rc = MHD_digest_auth_check2(c, w->realm, ws->username, ws->password, 300, MHD_DIGEST_ALG_MD5);
        if (rc == MHD_YES)
            return AUTH_OK;
        return rc == MHD_INVALID_NONCE ? AUTH_STALE : AUTH_WRONG;
    }
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    if (!user) {
        if (pass)
            MHD_free(pass);
        return AUTH_MISSING;
    }
    size_t ul = strlen(user), pl = pass ? strlen(pass) : 0;
    size_t cul = strlen(ws->username), cpl = strlen(ws->password);
    int ok = ul == cul && pl == cpl && CRYPTO_memcmp(user, ws->username, ul) == 0 &&
             CRYPTO_memcmp(pass ? pass : "", ws->password, pl) == 0;
    if (pass) {
        OPENSSL_cleanse(pass, pl);
        MHD_free(pass);
    }
    MHD_free(user);
    return ok ? AUTH_OK : AUTH_WRONG;
}

static enum MHD_Result reply_auth(eota_web *w, struct MHD_Connection *c, int why, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result ret;
    if (w->cfg->web_server.auth_type == EOTA_WEB_AUTH_DIGEST)
        ret = MHD_queue_auth_fail_response2(c, w->realm, w->opaque, resp, why == AUTH_STALE ? MHD_YES : MHD_NO,
                                            MHD_DIGEST_ALG_MD5);
    else
        ret = MHD_queue_basic_auth_fail_response(c, w->realm, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------------ */
/* The upload into the backend                                         */
/* ------------------------------------------------------------------ */

static const eota_backend_ops *ops(const eota_web *w) { return w->o.storage->backend.ops; }
static void *ctx(const eota_web *w) { return w->o.storage->backend.ctx; }

/* A failure: the backend is aborted (the old image stays), the events
 * hear ERROR when the upload had started, and the rest of the body is
 * read and dropped so that the client gets the reply. */
static void fail(web_req *r, unsigned status, uint8_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(web_req *r, unsigned status, uint8_t code, const char *fmt, ...)
{
    eota_web *w = r->w;
    if (r->failed)
        return;
    r->failed = 1;
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    if (r->begun) {
        ops(w)->abort(ctx(w));
        r->begun = 0;
    }
    r->pend_len = r->pend_off = 0;
    if (r->started) {
        if (!r->backend_failed) /* else the backend's own words stay */
            snprintf(w->o.storage->why, sizeof w->o.storage->why, "%s", r->reason);
        emit(r, EOTA_STATE_ERROR, code);
    }
}

/* The backend refused: its status tells the HTTP status, and the engine's
 * mapping the response code the events hear. */
static void fail_backend(web_req *r, int st, eota_ingest_step step)
{
    static const char *const steps[] = {"prepare", "write", "verify"};
    eota_storage *fb = r->w->o.storage;
    eota_backend_detail d = {NULL, 0};
    ops(r->w)->detail(ctx(r->w), &d);
    uint8_t code = eota_ingest_wire_code(st, d.code, step, r->w->cfg->profile->too_big_code);
    const char *name = eota_response_name(code);
    char why[sizeof fb->why];
    snprintf(why, sizeof why, "%s", d.why ? d.why : eota_response_describe(code));
    r->backend_failed = 1;
    fail(r, st == EOTA_ETOOBIG ? 413 : 500, code, "%s %s (0x%02X): %s", steps[step], name ? name : "error", code,
         why);
}

static int begin_upload(web_req *r)
{
    eota_web *w = r->w;
    const eota_config *cfg = w->cfg;
    uint64_t upper = 0;
    /* The image ends at least a closing delimiter (CRLF--boundary--) before
     * the end of the body: an upper bound for the events and for begin(). */
    if (r->body_len && r->body_len >= r->file_start + r->dlen + 2)
        upper = r->body_len - r->file_start - r->dlen - 2;
    uint32_t size = cfg->slot_size;
    if (upper && upper < size)
        size = (uint32_t)upper;
    r->total = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;
    eota_begin_info bi;
    memset(&bi, 0, sizeof bi);
    bi.size = size;
    bi.ota_type = EOTA_OTA_TYPE_APP;
    bi.gzip_agreed = cfg->profile->gzip ? 1 : 0;
    w->o.storage->why[0] = '\0';
    int st = ops(w)->begin(ctx(w), &bi);
    if (st != EOTA_OK) {
        fail_backend(r, st, EOTA_INGEST_BEGIN);
        return -1;
    }
    r->begun = 1;
    r->started = 1;
    r->started_ms = r->last_progress_ms = now_ms();
    LOGD(TAG, "Web upload: image '%s' from %s, at most %u bytes", r->filename, r->peer, r->total);
    emit(r, EOTA_STATE_STARTED, 0);
    return 0;
}

/* Hand the buffered image bytes to the backend. 1: all taken; 0: the
 * backend is busy (slow flash), try later; -1: failed. */
static int flush(web_req *r)
{
    eota_web *w = r->w;
    while (r->pend_len > 0) {
        if (!r->begun && !r->failed && begin_upload(r) != 0)
            return -1;
        size_t taken = 0;
        int st = ops(w)->write(ctx(w), r->pend + r->pend_off, r->pend_len, &taken);
        if (st != EOTA_OK) {
            fail_backend(r, st, EOTA_INGEST_WRITE);
            return -1;
        }
        if (taken == 0)
            return 0;
        r->pend_off += taken;
        r->pend_len -= taken;
    }
    r->pend_off = 0;
    uint64_t t = now_ms();
    if (r->started && t - r->last_progress_ms >= EOTA_PROGRESS_INTERVAL_MS) {
        r->last_progress_ms = t;
        emit(r, EOTA_STATE_IN_PROGRESS, 0);
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* The multipart scanner                                               */
/* ------------------------------------------------------------------ */

/* The boundary of a multipart/form-data Content-Type, into r->delim as
 * CRLF "--" boundary. 0 or -1. */
static int set_boundary(web_req *r, const char *ctype)
{
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0)
        return -1;
    const char *p = ctype + 19;
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t')
            p++;
        if (!strncasecmp(p, "boundary=", 9)) {
            p += 9;
            char b[BOUNDARY_MAX + 1];
            size_t n = 0;
            if (*p == '"') {
                p++;
                while (*p && *p != '"' && n < BOUNDARY_MAX)
                    b[n++] = *p++;
                if (*p != '"')
                    return -1;
            } else {
                while (*p && *p != ';' && *p != ' ' && *p != '\t' && n < BOUNDARY_MAX)
                    b[n++] = *p++;
                if (*p && *p != ';' && *p != ' ' && *p != '\t')
                    return -1;
            }
            if (n == 0)
                return -1;
            b[n] = '\0';
            if (strpbrk(b, "\r\n"))
                return -1;
            r->dlen = (size_t)snprintf(r->delim, sizeof r->delim, "\r\n--%s", b);
            return 0;
        }
        while (*p && *p != ';')
            p++;
    }
    return -1;
}

/* A parameter of a Content-Disposition line ("name", "filename") into out.
 * 1 when present. */
static int disposition_param(const char *line, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = strchr(line, ';');
    while (p) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncasecmp(p, key, klen) && (p[klen] == '=' || (p[klen] == '*' && p[klen + 1] == '='))) {
            p += klen + (p[klen] == '*' ? 2 : 1);
            size_t n = 0;
            if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1])
                        p++;
                    if (n + 1 < outlen)
                        out[n++] = *p;
                    p++;
                }
            } else {
                while (*p && *p != ';' && *p != '\r' && *p != '\n') {
                    if (n + 1 < outlen)
                        out[n++] = *p;
                    p++;
                }
            }
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, ';');
    }
    return 0;
}

/* The part's headers are complete: is it the image? */
static void part_headers_done(web_req *r)
{
    r->hdr[r->hdr_len] = '\0';
    int is_file = 0;
    char name[64] = "", filename[128] = "";
    for (char *line = r->hdr; line && *line;) {
        char *end = strstr(line, "\r\n");
        if (end)
            *end = '\0';
        if (!strncasecmp(line, "content-disposition:", 20)) {
            disposition_param(line, "name", name, sizeof name);
            is_file = disposition_param(line, "filename", filename, sizeof filename);
        }
        line = end ? end + 2 : NULL;
    }
    if (is_file && !r->file_seen) {
        r->file_seen = 1;
        r->file_start = r->body_seen;
        snprintf(r->filename, sizeof r->filename, "%s", filename);
        LOGV(TAG, "Multipart: the image is field '%s', file '%s'", name, filename);
        r->state = MP_FILE;
    } else {
        LOGV(TAG, "Multipart: field '%s' skipped", name);
        r->state = MP_SKIP;
    }
}

static void data_out(web_req *r, const uint8_t *p, size_t n)
{
    if (r->state != MP_FILE || n == 0)
        return;
    memcpy(r->pend + r->pend_off + r->pend_len, p, n);
    r->pend_len += n;
    r->file_bytes += n;
}

/* Data of a part (or the preamble): look for the delimiter. The delimiter
 * begins with CR and has no other CR, so after a mismatch the only place a
 * new match can begin is a CR. Returns the bytes consumed: all of them, or
 * up to the end of a delimiter. */
static size_t scan_data(web_req *r, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (r->match == 0) {
            const uint8_t *cr = memchr(p + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (p + i)) : n - i;
            data_out(r, p + i, run);
            i += run;
            if (!cr)
                break;
            r->match = 1;
            i++;
            continue;
        }
        if (p[i] == (uint8_t)r->delim[r->match]) {
            r->match++;
            i++;
            if (r->match == r->dlen) {
                r->match = 0;
                if (r->state == MP_FILE)
                    r->file_done = 1;
                r->state = MP_AFTER_DELIM;
                return i;
            }
            continue;
        }
        /* mismatch: the held bytes were data after all; look at p[i] again */
        data_out(r, (const uint8_t *)r->delim, r->match);
        r->match = 0;
    }
    return i;
}

static void malformed(web_req *r, const char *why)
{
    fail(r, 400, EOTA_RESP_ERROR_UPDATE_END, "malformed multipart body: %s", why);
}

/* Feed body bytes to the scanner. The caller leaves room in pend for n
 * bytes plus a delimiter. */
static void mp_feed(web_req *r, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && !r->failed) {
        switch (r->state) {
        case MP_PREAMBLE:
        case MP_FILE:
        case MP_SKIP: {
            size_t used = scan_data(r, p + i, n - i);
            r->body_seen += used;
            i += used;
            continue;
        }
        case MP_AFTER_DELIM:
            if (p[i] == '-')
                r->state = MP_AFTER_DASH;
            else if (p[i] == '\r')
                r->state = MP_AFTER_CR;
            else if (p[i] != ' ' && p[i] != '\t')
                malformed(r, "unexpected bytes after a boundary");
            break;
        case MP_AFTER_DASH:
            if (p[i] != '-')
                malformed(r, "unexpected bytes after a boundary");
            r->closing_seen = 1;
            r->state = MP_EPILOGUE;
            break;
        case MP_AFTER_CR:
            if (p[i] != '\n')
                malformed(r, "a boundary line does not end in CRLF");
            r->state = MP_HEADERS;
            r->hdr_len = 0;
            break;
        case MP_HEADERS:
            if (r->hdr_len + 1 >= HDR_MAX) {
                malformed(r, "the headers of a part are too long");
                break;
            }
            r->hdr[r->hdr_len++] = (char)p[i];
            if ((r->hdr_len == 2 && !memcmp(r->hdr, "\r\n", 2)) ||
                (r->hdr_len >= 4 && !memcmp(r->hdr + r->hdr_len - 4, "\r\n\r\n", 4))) {
                r->body_seen++;
                i++;
                part_headers_done(r);
                continue;
            }
            break;
        case MP_EPILOGUE:
            r->body_seen += n - i;
            return;
        }
        r->body_seen++;
        i++;
    }
}

/* ------------------------------------------------------------------ */
/* POST /update                                                        */
/* ------------------------------------------------------------------ */

static void suspend(web_req *r)
{
    eota_web *w = r->w;
    if (r->w->suspended == r)
        return;
    MHD_suspend_connection(r->conn);
    w->suspended = r;
    w->resume_at = now_ms() + RETRY_MS;
}

static enum MHD_Result upload_first(eota_web *w, web_req *r, struct MHD_Connection *c)
{
    if (!w->upload_enabled)
        return reply_failed(r, 404,
                            "web uploads are off on this device: add 'ota: - platform: web_server' to its config");
    if (w->upload || w->reboot_pending)
        return reply_failed(r, 409, "another upload is in progress (web)");
    if (w->o.native_busy && w->o.native_busy(w->o.ctx))
        return reply_failed(r, 409, "another upload is in progress (native OTA)");
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (set_boundary(r, ctype) != 0)
        return reply_failed(r, 400,
                            "expected a multipart/form-data body with a boundary (as sent by "
                            "curl -F \"update=@firmware.bin\" or a browser form)");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || *end || end == cl)
            return reply_failed(r, 400, "bad Content-Length");
        r->body_len = v;
    }
    const eota_config *cfg = w->cfg;
    if (r->body_len && !cfg->profile->gzip && r->body_len > (uint64_t)cfg->slot_size + FRAMING_ALLOWANCE) {
        char why[200];
        snprintf(why, sizeof why, "the image (%llu bytes with the form) is larger than the slot (%u bytes)",
                 (unsigned long long)r->body_len, cfg->slot_size);
        return reply_failed(r, 413, why);
    }
    r->pend = malloc(PEND_CAP);
    if (!r->pend)
        return reply_failed(r, 500, "out of memory");
    r->is_upload = 1;
    r->state = MP_PREAMBLE;
    r->match = 2; /* as if a CRLF came before the body: the first boundary may open it */
    w->upload = r;
    w->o.storage->why[0] = '\0';
    LOGI(TAG, "Web upload from %s (%llu bytes of form data)", r->peer, (unsigned long long)r->body_len);
    return MHD_YES;
}

static enum MHD_Result upload_body(web_req *r, const char *data, size_t *size)
{
    if (r->failed) {
        r->body_seen += *size;
        *size = 0;
        return MHD_YES;
    }
    for (;;) {
        int fr = flush(r);
        if (fr < 0) {
            *size = 0;
            return MHD_YES;
        }
        if (fr == 0 || *size == 0)
            break;
        size_t room = PEND_CAP - r->dlen - 1;
        size_t n = *size < room ? *size : room;
        mp_feed(r, (const uint8_t *)data, n);
        data += n;
        *size -= n;
        if (r->failed) {
            *size = 0;
            return MHD_YES;
        }
    }
    if (*size > 0)
        suspend(r); /* MHD keeps the rest and calls again after the resume */
    return MHD_YES;
}

static enum MHD_Result upload_end(web_req *r)
{
    eota_web *w = r->w;
    if (!r->failed) {
        if (!r->file_seen)
            fail(r, 400, 0, "no file in the form (send the image as a file part, e.g. curl -F \"update=@firmware.bin\")");
        else if (!r->file_done)
            malformed(r, "the body ended inside the image (truncated upload?)");
        else if (!r->closing_seen)
            malformed(r, "the closing boundary is missing (truncated upload?)");
        else if (r->file_bytes == 0)
            fail(r, 400, 0, "the file is empty (no file chosen?)");
    }
    if (!r->failed) {
        int fr = flush(r);
        if (fr == 0) {
            suspend(r);
            return MHD_YES;
        }
    }
    if (!r->failed) {
        int st = ops(w)->end(ctx(w));
        if (st == EOTA_AGAIN) {
            suspend(r);
            return MHD_YES;
        }
        r->begun = 0;
        if (st != EOTA_OK) {
            /* end() failed: nothing was committed; drop the part file */
            ops(w)->abort(ctx(w));
            fail_backend(r, st, EOTA_INGEST_END);
        } else {
            r->committed = 1;
            w->reboot_pending = 1;
            double secs = (double)(now_ms() - r->started_ms) / 1000.0;
            LOGI(TAG, "POST /update from %s: 200 Update Successful! (%llu bytes in %.1f s); rebooting in %d ms",
                 r->peer, (unsigned long long)r->file_bytes, secs, REBOOT_DELAY_MS);
            emit(r, EOTA_STATE_COMPLETED, 0);
            return reply(r->conn, 200, "text/plain; charset=utf-8", "Update Successful!", 1);
        }
    }
    return reply_failed(r, r->status, r->reason);
}

/* ------------------------------------------------------------------ */
/* GET /                                                               */
/* ------------------------------------------------------------------ */

static void running_md5(eota_web *w, char *out)
{
    eota_slots *s = w->o.slots;
    out[0] = '\0';
    if (!s->active)
        return;
    char path[4096];
    eota_slots_path(s, s->active, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (w->md5_slot == s->active && w->md5_seq == eota_bootstate_seq(&s->bs) && w->md5_size == st.st_size &&
        w->md5_mtime.tv_sec == st.st_mtim.tv_sec && w->md5_mtime.tv_nsec == st.st_mtim.tv_nsec) {
        strcpy(out, w->md5_hex);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return;
    }
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    close(fd);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16) {
        for (unsigned i = 0; i < 16; i++)
            snprintf(w->md5_hex + 2 * i, 3, "%02x", md[i]);
        w->md5_slot = s->active;
        w->md5_seq = eota_bootstate_seq(&s->bs);
        w->md5_size = st.st_size;
        w->md5_mtime = st.st_mtim;
        strcpy(out, w->md5_hex);
    }
    EVP_MD_CTX_free(ctx);
}

static const char PAGE_STYLE[] =
    "body{font-family:system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em;margin-bottom:.2em}table{border-collapse:collapse;margin:1em 0}"
    "th,td{text-align:left;padding:.3em .8em .3em 0;vertical-align:top}th{color:#555;font-weight:600}"
    "code{font-size:.9em}progress{width:100%;height:1.4em}#status.ok{color:#176617}"
    "#status.err{color:#a01010}.note{color:#555;font-size:.9em}";

static const char PAGE_SCRIPT[] =
    "(function(){var f=document.getElementById('form');if(!f)return;"
    "var bar=document.getElementById('bar'),pct=document.getElementById('pct'),"
    "st=document.getElementById('status'),go=document.getElementById('go'),"
    "file=document.getElementById('file');"
    "f.addEventListener('submit',function(e){e.preventDefault();"
    "if(!file.files.length){st.className='err';st.textContent='Choose a firmware file first.';return;}"
    "var x=new XMLHttpRequest();x.open('POST','/update');"
    "x.upload.onprogress=function(ev){if(ev.lengthComputable){var p=Math.floor(ev.loaded*100/ev.total);"
    "bar.value=p;pct.textContent=p+'%';}};"
    "x.onload=function(){go.disabled=false;st.textContent=x.status+' '+x.responseText;"
    "if(x.status==200){bar.value=100;pct.textContent='100%';st.className='ok';"
    "st.textContent+=' The device reboots into the new image.';"
    "setTimeout(function(){location.reload();},4000);}else{st.className='err';}};"
    "x.onerror=function(){go.disabled=false;st.className='err';"
    "st.textContent='The connection was lost during the upload: the old image keeps running.';};"
    "var fd=new FormData();fd.append('update',file.files[0]);go.disabled=true;"
    "st.className='';st.textContent='Uploading...';x.send(fd);});})();";

static enum MHD_Result page(eota_web *w, struct MHD_Connection *c)
{
    const eota_config *cfg = w->cfg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return MHD_NO;
    const char *title = cfg->friendly_name && *cfg->friendly_name ? cfg->friendly_name : cfg->name;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>", f);
    html_escape(f, title);
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1 id=\"title\">", PAGE_STYLE);
    html_escape(f, title);
    fputs("</h1>\n", f);
    if (cfg->comment) {
        fputs("<p class=\"note\">", f);
        html_escape(f, cfg->comment);
        fputs("</p>\n", f);
    }
    fputs("<table>\n<tr><th>Device</th><td id=\"device\">", f);
    html_escape(f, cfg->name);
    fputs("</td></tr>\n<tr><th>Platform</th><td id=\"platform\">", f);
    html_escape(f, cfg->profile->platform);
    if (cfg->board) {
        fputs(" (board ", f);
        html_escape(f, cfg->board);
        fputs(")", f);
    }
    fputs("</td></tr>\n<tr><th>Running image</th><td id=\"image\">", f);
    eota_slots *s = w->o.slots;
    if (s->active) {
        char path[4096], md5[33];
        struct stat st;
        eota_slots_path(s, s->active, path, sizeof path);
        running_md5(w, md5);
        fprintf(f, "slot <span id=\"slot\">%c</span>, <span id=\"size\">%lld</span> bytes, MD5 <code id=\"md5\">%s</code>",
                s->active, stat(path, &st) == 0 ? (long long)st.st_size : -1LL, md5[0] ? md5 : "?");
    } else {
        fputs("none installed yet", f);
    }
    eota_slot_info si;
    memset(&si, 0, sizeof si);
    if (s->active)
        eota_bootstate_slot(&s->bs, s->active == 'a' ? 0 : 1, &si);
    fprintf(f, "</td></tr>\n<tr><th>Installs</th><td id=\"installs\">%u</td></tr>\n", si.image_seq);
    fprintf(f, "<tr><th>Boot state</th><td id=\"bootstate\">%s</td></tr>\n",
            s->active ? eota_slot_state_name(si.state) : "-");
    fputs("<tr><th>Last update</th><td id=\"last\">", f);
    html_escape(f, w->last_result[0] ? w->last_result : "none since the device started");
    fputs("</td></tr>\n</table>\n<h2>Firmware update</h2>\n", f);
    if (w->upload_enabled) {
        fputs("<form id=\"form\" method=\"POST\" action=\"/update\" enctype=\"multipart/form-data\">"
              "<input type=\"file\" id=\"file\" name=\"update\"> <button type=\"submit\" id=\"go\">Update</button>"
              "</form>\n<p><progress id=\"bar\" max=\"100\" value=\"0\"></progress> <span id=\"pct\"></span></p>\n"
              "<p id=\"status\"></p>\n",
              f);
        fprintf(f, "<p class=\"note\">The image goes to the inactive slot%s; the device switches to it only when it "
                   "arrived whole, then restarts its application.</p>\n",
                cfg->profile->gzip ? " (gzip images are inflated)" : "");
        fprintf(f, "<script>%s</script>\n", PAGE_SCRIPT);
    } else {
        fputs("<p id=\"status\">Uploads over the web are off on this device (its config has no "
              "<code>ota: - platform: web_server</code>).</p>\n",
              f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------------ */
/* MHD callbacks                                                       */
/* ------------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    eota_web *w = cls;
    (void)version;
    web_req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->w = w;
        r->conn = c;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        describe_addr(ci ? ci->client_addr : NULL, r->peer, sizeof r->peer);
        *req_cls = r;
        int is_update = !strcmp(url, "/update");
        int is_post = !strcmp(method, MHD_HTTP_METHOD_POST);
        LOGD(TAG, "%s %s from %s", method, url, r->peer);
        int a = check_auth(w, c);
        if (a != AUTH_OK) {
            if (a == AUTH_WRONG) {
                LOGW(TAG, "%s %s from %s: 401, wrong credentials", method, url, r->peer);
                if (is_update && is_post && w->upload_enabled) {
                    snprintf(w->o.storage->why, sizeof w->o.storage->why, "wrong web server credentials from %s", r->peer);
                    eota_event ev = {EOTA_STATE_ERROR, EOTA_RESP_ERROR_AUTH_INVALID, 0, 0};
                    w->in_web_event = 1;
                    if (w->o.on_event)
                        w->o.on_event(w->o.ctx, &ev);
                    w->in_web_event = 0;
                }
            }
            linger_if_body(w, c);
            return reply_auth(w, c, a,
                              is_update ? "Update Failed! wrong or missing credentials (web_server: auth:)"
                                        : "Login required");
        }
        if (is_update && is_post) {
            enum MHD_Result ret = upload_first(w, r, c);
            if (!r->is_upload)
                linger_if_body(w, c); /* answered before the body */
            return ret;
        }
        if (!strcmp(url, "/") || is_update) {
            if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
                return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                             "Method not allowed: GET / for the page, POST /update for an upload\n", 1);
            return page(w, c);
        }
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "Not found\n", 0);
    }
    if (!r->is_upload) {
        /* a body nobody asked for: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0)
        return upload_body(r, upload_data, upload_data_size);
    return upload_end(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    eota_web *w = cls;
    (void)c;
    web_req *r = *req_cls;
    if (!r)
        return;
    if (w->suspended == r)
        w->suspended = NULL;
    if (r->is_upload) {
        if (!r->committed && !r->failed) {
            /* the client went away (or the device stops) before the end */
            static const char *const why[] = {"completed", "an error", "a timeout", "the shutdown",
                                              "a read error", "the client closing the connection"};
            const char *wy = (unsigned)toe < sizeof why / sizeof why[0] ? why[toe] : "?";
            if (r->begun)
                ops(w)->abort(ctx(w));
            r->begun = 0;
            LOGW(TAG, "Web upload from %s aborted by %s after %llu of %llu bytes: the old image stays", r->peer, wy,
                 (unsigned long long)r->body_seen, (unsigned long long)r->body_len);
            if (r->started) {
                snprintf(w->o.storage->why, sizeof w->o.storage->why, "web upload cut short by %s", wy);
                emit(r, EOTA_STATE_ABORT, 0);
            }
        }
        if (r->committed)
            w->reboot_at = now_ms() + REBOOT_DELAY_MS;
        if (w->upload == r)
            w->upload = NULL;
    }
    free(r->pend);
    free(r);
    *req_cls = NULL;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    LOGD(TAG, "libmicrohttpd: %s", msg);
}
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------ */
/* The API                                                             */
/* ------------------------------------------------------------------ */

static int start_daemon(eota_web *w, const char *addr)
{
    int family = 0;
    char err[512];
    int fd = eota_net_listen(addr, w->port, 16, &family, err, sizeof err);
    if (fd < 0) {
        LOGE(TAG, "%s", err);
        return -1;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_DIGEST_AUTH_RANDOM,
        sizeof w->digest_random, w->digest_random, MHD_OPTION_NONCE_NC_SIZE, (unsigned int)64, MHD_OPTION_END);
    if (!d) {
        LOGE(TAG, "libmicrohttpd could not start on [%s]:%u", addr, w->port);
        close(fd);
        return -1;
    }
    w->d[w->nd++] = d;
    LOGI(TAG, "Listening for HTTP on [%s]:%u", addr, w->port);
    return 0;
}

int eota_web_start(eota_web **out, const eota_web_opts *o)
{
    *out = NULL;
    const eota_config *cfg = o->cfg;
    if (!cfg->web_server.present && !cfg->ota_web_server)
        return 0;
    eota_web *w = calloc(1, sizeof *w);
    if (!w) {
        LOGE(TAG, "out of memory");
        return -1;
    }
    w->o = *o;
    w->cfg = cfg;
    w->upload_enabled = cfg->ota_web_server;
    if (o->port_override)
        w->port = o->port_override;
    else
        w->port = cfg->web_server.port; /* the config's, or 80 (8080 on host) */
    snprintf(w->realm, sizeof w->realm, "%s", cfg->name);
    uint8_t rnd[16];
    if (getrandom(w->digest_random, sizeof w->digest_random, 0) != (ssize_t)sizeof w->digest_random ||
        getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        LOGE(TAG, "getrandom: %s", strerror(errno));
        free(w);
        return -1;
    }
    for (unsigned i = 0; i < sizeof rnd; i++)
        snprintf(w->opaque + 2 * i, 3, "%02x", rnd[i]);

    static char *defaults[] = {"0.0.0.0", "::"};
    char *const *addrs = o->listen;
    int n = o->nlisten;
    int use_default = n == 0;
    if (use_default) {
        addrs = defaults;
        n = 2;
    }
    for (int i = 0; i < n && w->nd < MAX_DAEMONS; i++) {
        if (start_daemon(w, addrs[i]) != 0) {
            if (use_default && i == 1 && w->nd > 0) {
                LOGW(TAG, "IPv6 not available: HTTP on IPv4 only");
                continue;
            }
            eota_web_stop(w);
            return -1;
        }
    }
    const eota_web_server_config *ws = &cfg->web_server;
    if (ws->has_auth)
        LOGI(TAG, "Web server: port %u, %s authentication as '%s', web upload %s", w->port,
             ws->auth_type == EOTA_WEB_AUTH_DIGEST ? "digest" : "basic", ws->username,
             w->upload_enabled ? "on (POST /update)" : "off");
    else
        LOGI(TAG, "Web server: port %u, no authentication, web upload %s", w->port,
             w->upload_enabled ? "on (POST /update)" : "off");
    if (w->upload_enabled && !ws->has_auth)
        LOGW(TAG, "The web upload is open: anyone who reaches port %u can install firmware without a password. "
                  "Add web_server: auth: (username, password) to protect it.",
             w->port);
    if (w->upload_enabled && !cfg->web_server.present)
        LOGW(TAG, "'ota: - platform: web_server' without a web_server: block: serving on port %u", w->port);
    *out = w;
    return 0;
}

int eota_web_pollfds(const eota_web *w, struct pollfd *pfd, int room)
{
    int n = 0;
    if (!w)
        return 0;
    for (int i = 0; i < w->nd && n < room; i++) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d[i], MHD_DAEMON_INFO_EPOLL_FD);
        if (di)
            pfd[n++] = (struct pollfd){di->epoll_fd, POLLIN, 0};
    }
    for (int i = 0; i < w->nlinger && n < room; i++)
        pfd[n++] = (struct pollfd){w->linger_fd[i], POLLIN, 0};
    return n;
}

long eota_web_timeout_ms(const eota_web *w)
{
    if (!w)
        return -1;
    long best = -1;
    uint64_t t = now_ms();
    for (int i = 0; i < w->nd; i++) {
        MHD_UNSIGNED_LONG_LONG to;
        if (MHD_get_timeout(w->d[i], &to) == MHD_YES) {
            long v = to > 60000 ? 60000 : (long)to;
            if (best < 0 || v < best)
                best = v;
        }
    }
    uint64_t when[3] = {w->suspended ? w->resume_at : 0, w->reboot_at, 0};
    for (int i = 0; i < w->nlinger; i++)
        if (!when[2] || w->linger_until[i] < when[2])
            when[2] = w->linger_until[i];
    for (int i = 0; i < 3; i++) {
        if (!when[i])
            continue;
        long v = when[i] <= t ? 0 : (long)(when[i] - t);
        if (best < 0 || v < best)
            best = v;
    }
    return best;
}

int eota_web_run(eota_web *w)
{
    if (!w)
        return 0;
    uint64_t t = now_ms();
    if (w->suspended && t >= w->resume_at) {
        web_req *r = w->suspended;
        w->suspended = NULL;
        MHD_resume_connection(r->conn);
    }
    for (int i = 0; i < w->nd; i++)
        MHD_run(w->d[i]);
    linger_run(w);
    if (w->reboot_pending && w->reboot_at && now_ms() >= w->reboot_at) {
        w->reboot_pending = 0;
        w->reboot_at = 0;
        return 1;
    }
    return 0;
}

int eota_web_busy(const eota_web *w) { return w && (w->upload || w->reboot_pending); }

void eota_web_stop(eota_web *w)
{
    if (!w)
        return;
    web_req *r = w->upload;
    if (r && !r->committed && !r->failed) {
        LOGW(TAG, "Web upload in progress discarded by the shutdown");
        if (r->begun)
            ops(w)->abort(ctx(w));
        r->begun = 0;
        if (r->started) {
            snprintf(w->o.storage->why, sizeof w->o.storage->why, "web upload cut short by the shutdown");
            emit(r, EOTA_STATE_ABORT, 0);
        }
        r->failed = 1;
    }
    if (w->suspended) {
        MHD_resume_connection(w->suspended->conn);
        w->suspended = NULL;
    }
    for (int i = 0; i < w->nd; i++)
        MHD_stop_daemon(w->d[i]);
    for (int i = 0; i < w->nlinger; i++)
        close(w->linger_fd[i]);
    free(w);
}
