/*
 * auth.c: the web server's authentication (web_server: auth:), basic or
 * digest (MD5, as ESPHome's), through libmicrohttpd; credentials compared
 * in constant time and wiped after use. The configured password is read
 * from the config (its one copy in the process); a basic header is decoded
 * here, so that no copy of what it holds is left in freed memory. Wrong
 * credentials slow their address down (backoff.h): after a few, its
 * requests get 429 for a growing delay without being checked; other
 * addresses are not slowed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "log.h"

/* The "user:password" of a basic Authorization header, decoded (OpenSSL's
 * base64) into a buffer of ours, *len bytes and a NUL; NULL when there is
 * none. Not libmicrohttpd's decoding: it leaves the password in freed
 * memory (its decoded copy, and the user name's buffer past the NUL). */
static char *basic_credentials(struct MHD_Connection *c, size_t *len)
{
    static const char basic[] = "Basic ";
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, basic, sizeof basic - 1) != 0)
        return NULL;
    h += sizeof basic - 1;
    size_t n = strlen(h);
    if (n < 4 || n > INT_MAX)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    int got = EVP_DecodeBlock(out, (const unsigned char *)h, (int)n);
    size_t pad = (size_t)(h[n - 1] == '=') + (size_t)(h[n - 2] == '=');
    if (got < 0 || (size_t)got < pad) {
        free(out);
        return NULL;
    }
    *len = (size_t)got - pad;
    out[*len] = 0;
    return (char *)out;
}

static int check_basic(const eota_web_server_config *ws, struct MHD_Connection *c)
{
    size_t len = 0;
    char *cred = basic_credentials(c, &len);
    char *colon = cred ? memchr(cred, ':', len) : NULL;
    int ok = 0;
    if (colon) {
        size_t ul = (size_t)(colon - cred), pl = len - ul - 1;
        ok = ul == strlen(ws->username) && pl == strlen(ws->password) &&
             CRYPTO_memcmp(cred, ws->username, ul) == 0 && CRYPTO_memcmp(colon + 1, ws->password, pl) == 0;
    }
    if (cred) {
        OPENSSL_cleanse(cred, len);
        free(cred);
    }
    if (!colon)
        return WEB_AUTH_MISSING;
    return ok ? WEB_AUTH_OK : WEB_AUTH_WRONG;
}

int web_check_auth(eota_web *w, struct MHD_Connection *c)
{
    const eota_web_server_config *ws = &w->cfg->web_server;
    if (!ws->has_auth)
        return WEB_AUTH_OK;
    if (ws->auth_type != EOTA_WEB_AUTH_DIGEST)
        return check_basic(ws, c);
    char *user = MHD_digest_auth_get_username(c);
    if (!user)
        return WEB_AUTH_MISSING;
    MHD_free(user);
    int rc = MHD_digest_auth_check2(c, w->realm, ws->username, ws->password, 300, MHD_DIGEST_ALG_MD5);
    if (rc == MHD_YES)
        return WEB_AUTH_OK;
    return rc == MHD_INVALID_NONCE ? WEB_AUTH_STALE : WEB_AUTH_WRONG;
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
