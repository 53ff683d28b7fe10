/*
 * web_post.c: POST /update through libcurl's multi interface
 * (web_post.h). One easy handle per transfer, all in one multi handle
 * that the upload loop drives, through the web transport
 * (transport_web.c), with up_web_poll (curl_multi_poll, which also waits
 * on the loop's own descriptors) and up_web_next_done.
 */
#include "upload/web_post.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "upload/util.h"

struct up_web_multi {
    CURLM *m;
    size_t running;
};

struct up_web_xfer {
    CURL *h;
    curl_mime *mime;
    const uint8_t *data;
    size_t len;
    size_t pos;                 /* read position in data */
    uint64_t image_read;        /* image bytes handed to libcurl, this request */
    curl_off_t ulnow, ultotal;  /* from the progress callback */
    curl_off_t dlnow;
    uint64_t last_activity;     /* ms: the last byte moved, or the connect */
    uint32_t idle_ms;
    uint64_t start_ms, deadline_ms; /* the overall deadline (web_post.h) */
    uint64_t reply_ms, reply_bytes;   /* the answer: when it began, its size */
    up_web_limit limit;         /* the bound that aborted it, if one did */
    long status;                /* last status line seen (not 1xx) */
    int challenged;
    char body[sizeof(((up_web_result *)0)->reply)];
    size_t body_len;
    int body_cut;
    up_web_auth auth;
    int have_credentials;
    char errbuf[CURL_ERROR_SIZE];
    up_web_result res;
    void *user;
};

const char *up_web_outcome_name(up_web_outcome o)
{
    switch (o) {
    case UP_WEB_OK: return NULL;
    case UP_WEB_HTTP: return "http_status";
    case UP_WEB_REFUSED: return "refused";
    case UP_WEB_UNREACHABLE: return "unreachable";
    case UP_WEB_TIMEOUT: return "timeout";
    case UP_WEB_CLOSED: return "closed";
    case UP_WEB_PROTOCOL: return "protocol_error";
    case UP_WEB_IO: return "network_error";
    case UP_WEB_INTERNAL: return "internal_error";
    case UP_WEB_RUNNING: break;
    }
    return "running";
}

/* ------------------------------------------------------------------ */
/* callbacks                                                           */
/* ------------------------------------------------------------------ */

/* The image part's bytes, a libcurl buffer at a time, from the caller's
 * mapping: nothing is copied beforehand. */
static size_t part_read(char *buf, size_t size, size_t nitems, void *arg)
{
    up_web_xfer *x = arg;
    size_t want = size * nitems;
    size_t left = x->len - x->pos;
    size_t n = want < left ? want : left;
    memcpy(buf, x->data + x->pos, n);
    x->pos += n;
    x->image_read = x->pos;
    return n;
}

/* libcurl rewinds the body when it must send it again (after a 401 that
 * came while the body was going out, or a fresh connection). */
static int part_seek(void *arg, curl_off_t offset, int origin)
{
    up_web_xfer *x = arg;
    curl_off_t base = origin == SEEK_SET ? 0 : origin == SEEK_CUR ? (curl_off_t)x->pos : (curl_off_t)x->len;
    curl_off_t to = base + offset;
    if (to < 0 || (uint64_t)to > (uint64_t)x->len)
        return CURL_SEEKFUNC_FAIL;
    x->pos = (size_t)to;
    x->image_read = x->pos;
    return CURL_SEEKFUNC_OK;
}

/* Bytes of the final answer: it begins at its status line, and an answer
 * past UP_WEB_REPLY_MAX is endless (1: abort). */
static int reply_in(up_web_xfer *x, size_t n)
{
    x->last_activity = up_now_ms(); /* header lines are not in dlnow */
    if (!x->reply_ms)
        x->reply_ms = x->last_activity;
    x->reply_bytes += n;
    if (x->reply_bytes <= UP_WEB_REPLY_MAX)
        return 0;
    x->limit = UP_WEB_LIMIT_ENDLESS;
    return 1;
}

/* A new status line starts a new answer: what came before (a 401 on the
 * way to digest, a 100 Continue) is forgotten. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
    up_web_xfer *x = arg;
    size_t n = size * nitems;
    if (n > 9 && !strncmp(buf, "HTTP/", 5)) {
        const char *sp = memchr(buf, ' ', n);
        long code = 0;
        if (sp && (size_t)(sp - buf) + 4 <= n && isdigit((unsigned char)sp[1]) && isdigit((unsigned char)sp[2]) &&
            isdigit((unsigned char)sp[3]))
            code = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        if (code >= 200) {
            x->status = code;
            x->body_len = 0;
            x->body_cut = 0;
            x->reply_ms = up_now_ms();
            x->reply_bytes = 0;
            if (code == 401)
                x->challenged = 1;
        }
    }
    if (x->status >= 200 && reply_in(x, n))
        return 0; /* abort: CURLE_WRITE_ERROR */
    return n;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *arg)
{
    up_web_xfer *x = arg;
    size_t n = size * nitems;
    size_t room = sizeof x->body - 1 - x->body_len;
    size_t take = n < room ? n : room;
    memcpy(x->body + x->body_len, buf, take);
    x->body_len += take;
    x->body[x->body_len] = '\0';
    if (take < n)
        x->body_cut = 1;
    if (reply_in(x, n))
        return 0; /* abort: CURLE_WRITE_ERROR */
    return n; /* the rest is read and dropped */
}

/* Which bound, if any, the transfer is past now. */
static up_web_limit past_limit(const up_web_xfer *x, uint64_t t)
{
    if (x->idle_ms && t - x->last_activity > x->idle_ms)
        return UP_WEB_LIMIT_SILENCE;
    /* a 401 to credentials is followed by a new request (libcurl's), not
     * the end: its answer is timed from its own status line */
    int retried = x->status == 401 && x->have_credentials;
    if (x->reply_ms && x->idle_ms && !retried && t - x->reply_ms > x->idle_ms)
        return UP_WEB_LIMIT_REPLY_SLOW;
    if (t > x->deadline_ms)
        return UP_WEB_LIMIT_DEADLINE;
    return UP_WEB_LIMIT_NONE;
}

/* The timers: libcurl's low-speed limit averages over several seconds, so
 * --data-timeout is kept here, to the second, as the native path keeps it
 * (nothing moved either way for idle_ms once connected), with the bounds
 * of web_post.h. A body going out again (a new request after a 401) is not
 * an answer yet. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    up_web_xfer *x = arg;
    (void)dltotal;
    uint64_t t = up_now_ms();
    curl_off_t ct = 0;
    (void)curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &ct);
    if (ct <= 0 || ulnow != x->ulnow || dlnow != x->dlnow || ultotal != x->ultotal)
        x->last_activity = t;
    if (ultotal > 0 && ulnow < ultotal && ulnow != x->ulnow)
        x->reply_ms = 0;
    x->ultotal = ultotal;
    x->ulnow = ulnow;
    x->dlnow = dlnow;
    if (x->limit == UP_WEB_LIMIT_NONE)
        x->limit = past_limit(x, t);
    return x->limit != UP_WEB_LIMIT_NONE; /* 1: abort, CURLE_ABORTED_BY_CALLBACK */
}

/* ------------------------------------------------------------------ */
/* the multi handle                                                    */
/* ------------------------------------------------------------------ */

up_web_multi *up_web_multi_new(char *err, size_t errlen)
{
    static int global_done;
    if (!global_done) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            snprintf(err, errlen, "libcurl: cannot start: %s", curl_easy_strerror(rc));
            return NULL;
        }
        global_done = 1;
    }
    up_web_multi *m = calloc(1, sizeof *m);
    if (!m || !(m->m = curl_multi_init())) {
        free(m);
        snprintf(err, errlen, "libcurl: cannot make a multi handle");
        return NULL;
    }
    return m;
}

void up_web_multi_free(up_web_multi *m)
{
    if (!m)
        return;
    curl_multi_cleanup(m->m);
    free(m);
}

static int setopt_failed(CURLcode rc, const char *name, char *err, size_t errlen)
{
    if (rc == CURLE_OK)
        return 0;
    snprintf(err, errlen, "libcurl: %s: %s", name, curl_easy_strerror(rc));
    return 1;
}

#define SETOPT(h, opt, val)                                                                                  \
    do {                                                                                                     \
        if (setopt_failed(curl_easy_setopt(h, opt, val), #opt, err, errlen))                                 \
            return -1;                                                                                       \
    } while (0)

/* The body: one part, field `update`, streamed from the mapping. */
static int set_body(up_web_xfer *x, const up_web_params *p, char *err, size_t errlen)
{
    x->mime = curl_mime_init(x->h);
    curl_mimepart *part = x->mime ? curl_mime_addpart(x->mime) : NULL;
    if (!part || curl_mime_name(part, "update") != CURLE_OK || curl_mime_filename(part, p->filename) != CURLE_OK ||
        curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)p->len, part_read, part_seek, NULL, x) != CURLE_OK) {
        snprintf(err, errlen, "libcurl: cannot build the multipart body");
        return -1;
    }
    SETOPT(x->h, CURLOPT_MIMEPOST, x->mime);
    return 0;
}

static int set_request(CURL *h, const up_web_params *p, char *err, size_t errlen)
{
    SETOPT(h, CURLOPT_URL, p->url);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http");
    SETOPT(h, CURLOPT_PROXY, ""); /* never through an http_proxy of the environment */
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(h, CURLOPT_USERAGENT, "eota-upload/" EOTA_CLI_VERSION);
    /* A device reboots after the reply: no connection is kept. */
    SETOPT(h, CURLOPT_FORBID_REUSE, 1L);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, (long)p->connect_ms);
    /* "silence": kept in on_progress to the millisecond; the low-speed
     * limit (under 1 byte/s for idle_ms rounded up) is a backstop, and makes
     * libcurl call on_progress every second even when nothing moves */
    SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(h, CURLOPT_LOW_SPEED_TIME, (long)((p->idle_ms + 999u) / 1000u));
    if (p->verbose)
        SETOPT(h, CURLOPT_VERBOSE, 1L);
    return 0;
}

static int set_callbacks(CURL *h, up_web_xfer *x, char *err, size_t errlen)
{
    SETOPT(h, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, x);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, x);
    SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(h, CURLOPT_XFERINFODATA, x);
    SETOPT(h, CURLOPT_NOPROGRESS, 0L);
    SETOPT(h, CURLOPT_PRIVATE, x);
    return 0;
}

static int set_auth(CURL *h, const up_web_params *p, char *err, size_t errlen)
{
    if (!p->username)
        return 0;
    long bits = p->auth == UP_WEB_AUTH_BASIC    ? (long)CURLAUTH_BASIC
                : p->auth == UP_WEB_AUTH_DIGEST ? (long)CURLAUTH_DIGEST
                                                : (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST);
    SETOPT(h, CURLOPT_HTTPAUTH, bits);
    SETOPT(h, CURLOPT_USERNAME, p->username);
    SETOPT(h, CURLOPT_PASSWORD, p->password ? p->password : "");
    return 0;
}

up_web_xfer *up_web_start(up_web_multi *m, const up_web_params *p, char *err, size_t errlen)
{
    up_web_xfer *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->data = p->data;
    x->len = p->len;
    x->user = p->user;
    x->auth = p->auth;
    x->have_credentials = p->username != NULL;
    x->idle_ms = p->idle_ms;
    x->last_activity = x->start_ms = up_now_ms();
    x->deadline_ms = x->start_ms + p->connect_ms + 3ull * p->idle_ms + (uint64_t)p->len * 1000u / UP_WEB_FLOOR_BPS;
    x->h = curl_easy_init();
    if (!x->h) {
        snprintf(err, errlen, "libcurl: cannot make a handle");
        free(x);
        return NULL;
    }
    if (set_body(x, p, err, errlen) || set_request(x->h, p, err, errlen) || set_callbacks(x->h, x, err, errlen) ||
        set_auth(x->h, p, err, errlen))
        goto fail;
    if (curl_multi_add_handle(m->m, x->h) != CURLM_OK) {
        snprintf(err, errlen, "libcurl: cannot add the transfer");
        goto fail;
    }
    m->running++;
    return x;
fail:
    curl_easy_cleanup(x->h);
    curl_mime_free(x->mime);
    free(x);
    return NULL;
}

void up_web_free(up_web_multi *m, up_web_xfer *x)
{
    if (!x)
        return;
    if (m && x->h) {
        curl_multi_remove_handle(m->m, x->h);
        if (x->res.outcome == UP_WEB_RUNNING && m->running)
            m->running--;
    }
    curl_easy_cleanup(x->h);
    curl_mime_free(x->mime);
    free(x);
}

const up_web_result *up_web_result_of(const up_web_xfer *x) { return &x->res; }
void *up_web_user(const up_web_xfer *x) { return x->user; }

void up_web_progress(const up_web_xfer *x, uint64_t *sent, uint64_t *total)
{
    if (x->res.outcome != UP_WEB_RUNNING) {
        *sent = x->res.body_sent;
        *total = x->res.body_size;
        return;
    }
    *sent = x->ulnow > 0 ? (uint64_t)x->ulnow : 0;
    *total = x->ultotal > 0 ? (uint64_t)x->ultotal : 0;
}

int up_web_poll(up_web_multi *m, struct pollfd *fds, size_t n, long timeout_ms)
{
    struct curl_waitfd stackw[16];
    struct curl_waitfd *w = n <= 16 ? stackw : calloc(n, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].fd = fds[i].fd;
        w[i].events = (short)(((fds[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                              ((fds[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
        w[i].revents = 0;
    }
    int numfds = 0;
    if (timeout_ms < 0)
        timeout_ms = 1000;
    CURLMcode mc = curl_multi_poll(m->m, w, (unsigned)n, (int)timeout_ms, &numfds);
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        short rev = 0;
        if (w[i].revents & CURL_WAIT_POLLIN)
            rev |= POLLIN;
        if (w[i].revents & CURL_WAIT_POLLOUT)
            rev |= POLLOUT;
        if (w[i].revents & CURL_WAIT_POLLPRI)
            rev |= POLLPRI;
        fds[i].revents = rev;
        ready += rev != 0;
    }
    if (w != stackw)
        free(w);
    if (mc != CURLM_OK) {
        errno = EIO;
        return -1;
    }
    int still = 0;
    (void)curl_multi_perform(m->m, &still);
    return ready;
}

/* ------------------------------------------------------------------ */
/* results                                                             */
/* ------------------------------------------------------------------ */

/* The reply body as one printable line. */
static void clean_reply(const char *in, size_t len, int cut, char *out, size_t outlen)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        out[o++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    if (cut && o + 4 <= outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static up_web_outcome classify(CURLcode rc, int sys_err, int connected)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        if (sys_err == ECONNREFUSED)
            return UP_WEB_REFUSED;
        if (sys_err == ETIMEDOUT)
            return UP_WEB_TIMEOUT;
        return UP_WEB_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT: return UP_WEB_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        if (sys_err == 0 || sys_err == ECONNRESET || sys_err == EPIPE)
            return UP_WEB_CLOSED;
        return UP_WEB_IO;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return UP_WEB_CLOSED;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING: return connected ? UP_WEB_PROTOCOL : UP_WEB_IO;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_FAILED_INIT: return UP_WEB_INTERNAL;
    default: return UP_WEB_IO;
    }
}

/* What libcurl measured of the transfer. */
static void fill_counts(up_web_xfer *x, CURLcode rc)
{
    up_web_result *r = &x->res;
    long status = 0, os_err = 0, avail = 0;
    curl_off_t up = 0, upsize = 0, ctime = 0;
    (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_err);
    (void)curl_easy_getinfo(x->h, CURLINFO_HTTPAUTH_AVAIL, &avail);
    (void)curl_easy_getinfo(x->h, CURLINFO_SIZE_UPLOAD_T, &up);
    (void)curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &upsize);
    (void)curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &ctime);
    if (status < 200)
        status = x->status >= 200 ? x->status : 0;
    r->curl_code = (int)rc;
    r->sys_err = (int)os_err;
    r->connected = ctime > 0 || status != 0;
    r->http_status = status;
    r->challenged = x->challenged;
    r->auth_offered = avail;
    r->body_sent = up > 0 ? (uint64_t)up : 0;
    r->body_size = upsize > 0 ? (uint64_t)upsize : (x->ultotal > 0 ? (uint64_t)x->ultotal : 0);
    r->image_read = x->image_read;
    r->all_sent = r->body_size > 0 && r->body_sent >= r->body_size;
    r->reply_bytes = x->reply_bytes;
    r->limit = x->limit;
    r->elapsed_ms = up_now_ms() - x->start_ms;
    clean_reply(x->body, x->body_len, x->body_cut, r->reply, sizeof r->reply);
    snprintf(r->curl_msg, sizeof r->curl_msg, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    size_t l = strlen(r->curl_msg);
    while (l && (r->curl_msg[l - 1] == '\n' || r->curl_msg[l - 1] == '\r'))
        r->curl_msg[--l] = '\0';
}

/* Which credentials went out. */
static const char *auth_used(const up_web_xfer *x, long avail)
{
    if (!x->have_credentials)
        return "none";
    if (x->auth == UP_WEB_AUTH_BASIC)
        return "basic";
    if (!x->challenged)
        return "none"; /* never asked: the server has no auth */
    if (x->auth == UP_WEB_AUTH_DIGEST || (avail & CURLAUTH_DIGEST))
        return "digest";
    return (avail & CURLAUTH_BASIC) ? "basic" : "none";
}

static void finish(up_web_xfer *x, CURLcode rc)
{
    up_web_result *r = &x->res;
    fill_counts(x, rc);
    r->auth_used = auth_used(x, r->auth_offered);
    long status = r->http_status;
    int success = status == 200 && strstr(x->body, UP_WEB_SUCCESS_TEXT) != NULL;
    if (success && (rc == CURLE_OK || !x->body_cut))
        r->outcome = UP_WEB_OK;
    else if (rc == CURLE_OK && status)
        r->outcome = UP_WEB_HTTP;
    else if (status >= 300)
        r->outcome = UP_WEB_HTTP; /* the answer came; the connection ended badly after it */
    else if (x->limit == UP_WEB_LIMIT_ENDLESS)
        r->outcome = UP_WEB_PROTOCOL;
    else if (x->limit != UP_WEB_LIMIT_NONE)
        r->outcome = UP_WEB_TIMEOUT;
    else
        r->outcome = classify(rc, r->sys_err, r->connected);
    if (r->outcome == UP_WEB_OK)
        r->all_sent = 1;
}

up_web_xfer *up_web_next_done(up_web_multi *m)
{
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        up_web_xfer *x = (up_web_xfer *)(void *)priv;
        if (!x)
            continue;
        finish(x, msg->data.result);
        if (m->running)
            m->running--;
        return x;
    }
    return NULL;
}
