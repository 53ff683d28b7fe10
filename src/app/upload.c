/*
 * upload.c: `eota upload`, the uploader command. One process, one poll loop:
 * every device of a fleet is a job with its own uploader engine
 * (src/core/client.c) over a non-blocking socket; --jobs bounds how many
 * run at once. Per job: resolve every address (IPv4 and IPv6), connect
 * without blocking, fall back to the next address and retry on network
 * errors as the stock uploader does (never once the whole image was sent),
 * and on 82 try the next --previous-password. The image is mapped once and
 * its gzip made once, when the first device accepts gzip and a quick trial
 * said it pays.
 *
 * Output: events and progress on stderr (a bar on a terminal, plain lines
 * every few seconds otherwise), results on stdout (a table for a fleet, or
 * one JSON object per device with --json).
 *
 * --ota-platform web_server (PROTOCOL.md section 9): the same jobs,
 * addresses, retries and output, but each attempt is an HTTP POST /update
 * through libcurl (upload_web.c); the loop then waits in curl_multi_poll
 * instead of poll(), so a fleet of web uploads runs concurrently too.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cli.h"
#include "config.h"
#include "eota/client.h"
#include "eota/posix.h"
#include "upload/console.h"
#include "upload/devices.h"
#include "upload/image.h"
#include "upload/opts.h"
#include "upload/resolve.h"
#include "upload/util.h"
#include "upload/web_post.h"

#define JOB_BUFFER (16u * 1024u)
#define GZIP_MIN_SAVING 0.10 /* gzip only when the trial saves at least 10% */
#define PLAIN_PROGRESS_MS 2000u
#define BAR_REFRESH_MS 100u

enum job_state { J_PENDING, J_CONNECTING, J_RUNNING, J_WAIT, J_DONE };

/* The transport seam over the POSIX one, keeping errno of a failure so
 * that messages can say "connection reset" rather than "I/O error". */
typedef struct up_conn {
    eota_posix_conn pc;
    int err;
} up_conn;

typedef struct job {
    char *spec;             /* as given: "kitchen.local", "[::1]:8266,10.0.0.5" */
    up_target *targets;
    size_t ntargets;
    up_addr *addrs;
    size_t naddrs;
    enum job_state st;
    size_t attempts;        /* network attempts made */
    size_t max_attempts;
    size_t addr_i;          /* address of the current attempt */
    long good_addr;         /* last address that took a connection, or -1 */
    size_t pw_i;            /* password in use (0 current, k: previous #k) */
    up_conn conn;
    uint64_t t_begin, t_end, deadline, next_try;
    eota_client cl;
    eota_posix_hash hash;
    int hash_ok;
    int engine_ok;
    uint8_t *buf;
    int announced;          /* "connected ..." line printed for this attempt */
    /* result of the last attempt (and of the job once J_DONE) */
    int ok;
    eota_client_error err;
    eota_client_phase phase;
    uint8_t code;
    int sys_err;
    eota_client_report rep;
    int have_rep;
    char msg[768];
    char resolve_msg[256];
    /* --ota-platform web_server */
    up_web_xfer *wx;        /* the transfer of the current attempt */
    up_web_result wres;     /* the result of the last attempt */
    int have_wres;
} job;

typedef struct up_ctx {
    up_opts opt;
    const char *firmware;   /* the image to send */
    char *firmware_owned;
    const char *config_path;

    /* derived */
    eota_config cfg;
    int have_cfg;
    char *passwords[64];
    size_t npasswords;
    char *password_file_buf;
    up_image img;
    int offer_gzip;
    int compress_announced;
    job *jobs_v;
    size_t njobs;
    /* web_server */
    int web;                /* the web upload is in use */
    up_web_multi *wm;
    const char *web_username; /* NULL: no credentials */
    const char *web_password;
    up_web_auth web_auth;
    const uint8_t *web_data;  /* what goes in the form part */
    size_t web_len;
    int web_gzip;
    char *web_filename;

    /* output */
    up_console con;
    uint64_t t0;
    uint64_t last_draw;
} up_ctx;

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* the transport wrapper                                               */
/* ------------------------------------------------------------------ */

static long up_read(void *c, uint8_t *b, size_t n)
{
    up_conn *u = c;
    long r = eota_posix_transport.read(&u->pc, b, n);
    if (r == EOTA_EIO)
        u->err = errno;
    return r;
}

static long up_write(void *c, const uint8_t *b, size_t n)
{
    up_conn *u = c;
    long r = eota_posix_transport.write(&u->pc, b, n);
    if (r == EOTA_EIO)
        u->err = errno;
    return r;
}

static void up_close(void *c)
{
    up_conn *u = c;
    eota_posix_transport.close(&u->pc);
}

static const eota_transport_ops up_transport = {up_read, up_write, up_close};

/* ------------------------------------------------------------------ */
/* results                                                             */
/* ------------------------------------------------------------------ */

static const char *auth_name(eota_auth_kind a)
{
    switch (a) {
    case EOTA_AUTH_SHA256: return "sha256";
    case EOTA_AUTH_MD5: return "md5";
    default: return "none";
    }
}

static const char *auth_words(eota_auth_kind a)
{
    switch (a) {
    case EOTA_AUTH_SHA256: return "SHA-256 password";
    case EOTA_AUTH_MD5: return "legacy MD5 password";
    default: return "no password";
    }
}

static int retryable(eota_client_error e)
{
    switch (e) {
    case EOTA_CLIENT_ERR_CLOSED:
    case EOTA_CLIENT_ERR_TIMEOUT:
    case EOTA_CLIENT_ERR_IO:
    case EOTA_CLIENT_ERR_REFUSED:
    case EOTA_CLIENT_ERR_UNREACHABLE: return 1;
    default: return 0;
    }
}

static const up_addr *cur_addr(const job *j) { return j->naddrs ? &j->addrs[j->addr_i] : NULL; }

/* The step a web attempt ended in: connect (no connection), request (an
 * answer before any body byte), data (in the body), reply (after it). */
static const char *web_phase(const job *j)
{
    const up_web_result *r = &j->wres;
    if (!j->have_wres)
        return j->err == EOTA_CLIENT_ERR_RESOLVE ? "resolve" : "connect";
    if (!r->connected)
        return "connect";
    if (r->all_sent)
        return "reply";
    return r->body_sent ? "data" : "request";
}

static void web_describe_failure(up_ctx *x, job *j, char *out, size_t outlen)
{
    if (!j->have_wres) {
        snprintf(out, outlen, "%s", j->err == EOTA_CLIENT_ERR_RESOLVE ? j->resolve_msg : "cannot start the upload");
        return;
    }
    const up_addr *a = cur_addr(j);
    up_web_describe_ctx c;
    memset(&c, 0, sizeof c);
    c.show = a ? a->show : "?";
    c.port = a ? a->port : 0;
    c.have_credentials = x->web_username != NULL;
    c.auth = x->web_auth;
    c.connect_ms = x->opt.handshake_ms;
    c.idle_ms = x->opt.data_ms;
    up_web_describe(&j->wres, &c, out, outlen);
    if (j->wres.outcome == UP_WEB_HTTP || j->wres.outcome == UP_WEB_INTERNAL)
        return;
    size_t n = strlen(out);
    if (j->wres.all_sent && n < outlen)
        snprintf(out + n, outlen - n,
                 "; the whole image had been sent, so it was not retried (the device may have installed it: "
                 "check before uploading again)");
    else if (retryable(j->err) && j->attempts > 1 && n < outlen)
        snprintf(out + n, outlen - n, " (after %zu attempts)", j->attempts);
}

static void describe_failure(up_ctx *x, job *j, char *out, size_t outlen)
{
    if (x->web) {
        web_describe_failure(x, j, out, outlen);
        return;
    }
    const up_addr *a = cur_addr(j);
    const char *where = eota_client_phase_describe(j->phase);
    size_t n = 0;
    switch (j->err) {
    case EOTA_CLIENT_ERR_DEVICE: {
        const char *name = eota_response_name(j->code);
        n = (size_t)snprintf(out, outlen, "the device answered 0x%02X %s during %s: %s", j->code,
                             name ? name : "(unknown code)", where, eota_response_describe(j->code));
        if (j->code == EOTA_RESP_ERROR_AUTH_INVALID && x->npasswords > 1 && n < outlen)
            n += (size_t)snprintf(out + n, outlen - n, " (tried %zu password%s)", j->pw_i + 1,
                                  j->pw_i ? "s" : "");
        break;
    }
    case EOTA_CLIENT_ERR_CLOSED:
        n = (size_t)snprintf(out, outlen, "the device closed the connection without answering during %s%s", where,
                             j->sys_err == ECONNRESET ? " (connection reset)" : "");
        break;
    case EOTA_CLIENT_ERR_TIMEOUT:
        if (j->phase == EOTA_CLIENT_PH_CONNECT)
            n = (size_t)snprintf(out, outlen, "timed out connecting to %s (no answer in %.0f s)",
                                 a ? a->show : "?", x->opt.handshake_ms / 1000.0);
        else
            n = (size_t)snprintf(out, outlen, "timed out during %s: the device said nothing for %.0f s",
                                 where,
                                 (j->phase >= EOTA_CLIENT_PH_DATA ? x->opt.data_ms : x->opt.handshake_ms) / 1000.0);
        break;
    case EOTA_CLIENT_ERR_IO:
        n = (size_t)snprintf(out, outlen, "network error during %s: %s", where,
                             j->sys_err ? strerror(j->sys_err) : "connection failed");
        break;
    case EOTA_CLIENT_ERR_PROTOCOL:
        n = (size_t)snprintf(out, outlen,
                             "the device sent an unexpected byte 0x%02X during %s (is this an ESPHome "
                             "native OTA port?)",
                             j->code, where);
        break;
    case EOTA_CLIENT_ERR_VERSION:
        n = (size_t)snprintf(out, outlen,
                             "the device speaks OTA protocol version %u; eota upload knows versions 1 and 2",
                             j->code);
        break;
    case EOTA_CLIENT_ERR_PASSWORD_REQUIRED:
        n = (size_t)snprintf(out, outlen,
                             "the device asks for a password (%s challenge) and none was given: use "
                             "--password, --password-file, EOTA_PASSWORD or the config's ota: password",
                             j->code == EOTA_RESP_REQUEST_AUTH ? "MD5" : "SHA-256");
        break;
    case EOTA_CLIENT_ERR_IMAGE: n = (size_t)snprintf(out, outlen, "could not read the image"); break;
    case EOTA_CLIENT_ERR_CRYPTO: n = (size_t)snprintf(out, outlen, "the hash or random source failed"); break;
    case EOTA_CLIENT_ERR_CANCELLED: n = (size_t)snprintf(out, outlen, "cancelled"); break;
    case EOTA_CLIENT_ERR_REFUSED:
        n = (size_t)snprintf(out, outlen, "connection refused by %s (is the device on, and is %u its OTA port?)",
                             a ? a->show : "?", a ? a->port : 0);
        break;
    case EOTA_CLIENT_ERR_UNREACHABLE:
        n = (size_t)snprintf(out, outlen, "cannot reach %s: %s", a ? a->show : "?",
                             j->sys_err ? strerror(j->sys_err) : "unreachable");
        break;
    case EOTA_CLIENT_ERR_RESOLVE: n = (size_t)snprintf(out, outlen, "%s", j->resolve_msg); break;
    case EOTA_CLIENT_OK: n = (size_t)snprintf(out, outlen, "ok"); break;
    }
    if (n >= outlen)
        return;
    if (j->have_rep && j->rep.all_sent && j->err != EOTA_CLIENT_ERR_DEVICE)
        n += (size_t)snprintf(out + n, outlen - n,
                              "; the whole image had been sent, so it was not retried (the device may "
                              "have installed it: check before uploading again)");
    else if (retryable(j->err) && j->attempts > 1 && n < outlen)
        n += (size_t)snprintf(out + n, outlen - n, " (after %zu attempts)", j->attempts);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static double job_seconds(const job *j)
{
    uint64_t end = j->t_end ? j->t_end : up_now_ms();
    return (double)(end - j->t_begin) / 1000.0;
}

/* The same fields as native uploads; what has no meaning over HTTP is null
 * (error_code, error_name, protocol_version, server_flags, password). */
/* The fields every JSON object starts with, native or web, up to the
 * "error" key (its value is the caller's). */
static void json_head(FILE *f, const job *j, const up_addr *a)
{
    fputs("{\"device\":", f);
    json_str(f, j->spec);
    fputs(",\"address\":", f);
    if (a && j->attempts)
        json_str(f, a->ip);
    else
        fputs("null", f);
    fprintf(f, ",\"port\":");
    if (a)
        fprintf(f, "%u", a->port);
    else if (j->ntargets)
        fprintf(f, "%u", j->targets[0].port);
    else
        fputs("null", f);
    fprintf(f, ",\"result\":\"%s\"", j->ok ? "ok" : "failed");
    fputs(",\"error\":", f);
}

static void print_json_web(up_ctx *x, job *j)
{
    const up_addr *a = cur_addr(j);
    const up_web_result *r = &j->wres;
    int have = j->have_wres;
    FILE *f = stdout;
    json_head(f, j, a);
    if (j->ok)
        fputs("null", f);
    else if (have)
        json_str(f, up_web_outcome_name(r->outcome));
    else
        json_str(f, eota_client_error_name(j->err));
    fputs(",\"error_code\":null,\"error_name\":null,\"phase\":", f);
    if (j->ok)
        fputs("null", f);
    else
        json_str(f, web_phase(j));
    fputs(",\"message\":", f);
    json_str(f, j->msg);
    fprintf(f, ",\"bytes_sent\":%llu,\"wire_size\":%llu,\"image_size\":%zu",
            have ? (unsigned long long)r->body_sent : 0ull, have ? (unsigned long long)r->body_size : 0ull,
            x->img.size);
    fprintf(f, ",\"compressed\":%s,\"compress_seconds\":%.3f,\"seconds\":%.3f", x->web_gzip ? "true" : "false",
            x->web_gzip ? x->img.compress_seconds : 0.0, job_seconds(j));
    fputs(",\"protocol_version\":null,\"auth\":", f);
    if (have && r->connected)
        json_str(f, r->auth_used);
    else
        fputs("null", f);
    fprintf(f, ",\"server_flags\":null,\"attempts\":%zu,\"password\":null", j->attempts);
    fprintf(f, ",\"received_whole_image\":%s", have && r->all_sent && r->http_status ? "true" : "false");
    fputs(",\"ota_platform\":\"web_server\",\"http_status\":", f);
    if (have && r->http_status)
        fprintf(f, "%ld", r->http_status);
    else
        fputs("null", f);
    fputs(",\"reply\":", f);
    if (have && r->http_status)
        json_str(f, r->reply);
    else
        fputs("null", f);
    fputs("}\n", f);
    fflush(f);
}

static void print_json(up_ctx *x, job *j)
{
    if (x->web) {
        print_json_web(x, j);
        return;
    }
    const up_addr *a = cur_addr(j);
    FILE *f = stdout;
    int code_known = j->err == EOTA_CLIENT_ERR_DEVICE || j->err == EOTA_CLIENT_ERR_PROTOCOL ||
                     j->err == EOTA_CLIENT_ERR_VERSION;
    json_head(f, j, a);
    if (j->ok)
        fputs("null", f);
    else
        json_str(f, eota_client_error_name(j->err));
    fputs(",\"error_code\":", f);
    if (!j->ok && code_known)
        fprintf(f, "%u", j->code);
    else
        fputs("null", f);
    fputs(",\"error_name\":", f);
    if (!j->ok && j->err == EOTA_CLIENT_ERR_DEVICE) {
        const char *nm = eota_response_name(j->code);
        char unk[32];
        snprintf(unk, sizeof unk, "UNKNOWN_0x%02X", j->code);
        json_str(f, nm ? nm : unk);
    } else {
        fputs("null", f);
    }
    fputs(",\"phase\":", f);
    if (j->ok)
        fputs("null", f);
    else
        json_str(f, eota_client_phase_name(j->phase));
    fputs(",\"message\":", f);
    json_str(f, j->msg);
    const eota_client_report *r = &j->rep;
    int have = j->have_rep;
    fprintf(f, ",\"bytes_sent\":%u,\"wire_size\":%u,\"image_size\":%zu", have ? r->sent : 0u,
            have ? r->size : 0u, x->img.size);
    fprintf(f, ",\"compressed\":%s,\"compress_seconds\":%.3f,\"seconds\":%.3f",
            have && r->gzip_sent ? "true" : "false", have && r->gzip_sent ? x->img.compress_seconds : 0.0,
            job_seconds(j));
    fputs(",\"protocol_version\":", f);
    if (have && r->version)
        fprintf(f, "%u", r->version);
    else
        fputs("null", f);
    fputs(",\"auth\":", f);
    if (have && r->feature_reply && (r->auth != EOTA_AUTH_NONE || r->phase > EOTA_CLIENT_PH_AUTH))
        json_str(f, auth_name(r->auth));
    else
        fputs("null", f);
    fputs(",\"server_flags\":", f);
    if (have && r->extended)
        fprintf(f, "%u", r->server_flags);
    else
        fputs("null", f);
    fprintf(f, ",\"attempts\":%zu", j->attempts);
    fputs(",\"password\":", f);
    if (have && r->auth != EOTA_AUTH_NONE && (j->ok || j->pw_i > 0)) {
        char pw[32];
        if (j->pw_i == 0)
            snprintf(pw, sizeof pw, "current");
        else
            snprintf(pw, sizeof pw, "previous-%zu", j->pw_i);
        json_str(f, pw);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\"received_whole_image\":%s,\"ota_platform\":\"esphome\"}\n",
            have && r->received ? "true" : "false");
    fflush(f);
}

static void ok_message(up_ctx *x, job *j, char *out, size_t outlen)
{
    const eota_client_report *r = &j->rep;
    const up_addr *a = cur_addr(j);
    if (x->web) {
        char sent[32];
        up_human_bytes(sent, sizeof sent, x->web_len);
        const char *au = j->wres.auth_used;
        snprintf(out, outlen, "installed: %s%s in %.1f s over the web server (HTTP 200 \"%s\"), %s%s, %s", sent,
                 x->web_gzip ? " (gzip)" : "", job_seconds(j), UP_WEB_SUCCESS_TEXT,
                 strcmp(au, "none") ? au : "no credentials", strcmp(au, "none") ? " authentication" : "",
                 a ? a->show : "?");
        return;
    }
    char sent[32], raw[32];
    up_human_bytes(sent, sizeof sent, r->sent);
    up_human_bytes(raw, sizeof raw, x->img.size);
    size_t n = (size_t)snprintf(out, outlen, "installed: %s", sent);
    if (r->gzip_sent && n < outlen)
        n += (size_t)snprintf(out + n, outlen - n, " (gzip of %s)", raw);
    if (n < outlen)
        n += (size_t)snprintf(out + n, outlen - n, " in %.1f s, protocol %u, %s, %s", job_seconds(j),
                              r->version, auth_words(r->auth), a ? a->show : "?");
    if (j->pw_i > 0 && n < outlen)
        snprintf(out + n, outlen - n, "; authenticated with --previous-password #%zu (the device still "
                 "had the old password)", j->pw_i);
}

static void finish_job(up_ctx *x, job *j, int ok)
{
    j->st = J_DONE;
    j->ok = ok;
    j->t_end = up_now_ms();
    if (j->engine_ok && j->have_rep == 0) {
        eota_client_get_report(&j->cl, &j->rep);
        j->have_rep = 1;
    }
    if (ok)
        ok_message(x, j, j->msg, sizeof j->msg);
    else
        describe_failure(x, j, j->msg, sizeof j->msg);
    if (ok)
        up_say(&x->con, "%s: OK, %s", j->spec, j->msg);
    else
        up_shout(&x->con, "%s: FAILED: %s", j->spec, j->msg);
    if (x->opt.json)
        print_json(x, j);
    free(j->buf);
    j->buf = NULL;
}

/* ------------------------------------------------------------------ */
/* connecting                                                          */
/* ------------------------------------------------------------------ */

static void attempt(up_ctx *x, job *j, size_t addr_i, int counts);
static void start_engine(up_ctx *x, job *j);

/* After every address was tried once: the one that last took a connection
 * (the device lives there; it may have been busy), else round the list. */
static size_t retry_addr(const job *j)
{
    if (j->good_addr >= 0)
        return (size_t)j->good_addr;
    return j->attempts % j->naddrs;
}

static eota_client_error classify_connect_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: return EOTA_CLIENT_ERR_REFUSED;
    case ETIMEDOUT: return EOTA_CLIENT_ERR_TIMEOUT;
    case ECONNRESET:
    case EPIPE: return EOTA_CLIENT_ERR_CLOSED;
    default: return EOTA_CLIENT_ERR_UNREACHABLE;
    }
}

/* The attempt ended without success: retry, fall back, or give up. */
static void attempt_failed(up_ctx *x, job *j)
{
    int all_sent = x->web ? j->have_wres && j->wres.all_sent : j->have_rep && j->rep.all_sent;
    int auth_refused = !x->web && ((j->err == EOTA_CLIENT_ERR_DEVICE && j->code == EOTA_RESP_ERROR_AUTH_INVALID) ||
                                   j->err == EOTA_CLIENT_ERR_PASSWORD_REQUIRED);
    if (auth_refused && j->pw_i + 1 < x->npasswords) {
        j->pw_i++;
        up_say(&x->con, "%s: %s with the %s password; trying --previous-password #%zu", j->spec,
            j->err == EOTA_CLIENT_ERR_PASSWORD_REQUIRED ? "a password is required" : "authentication failed",
            j->pw_i == 1 ? "current" : "previous", j->pw_i);
        attempt(x, j, j->addr_i, 0);
        return;
    }
    if (retryable(j->err) && !all_sent && j->attempts < j->max_attempts) {
        char why[512];
        describe_failure(x, j, why, sizeof why);
        if (j->attempts < j->naddrs) {
            up_say(&x->con, "%s: %s; trying the next address", j->spec, why);
            attempt(x, j, j->attempts % j->naddrs, 1);
        } else {
            up_say(&x->con, "%s: %s; retrying in %.1f s (attempt %zu of %zu)", j->spec, why, x->opt.retry_delay_ms / 1000.0,
                j->attempts + 1, j->max_attempts);
            j->st = J_WAIT;
            j->next_try = up_now_ms() + x->opt.retry_delay_ms;
        }
        return;
    }
    finish_job(x, j, 0);
}

static void connect_failed(up_ctx *x, job *j, eota_client_error e, int sys_err)
{
    if (j->conn.pc.fd >= 0)
        close(j->conn.pc.fd);
    j->conn.pc.fd = -1;
    j->err = e;
    j->phase = EOTA_CLIENT_PH_CONNECT;
    j->code = 0;
    j->sys_err = sys_err;
    j->have_rep = 0;
    attempt_failed(x, j);
}

/* ------------------------------------------------------------------ */
/* web_server: one HTTP POST per attempt                               */
/* ------------------------------------------------------------------ */

static eota_client_error web_error_class(up_web_outcome o)
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

static void web_attempt(up_ctx *x, job *j, size_t addr_i, int counts)
{
    const up_addr *a = &j->addrs[addr_i];
    char url[INET6_ADDRSTRLEN + 40], err[256];
    j->addr_i = addr_i;
    if (counts)
        j->attempts++;
    j->have_wres = 0;
    memset(&j->wres, 0, sizeof j->wres);
    if (a->sa.ss_family == AF_INET6)
        snprintf(url, sizeof url, "http://[%s]:%u/update", a->ip, a->port);
    else
        snprintf(url, sizeof url, "http://%s:%u/update", a->ip, a->port);
    up_web_params p;
    memset(&p, 0, sizeof p);
    p.url = url;
    p.filename = x->web_filename;
    p.data = x->web_data;
    p.len = x->web_len;
    p.username = x->web_username;
    p.password = x->web_password;
    p.auth = x->web_auth;
    p.connect_ms = x->opt.handshake_ms;
    p.idle_ms = x->opt.data_ms;
    p.verbose = x->opt.verbose > 1;
    p.user = j;
    if (x->opt.verbose || (x->njobs == 1 && !j->announced)) {
        char sz[32];
        up_human_bytes(sz, sizeof sz, x->web_len);
        up_say(&x->con, "%s: POST %s, %s; sending %s%s", j->spec, url,
            x->web_username ? (x->web_auth == UP_WEB_AUTH_BASIC    ? "basic authentication"
                               : x->web_auth == UP_WEB_AUTH_DIGEST ? "digest authentication"
                                                                   : "basic or digest authentication")
                            : "no credentials",
            sz, x->web_gzip ? " (gzip)" : "");
        j->announced = 1;
    }
    j->wx = up_web_start(x->wm, &p, err, sizeof err);
    if (!j->wx) {
        j->wres.outcome = UP_WEB_INTERNAL;
        snprintf(j->wres.curl_msg, sizeof j->wres.curl_msg, "%s", err);
        j->have_wres = 1;
        j->err = EOTA_CLIENT_ERR_CANCELLED;
        finish_job(x, j, 0);
        return;
    }
    j->st = J_RUNNING;
}

/* A transfer ended: success, retry, or give up. */
static void web_done(up_ctx *x, job *j)
{
    j->wres = *up_web_result_of(j->wx);
    j->have_wres = 1;
    up_web_free(x->wm, j->wx);
    j->wx = NULL;
    if (j->wres.connected)
        j->good_addr = (long)j->addr_i;
    if (x->opt.verbose && j->wres.http_status)
        up_say(&x->con, "%s: HTTP %ld: %s", j->spec, j->wres.http_status, j->wres.reply);
    if (j->wres.outcome == UP_WEB_OK) {
        j->err = EOTA_CLIENT_OK;
        finish_job(x, j, 1);
        return;
    }
    j->err = web_error_class(j->wres.outcome);
    j->sys_err = j->wres.sys_err;
    j->code = 0;
    attempt_failed(x, j);
}

/* Start a connection to address addr_i; counts: it is a network attempt
 * (a password fallback is not). */
static void attempt(up_ctx *x, job *j, size_t addr_i, int counts)
{
    if (x->web) {
        web_attempt(x, j, addr_i, counts);
        return;
    }
    const up_addr *a = &j->addrs[addr_i];
    j->addr_i = addr_i;
    if (counts)
        j->attempts++;
    j->announced = 0;
    if (x->opt.verbose)
        up_say(&x->con, "%s: connecting to %s", j->spec, a->show);
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    j->conn.pc.fd = fd;
    j->conn.err = 0;
    if (fd < 0) {
        connect_failed(x, j, EOTA_CLIENT_ERR_UNREACHABLE, errno);
        return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    j->deadline = up_now_ms() + x->opt.handshake_ms;
    if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0) {
        start_engine(x, j);
        return;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        j->st = J_CONNECTING;
        return;
    }
    connect_failed(x, j, classify_connect_errno(errno), errno);
}

static void finish_connect(up_ctx *x, job *j, short revents)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (revents & (POLLOUT | POLLERR | POLLHUP)) {
        if (getsockopt(j->conn.pc.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == 0) {
            start_engine(x, j);
            return;
        }
        if (err == EINPROGRESS || err == EALREADY)
            return;
        connect_failed(x, j, classify_connect_errno(err), err);
        return;
    }
    if (up_now_ms() >= j->deadline)
        connect_failed(x, j, EOTA_CLIENT_ERR_TIMEOUT, ETIMEDOUT);
}

/* ------------------------------------------------------------------ */
/* the engine                                                          */
/* ------------------------------------------------------------------ */

static int setup_engine(up_ctx *x, job *j, char *err, size_t errlen)
{
    if (eota_posix_hash_init(&j->hash) != EOTA_OK) {
        snprintf(err, errlen, "OpenSSL: cannot make a hash context");
        return -1;
    }
    j->hash_ok = 1;
    j->buf = up_xcalloc(1, JOB_BUFFER);
    eota_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.transport = &up_transport;
    cc.clock = eota_posix_clock();
    cc.random = eota_posix_random();
    cc.hash = eota_posix_hash_seam(&j->hash);
    cc.password = x->passwords[0];
    cc.features = EOTA_FEATURES_STOCK_CLIENT;
    cc.offer_gzip = (uint8_t)x->offer_gzip;
    cc.ota_type = (uint8_t)(x->opt.ota_type < 0 ? (int)EOTA_OTA_TYPE_APP : x->opt.ota_type);
    cc.window = (uint16_t)x->opt.window;
    cc.handshake_timeout_ms = x->opt.handshake_ms;
    cc.data_timeout_ms = x->opt.data_ms;
    cc.image = up_image_raw(&x->img);
    cc.gzip_image = up_image_gzip(&x->img); /* empty until compressed */
    if (eota_client_init(&j->cl, &cc, j->buf, JOB_BUFFER) != EOTA_OK) {
        snprintf(err, errlen, "cannot set up the uploader engine (password longer than %d bytes?)",
                 EOTA_PASSWORD_MAX);
        return -1;
    }
    j->engine_ok = 1;
    return 0;
}

static void start_engine(up_ctx *x, job *j)
{
    (void)eota_client_set_password(&j->cl, x->passwords[j->pw_i]);
    if (eota_client_start(&j->cl, &j->conn) != EOTA_OK) {
        connect_failed(x, j, EOTA_CLIENT_ERR_UNREACHABLE, 0);
        return;
    }
    j->st = J_RUNNING;
    j->have_rep = 0;
    j->good_addr = (long)j->addr_i;
    if (x->opt.verbose)
        up_say(&x->con, "%s: connected to %s", j->spec, cur_addr(j)->show);
}

/* The device's feature reply is in: give it the right bytes. */
static void provide_image(up_ctx *x, job *j)
{
    char err[256];
    if (!eota_client_gzip_accepted(&j->cl)) {
        eota_client_image raw = up_image_raw(&x->img);
        (void)eota_client_set_image(&j->cl, &raw, 0);
        return;
    }
    if (x->img.gz_state == 0) {
        char a[32], b[32];
        if (up_image_compress(&x->img, err, sizeof err) == 0) {
            up_human_bytes(a, sizeof a, x->img.size);
            up_human_bytes(b, sizeof b, x->img.gz_size);
            up_say(&x->con, "compressed the image for devices that accept gzip: %s -> %s (%.0f%%) in %.2f s", a, b,
                100.0 * (double)x->img.gz_size / (double)x->img.size, x->img.compress_seconds);
        } else {
            up_shout(&x->con, "eota upload: %s; sending the image uncompressed", err);
        }
    }
    if (x->img.gz_state == 1) {
        eota_client_image gz = up_image_gzip(&x->img);
        (void)eota_client_set_image(&j->cl, &gz, 1);
    } else {
        /* The device agreed to gzip but we have none: devices tell gzip
         * from raw by its magic bytes, so the raw image still works. */
        eota_client_image raw = up_image_raw(&x->img);
        (void)eota_client_set_image(&j->cl, &raw, 1);
    }
}

static void drive(up_ctx *x, job *j)
{
    eota_client_status st;
    for (;;) {
        st = eota_client_poll(&j->cl);
        if (st != EOTA_CLIENT_NEED_IMAGE)
            break;
        provide_image(x, j);
    }
    if (!j->announced && (st == EOTA_CLIENT_BUSY || st == EOTA_CLIENT_DONE)) {
        eota_client_report r;
        eota_client_get_report(&j->cl, &r);
        if (r.size) {
            j->announced = 1;
            if (x->opt.verbose || x->njobs == 1) {
                char sz[32];
                up_human_bytes(sz, sizeof sz, r.size);
                const char *show = cur_addr(j)->show;
                int same = !strcmp(show, j->spec);
                up_say(&x->con, "%s: %s%sprotocol %u, %s%s; sending %s%s", j->spec, same ? "" : show, same ? "" : ": ",
                    r.version, auth_words(r.auth), r.gzip_accepted ? ", accepts gzip" : "", sz,
                    r.gzip_sent ? " (gzip)" : "");
            }
        }
    }
    if (st != EOTA_CLIENT_DONE && st != EOTA_CLIENT_FAILED)
        return;
    eota_client_get_report(&j->cl, &j->rep);
    j->have_rep = 1;
    if (st == EOTA_CLIENT_DONE) {
        j->err = EOTA_CLIENT_OK;
        finish_job(x, j, 1);
        return;
    }
    j->err = j->rep.error;
    j->phase = j->rep.phase;
    j->code = j->rep.code;
    j->sys_err = j->conn.err;
    /* A reset is the device closing on us with our bytes unread (it does
     * that when it gives up): to the user it closed without answering. */
    if (j->err == EOTA_CLIENT_ERR_IO && (j->sys_err == ECONNRESET || j->sys_err == EPIPE))
        j->err = EOTA_CLIENT_ERR_CLOSED;
    attempt_failed(x, j);
}

/* ------------------------------------------------------------------ */
/* progress                                                            */
/* ------------------------------------------------------------------ */

/* Fraction done of a job, 0..1. Version 2: what the device acknowledged;
 * version 1: what left us. */
static double job_fraction(const job *j, uint64_t *bytes)
{
    if (j->st == J_DONE && j->have_wres) {
        *bytes = j->wres.body_sent;
        return 1.0;
    }
    if (j->st == J_DONE) {
        *bytes = j->have_rep ? j->rep.sent : 0;
        return 1.0;
    }
    if (j->st == J_RUNNING && j->wx) {
        uint64_t total = 0;
        up_web_progress(j->wx, bytes, &total);
        return total ? (double)*bytes / (double)total : 0.0;
    }
    if (j->st != J_RUNNING || !j->engine_ok) {
        *bytes = 0;
        return 0.0;
    }
    eota_client_report r;
    eota_client_get_report(&j->cl, &r);
    uint32_t done = r.version >= 2 ? r.acked : r.sent;
    *bytes = done;
    return r.size ? (double)done / (double)r.size : 0.0;
}

static void progress(up_ctx *x, int force)
{
    if (x->opt.quiet)
        return;
    uint64_t t = up_now_ms();
    uint32_t every = x->con.tty ? BAR_REFRESH_MS : PLAIN_PROGRESS_MS;
    if (!force && t - x->last_draw < every)
        return;
    x->last_draw = t;
    size_t done = 0, failed = 0, running = 0, waiting = 0;
    double frac = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < x->njobs; i++) {
        job *j = &x->jobs_v[i];
        uint64_t b = 0;
        frac += job_fraction(j, &b);
        bytes += b;
        if (j->st == J_DONE && j->ok)
            done++;
        else if (j->st == J_DONE)
            failed++;
        else if (j->st == J_PENDING)
            waiting++;
        else
            running++;
    }
    frac /= (double)x->njobs;
    double secs = (double)(t - x->t0) / 1000.0;
    char rate[32];
    up_human_bytes(rate, sizeof rate, secs > 0.05 ? (uint64_t)((double)bytes / secs) : 0);
    if (x->con.tty) {
        struct winsize ws;
        int width = 80;
        if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
            width = ws.ws_col;
        char tail[160];
        if (x->njobs == 1) {
            job *j = &x->jobs_v[0];
            eota_client_report r;
            memset(&r, 0, sizeof r);
            if (j->engine_ok)
                eota_client_get_report(&j->cl, &r);
            uint64_t size = r.size;
            if (j->wx) {
                uint64_t s0;
                up_web_progress(j->wx, &s0, &size);
            } else if (j->have_wres) {
                size = j->wres.body_size;
            }
            char a[32], b[32];
            up_human_bytes(a, sizeof a, bytes);
            up_human_bytes(b, sizeof b, size);
            if (j->wx && size && bytes >= size)
                snprintf(tail, sizeof tail, " %3.0f%% %s sent, waiting for the device's answer", frac * 100.0, b);
            else
                snprintf(tail, sizeof tail, " %3.0f%% %s/%s %s/s", frac * 100.0, a, b, rate);
        } else {
            snprintf(tail, sizeof tail, " %3.0f%% %zu ok, %zu failed, %zu running, %zu waiting, %s/s",
                     frac * 100.0, done, failed, running, waiting, rate);
        }
        int barw = width - (int)strlen(tail) - 4;
        if (barw > 50)
            barw = 50;
        if (barw < 10)
            barw = 10;
        int fill = (int)(frac * barw + 0.5);
        char bar[64];
        for (int i = 0; i < barw; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[barw] = '\0';
        fprintf(stderr, "\r\033[K[%s]%s", bar, tail);
        fflush(stderr);
        x->con.bar_shown = 1;
    } else if (!force) {
        if (x->njobs == 1) {
            job *j = &x->jobs_v[0];
            if (j->st != J_RUNNING)
                return;
            uint64_t size = 0;
            if (j->wx) {
                uint64_t s0;
                up_web_progress(j->wx, &s0, &size);
            } else {
                eota_client_report r;
                eota_client_get_report(&j->cl, &r);
                size = r.size;
            }
            if (!size)
                return;
            char a[32], b[32];
            up_human_bytes(a, sizeof a, bytes);
            up_human_bytes(b, sizeof b, size);
            if (j->wx && bytes >= size)
                fprintf(stderr, "%s: %s sent, waiting for the device's answer\n", j->spec, b);
            else
                fprintf(stderr, "%s: %.0f%% (%s of %s, %s/s)\n", j->spec, frac * 100.0, a, b, rate);
        } else {
            fprintf(stderr, "progress: %.0f%%: %zu ok, %zu failed, %zu running, %zu waiting (%s/s)\n",
                    frac * 100.0, done, failed, running, waiting, rate);
        }
    }
}

static void summary_table(up_ctx *x)
{
    size_t w = 6;
    for (size_t i = 0; i < x->njobs; i++)
        if (strlen(x->jobs_v[i].spec) > w)
            w = strlen(x->jobs_v[i].spec);
    if (w > 40)
        w = 40;
    printf("%-*s  %-22s  %-6s  %10s  %7s  %s\n", (int)w, "DEVICE", "ADDRESS", "RESULT", "SENT", "TIME",
           "DETAIL");
    size_t failed = 0;
    for (size_t i = 0; i < x->njobs; i++) {
        job *j = &x->jobs_v[i];
        const up_addr *a = j->attempts ? cur_addr(j) : NULL;
        char sent[32];
        up_human_bytes(sent, sizeof sent, j->have_wres ? j->wres.body_sent : j->have_rep ? j->rep.sent : 0);
        char detail[800];
        if (j->ok && x->web) {
            snprintf(detail, sizeof detail, "web, %s%s", j->wres.auth_used, x->web_gzip ? ", gzip" : "");
        } else if (j->ok) {
            snprintf(detail, sizeof detail, "v%u, %s%s%s", j->rep.version, auth_name(j->rep.auth),
                     j->rep.gzip_sent ? ", gzip" : "", j->pw_i ? ", previous password" : "");
        } else {
            failed++;
            snprintf(detail, sizeof detail, "%s", j->msg);
        }
        printf("%-*s  %-22s  %-6s  %10s  %6.1fs  %s\n", (int)w, j->spec, a ? a->show : "-",
               j->ok ? "ok" : "FAILED", sent, job_seconds(j), detail);
    }
    if (failed)
        printf("%zu of %zu devices failed.\n", failed, x->njobs);
    else
        printf("all %zu devices updated.\n", x->njobs);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */
/* ------------------------------------------------------------------ */

static void begin_job(up_ctx *x, job *j)
{
    char err[256];
    j->t_begin = up_now_ms();
    j->conn.pc.fd = -1;
    j->good_addr = -1;
    if (!x->web && setup_engine(x, j, err, sizeof err) != 0) {
        j->err = EOTA_CLIENT_ERR_CRYPTO;
        finish_job(x, j, 0);
        return;
    }
    if (up_resolve(j->targets, j->ntargets, &j->addrs, &j->naddrs, j->resolve_msg, sizeof j->resolve_msg,
                   x->opt.verbose || j->ntargets > 1 ? &x->con : NULL, j->spec) == 0) {
        j->err = EOTA_CLIENT_ERR_RESOLVE;
        finish_job(x, j, 0);
        return;
    }
    j->max_attempts = j->naddrs + (size_t)x->opt.retries;
    attempt(x, j, 0, 1);
}

static void run_loop(up_ctx *x)
{
    struct pollfd *pfd = up_xcalloc(x->njobs, sizeof *pfd);
    size_t *idx = up_xcalloc(x->njobs, sizeof *idx);
    size_t next = 0;
    for (;;) {
        size_t active = 0, unfinished = 0;
        for (size_t i = 0; i < next; i++)
            if (x->jobs_v[i].st != J_DONE)
                active++;
        while (active < (size_t)x->opt.jobs && next < x->njobs) {
            job *j = &x->jobs_v[next++];
            begin_job(x, j);
            if (j->st != J_DONE)
                active++;
        }
        unfinished = active + (x->njobs - next);
        if (unfinished == 0)
            break;

        uint64_t t = up_now_ms();
        long timeout = x->opt.quiet ? 1000 : (long)(x->con.tty ? BAR_REFRESH_MS : 500);
        nfds_t n = 0;
        for (size_t i = 0; i < next; i++) {
            job *j = &x->jobs_v[i];
            short ev = 0;
            long tj = -1;
            if (j->st == J_CONNECTING) {
                ev = POLLOUT;
                tj = j->deadline > t ? (long)(j->deadline - t) : 0;
            } else if (j->st == J_RUNNING && j->wx) {
                /* libcurl's own timeout is in curl_multi_poll */
            } else if (j->st == J_RUNNING) {
                unsigned w = eota_client_wants(&j->cl);
                ev = (short)(((w & EOTA_WANT_READ) ? POLLIN : 0) | ((w & EOTA_WANT_WRITE) ? POLLOUT : 0));
                tj = eota_client_timeout_ms(&j->cl);
            } else if (j->st == J_WAIT) {
                tj = j->next_try > t ? (long)(j->next_try - t) : 0;
            }
            if (tj >= 0 && tj < timeout)
                timeout = tj;
            if ((j->st == J_CONNECTING || j->st == J_RUNNING) && j->conn.pc.fd >= 0) {
                pfd[n].fd = j->conn.pc.fd;
                pfd[n].events = ev;
                pfd[n].revents = 0;
                idx[n] = i;
                n++;
            }
        }
        int pr = x->wm ? up_web_poll(x->wm, pfd, n, timeout) : poll(pfd, n, (int)timeout);
        if (pr < 0 && errno != EINTR) {
            up_shout(&x->con, "eota upload: poll: %s", strerror(errno));
            break;
        }
        if (x->wm) {
            up_web_xfer *wx;
            while ((wx = up_web_next_done(x->wm)))
                web_done(x, (job *)up_web_user(wx));
        }
        /* Who is ready: connecting sockets need their revents. */
        for (nfds_t k = 0; k < n; k++) {
            job *j = &x->jobs_v[idx[k]];
            if (j->st == J_CONNECTING)
                finish_connect(x, j, pr > 0 ? pfd[k].revents : 0);
        }
        for (size_t i = 0; i < next; i++) {
            job *j = &x->jobs_v[i];
            if (j->st == J_RUNNING && !j->wx && !x->web)
                drive(x, j);
            else if (j->st == J_CONNECTING && up_now_ms() >= j->deadline)
                finish_connect(x, j, 0);
            else if (j->st == J_WAIT && up_now_ms() >= j->next_try)
                attempt(x, j, retry_addr(j), 1);
        }
        progress(x, 0);
    }
    if (x->con.tty && !x->opt.quiet) {
        progress(x, 1);
        up_console_clear(&x->con);
    }
    free(pfd);
    free(idx);
}

/* ------------------------------------------------------------------ */
/* setup                                                               */
/* ------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

static int read_password_file(up_ctx *x, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open --password-file '%s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n < 0) {
        free(line);
        line = up_xstrdup("");
    }
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
        line[--l] = '\0';
    x->password_file_buf = line;
    return 0;
}

static void add_password(up_ctx *x, const char *pw)
{
    if (x->npasswords < sizeof x->passwords / sizeof x->passwords[0])
        x->passwords[x->npasswords++] = up_xstrdup(pw ? pw : "");
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

/* The device's web port as its config sets it: the reader resolves
 * web_server: port: (given, else 80 on chip profiles and 8080 on host:, as
 * eota device listens); 0 would mean a reader that left it unset. */
static uint16_t config_web_port(const eota_config *cfg)
{
    if (cfg->web_server.port)
        return cfg->web_server.port;
    int host = cfg->profile && cfg->profile->platform && !strcmp(cfg->profile->platform, "host");
    return host ? UP_DEFAULT_WEB_PORT_HOST : UP_DEFAULT_WEB_PORT;
}

static void free_ctx(up_ctx *x)
{
    for (size_t i = 0; i < x->njobs; i++) {
        job *j = &x->jobs_v[i];
        if (j->conn.pc.fd >= 0 && j->st != J_DONE)
            close(j->conn.pc.fd);
        if (j->hash_ok)
            eota_posix_hash_free(&j->hash);
        if (j->wx)
            up_web_free(x->wm, j->wx);
        up_targets_free(j->targets, j->ntargets);
        free(j->addrs);
        free(j->spec);
        free(j->buf);
    }
    free(x->jobs_v);
    up_web_multi_free(x->wm);
    free(x->web_filename);
    for (size_t i = 0; i < x->npasswords; i++) {
        memset(x->passwords[i], 0, strlen(x->passwords[i]));
        free(x->passwords[i]);
    }
    if (x->password_file_buf) {
        memset(x->password_file_buf, 0, strlen(x->password_file_buf));
        free(x->password_file_buf);
    }
    up_opts_free(&x->opt);
    free(x->firmware_owned);
    up_image_free(&x->img);
    if (x->have_cfg)
        eota_config_free(&x->cfg);
}

int eota_cmd_upload(int argc, char **argv)
{
    up_ctx ctx;
    up_ctx *x = &ctx;
    memset(x, 0, sizeof *x);
    up_opts_init(&x->opt);
    int rc = up_opts_parse(&x->opt, argc, argv);
    if (rc >= 0) {
        free_ctx(x);
        return rc;
    }
    x->firmware = x->opt.file;
    x->con.quiet = x->opt.quiet;
    char err[1024];
    rc = 2;

    /* config or firmware */
    if (ends_with(x->opt.positional, ".yaml") || ends_with(x->opt.positional, ".yml")) {
        x->config_path = x->opt.positional;
        if (eota_config_load(x->config_path, &x->cfg, err, sizeof err) != 0) {
            fprintf(stderr, "eota upload: %s\n", err);
            goto out;
        }
        x->have_cfg = 1;
        if (x->opt.platform == UP_PLATFORM_AUTO && !x->cfg.ota.present && x->cfg.ota_web_server)
            x->opt.platform = UP_PLATFORM_WEB;
        if (x->opt.platform != UP_PLATFORM_WEB && !x->cfg.ota.present) {
            fprintf(stderr,
                    "eota upload: %s has no ota: entry with platform: esphome; the device would not serve "
                    "the native OTA protocol%s\n",
                    x->config_path,
                    x->cfg.ota_web_server ? " (it has platform: web_server: use --ota-platform web_server)" : "");
            goto out;
        }
        if (x->opt.platform == UP_PLATFORM_WEB && !x->cfg.ota_web_server) {
            fprintf(stderr,
                    "eota upload: %s has no ota: entry with platform: web_server; the device would answer "
                    "404 to POST /update\n",
                    x->config_path);
            goto out;
        }
        if (!x->firmware) {
            /* ESPHome's own build output, as `esphome upload` finds it. */
            char guess[4096];
            const char *slash = strrchr(x->config_path, '/');
            int dl = slash ? (int)(slash - x->config_path) : 1;
            snprintf(guess, sizeof guess, "%.*s/.esphome/build/%s/.pioenvs/%s/firmware.bin", dl,
                     slash ? x->config_path : ".", x->cfg.name ? x->cfg.name : "", x->cfg.name ? x->cfg.name : "");
            if (x->cfg.name && file_exists(guess)) {
                x->firmware_owned = up_xstrdup(guess);
                x->firmware = x->firmware_owned;
            } else {
                fprintf(stderr, "eota upload: no firmware given: use --file FIRMWARE with a config (looked for %s)\n",
                        guess);
                goto out;
            }
        }
    } else {
        if (x->firmware) {
            fprintf(stderr, "eota upload: --file goes with a CONFIG.yaml; '%s' is taken as the firmware\n",
                    x->opt.positional);
            goto out;
        }
        x->firmware = x->opt.positional;
    }

    x->web = x->opt.platform == UP_PLATFORM_WEB;
    if (!x->web && (x->opt.web_username || x->opt.web_password || x->opt.web_auth >= 0 || x->opt.web_port > 0)) {
        rc = up_usage_error("--web-username, --web-password, --web-auth and --web-port go with --ota-platform "
                         "web_server");
        goto out;
    }
    if (x->web) {
        if (x->opt.ota_type >= 0 && x->opt.ota_type != (int)EOTA_OTA_TYPE_APP) {
            rc = up_usage_error("--ota-type: a web upload installs the application only");
            goto out;
        }
        int cfg_auth = x->have_cfg && x->cfg.web_server.has_auth;
        x->web_username = x->opt.web_username ? x->opt.web_username : cfg_auth ? x->cfg.web_server.username : NULL;
        if (x->opt.web_password)
            x->web_password = x->opt.web_password;
        else if (x->web_username && getenv("EOTA_WEB_PASSWORD"))
            x->web_password = getenv("EOTA_WEB_PASSWORD");
        else if (cfg_auth)
            x->web_password = x->cfg.web_server.password;
        if (x->web_username && !x->web_password) {
            rc = up_usage_error("--web-username needs a password: --web-password, EOTA_WEB_PASSWORD or the config's "
                             "web_server: auth:");
            goto out;
        }
        if (!x->web_username && x->opt.web_password) {
            rc = up_usage_error("--web-password needs --web-username (or the config's web_server: auth:)");
            goto out;
        }
        if (x->opt.web_auth >= 0)
            x->web_auth = (up_web_auth)x->opt.web_auth;
        else if (cfg_auth && !x->opt.web_username)
            x->web_auth = x->cfg.web_server.auth_type == EOTA_WEB_AUTH_DIGEST ? UP_WEB_AUTH_DIGEST
                                                                                : UP_WEB_AUTH_BASIC;
        else
            x->web_auth = UP_WEB_AUTH_ANY;
    }

    /* passwords: current first, then the previous ones */
    const char *pw = NULL;
    if (x->opt.password)
        pw = x->opt.password;
    else if (x->opt.password_file) {
        if (read_password_file(x, x->opt.password_file, err, sizeof err) != 0) {
            fprintf(stderr, "eota upload: %s\n", err);
            goto out;
        }
        pw = x->password_file_buf;
    } else if (getenv("EOTA_PASSWORD"))
        pw = getenv("EOTA_PASSWORD");
    else if (x->have_cfg && x->cfg.ota.has_password)
        pw = x->cfg.ota.password;
    add_password(x, pw);
    for (size_t i = 0; i < x->opt.previous.n; i++)
        add_password(x, x->opt.previous.v[i]);
    for (size_t i = 0; i < x->npasswords; i++) {
        if (strlen(x->passwords[i]) > EOTA_PASSWORD_MAX) {
            fprintf(stderr, "eota upload: a password is longer than %d bytes\n", EOTA_PASSWORD_MAX);
            goto out;
        }
    }

    /* devices */
    if (x->opt.devices_from && up_devices_read(x->opt.devices_from, &x->opt.devices, err, sizeof err) != 0) {
        fprintf(stderr, "eota upload: %s\n", err);
        goto out;
    }
    if (x->opt.devices.n == 0 && x->have_cfg && x->cfg.name) {
        char def[512];
        snprintf(def, sizeof def, "%s.local", x->cfg.name);
        x->opt.devices.v = up_xcalloc(1, sizeof *x->opt.devices.v);
        x->opt.devices.v[x->opt.devices.n++] = up_xstrdup(def);
    }
    if (x->opt.devices.n == 0) {
        rc = up_usage_error("no device given (--device HOST[:PORT] or --devices-from FILE)");
        goto out;
    }
    uint16_t defport;
    if (x->web)
        defport = (uint16_t)(x->opt.web_port > 0 ? x->opt.web_port
                             : x->opt.port > 0   ? x->opt.port
                             : x->have_cfg   ? config_web_port(&x->cfg)
                                             : UP_DEFAULT_WEB_PORT);
    else
        defport = (uint16_t)(x->opt.port > 0 ? x->opt.port : x->have_cfg ? x->cfg.ota.port : UP_DEFAULT_PORT);
    x->jobs_v = up_xcalloc(x->opt.devices.n, sizeof *x->jobs_v);
    for (size_t i = 0; i < x->opt.devices.n; i++) {
        x->jobs_v[i].conn.pc.fd = -1;
        x->njobs++;
        x->jobs_v[i].spec = up_xstrdup(x->opt.devices.v[i]);
        if (up_spec_parse(x->opt.devices.v[i], defport, &x->jobs_v[i].targets, &x->jobs_v[i].ntargets, err, sizeof err) != 0) {
            rc = up_usage_error("%s", err);
            goto out;
        }
    }

    /* the image */
    if (up_image_load(&x->img, x->firmware, err, sizeof err) != 0) {
        fprintf(stderr, "eota upload: %s\n", err);
        goto out;
    }
    if (x->web) {
        /* No feature exchange over HTTP: the image as is, or its gzip when
         * asked for (devices tell gzip by its magic bytes). */
        x->web_data = x->img.data;
        x->web_len = x->img.size;
        if (x->opt.compress == UP_COMPRESS_ALWAYS) {
            if (up_image_compress(&x->img, err, sizeof err) == 0) {
                char a[32], b[32];
                up_human_bytes(a, sizeof a, x->img.size);
                up_human_bytes(b, sizeof b, x->img.gz_size);
                up_say(&x->con, "compressed the image: %s -> %s (%.0f%%) in %.2f s", a, b,
                    100.0 * (double)x->img.gz_size / (double)x->img.size, x->img.compress_seconds);
                x->web_data = x->img.gz;
                x->web_len = x->img.gz_size;
                x->web_gzip = 1;
            } else {
                up_shout(&x->con, "eota upload: %s; sending the image uncompressed", err);
            }
        }
        const char *base = strrchr(x->firmware, '/');
        x->web_filename = up_xstrdup(base ? base + 1 : x->firmware);
        if (x->web_gzip) {
            size_t l = strlen(x->web_filename);
            char *gzname = up_xcalloc(1, l + 4);
            snprintf(gzname, l + 4, "%s.gz", x->web_filename);
            free(x->web_filename);
            x->web_filename = gzname;
        }
        if (!(x->wm = up_web_multi_new(err, sizeof err))) {
            fprintf(stderr, "eota upload: %s\n", err);
            goto out;
        }
    } else if (x->opt.compress == UP_COMPRESS_ALWAYS) {
        x->offer_gzip = 1;
    } else if (x->opt.compress == UP_COMPRESS_AUTO) {
        double ratio = up_image_trial(&x->img);
        x->offer_gzip = ratio <= 1.0 - GZIP_MIN_SAVING;
        if (x->opt.verbose || !x->offer_gzip)
            up_say(&x->con, "gzip trial on %zu KiB of the image: %.0f%% of the size in %.3f s; %s", x->img.trial_bytes / 1024,
                ratio * 100.0, x->img.trial_seconds,
                x->offer_gzip ? "gzip offered to devices that accept it" : "it does not pay, sending raw");
    }

    x->con.tty = isatty(2);
    x->t0 = up_now_ms();
    x->last_draw = x->t0;
    run_loop(x);

    size_t failed = 0;
    for (size_t i = 0; i < x->njobs; i++)
        failed += !x->jobs_v[i].ok;
    if (x->njobs > 1 && !x->opt.json && !x->opt.quiet)
        summary_table(x);
    rc = failed ? 1 : 0;
out:
    free_ctx(x);
    return rc;
}
