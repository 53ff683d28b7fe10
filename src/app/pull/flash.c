/*
 * flash.c: ESPHome's `ota.http_request.flash` action (pull.h): an image
 * named by an automation (url:, md5: or md5_url:, eota's sha256:) goes
 * through the very path of a pull update: the download into the ingest
 * (the same events, checks, signature check and resume), then the reboot
 * into it on trial. With md5_url: the MD5 is fetched first (ESPHome reads
 * the first 32 characters of that file).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "log.h"

#define FLASH_LABEL "(ota.http_request.flash)"

static size_t on_md5_body(char *data, size_t size, size_t n, void *ctx) { return pull_on_body(data, size, n, ctx); }

int eota_pull_flash_action(void *ctx, const eota_action *a)
{
    eota_pull *p = ctx;
    if (!p || p->state != PULL_IDLE || (p->o.upload_busy && p->o.upload_busy(p->o.ctx))) {
        LOGE(PULL_TAG, "ota.http_request.flash of %s: not started (%s)", a->url,
             !p ? "pull updates are off" : "another download, check or upload is in progress");
        return -1;
    }
    memset(&p->rel, 0, sizeof p->rel);
    snprintf(p->rel.version, sizeof p->rel.version, FLASH_LABEL);
    snprintf(p->rel.url, sizeof p->rel.url, "%s", a->url);
    snprintf(p->rel.md5, sizeof p->rel.md5, "%s", a->md5 ? a->md5 : "");
    snprintf(p->rel.sha256, sizeof p->rel.sha256, "%s", a->sha256 ? a->sha256 : "");
    p->rel.size = -1;
    p->flash = 1;
    p->have_release = 0; /* the manifest's release is read again at the next check */
    p->etag[0] = p->last_modified[0] = '\0';
    LOGI(PULL_TAG, "ota.http_request.flash: downloading %s%s%s", a->url, a->md5_url ? ", its MD5 from " : "",
         a->md5_url ? a->md5_url : "");
    if (!a->md5_url) {
        pull_download_start(p, 0);
        return 0;
    }
    CURL *e = pull_request(p, a->md5_url, NULL, NULL, on_md5_body);
    if (!e) {
        pull_fail(p, "out of memory for a request");
        return -1;
    }
    p->body_len = 0;
    p->body_too_big = 0;
    p->state = PULL_FETCHING_MD5;
    pull_http_begin(&p->http, e);
    return 0;
}

/* The first 32 characters of the body, when they are hex. */
static int md5_of_body(eota_pull *p)
{
    if (p->body_len < 32)
        return -1;
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)p->body[i]))
            return -1;
    snprintf(p->rel.md5, sizeof p->rel.md5, "%.32s", p->body);
    return 0;
}

void pull_flash_md5_done(eota_pull *p)
{
    char why[1024];
    long code = 0;
    CURLcode rc = p->http.result;
    char url[sizeof why];
    curl_easy_getinfo(p->http.easy, CURLINFO_RESPONSE_CODE, &code);
    const char *eff = NULL;
    curl_easy_getinfo(p->http.easy, CURLINFO_EFFECTIVE_URL, &eff);
    snprintf(url, sizeof url, "%s", eff ? eff : "md5_url");
    pull_http_end(&p->http);
    p->state = PULL_IDLE;
    if (rc != CURLE_OK) {
        pull_http_why(p->o.cfg, rc, url, why, sizeof why);
        pull_fail(p, "ota.http_request.flash: %s", why);
    } else if (code != 200) {
        pull_fail(p, "ota.http_request.flash: %s: HTTP %ld", url, code);
    } else if (md5_of_body(p) != 0) {
        pull_fail(p, "ota.http_request.flash: %s does not begin with an MD5 (32 hex digits)", url);
    } else if (p->o.upload_busy && p->o.upload_busy(p->o.ctx)) {
        pull_fail(p, "ota.http_request.flash: an upload began meanwhile: not started");
    } else {
        pull_download_start(p, 0);
    }
}
