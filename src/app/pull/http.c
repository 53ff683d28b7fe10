/*
 * http.c: libcurl's multi interface inside the device's poll loop
 * (internal.h): curl tells which sockets it waits on (the socket
 * callback), the loop polls them with its own, and curl_multi_perform does
 * the work that is ready, never blocking. One transfer at a time. Also
 * the http_request: settings on each transfer, and failures in words.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "internal.h"

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ctx, void *sockp)
{
    (void)e;
    (void)sockp;
    pull_http *h = ctx;
    int i = 0;
    while (i < h->nsocks && h->socks[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < h->nsocks)
            h->socks[i] = h->socks[--h->nsocks];
        return 0;
    }
    if (i == h->nsocks) {
        if (h->nsocks == EOTA_PULL_MAX_FDS)
            return -1;
        h->nsocks++;
    }
    short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    h->socks[i] = (struct pollfd){fd, ev, 0};
    return 0;
}

int pull_http_init(pull_http *h)
{
    memset(h, 0, sizeof *h);
    if (!(h->multi = curl_multi_init()))
        return -1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    return 0;
}

void pull_http_free(pull_http *h)
{
    pull_http_end(h);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    h->multi = NULL;
}

CURL *pull_http_easy(const eota_config *cfg, const char *url)
{
    const eota_http_request_config *hr = &cfg->http_request;
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    long secs = hr->timeout_ms < 1000 ? 1 : (long)(hr->timeout_ms / 1000);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, hr->useragent ? hr->useragent : "eota/" EOTA_CLI_VERSION);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, hr->follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)hr->redirect_limit);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)hr->timeout_ms);
    /* a server that sends nothing for the timeout has stalled */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, secs);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hr->verify_ssl ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hr->verify_ssl ? 2L : 0L);
    if (hr->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, hr->ca_file);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

void pull_http_begin(pull_http *h, CURL *easy)
{
    h->easy = easy;
    h->done = 0;
    h->result = CURLE_OK;
    curl_multi_add_handle(h->multi, easy);
    pull_http_perform(h);
}

void pull_http_end(pull_http *h)
{
    if (!h->easy)
        return;
    curl_multi_remove_handle(h->multi, h->easy);
    curl_easy_cleanup(h->easy);
    h->easy = NULL;
    h->done = 0;
}

void pull_http_perform(pull_http *h)
{
    int running = 0, left = 0;
    if (!h->easy || h->done)
        return;
    curl_multi_perform(h->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left)))
        if (m->msg == CURLMSG_DONE && m->easy_handle == h->easy) {
            h->done = 1;
            h->result = m->data.result;
        }
}

void pull_http_why(const eota_config *cfg, CURLcode rc, const char *url, char *buf, size_t len)
{
    const char *what;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT: what = "the server is unreachable"; break;
    case CURLE_TOO_MANY_REDIRECTS: what = "too many redirects (a redirect loop?)"; break;
    case CURLE_OPERATION_TIMEDOUT: what = "the server stalled (no data within http_request: timeout:)"; break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE: what = "the server's certificate was refused"; break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: what = "the connection was cut"; break;
    default: what = "the request failed"; break;
    }
    snprintf(buf, len, "%s: %s (curl: %s; timeout %u ms, at most %u redirects)", url, what, curl_easy_strerror(rc),
             cfg->http_request.timeout_ms, cfg->http_request.redirect_limit);
}
