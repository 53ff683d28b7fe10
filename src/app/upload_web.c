/*
 * upload_web.c: POST /update through libcurl's multi interface
 * (upload_web.h). One easy handle per transfer, all in one multi handle
 * that upload.c's loop drives with up_web_poll (curl_multi_poll, which also
 * waits on the loop's own descriptors) and up_web_next_done.
 */
#include "upload_web.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli.h"

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
    int idle_fired;             /* aborted for silence */
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

const char *up_web_auth_name(up_web_auth a)
{
    switch (a) {
    case UP_WEB_AUTH_BASIC: return "basic";
    case UP_WEB_AUTH_DIGEST: return "digest";
    default: return "any";
    }
}

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
            if (code == 401)
                x->challenged = 1;
        }
    }
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
    return n; /* the rest is read and dropped */
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Also the silence timer: libcurl's low-speed limit averages over several
 * seconds, so --data-timeout is kept here, to the second, as the native
 * path keeps it: nothing moved either way for idle_ms once connected. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    up_web_xfer *x = arg;
    (void)dltotal;
    uint64_t t = mono_ms();
    curl_off_t ct = 0;
    (void)curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &ct);
    if (ct <= 0 || ulnow != x->ulnow || dlnow != x->dlnow || ultotal != x->ultotal)
        x->last_activity = t;
    x->ultotal = ultotal;
    x->ulnow = ulnow;
    x->dlnow = dlnow;
    if (x->idle_ms && t - x->last_activity > x->idle_ms) {
        x->idle_fired = 1;
        return 1; /* abort: CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
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

#define SETOPT(h, opt, val)                                                                                  \
    do {                                                                                                     \
        CURLcode rc_ = curl_easy_setopt(h, opt, val);                                                        \
        if (rc_ != CURLE_OK) {                                                                               \
            snprintf(err, errlen, "libcurl: %s: %s", #opt, curl_easy_strerror(rc_));                         \
            goto fail;                                                                                       \
        }                                                                                                    \
    } while (0)

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
    x->last_activity = mono_ms();
    x->h = curl_easy_init();
    if (!x->h) {
        snprintf(err, errlen, "libcurl: cannot make a handle");
        free(x);
        return NULL;
    }
    CURL *h = x->h;

    /* the body: one part, field `update`, streamed from the mapping */
    x->mime = curl_mime_init(h);
    curl_mimepart *part = x->mime ? curl_mime_addpart(x->mime) : NULL;
    if (!part || curl_mime_name(part, "update") != CURLE_OK ||
        curl_mime_filename(part, p->filename) != CURLE_OK ||
        curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)p->len, part_read, part_seek, NULL, x) != CURLE_OK) {
        snprintf(err, errlen, "libcurl: cannot build the multipart body");
        goto fail;
    }

    SETOPT(h, CURLOPT_URL, p->url);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http");
    SETOPT(h, CURLOPT_PROXY, ""); /* never through an http_proxy of the environment */
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(h, CURLOPT_USERAGENT, "eota-upload/" EOTA_CLI_VERSION);
    SETOPT(h, CURLOPT_MIMEPOST, x->mime);
    /* A device reboots after the reply: no connection is kept. */
    SETOPT(h, CURLOPT_FORBID_REUSE, 1L);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, (long)p->connect_ms);
    /* "silence": kept in on_progress to the millisecond; the low-speed
     * limit (under 1 byte/s for idle_ms rounded up) is a backstop, and makes
     * libcurl call on_progress every second even when nothing moves */
    SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(h, CURLOPT_LOW_SPEED_TIME, (long)((p->idle_ms + 999u) / 1000u));
    SETOPT(h, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, x);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, x);
    SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(h, CURLOPT_XFERINFODATA, x);
    SETOPT(h, CURLOPT_NOPROGRESS, 0L);
    SETOPT(h, CURLOPT_PRIVATE, x);
    if (p->verbose)
        SETOPT(h, CURLOPT_VERBOSE, 1L);
    if (p->username) {
        long bits = p->auth == UP_WEB_AUTH_BASIC    ? (long)CURLAUTH_BASIC
                    : p->auth == UP_WEB_AUTH_DIGEST ? (long)CURLAUTH_DIGEST
                                                    : (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST);
        SETOPT(h, CURLOPT_HTTPAUTH, bits);
        SETOPT(h, CURLOPT_USERNAME, p->username);
        SETOPT(h, CURLOPT_PASSWORD, p->password ? p->password : "");
    }
    if (curl_multi_add_handle(m->m, h) != CURLM_OK) {
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

static void finish(up_web_xfer *x, CURLcode rc)
{
    up_web_result *r = &x->res;
    CURL *h = x->h;
    long status = 0, os_err = 0, avail = 0;
    curl_off_t up = 0, upsize = 0, ctime = 0;
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_err);
    (void)curl_easy_getinfo(h, CURLINFO_HTTPAUTH_AVAIL, &avail);
    (void)curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    (void)curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &upsize);
    (void)curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &ctime);
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
    clean_reply(x->body, x->body_len, x->body_cut, r->reply, sizeof r->reply);
    snprintf(r->curl_msg, sizeof r->curl_msg, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    size_t l = strlen(r->curl_msg);
    while (l && (r->curl_msg[l - 1] == '\n' || r->curl_msg[l - 1] == '\r'))
        r->curl_msg[--l] = '\0';

    /* which credentials went out */
    if (!x->have_credentials)
        r->auth_used = "none";
    else if (x->auth == UP_WEB_AUTH_BASIC)
        r->auth_used = "basic";
    else if (!x->challenged)
        r->auth_used = "none"; /* never asked: the server has no auth */
    else if (x->auth == UP_WEB_AUTH_DIGEST || (avail & CURLAUTH_DIGEST))
        r->auth_used = "digest";
    else
        r->auth_used = (avail & CURLAUTH_BASIC) ? "basic" : "none";

    int success = status == 200 && strstr(x->body, UP_WEB_SUCCESS_TEXT) != NULL;
    if (success && (rc == CURLE_OK || !x->body_cut))
        r->outcome = UP_WEB_OK;
    else if (rc == CURLE_OK && status)
        r->outcome = UP_WEB_HTTP;
    else if (status >= 300)
        r->outcome = UP_WEB_HTTP; /* the answer came; the connection ended badly after it */
    else if (rc == CURLE_ABORTED_BY_CALLBACK && x->idle_fired)
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

/* ------------------------------------------------------------------ */
/* words                                                               */
/* ------------------------------------------------------------------ */

static void human(char *out, size_t outlen, uint64_t n)
{
    if (n >= 1024u * 1024u)
        snprintf(out, outlen, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024u)
        snprintf(out, outlen, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, outlen, "%llu B", (unsigned long long)n);
}

/* The device's reason: the body without its "Update Failed!" head. */
static const char *reason_of(const up_web_result *r)
{
    const char *s = r->reply;
    static const char head[] = "Update Failed!";
    if (!strncmp(s, head, sizeof head - 1))
        s += sizeof head - 1;
    while (*s == ' ' || *s == ':')
        s++;
    return *s ? s : "(no reason given)";
}

static const char *scheme_words(long bits)
{
    if ((bits & CURLAUTH_DIGEST) && (bits & CURLAUTH_BASIC))
        return "Basic or Digest";
    if (bits & CURLAUTH_DIGEST)
        return "Digest";
    if (bits & CURLAUTH_BASIC)
        return "Basic";
    return "an unknown scheme";
}

void up_web_describe(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    char a[32], b[32];
    human(a, sizeof a, r->body_sent);
    human(b, sizeof b, r->body_size);
    switch (r->outcome) {
    case UP_WEB_OK: snprintf(out, outlen, "ok"); return;
    case UP_WEB_HTTP:
        switch (r->http_status) {
        case 200:
            snprintf(out, outlen,
                     "the device answered HTTP 200 without \"" UP_WEB_SUCCESS_TEXT "\": the update failed "
                     "(stock devices report failures with status 200): %s",
                     r->reply[0] ? r->reply : "(empty body)");
            return;
        case 401:
            if (!c->have_credentials) {
                snprintf(out, outlen,
                         "the web server asks for credentials (HTTP 401, %s) and none were given: use "
                         "--web-username and --web-password (or EOTA_WEB_PASSWORD), or the config's "
                         "web_server: auth:",
                         scheme_words(r->auth_offered));
            } else if ((c->auth == UP_WEB_AUTH_BASIC && r->auth_offered && !(r->auth_offered & CURLAUTH_BASIC)) ||
                       (c->auth == UP_WEB_AUTH_DIGEST && r->auth_offered &&
                        !(r->auth_offered & CURLAUTH_DIGEST))) {
                snprintf(out, outlen,
                         "the web server refused the credentials (HTTP 401): it asks for %s authentication "
                         "and %s was sent: use --web-auth %s (or any)",
                         scheme_words(r->auth_offered), c->auth == UP_WEB_AUTH_BASIC ? "Basic" : "Digest",
                         (r->auth_offered & CURLAUTH_DIGEST) ? "digest" : "basic");
            } else {
                snprintf(out, outlen,
                         "the web server refused the credentials (HTTP 401, %s authentication): %s; nothing "
                         "was written",
                         r->auth_used && strcmp(r->auth_used, "none") ? r->auth_used : "no", reason_of(r));
            }
            return;
        case 409:
            snprintf(out, outlen,
                     "the device is busy: %s (HTTP 409); nothing was written, try again when that upload is "
                     "over",
                     reason_of(r));
            return;
        case 413:
            snprintf(out, outlen, "the image is too big for the device (HTTP 413): %s", reason_of(r));
            return;
        case 400:
            snprintf(out, outlen, "the device found the upload malformed (HTTP 400): %s; the old image is kept",
                     reason_of(r));
            return;
        case 500:
            snprintf(out, outlen,
                     "the device could not write or verify the image (HTTP 500): %s; the old image is kept",
                     reason_of(r));
            return;
        case 404:
            snprintf(out, outlen,
                     "the device has no web upload at /update (HTTP 404): %s (does its config have ota: - "
                     "platform: web_server, and is %u its web server port?)",
                     reason_of(r), c->port);
            return;
        default:
            snprintf(out, outlen, "the device answered HTTP %ld: %s", r->http_status,
                     r->reply[0] ? r->reply : "(empty body)");
            return;
        }
    case UP_WEB_REFUSED:
        snprintf(out, outlen, "connection refused by %s (is the device on, and is %u its web server port?)",
                 c->show, c->port);
        return;
    case UP_WEB_UNREACHABLE:
        snprintf(out, outlen, "cannot reach %s: %s", c->show, r->sys_err ? strerror(r->sys_err) : r->curl_msg);
        return;
    case UP_WEB_TIMEOUT:
        if (!r->connected)
            snprintf(out, outlen, "timed out connecting to %s (no answer in %.0f s)", c->show,
                     c->connect_ms / 1000.0);
        else if (!r->all_sent)
            snprintf(out, outlen, "timed out sending the image: the device took nothing for %.1f s (%s of %s sent)",
                     c->idle_ms / 1000.0, a, b);
        else
            snprintf(out, outlen,
                     "timed out waiting for the device's answer: it said nothing for %.1f s after the whole "
                     "image was sent",
                     c->idle_ms / 1000.0);
        return;
    case UP_WEB_CLOSED:
        if (r->all_sent)
            snprintf(out, outlen, "the device closed the connection without answering after the whole image was sent%s",
                     r->sys_err == ECONNRESET ? " (connection reset)" : "");
        else if (r->body_sent > 0)
            snprintf(out, outlen, "the device closed the connection during the upload, after %s of %s%s", a, b,
                     r->sys_err == ECONNRESET ? " (connection reset)" : "");
        else
            snprintf(out, outlen,
                     "the device closed the connection without answering%s (is %u its web server port, not "
                     "the native OTA port?)",
                     r->sys_err == ECONNRESET ? " (connection reset)" : "", c->port);
        return;
    case UP_WEB_PROTOCOL:
        snprintf(out, outlen, "the answer is not HTTP (%s): is %u the device's web server port?", r->curl_msg,
                 c->port);
        return;
    case UP_WEB_IO: snprintf(out, outlen, "network error: %s", r->curl_msg); return;
    case UP_WEB_INTERNAL: snprintf(out, outlen, "libcurl: %s", r->curl_msg); return;
    case UP_WEB_RUNNING: break;
    }
    snprintf(out, outlen, "still running");
}
