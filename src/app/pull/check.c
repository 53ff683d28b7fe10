/*
 * check.c: a check for updates (internal.h): the manifest fetched with a
 * conditional request (If-None-Match with its ETag, or If-Modified-Since),
 * so that a check that finds nothing new costs the server one 304; then
 * the decision: a version newer than the installed one (semver, or
 * ESPHome's plain inequality with compare: string), not the release a
 * rollback rejected, not one the signature check would refuse (trust.c)
 * or refused already, starts the download.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "internal.h"
#include "log.h"
#include "sign/sig_stack.h"

/* Copy a header's value (trimmed) into dst when its name is name. */
static int header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return 0;
    const char *v = line + nl, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
        e--;
    snprintf(dst, cap, "%.*s", (int)(e - v), v);
    return 1;
}

size_t pull_on_header(char *data, size_t size, size_t n, void *ctx)
{
    eota_pull *p = ctx;
    size_t len = size * n;
    char range[128];
    if (len >= 5 && !strncmp(data, "HTTP/", 5)) { /* a new response (after a redirect too) */
        p->hdr_etag[0] = p->hdr_lm[0] = '\0';
        p->hdr_range_start = -1;
    }
    if (!header_value(data, len, "etag:", p->hdr_etag, sizeof p->hdr_etag) &&
        !header_value(data, len, "last-modified:", p->hdr_lm, sizeof p->hdr_lm) &&
        header_value(data, len, "content-range:", range, sizeof range))
        p->hdr_range_start = sscanf(range, "bytes %lld-", &p->hdr_range_start) == 1 ? p->hdr_range_start : -1;
    return len;
}

size_t pull_on_body(char *data, size_t size, size_t n, void *ctx)
{
    eota_pull *p = ctx;
    size_t len = size * n;
    if (p->body_len + len > PULL_MANIFEST_MAX) {
        p->body_too_big = 1;
        return 0;
    }
    memcpy(p->body + p->body_len, data, len);
    p->body_len += len;
    return len;
}

CURL *pull_request(eota_pull *p, const char *url, const char *h1, const char *h2,
                   size_t (*on_data)(char *, size_t, size_t, void *))
{
    CURL *e = pull_http_easy(p->o.cfg, url);
    curl_slist_free_all(p->headers);
    p->headers = NULL;
    if (h1 && *h1)
        p->headers = curl_slist_append(p->headers, h1);
    if (h2 && *h2)
        p->headers = curl_slist_append(p->headers, h2);
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, pull_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    return e;
}

void pull_check_start(eota_pull *p)
{
    const char *src = p->o.cfg->update.source;
    char h[400] = "";
    if (p->etag[0])
        snprintf(h, sizeof h, "If-None-Match: %s", p->etag);
    else if (p->last_modified[0])
        snprintf(h, sizeof h, "If-Modified-Since: %s", p->last_modified);
    CURL *e = pull_request(p, src, h, NULL, pull_on_body);
    if (!e) {
        pull_fail(p, "out of memory for a request");
        return;
    }
    p->body_len = 0;
    p->body_too_big = 0;
    p->state = PULL_CHECKING;
    p->status.last_check = (int64_t)time(NULL);
    LOGD(PULL_TAG, "Checking %s%s", src, h[0] ? " (conditional)" : "");
    pull_http_begin(&p->http, e);
}

/* Does the record speak of the image in its slot now? The slot's state. */
static eota_slot_state record_holds(eota_pull *p, char slot, pull_record *rec)
{
    eota_slot_info info;
    pull_record_read(p->o.slots->dir, slot, rec);
    eota_slot_state st = eota_bootstate_slot(&p->o.slots->bs, slot - 'a', &info);
    if (!rec->slot || info.size != rec->size || info.crc != rec->crc)
        rec->slot = 0;
    return st;
}

/* The running image's version (NULL: unknown) and the release a rollback
 * rejected in the other slot ("" none), from the records and the boot state. */
static const char *installed(eota_pull *p, pull_record *cur, pull_record *other, const char **rejected)
{
    char active = p->o.slots->active;
    *rejected = "";
    if (!active)
        return NULL;
    record_holds(p, active, cur);
    if (record_holds(p, active == 'a' ? 'b' : 'a', other) == EOTA_SLOT_INVALID && other->slot)
        *rejected = other->version;
    return cur->slot ? cur->version : p->o.cfg->project_version;
}

/* 1: avail is newer than have; 0: not; -1: not comparable (failed). */
static int newer(eota_pull *p, const char *avail, const char *have)
{
    if (!have)
        return 1;
    if (p->o.cfg->update.compare == EOTA_UPDATE_STRING)
        return strcmp(avail, have) != 0;
    int c = pull_semver_cmp(avail, have);
    if (c == -2)
        pull_fail(p, "the version '%s' or the installed '%s' is not a semantic version (compare: string takes any)",
                  avail, have);
    return c == -2 ? -1 : c > 0;
}

/* A release the device will not fetch: why (in buf), or NULL. */
static const char *skip_reason(eota_pull *p, char *buf, size_t len)
{
    eota_sig_running run;
    if (p->refused_md5[0] && !strcmp(p->refused_md5, p->rel.md5)) {
        snprintf(buf, len, "its image (md5 %s) was refused by the signature check already", p->rel.md5);
        return buf;
    }
    eota_sig_stack_slot_record(p->o.slots, p->o.slots->active, &run);
    return pull_trust_refusal(p->o.cfg, &p->rel, p->trusted, p->ntrusted, &run, buf, len);
}

static void decide(eota_pull *p)
{
    char why[400];
    pull_record cur, other;
    const char *rejected, *have = installed(p, &cur, &other, &rejected);
    const char *avail = p->rel.version;
    snprintf(p->status.available, sizeof p->status.available, "%s", avail);
    snprintf(p->status.installed, sizeof p->status.installed, "%s", have ? have : "");
    int nw = newer(p, avail, have);
    if (nw < 0)
        return;
    if (nw && *rejected && newer(p, avail, rejected) != 1) {
        LOGI(PULL_TAG, "Version %s was rolled back on this device: skipped until a newer one appears", avail);
        nw = 0;
    }
    if (nw && strcmp(p->announced, avail) != 0) { /* ESPHome's trigger, once a version */
        snprintf(p->announced, sizeof p->announced, "%s", avail);
        if (p->o.update_available)
            p->o.update_available(p->o.ctx, avail);
        if (p->state != PULL_IDLE)
            return; /* its automation started ota.http_request.flash: that download instead */
    }
    if (!nw) {
        LOGD(PULL_TAG, "Up to date: the manifest has %s, installed %s", avail, have);
        pull_schedule_ok(p);
    } else if (skip_reason(p, why, sizeof why)) {
        pull_skip(p, "version %s is not downloaded: %s", avail, why);
    } else if (p->o.upload_busy && p->o.upload_busy(p->o.ctx)) {
        pull_fail(p, "version %s is available but an upload is in progress", avail);
    } else {
        LOGI(PULL_TAG, "Update available: %s (installed %s): downloading %s", avail, have ? have : "unknown",
             p->rel.url);
        pull_download_start(p, 0);
    }
}

static void manifest_arrived(eota_pull *p)
{
    char err[600];
    const eota_config *cfg = p->o.cfg;
    const char *family = p->family;
    if (pull_manifest_parse(p->body, p->body_len, cfg->update.source, family, &p->rel, err, sizeof err) != 0) {
        p->have_release = 0;
        p->etag[0] = p->last_modified[0] = '\0';
        pull_fail(p, "%s: %s", cfg->update.source, err);
        return;
    }
    p->have_release = 1;
    snprintf(p->etag, sizeof p->etag, "%s", p->hdr_etag);
    snprintf(p->last_modified, sizeof p->last_modified, "%s", p->hdr_lm);
    decide(p);
}

void pull_check_done(eota_pull *p)
{
    char why[1024];
    long code = 0;
    CURLcode rc = p->http.result;
    const char *src = p->o.cfg->update.source;
    curl_easy_getinfo(p->http.easy, CURLINFO_RESPONSE_CODE, &code);
    pull_http_end(&p->http);
    p->state = PULL_IDLE;
    if (p->body_too_big)
        pull_fail(p, "%s: the manifest is larger than %u bytes", src, PULL_MANIFEST_MAX);
    else if (rc != CURLE_OK) {
        pull_http_why(p->o.cfg, rc, src, why, sizeof why);
        pull_fail(p, "%s", why);
    } else if (code == 304 && p->have_release) {
        LOGD(PULL_TAG, "%s: not modified (304)", src);
        decide(p);
    } else if (code == 200) {
        manifest_arrived(p);
    } else {
        p->etag[0] = p->last_modified[0] = '\0';
        pull_fail(p, "%s: HTTP %ld%s", src, code, code == 404 ? " (not found)" : code >= 500 ? " (server error)" : "");
    }
}
