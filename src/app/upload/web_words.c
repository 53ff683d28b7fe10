/*
 * web_words.c: the sentence for a failed web upload (up_web_describe in
 * web_post.h): the HTTP status in words with the device's own reason, or
 * what went wrong on the network, and what to do about it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "upload/util.h"
#include "upload/web_post.h"

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

/* The credentials were missing, of the wrong scheme, or wrong. */
static void describe_401(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    long offered = r->auth_offered;
    if (!c->have_credentials) {
        snprintf(out, outlen,
                 "the web server asks for credentials (HTTP 401, %s) and none were given: use "
                 "--web-username and --web-password (or EOTA_WEB_PASSWORD), or the config's "
                 "web_server: auth:",
                 scheme_words(offered));
    } else if ((c->auth == UP_WEB_AUTH_BASIC && offered && !(offered & CURLAUTH_BASIC)) ||
               (c->auth == UP_WEB_AUTH_DIGEST && offered && !(offered & CURLAUTH_DIGEST))) {
        snprintf(out, outlen,
                 "the web server refused the credentials (HTTP 401): it asks for %s authentication "
                 "and %s was sent: use --web-auth %s (or any)",
                 scheme_words(offered), c->auth == UP_WEB_AUTH_BASIC ? "Basic" : "Digest",
                 (offered & CURLAUTH_DIGEST) ? "digest" : "basic");
    } else {
        snprintf(out, outlen,
                 "the web server refused the credentials (HTTP 401, %s authentication): %s; nothing "
                 "was written",
                 r->auth_used && strcmp(r->auth_used, "none") ? r->auth_used : "no", reason_of(r));
    }
}

/* The statuses whose sentence is words around the device's reason. */
static const struct {
    long status;
    const char *before, *after;
} http_words[] = {
    {409, "the device is busy: ", " (HTTP 409); nothing was written, try again when that upload is over"},
    {413, "the image is too big for the device (HTTP 413): ", ""},
    {400, "the device found the upload malformed (HTTP 400): ", "; the old image is kept"},
    {500, "the device could not write or verify the image (HTTP 500): ", "; the old image is kept"},
};

static void describe_http(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    for (size_t i = 0; i < sizeof http_words / sizeof http_words[0]; i++) {
        if (http_words[i].status == r->http_status) {
            snprintf(out, outlen, "%s%s%s", http_words[i].before, reason_of(r), http_words[i].after);
            return;
        }
    }
    if (r->http_status == 200)
        snprintf(out, outlen,
                 "the device answered HTTP 200 without \"" UP_WEB_SUCCESS_TEXT "\": the update failed "
                 "(stock devices report failures with status 200): %s",
                 r->reply[0] ? r->reply : "(empty body)");
    else if (r->http_status == 401)
        describe_401(r, c, out, outlen);
    else if (r->http_status == 404)
        snprintf(out, outlen,
                 "the device has no web upload at /update (HTTP 404): %s (does its config have ota: - "
                 "platform: web_server, and is %u its web server port?)",
                 reason_of(r), c->port);
    else
        snprintf(out, outlen, "the device answered HTTP %ld: %s", r->http_status,
                 r->reply[0] ? r->reply : "(empty body)");
}

/* A bound of web_post.h other than the silence: what the device did. */
static void describe_limit(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    char a[32], b[32];
    up_human_bytes(a, sizeof a, r->body_sent);
    up_human_bytes(b, sizeof b, r->body_size);
    switch (r->limit) {
    case UP_WEB_LIMIT_REPLY_SLOW:
        snprintf(out, outlen,
                 "the device's answer did not end: %llu bytes of a reply (HTTP %ld) in %.1f s, still incomplete; "
                 "%s",
                 (unsigned long long)r->reply_bytes, r->http_status, c->idle_ms / 1000.0,
                 r->reply[0] ? r->reply : "(no body yet)");
        return;
    default:
        snprintf(out, outlen,
                 "the upload did not end within its deadline of %.0f s, below a floor of %u KiB/s (%s of %s "
                 "sent)",
                 r->elapsed_ms / 1000.0, UP_WEB_FLOOR_BPS / 1024u, a, b);
        return;
    }
}

static void describe_timeout(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    char a[32], b[32];
    up_human_bytes(a, sizeof a, r->body_sent);
    up_human_bytes(b, sizeof b, r->body_size);
    if (r->limit > UP_WEB_LIMIT_SILENCE)
        describe_limit(r, c, out, outlen);
    else if (!r->connected)
        snprintf(out, outlen, "timed out connecting to %s (no answer in %.0f s)", c->show, c->connect_ms / 1000.0);
    else if (!r->all_sent)
        snprintf(out, outlen, "timed out sending the image: the device took nothing for %.1f s (%s of %s sent)",
                 c->idle_ms / 1000.0, a, b);
    else if (r->reply_bytes)
        snprintf(out, outlen,
                 "timed out in the device's answer: it said nothing for %.1f s after %llu bytes of a reply "
                 "(HTTP %ld)",
                 c->idle_ms / 1000.0, (unsigned long long)r->reply_bytes, r->http_status);
    else
        snprintf(out, outlen,
                 "timed out waiting for the device's answer: it said nothing for %.1f s after the whole "
                 "image was sent",
                 c->idle_ms / 1000.0);
}

static void describe_closed(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    const char *reset = r->sys_err == ECONNRESET ? " (connection reset)" : "";
    char a[32], b[32];
    up_human_bytes(a, sizeof a, r->body_sent);
    up_human_bytes(b, sizeof b, r->body_size);
    if (r->reply_bytes)
        snprintf(out, outlen,
                 "the device closed the connection after sending %llu bytes of a reply (HTTP %ld, incomplete)%s, "
                 "with %s of %s sent: %s",
                 (unsigned long long)r->reply_bytes, r->http_status, reset, a, b,
                 r->reply[0] ? r->reply : "(no body)");
    else if (r->all_sent)
        snprintf(out, outlen, "the device closed the connection without answering after the whole image was sent%s",
                 reset);
    else if (r->body_sent > 0)
        snprintf(out, outlen, "the device closed the connection during the upload, after %s of %s%s", a, b, reset);
    else
        snprintf(out, outlen,
                 "the device closed the connection without answering%s (is %u its web server port, not "
                 "the native OTA port?)",
                 reset, c->port);
}

static void describe_protocol(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    if (r->limit == UP_WEB_LIMIT_ENDLESS)
        snprintf(out, outlen,
                 "the device sent an endless reply: more than %u KiB (HTTP %ld) where a few bytes are due; "
                 "stopped reading: %s",
                 UP_WEB_REPLY_MAX / 1024u, r->http_status, r->reply[0] ? r->reply : "(no body)");
    else
        snprintf(out, outlen, "the answer is not HTTP (%s): is %u the device's web server port?", r->curl_msg,
                 c->port);
}

void up_web_describe(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen)
{
    switch (r->outcome) {
    case UP_WEB_OK: snprintf(out, outlen, "ok"); return;
    case UP_WEB_HTTP: describe_http(r, c, out, outlen); return;
    case UP_WEB_REFUSED:
        snprintf(out, outlen, "connection refused by %s (is the device on, and is %u its web server port?)", c->show,
                 c->port);
        return;
    case UP_WEB_UNREACHABLE:
        snprintf(out, outlen, "cannot reach %s: %s", c->show, r->sys_err ? strerror(r->sys_err) : r->curl_msg);
        return;
    case UP_WEB_TIMEOUT: describe_timeout(r, c, out, outlen); return;
    case UP_WEB_CLOSED: describe_closed(r, c, out, outlen); return;
    case UP_WEB_PROTOCOL: describe_protocol(r, c, out, outlen); return;
    case UP_WEB_IO: snprintf(out, outlen, "network error: %s", r->curl_msg); return;
    case UP_WEB_INTERNAL: snprintf(out, outlen, "libcurl: %s", r->curl_msg); return;
    case UP_WEB_RUNNING: break;
    }
    snprintf(out, outlen, "still running");
}
