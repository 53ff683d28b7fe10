/*
 * commit.c: the end of an image transfer (internal.h): a cut connection is
 * resumed (a few times), a changed file starts over, any other failure
 * fails the ingest (the old image stays); a complete image is checked
 * (size, MD5 through the ingest, SHA-256) and committed, its version
 * recorded beside the slot, and the device reboots into it on trial.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "log.h"

void pull_fail_download(eota_pull *p, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eota_ingest_fail(&p->ingest, EOTA_RESP_ERROR_UNKNOWN, msg);
    pull_partial_drop(p);
    pull_fail(p, "the download of version %s failed: %s", p->rel.version, msg);
}

static int resumable(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT;
}

/* A cut after some bytes: try the rest (1), or not (0). */
static int try_resume(eota_pull *p, const char *why)
{
    if (p->received == 0 || (!p->img_etag[0] && !p->img_last_modified[0]) || p->resumes >= PULL_RESUMES)
        return 0;
    p->resumes++;
    LOGW(PULL_TAG, "Download cut after %llu of %lld bytes (%s): resuming with a Range request in 1 s",
         (unsigned long long)p->received, (long long)p->rel.size, why);
    p->state = PULL_RESUME_WAIT;
    p->next_at = pull_now_ms() + 1000;
    return 1;
}

void pull_download_ended(eota_pull *p)
{
    long code = 0;
    char why[1024];
    CURLcode rc = p->http.result;
    curl_easy_getinfo(p->http.easy, CURLINFO_RESPONSE_CODE, &code);
    pull_http_end(&p->http);
    if (p->write_failed) {
        pull_partial_drop(p);
        pull_fail(p, "writing version %s failed (see the error above)", p->rel.version);
    } else if (p->changed == 1) {
        LOGW(PULL_TAG, "The image %s changed on the server (If-Range answered 200): the download starts over",
             p->rel.url);
        eota_ingest_abort(&p->ingest);
        pull_partial_drop(p);
        p->etag[0] = p->last_modified[0] = '\0'; /* a fresh manifest, for the new MD5 */
        p->state = PULL_IDLE;
        p->next_at = pull_now_ms();
    } else if (p->changed == 2) {
        pull_fail_download(p, "the image is longer than the manifest's size, %lld bytes", (long long)p->rel.size);
    } else if (rc == CURLE_OK && (code == 200 || code == 206)) {
        p->state = PULL_COMMITTING;
    } else if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && code != 200 && code != 206)) {
        /* (an error page's body is refused by on_image: the status says it) */
        pull_fail_download(p, "%s: HTTP %ld%s", p->rel.url, code, code == 206 ? " from another offset than asked" : code == 404 ? " (not found)" : "");
    } else {
        pull_http_why(p->o.cfg, rc, p->rel.url, why, sizeof why);
        if (!resumable(rc) || !try_resume(p, curl_easy_strerror(rc)))
            pull_fail_download(p, "%s", why);
    }
}

/* Size and SHA-256 (the MD5 is the ingest's). 0, or -1 after failing. */
static int check_image(eota_pull *p)
{
    uint8_t d[32];
    char hex[65];
    if (p->rel.size >= 0 && p->received != (uint64_t)p->rel.size) {
        pull_fail_download(p, "%llu bytes arrived, the manifest says %lld", (unsigned long long)p->received,
                    (long long)p->rel.size);
        return -1;
    }
    if (eota_ingest_check_md5(&p->ingest) != EOTA_OK) {
        pull_partial_drop(p);
        pull_fail(p, "version %s: the image's MD5 is not the manifest's %s", p->rel.version, p->rel.md5);
        return -1;
    }
    if (p->sha_seam.ops->finish(p->sha_seam.ctx, d) != EOTA_OK) {
        pull_fail_download(p, "SHA-256 unavailable");
        return -1;
    }
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    if (p->rel.sha256[0] && strcasecmp(hex, p->rel.sha256) != 0) {
        pull_fail_download(p, "SHA-256 mismatch: the manifest says %s, the image has %s", p->rel.sha256, hex);
        return -1;
    }
    return 0;
}

static void record(eota_pull *p)
{
    pull_record r;
    if (p->flash) /* no version to record: the manifest's decides again */
        return;
    memset(&r, 0, sizeof r);
    for (int s = 0; s < 2; s++) {
        eota_slot_info info;
        if (eota_bootstate_slot(&p->o.slots->bs, s, &info) == EOTA_SLOT_NEW) {
            r.slot = eota_slot_letter(s);
            r.size = info.size;
            r.crc = info.crc;
        }
    }
    snprintf(r.version, sizeof r.version, "%s", p->rel.version);
    if (r.slot)
        pull_record_write(p->o.slots->dir, &r);
}

int pull_commit_step(eota_pull *p)
{
    if (pull_download_pump(p) != 0) {
        pull_partial_drop(p);
        pull_fail(p, "writing version %s failed (see the error above)", p->rel.version);
        return 0;
    }
    if (eota_ingest_pending(&p->ingest) > 0)
        return 0;
    if (!p->checked && check_image(p) != 0)
        return 0;
    p->checked = 1;
    int st = eota_ingest_finish(&p->ingest);
    if (st == EOTA_AGAIN)
        return 0;
    if (st == EOTA_ESIGNATURE || st == EOTA_EDOWNGRADE) /* the image's own verdict: not fetched again */
        snprintf(p->refused_md5, sizeof p->refused_md5, "%s", p->rel.md5);
    pull_partial_drop(p); /* installed, or refused: not to be resumed */
    if (st != EOTA_OK) {
        pull_fail(p, "version %s was refused%s (see the error above)", p->rel.version,
                  st == EOTA_ESIGNATURE   ? " by the signature check"
                  : st == EOTA_EDOWNGRADE ? " as a downgrade"
                                          : ": committing it failed");
        return 0;
    }
    eota_ingest_completed(&p->ingest);
    record(p);
    LOGI(PULL_TAG, "Installed version %s (%llu bytes; size, MD5 and SHA-256 checked): rebooting into it on trial",
         p->rel.version, (unsigned long long)p->received);
    pull_schedule_ok(p);
    return 1;
}
