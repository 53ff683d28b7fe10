/*
 * transport_native.c: the native OTA transport (transport.h): one uploader
 * engine (src/core/client.c) per job over a non-blocking socket
 * (native_connect.c), all waited on in one poll(). The image is offered as
 * gzip when a trial said it pays, and compressed once, when the first
 * device accepts it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upload/transport_native.h"
#include "upload/util.h"

#define JOB_BUFFER (16u * 1024u)
#define GZIP_MIN_SAVING 0.10 /* gzip only when the trial saves at least 10% */

/* ------------------------------------------------------------------ */
/* the run                                                             */
/* ------------------------------------------------------------------ */

static int check_config(up_run *r)
{
    if (r->cfg.ota.present)
        return 0;
    fprintf(stderr,
            "eota upload: %s has no ota: entry with platform: esphome; the device would not serve "
            "the native OTA protocol%s\n",
            r->config_path,
            r->cfg.ota_web_server ? " (it has platform: web_server: use --ota-platform web_server)" : "");
    return -1;
}

static int configure(up_run *r)
{
    const up_opts *o = &r->opt;
    if (o->web_username || o->web_password || o->web_auth >= 0 || o->web_port > 0)
        return up_usage_error("--web-username, --web-password, --web-auth and --web-port go with --ota-platform "
                              "web_server");
    r->tp_state = up_xcalloc(1, sizeof(up_nat_run));
    r->default_port = (uint16_t)(o->port > 0 ? o->port : r->have_cfg ? r->cfg.ota.port : UP_DEFAULT_PORT);
    return -1;
}

static int prepare(up_run *r, char *err, size_t errlen)
{
    up_nat_run *nr = r->tp_state;
    (void)err, (void)errlen;
    if (r->opt.compress == UP_COMPRESS_ALWAYS) {
        nr->offer_gzip = 1;
    } else if (r->opt.compress == UP_COMPRESS_AUTO) {
        double ratio = up_image_trial(&r->img);
        nr->offer_gzip = ratio <= 1.0 - GZIP_MIN_SAVING;
        if (r->opt.verbose || !nr->offer_gzip)
            up_say(&r->con, "gzip trial on %zu KiB of the image: %.0f%% of the size in %.3f s; %s",
                   r->img.trial_bytes / 1024, ratio * 100.0, r->img.trial_seconds,
                   nr->offer_gzip ? "gzip offered to devices that accept it" : "it does not pay, sending raw");
    }
    return 0;
}

static void release(up_run *r)
{
    free(r->tp_state);
    r->tp_state = NULL;
}

/* ------------------------------------------------------------------ */
/* a job                                                               */
/* ------------------------------------------------------------------ */

/* probe: no image at all, so that the engine stops after the handshake. */
static int setup_engine(up_run *r, up_nat_job *n, int probe)
{
    if (eota_posix_hash_init(&n->hash) != EOTA_OK)
        return -1;
    n->hash_ok = 1;
    if (r->nkeys && eota_posix_noise_crypto_init(&n->noise) != EOTA_OK)
        return -1;
    if (r->nkeys)
        up_nat_conn_cork(&n->conn); /* 1 KiB frames: one send per 16 KiB */
    n->buf = up_xcalloc(1, JOB_BUFFER);
    const up_nat_run *nr = r->tp_state;
    eota_client_config cc = {
        .transport = &up_nat_conn_ops,
        .clock = eota_posix_clock(),
        .random = eota_posix_random(),
        .hash = eota_posix_hash_seam(&n->hash),
        .password = r->passwords[0],
        .features = EOTA_FEATURES_STOCK_CLIENT,
        .offer_gzip = (uint8_t)nr->offer_gzip,
        .ota_type = (uint8_t)(r->opt.ota_type < 0 ? (int)EOTA_OTA_TYPE_APP : r->opt.ota_type),
        .window = (uint16_t)r->opt.window,
        .handshake_timeout_ms = r->opt.handshake_ms,
        .data_timeout_ms = r->opt.data_ms,
        .image = up_image_raw(&r->img),
        .gzip_image = up_image_gzip(&r->img), /* empty until compressed */
        .noise_key = r->nkeys ? r->keys[0] : NULL,
        .noise_fallback = (uint8_t)(!r->key_strict || r->opt.allow_plaintext),
        .noise_crypto = eota_posix_noise_crypto_seam(&n->noise),
    };
    if (probe)
        cc.image = cc.gzip_image = (eota_client_image){0};
    if (eota_client_init(&n->cl, &cc, n->buf, JOB_BUFFER) != EOTA_OK)
        return -1; /* a password longer than EOTA_PASSWORD_MAX: refused before */
    n->engine_ok = 1;
    return 0;
}

/* j->res from the engine's report of the attempt (of the one before, when
 * this one did not get as far as the engine). */
static void fill_result(up_job *j, eota_client_error e, int sys_err, int connected)
{
    const up_nat_job *n = up_nat_of(j);
    up_result *res = &j->res;
    eota_client_report rep;
    memset(&rep, 0, sizeof rep);
    if (n->engine_ok)
        eota_client_get_report(&n->cl, &rep);
    up_result_blank(res);
    res->err = e;
    res->sys_err = sys_err;
    res->connected = connected;
    res->all_sent = rep.all_sent;
    res->phase = eota_client_phase_name(n->phase);
    if (e == EOTA_CLIENT_ERR_DEVICE || e == EOTA_CLIENT_ERR_PROTOCOL || e == EOTA_CLIENT_ERR_VERSION)
        res->code = n->code;
    if (e == EOTA_CLIENT_ERR_DEVICE) {
        const char *name = eota_response_name(n->code);
        if (name)
            snprintf(res->code_name, sizeof res->code_name, "%s", name);
        else
            snprintf(res->code_name, sizeof res->code_name, "UNKNOWN_0x%02X", n->code);
    }
    res->sent = rep.sent;
    res->size = rep.size;
    res->gzip = rep.gzip_sent;
    res->version = rep.version;
    if (rep.feature_reply && (rep.auth != EOTA_AUTH_NONE || rep.phase > EOTA_CLIENT_PH_AUTH))
        res->auth = up_nat_auth_name(rep.auth);
    res->server_flags = rep.extended ? rep.server_flags : -1;
    res->authenticated = rep.auth != EOTA_AUTH_NONE;
    res->received = rep.received;
    res->encrypted = rep.encrypted;
    if (rep.encrypted)
        res->auth = "noise";
    snprintf(res->label, sizeof res->label, "v%u", rep.version);
}

static int job_init(up_run *r, up_job *j)
{
    up_nat_job *n = up_xcalloc(1, sizeof *n);
    n->conn.pc.fd = -1;
    j->tx = n;
    fill_result(j, EOTA_CLIENT_OK, 0, 0);
    if (setup_engine(r, n, j->probing) != 0) {
        j->res.err = EOTA_CLIENT_ERR_CRYPTO;
        return -1;
    }
    return 0;
}

static void job_free(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    (void)r;
    if (n->conn.pc.fd >= 0)
        close(n->conn.pc.fd);
    if (n->hash_ok)
        eota_posix_hash_free(&n->hash);
    eota_posix_noise_crypto_free(&n->noise);
    up_nat_conn_free(&n->conn);
    memset(&n->cl, 0, sizeof n->cl); /* its copy of the key */
    free(n->buf);
    free(n);
    j->tx = NULL;
}

void up_nat_attempt_ended(up_run *r, up_job *j, eota_client_error e, eota_client_phase phase, uint8_t code,
                          int sys_err, int connected)
{
    up_nat_job *n = up_nat_of(j);
    n->phase = phase;
    n->code = code;
    fill_result(j, e, sys_err, connected);
    up_job_attempt_ended(r, j);
}

/* ------------------------------------------------------------------ */
/* the engine                                                          */
/* ------------------------------------------------------------------ */

void up_nat_engine_start(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    (void)eota_client_set_password(&n->cl, r->passwords[j->pw_i]);
    if (r->nkeys)
        (void)eota_client_set_noise_key(&n->cl, r->keys[j->key_i]);
    if (eota_client_start(&n->cl, &n->conn) != EOTA_OK) {
        up_nat_connect_failed(r, j, EOTA_CLIENT_ERR_UNREACHABLE, 0);
        return;
    }
    if (r->opt.verbose)
        up_say(&r->con, "%s: connected to %s", j->spec, up_job_addr(j)->show);
}

/* The gzip version, made when the first device accepts it. */
static int have_gzip(up_run *r)
{
    up_image *im = &r->img;
    char err[256], a[32], b[32];
    if (im->gz_state != 0)
        return im->gz_state == 1;
    if (up_image_compress(im, err, sizeof err) != 0) {
        up_shout(&r->con, "eota upload: %s; sending the image uncompressed", err);
        return 0;
    }
    up_human_bytes(a, sizeof a, im->size);
    up_human_bytes(b, sizeof b, im->gz_size);
    up_say(&r->con, "compressed the image for devices that accept gzip: %s -> %s (%.0f%%) in %.2f s", a, b,
           100.0 * (double)im->gz_size / (double)im->size, im->compress_seconds);
    return 1;
}

/* The device's feature reply is in: give it the right bytes. */
static void provide_image(up_run *r, up_nat_job *n)
{
    if (!eota_client_gzip_accepted(&n->cl)) {
        eota_client_image raw = up_image_raw(&r->img);
        (void)eota_client_set_image(&n->cl, &raw, 0);
        return;
    }
    /* Without a gzip version the raw image goes as "gzip": devices tell
     * gzip from raw by its magic bytes. */
    eota_client_image img = have_gzip(r) ? up_image_gzip(&r->img) : up_image_raw(&r->img);
    (void)eota_client_set_image(&n->cl, &img, 1);
}

/* "protocol 2, SHA-256 password, accepts gzip; sending 1.2 MiB (gzip)",
 * once the size is announced. */
static void announce(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    eota_client_report rep;
    eota_client_get_report(&n->cl, &rep);
    if (!rep.size)
        return;
    n->announced = 1;
    if (r->nkeys && !rep.encrypted)
        up_shout(&r->con, "%s: warning: the device does not offer encryption; sending the image in plaintext (%s)",
                 j->spec, r->key_strict ? "--allow-plaintext" : "the key is the config's api: key only, so "
                 "eota falls back as the stock uploader does until ESPHome 2027.3");
    if (!r->opt.verbose && r->njobs != 1)
        return;
    char sz[32];
    up_human_bytes(sz, sizeof sz, rep.size);
    const char *show = up_job_addr(j)->show;
    int same = !strcmp(show, j->spec);
    up_say(&r->con, "%s: %s%sprotocol %u, %s%s; sending %s%s", j->spec, same ? "" : show, same ? "" : ": ",
           rep.version, rep.encrypted ? "Noise-encrypted" : up_nat_auth_words(rep.auth),
           rep.gzip_accepted ? ", accepts gzip" : "", sz,
           rep.gzip_sent ? " (gzip)" : "");
}

static void ended_with_report(up_run *r, up_job *j);

/* A rollout's probe (rollout.h): the handshake up to the device's
 * acceptance, then the connection closed before the type. */
static void probe(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    eota_client_status st = eota_client_poll(&n->cl);
    if (st == EOTA_CLIENT_NEED_IMAGE && eota_client_authenticated(&n->cl)) {
        eota_client_cancel(&n->cl);
        up_nat_attempt_ended(r, j, EOTA_CLIENT_OK, EOTA_CLIENT_PH_AUTH, 0, 0, 1);
    } else if (st == EOTA_CLIENT_FAILED) {
        ended_with_report(r, j);
    }
}

static void drive(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    eota_client_status st;
    if (j->probing) {
        probe(r, j);
        return;
    }
    while ((st = eota_client_poll(&n->cl)) == EOTA_CLIENT_NEED_IMAGE)
        provide_image(r, n);
    if (st == EOTA_CLIENT_BUSY)
        (void)up_nat_conn_flush(&n->conn); /* a failure shows at the engine's next write */
    if (!n->announced && (st == EOTA_CLIENT_BUSY || st == EOTA_CLIENT_DONE))
        announce(r, j);
    if (st == EOTA_CLIENT_DONE) {
        up_nat_attempt_ended(r, j, EOTA_CLIENT_OK, n->phase, 0, 0, 1);
        return;
    }
    if (st == EOTA_CLIENT_FAILED)
        ended_with_report(r, j);
}

static void ended_with_report(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    eota_client_report rep;
    eota_client_get_report(&n->cl, &rep);
    eota_client_error e = rep.error;
    /* A reset is the device closing on us with our bytes unread (it does
     * that when it gives up): to the user it closed without answering. */
    if (e == EOTA_CLIENT_ERR_IO && (n->conn.err == ECONNRESET || n->conn.err == EPIPE))
        e = EOTA_CLIENT_ERR_CLOSED;
    up_nat_attempt_ended(r, j, e, rep.phase, rep.code, n->conn.err, 1);
}

/* ------------------------------------------------------------------ */
/* the loop's side                                                     */
/* ------------------------------------------------------------------ */

static void start(up_run *r, up_job *j) { up_nat_connect(r, j); }

static int want(up_run *r, up_job *j, uint64_t now, struct pollfd *pfd, long *timeout_ms)
{
    up_nat_job *n = up_nat_of(j);
    (void)r;
    if (n->connecting) {
        pfd->events = POLLOUT;
        *timeout_ms = n->deadline > now ? (long)(n->deadline - now) : 0;
    } else {
        unsigned w = eota_client_wants(&n->cl);
        if (n->conn.cork_len)
            w |= EOTA_WANT_WRITE;
        pfd->events = (short)(((w & EOTA_WANT_READ) ? POLLIN : 0) | ((w & EOTA_WANT_WRITE) ? POLLOUT : 0));
        *timeout_ms = eota_client_timeout_ms(&n->cl);
    }
    pfd->fd = n->conn.pc.fd;
    pfd->revents = 0;
    return pfd->fd >= 0;
}

static int wait_poll(up_run *r, struct pollfd *fds, size_t n, long timeout_ms)
{
    (void)r;
    return poll(fds, (nfds_t)n, (int)timeout_ms);
}

/* Only a connect in progress looks at its descriptor's events; the engine
 * reads and writes until it would block, in step. */
static void ready(up_run *r, up_job *j, short revents)
{
    if (up_nat_of(j)->connecting)
        up_nat_connect_ready(r, j, revents);
}

static void step(up_run *r, up_job *j)
{
    if (up_nat_of(j)->connecting)
        up_nat_connect_ready(r, j, 0);
    else
        drive(r, j);
}

/* Version 2: what the device acknowledged; version 1: what left us. */
static up_stage progress(const up_run *r, const up_job *j, uint64_t *done, uint64_t *total)
{
    const up_nat_job *n = up_nat_of(j);
    eota_client_report rep;
    (void)r;
    memset(&rep, 0, sizeof rep);
    if (n->engine_ok)
        eota_client_get_report(&n->cl, &rep);
    *total = rep.size;
    *done = rep.version >= 2 ? rep.acked : rep.sent;
    return n->connecting ? UP_STAGE_IDLE : UP_STAGE_SENDING;
}

const up_transport up_transport_native = {
    .name = "esphome", .check_config = check_config, .configure = configure, .prepare = prepare,
    .release = release, .job_init = job_init, .job_free = job_free, .start = start, .want = want,
    .wait = wait_poll, .ready = ready, .step = step, .progress = progress,
    .describe_ok = up_nat_describe_ok, .describe_failure = up_nat_describe_failure,
};
