/*
 * route.c: libmicrohttpd's callbacks: a new request is checked against the
 * web server's credentials and sent to its handler (GET / the page, POST
 * /update the web upload); the body of an upload goes to update.c; when a
 * request ends, what it held is released.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "eota/protocol.h"
#include "internal.h"
#include "log.h"
#include "net.h"

/* Wrong or missing credentials: 401 (and, for an upload, the automations
 * hear of a refused password, as for a native one). */
static enum MHD_Result refuse(eota_web *w, web_req *r, int why, int burst_opens, const char *url,
                              const char *method)
{
    struct MHD_Connection *c = r->conn;
    int is_upload = !strcmp(url, "/update") && !strcmp(method, MHD_HTTP_METHOD_POST);
    if (why == WEB_AUTH_WRONG && !burst_opens) { /* said at the burst's start */
        LOGD(TAG, "%s %s from %s: 401, wrong credentials again (%u from this address)", method, url, r->peer,
             backoff_fails(&w->guesses, r->key, web_now_ms()));
    } else if (why == WEB_AUTH_WRONG) {
        LOGW(TAG, "%s %s from %s: 401, wrong credentials", method, url, r->peer);
        if (is_upload && w->upload_enabled) {
            char detail[128];
            snprintf(detail, sizeof detail, "wrong web server credentials from %s", r->peer);
            eota_event ev = {EOTA_STATE_ERROR, EOTA_RESP_ERROR_AUTH_INVALID, 0, 0, detail};
            web_event(w, &ev);
        }
    }
    web_linger_if_body(w, c);
    return web_reply_auth(w, c, why,
                          !strcmp(url, "/update") ? "Update Failed! wrong or missing credentials (web_server: auth:)"
                                                  : "Login required");
}

/* A new request, its headers read. */
static enum MHD_Result route(eota_web *w, web_req *r, const char *url, const char *method)
{
    struct MHD_Connection *c = r->conn;
    int is_update = !strcmp(url, "/update");
    LOGD(TAG, "%s %s from %s", method, url, r->peer);
    enum MHD_Result slowed;
    int opens;
    int a = web_auth_gate(w, r, &slowed, &opens);
    if (a < 0)
        return slowed;
    if (a != WEB_AUTH_OK)
        return refuse(w, r, a, opens, url, method);
    if (is_update && !strcmp(method, MHD_HTTP_METHOD_POST)) {
        enum MHD_Result ret = web_update_first(w, r, c);
        if (!r->is_upload)
            web_linger_if_body(w, c); /* answered before the body */
        return ret;
    }
    if (!strcmp(url, "/") || is_update) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
            return web_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                             "Method not allowed: GET / for the page, POST /update for an upload\n", 1);
        return web_page(w, c);
    }
    return web_reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "Not found\n", 0);
}

enum MHD_Result web_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **req_cls)
{
    eota_web *w = cls;
    web_req *r = *req_cls;
    (void)version;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->w = w;
        r->conn = c;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        net_addr_text(ci ? ci->client_addr : NULL, 1, r->peer, sizeof r->peer);
        backoff_key(ci ? ci->client_addr : NULL, r->key);
        *req_cls = r;
        return route(w, r, url, method);
    }
    if (!r->is_upload) {
        /* a body nobody asked for: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0)
        return web_update_body(r, upload_data, upload_data_size);
    return web_update_end(r);
}

void web_on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    eota_web *w = cls;
    web_req *r = *req_cls;
    (void)c;
    if (!r)
        return;
    if (w->suspended == r)
        w->suspended = NULL;
    if (r->is_upload)
        web_update_closed(r, toe);
    free(r->pend);
    free(r);
    *req_cls = NULL;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void web_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    LOGD(TAG, "libmicrohttpd: %s", msg);
}
#pragma GCC diagnostic pop
