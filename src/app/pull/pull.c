/*
 * pull.c: pull updates' life (pull.h, internal.h): start and stop, the
 * schedule (the first check at a random moment within 5 minutes or the
 * interval, so that a fleet powered up at once does not check at once; then every
 * update_interval within +-10 %, so that a fleet spreads its checks; after
 * a failure sooner, 10 s doubling up to the interval), the states run from
 * the device's poll loop, and the status other parts may show.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

#define RETRY_FIRST_MS 10000u
#define FIRST_SPREAD_MS 300000u /* the first check after a boot: within 5 min (or the interval) */
#define BUSY_RETRY_MS 5

uint64_t pull_now_ms(void) { return eota_posix_now_ms64(); }

/* ms within +-10 % of ms, at random. */
static uint64_t spread(uint64_t ms) { return ms - ms / 10 + (ms / 5 ? arc4random_uniform((uint32_t)(ms / 5) + 1) : 0); }

static void schedule(eota_pull *p, uint64_t ms)
{
    p->state = PULL_IDLE;
    p->flash = 0;
    p->next_at = p->o.cfg->update.present ? pull_now_ms() + spread(ms) : UINT64_MAX; /* no polling */
}

void pull_schedule_ok(eota_pull *p)
{
    p->failures = 0;
    p->status.last_error[0] = '\0';
    schedule(p, p->o.cfg->update.update_interval_ms);
    if (p->next_at != UINT64_MAX)
        LOGD(PULL_TAG, "Next check in %.1f s", (double)(p->next_at - pull_now_ms()) / 1000.0);
}

void pull_skip(eota_pull *p, const char *fmt, ...)
{
    char msg[sizeof p->status.last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pull_schedule_ok(p);
    snprintf(p->status.last_error, sizeof p->status.last_error, "%s", msg);
    LOGW(PULL_TAG, "Update skipped: %s", msg);
}

void pull_fail(eota_pull *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->status.last_error, sizeof p->status.last_error, fmt, ap);
    va_end(ap);
    uint64_t interval = p->o.cfg->update.update_interval_ms;
    uint64_t backoff = (uint64_t)RETRY_FIRST_MS << (p->failures < 12 ? p->failures : 12);
    p->failures++;
    schedule(p, backoff < interval ? backoff : interval);
    if (p->next_at == UINT64_MAX) /* no update: entry: a flash action failed */
        LOGE(PULL_TAG, "Update failed: %s", p->status.last_error);
    else
        LOGE(PULL_TAG, "Update check failed: %s; next check in %.1f s", p->status.last_error,
         (double)(p->next_at - pull_now_ms()) / 1000.0);
}

/* ESPHome's chipFamily names: ESP32, ESP32-C3, ESP8266, RP2040, BK72XX... */
static void chip_family(const eota_config *cfg, char *out, size_t len)
{
    const char *v = cfg->update.chip_family ? cfg->update.chip_family
                    : cfg->variant             ? cfg->variant
                                               : cfg->profile->platform;
    size_t n = 0;
    for (; *v && n + 2 < len; v++) {
        if (!cfg->update.chip_family && n == 5 && !strncmp(out, "ESP32", 5))
            out[n++] = '-';
        out[n++] = (char)toupper((unsigned char)*v);
    }
    out[n] = '\0';
}

static void on_ingest_event(void *ctx, const eota_event *ev)
{
    eota_pull *p = ctx;
    if (p->o.on_event)
        p->o.on_event(p->o.ctx, ev);
}

static int init(eota_pull *p)
{
    if (!(p->buf = malloc(PULL_BUF_CAP)) || !(p->body = malloc(PULL_MANIFEST_MAX)) ||
        eota_posix_hash_init(&p->md5) != EOTA_OK || eota_posix_hash_init(&p->sha) != EOTA_OK ||
        pull_http_init(&p->http) != 0)
        return -1;
    p->sha_seam = eota_posix_hash_seam(&p->sha);
    eota_ingest_config ic = {p->o.storage->backend, eota_posix_clock(), {on_ingest_event, NULL, p},
                             eota_posix_hash_seam(&p->md5), p->o.cfg->profile->too_big_code};
    return eota_ingest_init(&p->ingest, &ic) == EOTA_OK ? 0 : -1;
}

int eota_pull_start(eota_pull **out, const eota_pull_opts *o)
{
    *out = NULL;
    const eota_update_config *u = &o->cfg->update;
    if (!o->cfg->ota_http_request)
        return 0;
    eota_pull *p = calloc(1, sizeof *p);
    if (!p || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "eota device: pull updates: out of memory\n");
        free(p);
        return -1;
    }
    p->o = *o;
    p->partial_fd = -1;
    if (init(p) != 0) {
        fprintf(stderr, "eota device: pull updates: out of memory (or no OpenSSL hash, no curl)\n");
        eota_pull_stop(p);
        return -1;
    }
    chip_family(o->cfg, p->family, sizeof p->family);
    p->ntrusted = pull_trusted_ids(o->cfg, p->trusted, EOTA_SIG_KEYS_MAX);
    *out = p;
    if (!u->present) {
        p->next_at = UINT64_MAX;
        LOGI(PULL_TAG, "ota.http_request.flash ready (no update: entry: no polling)");
        return 0;
    }
    uint32_t first = u->update_interval_ms < FIRST_SPREAD_MS ? u->update_interval_ms : FIRST_SPREAD_MS;
    p->next_at = pull_now_ms() + arc4random_uniform(first + 1);
    LOGI(PULL_TAG, "Pull updates from %s every %.1f s (chip family %s, compare %s, TLS checks %s); first check in %.1f s",
         u->source, u->update_interval_ms / 1000.0, p->family, u->compare == EOTA_UPDATE_STRING ? "string" : "semver",
         o->cfg->http_request.verify_ssl ? "on" : "OFF", (double)(p->next_at - pull_now_ms()) / 1000.0);
    return 0;
}

void eota_pull_stop(eota_pull *p)
{
    if (!p)
        return;
    if (eota_pull_busy(p)) {
        LOGW(PULL_TAG, "Download of version %s stopped by the shutdown after %llu bytes%s", p->rel.version,
             (unsigned long long)p->received, p->partial_fd >= 0 ? " (kept: it resumes after the restart)" : "");
        pull_download_abort(p);
    }
    pull_partial_close(p);
    pull_http_free(&p->http);
    curl_slist_free_all(p->headers);
    eota_posix_hash_free(&p->md5);
    eota_posix_hash_free(&p->sha);
    free(p->buf);
    free(p->body);
    free(p);
    curl_global_cleanup();
}

int eota_pull_pollfds(eota_pull *p, struct pollfd *pfd, int max)
{
    int n = 0;
    for (int i = 0; p && p->http.easy && i < p->http.nsocks && n < max; i++)
        pfd[n++] = p->http.socks[i];
    return n;
}

long eota_pull_timeout_ms(eota_pull *p)
{
    if (!p)
        return -1;
    if (p->http.done)
        return 0; /* the transfer ended inside a perform: its end is handled at once */
    if (p->state == PULL_COMMITTING || eota_ingest_pending(&p->ingest) > 0)
        return BUSY_RETRY_MS;
    if (p->state == PULL_REPLAYING)
        return 0;
    if (p->state == PULL_CHECKING || p->state == PULL_DOWNLOADING || p->state == PULL_FETCHING_MD5) {
        long t = -1;
        curl_multi_timeout(p->http.multi, &t);
        return t;
    }
    uint64_t now = pull_now_ms();
    if (p->next_at == UINT64_MAX)
        return -1;
    return p->next_at > now ? (long)(p->next_at - now) : 0;
}

static void replay(eota_pull *p)
{
    int r = pull_partial_replay(p);
    if (r > 0)
        pull_download_start(p, 1);
    else if (r < 0)
        pull_fail_download(p, "the bytes kept from before the restart could not be used");
}

int eota_pull_run(eota_pull *p)
{
    if (!p)
        return 0;
    int due = pull_now_ms() >= p->next_at;
    switch (p->state) {
    case PULL_IDLE:
        if (due)
            pull_check_start(p);
        break;
    case PULL_RESUME_WAIT:
        if (due)
            pull_download_start(p, 1);
        break;
    case PULL_CHECKING:
    case PULL_FETCHING_MD5:
        pull_http_perform(&p->http);
        if (p->http.done)
            (p->state == PULL_CHECKING ? pull_check_done : pull_flash_md5_done)(p);
        break;
    case PULL_DOWNLOADING:
        if (pull_download_pump(p) == 0)
            pull_http_perform(&p->http);
        if (p->http.done || p->write_failed)
            pull_download_ended(p);
        break;
    case PULL_COMMITTING: return pull_commit_step(p);
    case PULL_REPLAYING: replay(p); break;
    }
    return 0;
}

int eota_pull_busy(const eota_pull *p)
{
    return p && (p->state == PULL_DOWNLOADING || p->state == PULL_RESUME_WAIT || p->state == PULL_COMMITTING ||
                 p->state == PULL_REPLAYING);
}

const eota_pull_status *eota_pull_get_status(const eota_pull *p) { return p ? &p->status : NULL; }
