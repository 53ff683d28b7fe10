/*
 * keys.c: the Noise encryption keys of a run (setup.h): the current one
 * first (--key, --key-file, EOTA_KEY, the config's ota: encryption: key,
 * else its api: encryption: key), then each --previous-key, tried in turn
 * when a device rejects one. A key is 32 bytes in base64 (ESPHome's API
 * key format), decoded by OpenSSL; a malformed one is an error that says
 * where it came from and why. Keys never reach a log, and are wiped before
 * they are freed.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload/setup.h"
#include "upload/util.h"

#define KEY_HINT "make one with: openssl rand -base64 32"

/* Decode base64 text (surrounding white space ignored) into a key. 0, or
 * -1 with the reason in why. */
int up_key_decode(const char *text, uint8_t key[UP_KEY_LEN], char *why, size_t whylen)
{
    size_t a = 0, b = strlen(text);
    while (a < b && strchr(" \t\r\n", text[a]))
        a++;
    while (b > a && strchr(" \t\r\n", text[b - 1]))
        b--;
    unsigned char out[96];
    int n = 0, fin = 0;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int ok = ctx && b - a <= 4 * (sizeof out / 3) - 4;
    if (ok) {
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)text + a, (int)(b - a)) >= 0 &&
             EVP_DecodeFinal(ctx, out + n, &fin) == 1 && strcspn(text + a, " \t\r\n") >= b - a;
    }
    EVP_ENCODE_CTX_free(ctx);
    size_t len = (size_t)(n + fin);
    int zero = 1;
    for (size_t i = 0; ok && i < len; i++)
        zero &= out[i] == 0;
    if (!ok)
        snprintf(why, whylen, "it is not base64 (a key is 44 characters: A-Z, a-z, 0-9, + and /, ending in =)");
    else if (len != UP_KEY_LEN)
        snprintf(why, whylen, "it decodes to %zu bytes; an encryption key is %d bytes (44 base64 characters)", len,
                 UP_KEY_LEN);
    else if (zero)
        snprintf(why, whylen, "it is all zeros, which ESPHome refuses as a key");
    else
        memcpy(key, out, UP_KEY_LEN);
    OPENSSL_cleanse(out, sizeof out);
    return ok && len == UP_KEY_LEN && !zero ? 0 : -1;
}

/* Decode text from `from` into the next key slot. 0 or -1 (printed). */
static int add_key(up_run *r, const char *text, const char *from)
{
    char why[160];
    if (r->nkeys >= UP_MAX_KEYS) {
        fprintf(stderr, "eota upload: at most %d --previous-key options\n", UP_MAX_KEYS - 1);
        return -1;
    }
    if (up_key_decode(text, r->keys[r->nkeys], why, sizeof why) != 0) {
        fprintf(stderr, "eota upload: the encryption key from %s is malformed: %s; %s\n", from, why, KEY_HINT);
        return -1;
    }
    r->nkeys++;
    return 0;
}

/* The whole file (a key is one line), or NULL (printed). */
static char *read_key_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eota upload: cannot open --key-file '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = up_xcalloc(1, 256);
    size_t n = fread(buf, 1, 255, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

/* The config's key (checked by the config reader): ota: encryption:
 * (strict), else api: encryption: key: (the stock uploader's plaintext
 * fallback). 1 when there is one. */
static int config_key(up_run *r)
{
    bool required = false;
    const uint8_t *k = r->have_cfg ? eota_config_noise_key(&r->cfg, &required) : NULL;
    if (!k)
        return 0;
    memcpy(r->keys[r->nkeys++], k, UP_KEY_LEN);
    r->key_strict = required;
    snprintf(r->key_from, sizeof r->key_from, "%s (%s)", r->config_path,
             required ? "ota: encryption:" : "api: encryption: key:");
    return 1;
}

/* The current key from the options or the environment: its text and where
 * it came from; *owned is a heap copy (a file's content) to wipe. 0, or -1
 * (printed). */
static int option_key(up_run *r, const char **text, char **owned)
{
    const up_opts *o = &r->opt;
    if (o->key || o->previous_keys.n)
        up_say(&r->con, "eota upload: warning: a key on the command line (--key, --previous-key) is visible to "
                        "other users (ps) and in shell history; prefer --key-file F or the variable EOTA_KEY");
    if (o->key) {
        *text = o->key;
        snprintf(r->key_from, sizeof r->key_from, "--key");
    } else if (o->key_file) {
        if (!(*owned = read_key_file(o->key_file)))
            return -1;
        *text = *owned;
        snprintf(r->key_from, sizeof r->key_from, "--key-file %s", o->key_file);
    } else if (getenv("EOTA_KEY")) {
        *text = getenv("EOTA_KEY");
        snprintf(r->key_from, sizeof r->key_from, "the variable EOTA_KEY");
    }
    return 0;
}

int up_setup_keys(up_run *r)
{
    const char *text = NULL;
    char *owned = NULL;
    r->key_strict = 1;
    int rc = option_key(r, &text, &owned);
    if (rc == 0 && text)
        rc = add_key(r, text, r->key_from);
    wipe_free(owned);
    if (rc != 0)
        return -1;
    if (!text && !config_key(r)) {
        r->key_strict = 0;
        if (r->opt.previous_keys.n) {
            fprintf(stderr, "eota upload: --previous-key is tried when a device rejects the current key; give "
                            "that with --key-file F, EOTA_KEY or the config's encryption: key\n");
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < r->opt.previous_keys.n; i++) {
        char from[48];
        snprintf(from, sizeof from, "--previous-key #%zu", i + 1);
        if (add_key(r, r->opt.previous_keys.v[i], from) != 0)
            return -1;
    }
    return 0;
}

void up_keys_free(up_run *r)
{
    OPENSSL_cleanse(r->keys, sizeof r->keys);
    r->nkeys = 0;
}
