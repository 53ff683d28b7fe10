/*
 * transport_web.c: the web server transport (transport.h, PROTOCOL.md
 * section 9): each attempt is one POST /update through libcurl's multi
 * interface (web_post.c), all of a fleet's transfers in one multi handle,
 * waited on in curl_multi_poll. HTTP has no feature exchange: the image
 * goes as it is, or its gzip with --compress always. An HTTP answer is
 * never retried; network errors are, as for native OTA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload/run.h"
#include "upload/util.h"
#include "upload/web_post.h"

typedef struct web_run {
    up_web_multi *wm;
    const char *username;   /* NULL: no credentials */
    const char *password;
    up_web_auth auth;
    const uint8_t *data;    /* what goes in the form part */
    size_t len;
    int gzip;
    char *filename;
} web_run;

typedef struct web_job {
    up_web_xfer *wx;        /* the transfer of the current attempt */
    up_web_result wres;     /* the result of the last one */
    int announced;
} web_job;

/* ------------------------------------------------------------------ */
/* the run                                                             */
/* ------------------------------------------------------------------ */

static int check_config(up_run *r)
{
    if (r->cfg.ota_web_server)
        return 0;
    fprintf(stderr,
            "eota upload: %s has no ota: entry with platform: web_server; the device would answer "
            "404 to POST /update\n",
            r->config_path);
    return -1;
}

/* The device's web port as its config sets it: the reader resolves
 * web_server: port: (given, else 80 on chip profiles and 8080 on host:, as
 * eota device listens); 0 would mean a reader that left it unset. */
static uint16_t config_web_port(const eota_config *cfg)
{
    if (cfg->web_server.port)
        return cfg->web_server.port;
    return cfg->profile ? cfg->profile->default_web_port : UP_DEFAULT_WEB_PORT;
}

/* Username and password: the options, EOTA_WEB_PASSWORD, the config's
 * web_server: auth:. -1, or the exit code of a usage error. */
static int settle_credentials(up_run *r, web_run *w)
{
    const up_opts *o = &r->opt;
    int cfg_auth = r->have_cfg && r->cfg.web_server.has_auth;
    w->username = o->web_username ? o->web_username : cfg_auth ? r->cfg.web_server.username : NULL;
    if (o->web_password)
        w->password = o->web_password;
    else if (w->username && getenv("EOTA_WEB_PASSWORD"))
        w->password = getenv("EOTA_WEB_PASSWORD");
    else if (cfg_auth)
        w->password = r->cfg.web_server.password;
    if (w->username && !w->password)
        return up_usage_error("--web-username needs a password: --web-password, EOTA_WEB_PASSWORD or the config's "
                              "web_server: auth:");
    if (!w->username && o->web_password)
        return up_usage_error("--web-password needs --web-username (or the config's web_server: auth:)");
    if (o->web_auth >= 0)
        w->auth = (up_web_auth)o->web_auth;
    else if (cfg_auth && !o->web_username)
        w->auth = r->cfg.web_server.auth_type == EOTA_WEB_AUTH_DIGEST ? UP_WEB_AUTH_DIGEST : UP_WEB_AUTH_BASIC;
    else
        w->auth = UP_WEB_AUTH_ANY;
    return -1;
}

static int configure(up_run *r)
{
    const up_opts *o = &r->opt;
    if (o->ota_type >= 0 && o->ota_type != (int)EOTA_OTA_TYPE_APP)
        return up_usage_error("--ota-type: a web upload installs the application only");
    if (o->key || o->key_file || o->previous_keys.n || o->allow_plaintext)
        return up_usage_error("--key, --key-file, --previous-key and --allow-plaintext go with native OTA (Noise); "
                              "a web upload is plain HTTP");
    web_run *w = up_xcalloc(1, sizeof *w);
    r->tp_state = w;
    int rc = settle_credentials(r, w);
    if (rc >= 0)
        return rc;
    r->default_port = (uint16_t)(o->web_port > 0 ? o->web_port
                                 : o->port > 0   ? o->port
                                 : r->have_cfg   ? config_web_port(&r->cfg)
                                                 : UP_DEFAULT_WEB_PORT);
    return -1;
}

/* --compress always: the gzip, for devices that inflate it by its magic. */
static void use_gzip(up_run *r, web_run *w)
{
    char err[256], a[32], b[32];
    if (up_image_compress(&r->img, err, sizeof err) != 0) {
        up_shout(&r->con, "eota upload: %s; sending the image uncompressed", err);
        return;
    }
    up_human_bytes(a, sizeof a, r->img.size);
    up_human_bytes(b, sizeof b, r->img.gz_size);
    up_say(&r->con, "compressed the image: %s -> %s (%.0f%%) in %.2f s", a, b,
           100.0 * (double)r->img.gz_size / (double)r->img.size, r->img.compress_seconds);
    w->data = r->img.gz;
    w->len = r->img.gz_size;
    w->gzip = 1;
}

static int prepare(up_run *r, char *err, size_t errlen)
{
    web_run *w = r->tp_state;
    w->data = r->img.data;
    w->len = r->img.size;
    if (r->opt.compress == UP_COMPRESS_ALWAYS)
        use_gzip(r, w);
    const char *base = strrchr(r->firmware, '/');
    base = base ? base + 1 : r->firmware;
    size_t l = strlen(base) + 4;
    w->filename = up_xcalloc(1, l);
    snprintf(w->filename, l, "%s%s", base, w->gzip ? ".gz" : "");
    w->wm = up_web_multi_new(err, errlen);
    return w->wm ? 0 : -1;
}

static void release(up_run *r)
{
    web_run *w = r->tp_state;
    if (!w)
        return;
    up_web_multi_free(w->wm);
    free(w->filename);
    free(w);
    r->tp_state = NULL;
}

/* ------------------------------------------------------------------ */
/* a job                                                               */
/* ------------------------------------------------------------------ */

static int job_init(up_run *r, up_job *j)
{
    const web_run *w = r->tp_state;
    j->tx = up_xcalloc(1, sizeof(web_job));
    j->res.gzip = w->gzip;
    j->res.phase = "resolve"; /* where a job stops before its first attempt */
    j->res.http = 1;
    snprintf(j->res.label, sizeof j->res.label, "web");
    return 0;
}

static void job_free(up_run *r, up_job *j)
{
    web_job *wj = j->tx;
    const web_run *w = r->tp_state;
    if (wj->wx)
        up_web_free(w->wm, wj->wx);
    free(wj);
    j->tx = NULL;
}

/* The step a web attempt ended in: connect (no connection), request (an
 * answer before any body byte), data (in the body), reply (after it). */
static const char *web_phase(const up_web_result *wr)
{
    if (!wr->connected)
        return "connect";
    if (wr->all_sent)
        return "reply";
    return wr->body_sent ? "data" : "request";
}

static eota_client_error error_class(up_web_outcome o)
{
    switch (o) {
    case UP_WEB_OK: return EOTA_CLIENT_OK;
    case UP_WEB_REFUSED: return EOTA_CLIENT_ERR_REFUSED;
    case UP_WEB_UNREACHABLE: return EOTA_CLIENT_ERR_UNREACHABLE;
    case UP_WEB_TIMEOUT: return EOTA_CLIENT_ERR_TIMEOUT;
    case UP_WEB_CLOSED: return EOTA_CLIENT_ERR_CLOSED;
    case UP_WEB_IO: return EOTA_CLIENT_ERR_IO;
    case UP_WEB_PROTOCOL: return EOTA_CLIENT_ERR_PROTOCOL;
    case UP_WEB_HTTP: return EOTA_CLIENT_ERR_DEVICE; /* an answer: never retried */
    default: return EOTA_CLIENT_ERR_CANCELLED;
    }
}

/* The attempt's end, from wj->wres, to the job (which may free it). */
static void attempt_ended(up_run *r, up_job *j)
{
    const web_job *wj = j->tx;
    const up_web_result *wr = &wj->wres;
    up_result *res = &j->res;
    if (r->opt.verbose && wr->http_status)
        up_say(&r->con, "%s: HTTP %ld: %s", j->spec, wr->http_status, wr->reply);
    up_result_blank(res);
    res->err = error_class(wr->outcome);
    res->sys_err = res->err == EOTA_CLIENT_OK ? 0 : wr->sys_err;
    res->connected = wr->connected;
    res->all_sent = wr->all_sent;
    res->error = up_web_outcome_name(wr->outcome);
    res->phase = web_phase(wr);
    res->sent = wr->body_sent;
    res->size = wr->body_size;
    res->gzip = ((const web_run *)r->tp_state)->gzip;
    res->auth = wr->connected ? wr->auth_used : NULL;
    res->received = wr->all_sent && wr->http_status;
    res->http = 1;
    res->http_status = wr->http_status;
    snprintf(res->reply, sizeof res->reply, "%s", wr->reply);
    snprintf(res->label, sizeof res->label, "web");
    up_job_attempt_ended(r, j);
}

static const char *credential_words(const web_run *w)
{
    if (!w->username)
        return "no credentials";
    switch (w->auth) {
    case UP_WEB_AUTH_BASIC: return "basic authentication";
    case UP_WEB_AUTH_DIGEST: return "digest authentication";
    default: return "basic or digest authentication";
    }
}

static void announce(up_run *r, up_job *j, const char *url)
{
    const web_run *w = r->tp_state;
    web_job *wj = j->tx;
    if (!r->opt.verbose && (r->njobs != 1 || wj->announced))
        return;
    char sz[32];
    up_human_bytes(sz, sizeof sz, w->len);
    up_say(&r->con, "%s: POST %s, %s; sending %s%s", j->spec, url, credential_words(w), sz,
           w->gzip ? " (gzip)" : "");
    wj->announced = 1;
}

static void start(up_run *r, up_job *j)
{
    const web_run *w = r->tp_state;
    web_job *wj = j->tx;
    const up_addr *a = up_job_addr(j);
    char url[INET6_ADDRSTRLEN + 40], err[256];
    memset(&wj->wres, 0, sizeof wj->wres);
    if (a->sa.ss_family == AF_INET6)
        snprintf(url, sizeof url, "http://[%s]:%u/update", a->ip, a->port);
    else
        snprintf(url, sizeof url, "http://%s:%u/update", a->ip, a->port);
    up_web_params p = {
        .url = url, .filename = w->filename, .data = w->data, .len = w->len,
        .username = w->username, .password = w->password, .auth = w->auth,
        .connect_ms = r->opt.handshake_ms, .idle_ms = r->opt.data_ms, .verbose = r->opt.verbose > 1, .user = j,
    };
    announce(r, j, url);
    wj->wx = up_web_start(w->wm, &p, err, sizeof err);
    if (!wj->wx) {
        wj->wres.outcome = UP_WEB_INTERNAL;
        snprintf(wj->wres.curl_msg, sizeof wj->wres.curl_msg, "%s", err);
        attempt_ended(r, j);
    }
}

/* ------------------------------------------------------------------ */
/* the loop's side                                                     */
/* ------------------------------------------------------------------ */

/* libcurl keeps the transfers' descriptors and timeouts itself. */
static int want(up_run *r, up_job *j, uint64_t now, struct pollfd *pfd, long *timeout_ms)
{
    (void)r, (void)j, (void)now, (void)pfd;
    *timeout_ms = -1;
    return 0;
}

static void transfer_done(up_run *r, up_job *j)
{
    const web_run *w = r->tp_state;
    web_job *wj = j->tx;
    wj->wres = *up_web_result_of(wj->wx);
    up_web_free(w->wm, wj->wx);
    wj->wx = NULL;
    attempt_ended(r, j);
}

static int wait_multi(up_run *r, struct pollfd *fds, size_t n, long timeout_ms)
{
    const web_run *w = r->tp_state;
    int pr = up_web_poll(w->wm, fds, n, timeout_ms);
    if (pr < 0 && errno != EINTR)
        return pr;
    int saved = errno;
    up_web_xfer *wx;
    while ((wx = up_web_next_done(w->wm)))
        transfer_done(r, up_web_user(wx));
    errno = saved;
    return pr;
}

static void ready(up_run *r, up_job *j, short revents) { (void)r, (void)j, (void)revents; }

static void step(up_run *r, up_job *j) { (void)r, (void)j; }

static up_stage progress(const up_run *r, const up_job *j, uint64_t *done, uint64_t *total)
{
    const web_job *wj = j->tx;
    (void)r;
    if (!wj->wx) {
        *done = 0;
        *total = j->res.size;
        return UP_STAGE_IDLE;
    }
    up_web_progress(wj->wx, done, total);
    return *total && *done >= *total ? UP_STAGE_ANSWER : UP_STAGE_SENDING;
}

static void describe_ok(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const web_run *w = r->tp_state;
    const web_job *wj = j->tx;
    const up_addr *a = up_job_addr(j);
    const char *au = wj->wres.auth_used;
    int creds = strcmp(au, "none") != 0;
    char sent[32];
    up_human_bytes(sent, sizeof sent, w->len);
    snprintf(out, outlen, "installed: %s%s in %.1f s over the web server (HTTP 200 \"%s\"), %s%s, %s", sent,
             w->gzip ? " (gzip)" : "", up_job_seconds(j), UP_WEB_SUCCESS_TEXT, creds ? au : "no credentials",
             creds ? " authentication" : "", a ? a->show : "?");
}

static void describe_failure(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const web_run *w = r->tp_state;
    const web_job *wj = j->tx;
    const up_addr *a = up_job_addr(j);
    up_web_describe_ctx c = {
        .show = a ? a->show : "?", .port = a ? a->port : 0, .have_credentials = w->username != NULL,
        .auth = w->auth, .connect_ms = r->opt.handshake_ms, .idle_ms = r->opt.data_ms,
    };
    up_web_describe(&wj->wres, &c, out, outlen);
}

const up_transport up_transport_web = {
    .name = "web_server", .check_config = check_config, .configure = configure, .prepare = prepare,
    .release = release, .job_init = job_init, .job_free = job_free, .start = start, .want = want,
    .wait = wait_multi, .ready = ready, .step = step, .progress = progress,
    .describe_ok = describe_ok, .describe_failure = describe_failure,
};
