/*
 * download.c: the image of a newer release (internal.h) fetched into the
 * inactive slot through the ingest (eota/ingest.h), as native and web
 * uploads are: STARTED, IN_PROGRESS, ERROR/ABORT and COMPLETED reach the
 * device's log and automations the same way. The bytes are checked
 * against the manifest: size, MD5 (the ingest's check) and SHA-256. A cut
 * connection is resumed with "Range: bytes=N-" and If-Range with the
 * image's ETag (or Last-Modified): a 206 continues, a 200 means the file
 * changed, and the download starts over after a fresh manifest.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "log.h"

/* The first bytes of a response: is it the one asked for? 0 when yes. */
static int check_response(eota_pull *p)
{
    long code = 0;
    curl_easy_getinfo(p->http.easy, CURLINFO_RESPONSE_CODE, &code);
    if (p->want_from > 0 && code == 200) {
        p->changed = 1;
        return -1;
    }
    if (code == 206 && p->hdr_range_start == p->want_from)
        return 0;
    if (code != 200 || p->want_from > 0)
        return -1;
    snprintf(p->img_etag, sizeof p->img_etag, "%s", p->hdr_etag);
    snprintf(p->img_last_modified, sizeof p->img_last_modified, "%s", p->hdr_lm);
    pull_partial_open(p);
    return 0;
}

static size_t on_image(char *data, size_t size, size_t n, void *ctx)
{
    eota_pull *p = ctx;
    size_t len = size * n;
    if (p->want_from >= 0 && check_response(p) != 0)
        return 0;
    p->want_from = -1; /* checked */
    if (eota_ingest_pending(&p->ingest) > 0) {
        p->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (p->rel.size >= 0 && p->received + len > (uint64_t)p->rel.size) {
        p->changed = 2; /* longer than the manifest says */
        return 0;
    }
    memcpy(p->buf, data, len);
    if (pull_feed(p, p->buf, len) != 0)
        return 0;
    pull_partial_write(p, p->buf, len);
    return len;
}

int pull_feed(eota_pull *p, const uint8_t *data, size_t len)
{
    p->sha_seam.ops->update(p->sha_seam.ctx, data, len);
    p->received += len;
    return eota_ingest_feed(&p->ingest, data, len) == EOTA_OK && pull_download_pump(p) == 0 ? 0 : -1;
}

static int begin_ingest(eota_pull *p)
{
    const eota_config *cfg = p->o.cfg;
    eota_begin_info bi;
    memset(&bi, 0, sizeof bi);
    bi.size = p->rel.size > 0 ? (uint32_t)p->rel.size : cfg->slot_size;
    bi.ota_type = EOTA_OTA_TYPE_APP;
    bi.gzip_agreed = cfg->gzip ? 1 : 0;
    eota_ingest_reset(&p->ingest);
    p->received = 0;
    p->resumes = 0;
    p->checked = 0;
    p->img_etag[0] = p->img_last_modified[0] = '\0';
    if (eota_ingest_begin(&p->ingest, &bi, p->rel.size > 0 ? (uint32_t)p->rel.size : 0) != EOTA_OK ||
        eota_ingest_expect_md5(&p->ingest, p->rel.md5) != EOTA_OK ||
        p->sha_seam.ops->begin(p->sha_seam.ctx, EOTA_HASH_SHA256) != EOTA_OK) {
        eota_ingest_fail(&p->ingest, EOTA_RESP_ERROR_UPDATE_PREPARE, "the download could not begin");
        pull_fail(p, "the download of %s could not begin (see the error above)", p->rel.version);
        return -1;
    }
    return 0;
}

void pull_download_start(eota_pull *p, int resume)
{
    if (!resume && begin_ingest(p) != 0)
        return;
    if (!resume && pull_partial_find(p)) {
        p->state = PULL_REPLAYING; /* then the rest, with a Range request */
        return;
    }
    char range[64] = "", if_range[400] = "";
    if (resume) {
        snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)p->received);
        snprintf(if_range, sizeof if_range, "If-Range: %s", p->img_etag[0] ? p->img_etag : p->img_last_modified);
    }
    CURL *e = pull_request(p, p->rel.url, range, if_range, on_image);
    if (!e) {
        eota_ingest_fail(&p->ingest, EOTA_RESP_ERROR_UPDATE_PREPARE, "out of memory");
        pull_fail(p, "out of memory for a request");
        return;
    }
    p->want_from = (long)p->received;
    p->changed = 0;
    p->paused = 0;
    p->write_failed = 0;
    p->state = PULL_DOWNLOADING;
    pull_http_begin(&p->http, e);
}

int pull_download_pump(eota_pull *p)
{
    while (eota_ingest_pending(&p->ingest) > 0) {
        size_t taken = 0;
        if (eota_ingest_push(&p->ingest, &taken) != EOTA_OK) {
            p->write_failed = 1; /* the ingest told the events */
            return -1;
        }
        if (taken == 0)
            return 0;
    }
    if (p->paused && p->http.easy && !p->http.done) {
        p->paused = 0;
        curl_easy_pause(p->http.easy, CURLPAUSE_CONT);
    }
    return 0;
}

void pull_download_abort(eota_pull *p)
{
    pull_http_end(&p->http);
    eota_ingest_abort(&p->ingest);
}
