/*
 * auth.c: the web server's authentication (web_server: auth:), basic or
 * digest (MD5, as ESPHome's), through libmicrohttpd; credentials compared
 * in constant time and wiped after use. Wrong credentials slow their
 * address down (backoff.h): after a few, its requests get 429 for a
 * growing delay without being checked; other addresses are not slowed.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "log.h"

int web_check_auth(eota_web *w, struct MHD_Connection *c)
{
    const eota_web_server_config *ws = &w->cfg->web_server;
    if (!ws->has_auth)
        return WEB_AUTH_OK;
    if (ws->auth_type == EOTA_WEB_AUTH_DIGEST) {
        char *user = MHD_digest_auth_get_username(c);
        if (!user)
            return WEB_AUTH_MISSING;
        MHD_free(user);
        int rc = MHD_digest_auth_check2(c, w->realm, ws->username, ws->password, 300, MHD_DIGEST_ALG_MD5);
        if (rc == MHD_YES)
            return WEB_AUTH_OK;
        return rc == MHD_INVALID_NONCE ? WEB_AUTH_STALE : WEB_AUTH_WRONG;
    }
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    if (!user) {
        if (pass)
            MHD_free(pass);
        return WEB_AUTH_MISSING;
    }
    size_t ul = strlen(user), pl = pass ? strlen(pass) : 0;
    size_t cul = strlen(ws->username), cpl = strlen(ws->password);
    int ok = ul == cul && pl == cpl && CRYPTO_memcmp(user, ws->username, ul) == 0 &&
             CRYPTO_memcmp(pass ? pass : "", ws->password, pl) == 0;
    if (pass) {
        OPENSSL_cleanse(pass, pl);
        MHD_free(pass);
    }
    MHD_free(user);
    return ok ? WEB_AUTH_OK : WEB_AUTH_WRONG;
}

enum MHD_Result web_reply_auth(eota_web *w, struct MHD_Connection *c, int why, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result ret;
    if (w->cfg->web_server.auth_type == EOTA_WEB_AUTH_DIGEST)
        ret = MHD_queue_auth_fail_response2(c, w->realm, w->opaque, resp, why == WEB_AUTH_STALE ? MHD_YES : MHD_NO,
                                            MHD_DIGEST_ALG_MD5);
    else
        ret = MHD_queue_basic_auth_fail_response(c, w->realm, resp);
    MHD_destroy_response(resp);
    return ret;
}

#define WEB_AUTH_SLOWED (-1)

int web_auth_gate(eota_web *w, web_req *r, enum MHD_Result *reply, int *burst_opens)
{
    uint64_t t = web_now_ms();
    *burst_opens = 0;
    uint64_t wait = w->cfg->web_server.has_auth ? backoff_wait_ms(&w->guesses, r->key, t) : 0;
    if (wait > 0) {
        char body[160];
        snprintf(body, sizeof body, "Too many wrong credentials from %s: try again in %llu ms\n", r->key,
                 (unsigned long long)wait);
        LOGD(TAG, "Request from %s: 429, its credentials are not checked for %llu ms", r->peer,
             (unsigned long long)wait);
        web_linger_if_body(w, r->conn);
        *reply = web_reply(r->conn, 429, "text/plain; charset=utf-8", body, 1);
        return WEB_AUTH_SLOWED;
    }
    int a = web_check_auth(w, r->conn);
    if (a == WEB_AUTH_WRONG)
        *burst_opens = backoff_failed(&w->guesses, r->key, t, NULL);
    else if (a == WEB_AUTH_OK && w->cfg->web_server.has_auth)
        backoff_succeeded(&w->guesses, r->key);
    return a;
}
