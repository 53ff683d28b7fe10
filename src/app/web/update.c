/*
 * update.c: POST /update, the web upload (PROTOCOL.md section 9): the body
 * is parsed as it arrives (multipart.c), the image goes through the core's
 * ingest (eota/ingest.h), the same data phase as a native upload, into the
 * device's backend; a slow backend suspends the connection (the unread
 * bytes stay in libmicrohttpd's buffer) and it is resumed a few
 * milliseconds later. The reply: 200 "Update Successful!", or "Update
 * Failed! ..." with 400, 404, 409, 413 or 500 as the failure says.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "eota/protocol.h"
#include "internal.h"
#include "log.h"

#define PEND_CAP (64u * 1024u)     /* image bytes between the wire and the backend */
#define RETRY_MS 5                 /* a busy backend is tried again after this */
#define FRAMING_ALLOWANCE (64u * 1024u) /* multipart framing and small fields */

/* The web server's events (its upload's, a refused password), told to the
 * device as the native engine's are. */
void web_event(eota_web *w, const eota_event *ev)
{
    w->in_web_event = 1;
    if (w->o.on_event)
        w->o.on_event(w->o.ctx, ev);
    w->in_web_event = 0;
}

static void on_ingest_event(void *ctx, const eota_event *ev) { web_event(ctx, ev); }

int web_update_init(eota_web *w)
{
    eota_ingest_config ic = {w->o.storage->backend, eota_posix_clock(), {on_ingest_event, NULL, w},
                             {NULL, NULL}, w->cfg->profile->too_big_code};
    return eota_ingest_init(&w->ingest, &ic);
}

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
    r->pend_len = 0;
    /* after a failure of the ingest's own, it has told the events already;
     * a request that never held the backend leaves it alone */
    if (w->upload == r) {
        eota_ingest_fail(&w->ingest, code, r->reason);
        w->upload = NULL; /* the backend is free at once, whatever the client does next */
    }
}

/* The ingest failed (the backend refused): the status tells the HTTP
 * status; the ingest has the response byte and the backend's words. */
static void fail_backend(web_req *r, int st, eota_ingest_step step)
{
    static const char *const steps[] = {"prepare", "write", "verify"};
    const eota_ingest *in = &r->w->ingest;
    uint8_t code = eota_ingest_error_code(in);
    const char *name = eota_response_name(code);
    const char *why = eota_ingest_why(in);
    fail(r, st == EOTA_ETOOBIG ? 413 : 500, code, "%s %s (0x%02X): %.400s", steps[step], name ? name : "error", code,
         why ? why : eota_response_describe(code));
}

/* The largest body that can hold an image for the slot: the image, or its
 * gzip (never more than a few per mille larger), and the form around it. */
static uint64_t body_limit(const eota_config *cfg)
{
    return (uint64_t)cfg->slot_size + cfg->slot_size / 64 + FRAMING_ALLOWANCE;
}

static int begin_upload(web_req *r)
{
    eota_web *w = r->w;
    const eota_config *cfg = w->cfg;
    /* an upper bound for the events; begin() gets a looser one that holds
     * even when the body lacks its closing boundary, so that such a body is
     * told as malformed at its end, not as a write past the bound */
    uint64_t upper = multipart_file_bound(&r->mp, r->body_len);
    uint64_t loose = r->body_len > r->mp.file_start ? r->body_len - r->mp.file_start : 0;
    uint32_t size = cfg->slot_size;
    if (loose && loose < size)
        size = (uint32_t)loose;
    uint32_t total = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;
    eota_begin_info bi;
    memset(&bi, 0, sizeof bi);
    bi.size = size;
    bi.ota_type = EOTA_OTA_TYPE_APP;
    bi.gzip_agreed = cfg->gzip ? 1 : 0;
    LOGD(TAG, "Web upload: image '%s' from %s, at most %u bytes", r->mp.filename, r->peer, total);
    r->started = 1;
    r->started_ms = web_now_ms();
    int st = eota_ingest_begin(&w->ingest, &bi, total);
    if (st != EOTA_OK) {
        fail_backend(r, st, EOTA_INGEST_BEGIN);
        return -1;
    }
    return 0;
}

/* Hand the image bytes the scanner found to the ingest, and from there to
 * the backend as far as it takes them. 1: all taken; 0: the backend is busy
 * (slow flash), try later; -1: failed. */
static int flush(web_req *r)
{
    eota_ingest *in = &r->w->ingest;
    if (r->pend_len > 0) {
        if (!r->started && begin_upload(r) != 0)
            return -1;
        (void)eota_ingest_feed(in, r->pend, r->pend_len); /* nothing is pending here */
        r->pend_len = 0;
    }
    while (eota_ingest_pending(in) > 0) {
        size_t taken = 0;
        int st = eota_ingest_push(in, &taken);
        if (st != EOTA_OK) {
            fail_backend(r, st, EOTA_INGEST_WRITE);
            return -1;
        }
        if (taken == 0)
            return 0;
    }
    return 1;
}

static void malformed(web_req *r, const char *why)
{
    fail(r, 400, EOTA_RESP_ERROR_UPDATE_END, "malformed multipart body: %s", why);
}

static void suspend(web_req *r)
{
    eota_web *w = r->w;
    if (r->w->suspended == r)
        return;
    MHD_suspend_connection(r->conn);
    w->suspended = r;
    w->resume_at = web_now_ms() + RETRY_MS;
}

enum MHD_Result web_update_first(eota_web *w, web_req *r, struct MHD_Connection *c)
{
    if (!w->upload_enabled)
        return web_reply_failed(r, 404,
                            "web uploads are off on this device: add 'ota: - platform: web_server' to its config");
    if (w->upload || w->reboot_pending)
        return web_reply_failed(r, 409, "another upload is in progress (web)");
    if (w->o.native_busy && w->o.native_busy(w->o.ctx))
        return web_reply_failed(r, 409, "another upload is in progress (native OTA)");
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (multipart_init(&r->mp, ctype) != 0)
        return web_reply_failed(r, 400,
                            "expected a multipart/form-data body with a boundary (as sent by "
                            "curl -F \"update=@firmware.bin\" or a browser form)");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || *end || end == cl)
            return web_reply_failed(r, 400, "bad Content-Length");
        r->body_len = v;
    }
    const eota_config *cfg = w->cfg;
    if (r->body_len > body_limit(cfg)) {
        char why[200];
        snprintf(why, sizeof why, "the image (%llu bytes with the form) is larger than the slot (%u bytes)",
                 (unsigned long long)r->body_len, cfg->slot_size);
        return web_reply_failed(r, 413, why);
    }
    r->pend = malloc(PEND_CAP);
    if (!r->pend)
        return web_reply_failed(r, 500, "out of memory");
    r->is_upload = 1; /* the backend is taken when the body comes (hold) */
    return MHD_YES;
}

/* The body's first bytes: the upload takes the backend now, not at the
 * headers, so that a POST whose body never comes holds nothing. 0, or -1
 * (failed: another upload came first). */
static int hold(web_req *r)
{
    eota_web *w = r->w;
    r->last_data_ms = web_now_ms();
    if (w->upload == r || r->failed)
        return 0;
    (void)eota_web_yield(w); /* a stalled upload gives way */
    if (w->upload || w->reboot_pending || (w->o.native_busy && w->o.native_busy(w->o.ctx))) {
        fail(r, 409, 0, "another upload is in progress");
        return -1;
    }
    w->upload = r;
    eota_ingest_reset(&w->ingest);
    LOGI(TAG, "Web upload from %s (%llu bytes of form data)", r->peer, (unsigned long long)r->body_len);
    return 0;
}

enum MHD_Result web_update_body(web_req *r, const char *data, size_t *size)
{
    if (!r->failed && r->mp.seen + *size > body_limit(r->w->cfg)) {
        /* a chunked body larger than any image: no end to wait for */
        fail(r, 413, 0, "the body is larger than any image for the slot (%u bytes)", r->w->cfg->slot_size);
        LOGW(TAG, "POST /update from %s: %s; connection closed", r->peer, r->reason);
        return MHD_NO;
    }
    int fr = r->failed || hold(r) ? -1 : flush(r);
    while (fr > 0 && *size > 0) {
        size_t used = multipart_feed(&r->mp, (const uint8_t *)data, *size, r->pend, PEND_CAP, &r->pend_len);
        data += used;
        *size -= used;
        if (r->mp.error) {
            malformed(r, r->mp.error);
            break;
        }
        fr = flush(r);
    }
    if (r->failed)
        *size = 0; /* the rest is read and dropped, so that the client gets the reply */
    else if (*size > 0)
        suspend(r); /* MHD keeps the rest and calls again after the resume */
    return MHD_YES;
}

enum MHD_Result web_update_end(web_req *r)
{
    eota_web *w = r->w;
    if (!r->failed) {
        switch (multipart_finish(&r->mp)) {
        case MULTIPART_COMPLETE: break;
        case MULTIPART_NO_FILE:
            fail(r, 400, 0, "no file in the form (send the image as a file part, e.g. curl -F \"update=@firmware.bin\")");
            break;
        case MULTIPART_CUT_IN_FILE: malformed(r, "the body ended inside the image (truncated upload?)"); break;
        case MULTIPART_NO_CLOSING: malformed(r, "the closing boundary is missing (truncated upload?)"); break;
        case MULTIPART_EMPTY_FILE: fail(r, 400, 0, "the file is empty (no file chosen?)"); break;
        }
    }
    if (!r->failed) {
        int fr = flush(r);
        if (fr == 0) {
            suspend(r);
            return MHD_YES;
        }
    }
    if (!r->failed) {
        int st = eota_ingest_finish(&w->ingest);
        if (st == EOTA_AGAIN) {
            suspend(r);
            return MHD_YES;
        }
        if (st != EOTA_OK) {
            fail_backend(r, st, EOTA_INGEST_END); /* nothing committed; the part file gone */
        } else {
            r->committed = 1;
            w->reboot_pending = 1;
            double secs = (double)(web_now_ms() - r->started_ms) / 1000.0;
            LOGI(TAG, "POST /update from %s: 200 Update Successful! (%llu bytes in %.1f s); rebooting in %d ms",
                 r->peer, (unsigned long long)r->mp.file_bytes, secs, REBOOT_DELAY_MS);
            eota_ingest_completed(&w->ingest);
            return web_reply(r->conn, 200, "text/plain; charset=utf-8", "Update Successful!", 1);
        }
    }
    return web_reply_failed(r, r->status, r->reason);
}

void web_update_closed(web_req *r, enum MHD_RequestTerminationCode toe)
{
    eota_web *w = r->w;
    if (!r->committed && !r->failed && w->upload == r) {
        /* the client went away (or the device stops) before the end */
        static const char *const why[] = {"completed", "an error", "a timeout", "the shutdown",
                                          "a read error", "the client closing the connection"};
        const char *wy = (unsigned)toe < sizeof why / sizeof why[0] ? why[toe] : "?";
        LOGW(TAG, "Web upload from %s aborted by %s after %llu of %llu bytes: the old image stays", r->peer, wy,
             (unsigned long long)r->mp.seen, (unsigned long long)r->body_len);
        eota_ingest_abort(&w->ingest); /* the backend aborted; ABORT once it had started */
    }
    if (r->committed)
        w->reboot_at = web_now_ms() + REBOOT_DELAY_MS;
    if (w->upload == r)
        w->upload = NULL;
}

void web_update_shutdown(eota_web *w)
{
    web_req *r = w->upload;
    if (r && !r->committed && !r->failed) {
        LOGW(TAG, "Web upload in progress discarded by the shutdown");
        eota_ingest_abort(&w->ingest);
        r->failed = 1;
    }
}

int eota_web_yield(eota_web *w)
{
    web_req *r = w ? w->upload : NULL;
    if (!r)
        return w && !w->reboot_pending;
    uint64_t idle = web_now_ms() - r->last_data_ms;
    if (w->suspended == r || idle < EOTA_WEB_STALL_MS)
        return 0; /* it moves, or the backend is the slow one */
    LOGW(TAG, "Web upload from %s: no byte for %llu ms while another client waits: dropped, the old image stays",
         r->peer, (unsigned long long)idle);
    fail(r, 408, EOTA_RESP_ERROR_UNKNOWN, "the body stopped for %llu ms", (unsigned long long)idle);
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
    return !w->reboot_pending;
}

/* The upload's client has shut its side, and the body can no longer be
 * complete (with Content-Length: what came and what waits in the kernel is
 * short of it; chunked: nothing waits). libmicrohttpd may not notice a FIN
 * that came with the last bytes; this does. */
static int client_gone(const web_req *r)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return 0;
    struct pollfd p = {ci->connect_fd, POLLRDHUP, 0};
    int unread = 0;
    if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
        ioctl(ci->connect_fd, FIONREAD, &unread) != 0)
        return 0;
    if (r->body_len)
        return r->mp.seen + (uint64_t)unread < r->body_len;
    return unread == 0;
}

void web_update_watch(eota_web *w)
{
    web_req *r = w->upload;
    if (!r || w->suspended == r || r->failed || !client_gone(r))
        return;
    LOGW(TAG, "Web upload from %s aborted by the client closing the connection after %llu of %llu bytes: the old "
              "image stays",
         r->peer, (unsigned long long)r->mp.seen, (unsigned long long)r->body_len);
    r->failed = 1;
    eota_ingest_abort(&w->ingest); /* the backend aborted, the part file gone; ABORT once it had started */
    w->upload = NULL;
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
}
