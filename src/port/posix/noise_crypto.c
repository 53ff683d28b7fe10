/*
 * noise_crypto.c: the Noise crypto seam (eota/noise_crypto.h) over OpenSSL
 * 3's EVP API: X25519 (EVP_PKEY), ChaCha20-Poly1305 (EVP_CIPHER), SHA-256
 * (EVP_MD) and HMAC-SHA256 (EVP_MAC). See eota/noise_posix.h.
 */
#include "eota/noise_posix.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "eota/status.h"

/* --- X25519 --- */

static EVP_PKEY *x25519_key(const uint8_t priv[32])
{
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, EOTA_X25519_LEN);
}

static int nc_x25519_public(void *ctx, uint8_t pub[32], const uint8_t priv[32])
{
    (void)ctx;
    EVP_PKEY *k = x25519_key(priv);
    size_t len = EOTA_X25519_LEN;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == EOTA_X25519_LEN;
    EVP_PKEY_free(k);
    return ok ? EOTA_OK : EOTA_ECRYPTO;
}

static int nc_x25519_shared(void *ctx, uint8_t shared[32], const uint8_t priv[32], const uint8_t peer[32])
{
    (void)ctx;
    EVP_PKEY *k = x25519_key(priv);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, EOTA_X25519_LEN);
    EVP_PKEY_CTX *d = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    size_t len = EOTA_X25519_LEN;
    int ok = k && p && d && EVP_PKEY_derive_init(d) == 1 && EVP_PKEY_derive_set_peer(d, p) == 1 &&
             EVP_PKEY_derive(d, shared, &len) == 1 && len == EOTA_X25519_LEN;
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    return ok ? EOTA_OK : EOTA_ECRYPTO;
}

/* --- ChaCha20-Poly1305 --- */

/* Noise's nonce: 32 zero bits, then the counter as 64-bit little-endian. */
static void noise_iv(uint8_t iv[12], uint64_t n)
{
    memset(iv, 0, 4);
    for (int i = 0; i < 8; i++)
        iv[4 + i] = (uint8_t)(n >> (8 * i));
}

/* Nonce, the key only when it is not the one c holds already (OpenSSL
 * keeps its state in c), params (the tag to check, for open) and the
 * associated data into c. held/keyed: the key c holds. */
static int aead_start(EVP_CIPHER_CTX *c, uint8_t held[EOTA_AEAD_KEY_LEN], uint8_t *keyed, const uint8_t *key,
                      uint64_t nonce, const OSSL_PARAM *params, const uint8_t *ad, size_t ad_len)
{
    uint8_t iv[12];
    int outl = 0;
    int same = *keyed && CRYPTO_memcmp(held, key, EOTA_AEAD_KEY_LEN) == 0;
    noise_iv(iv, nonce);
    if (EVP_CipherInit_ex2(c, NULL, same ? NULL : key, iv, -1, params) != 1) {
        *keyed = 0;
        return 0;
    }
    if (!same) {
        memcpy(held, key, EOTA_AEAD_KEY_LEN);
        *keyed = 1;
    }
    return ad_len == 0 || EVP_CipherUpdate(c, NULL, &outl, ad, (int)ad_len) == 1;
}

/* The text through c, then Final (which checks the tag when opening). */
static int aead_run(EVP_CIPHER_CTX *c, const uint8_t *in, size_t len, uint8_t *out)
{
    int outl = 0, fin = 0;
    if (len > 0 && EVP_CipherUpdate(c, out, &outl, in, (int)len) != 1)
        return 0;
    return EVP_CipherFinal_ex(c, out + outl, &fin) == 1 && (size_t)(outl + fin) == len;
}

static int nc_aead_seal(void *ctx, const uint8_t key[32], uint64_t nonce, const uint8_t *ad, size_t ad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    eota_posix_noise_crypto *nc = ctx;
    EVP_CIPHER_CTX *c = nc->seal_ctx;
    OSSL_PARAM tag[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + len, EOTA_AEAD_TAG_LEN),
                        OSSL_PARAM_END};
    if (len > 0x7fffffff || !aead_start(c, nc->seal_key, &nc->seal_keyed, key, nonce, NULL, ad, ad_len) ||
        !aead_run(c, in, len, out))
        return EOTA_ECRYPTO;
    return EVP_CIPHER_CTX_get_params(c, tag) == 1 ? EOTA_OK : EOTA_ECRYPTO;
}

static int nc_aead_open(void *ctx, const uint8_t key[32], uint64_t nonce, const uint8_t *ad, size_t ad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    eota_posix_noise_crypto *nc = ctx;
    uint8_t t[EOTA_AEAD_TAG_LEN];
    memcpy(t, in + len, sizeof t); /* out may overwrite in */
    OSSL_PARAM tag[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, t, sizeof t), OSSL_PARAM_END};
    if (len > 0x7fffffff || !aead_start(nc->open_ctx, nc->open_key, &nc->open_keyed, key, nonce, tag, ad, ad_len) ||
        !aead_run(nc->open_ctx, in, len, out))
        return EOTA_ECRYPTO;
    return EOTA_OK;
}

/* --- SHA-256 and HMAC-SHA256 --- */

static int nc_sha256(void *ctx, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32])
{
    eota_posix_noise_crypto *nc = ctx;
    EVP_MD_CTX *m = nc->md_ctx;
    unsigned int len = 0;
    int ok = EVP_DigestInit_ex2(m, EVP_sha256(), NULL) == 1 && (alen == 0 || EVP_DigestUpdate(m, a, alen) == 1) &&
             (blen == 0 || EVP_DigestUpdate(m, b, blen) == 1) && EVP_DigestFinal_ex(m, out, &len) == 1 &&
             len == EOTA_SHA256_LEN;
    return ok ? EOTA_OK : EOTA_ECRYPTO;
}

static int nc_hmac_sha256(void *ctx, const uint8_t key[32], const uint8_t *a, size_t alen, const uint8_t *b,
                          size_t blen, uint8_t out[32])
{
    eota_posix_noise_crypto *nc = ctx;
    EVP_MAC_CTX *m = nc->mac_ctx;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    size_t len = 0;
    int ok = EVP_MAC_init(m, key, EOTA_SHA256_LEN, params) == 1 && (alen == 0 || EVP_MAC_update(m, a, alen) == 1) &&
             (blen == 0 || EVP_MAC_update(m, b, blen) == 1) && EVP_MAC_final(m, out, &len, EOTA_SHA256_LEN) == 1 &&
             len == EOTA_SHA256_LEN;
    return ok ? EOTA_OK : EOTA_ECRYPTO;
}

static const eota_noise_crypto_ops posix_noise_ops = {
    .x25519_public = nc_x25519_public,
    .x25519_shared = nc_x25519_shared,
    .aead_seal = nc_aead_seal,
    .aead_open = nc_aead_open,
    .sha256 = nc_sha256,
    .hmac_sha256 = nc_hmac_sha256,
};

int eota_posix_noise_crypto_init(eota_posix_noise_crypto *nc)
{
    if (nc == NULL)
        return EOTA_EINVAL;
    memset(nc, 0, sizeof *nc);
    nc->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    nc->seal_ctx = EVP_CIPHER_CTX_new();
    nc->open_ctx = EVP_CIPHER_CTX_new();
    nc->md_ctx = EVP_MD_CTX_new();
    nc->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    nc->mac_ctx = nc->mac ? EVP_MAC_CTX_new(nc->mac) : NULL;
    if (!nc->cipher || !nc->seal_ctx || !nc->open_ctx || !nc->md_ctx || !nc->mac_ctx ||
        EVP_CipherInit_ex2(nc->seal_ctx, nc->cipher, NULL, NULL, 1, NULL) != 1 ||
        EVP_CipherInit_ex2(nc->open_ctx, nc->cipher, NULL, NULL, 0, NULL) != 1) {
        eota_posix_noise_crypto_free(nc);
        return EOTA_ECRYPTO;
    }
    return EOTA_OK;
}

void eota_posix_noise_crypto_free(eota_posix_noise_crypto *nc)
{
    if (nc == NULL)
        return;
    EVP_MAC_CTX_free(nc->mac_ctx);
    EVP_MAC_free(nc->mac);
    EVP_MD_CTX_free(nc->md_ctx);
    EVP_CIPHER_CTX_free(nc->open_ctx);
    EVP_CIPHER_CTX_free(nc->seal_ctx);
    EVP_CIPHER_free(nc->cipher);
    OPENSSL_cleanse(nc, sizeof *nc); /* the keys the contexts held */
}

eota_noise_crypto eota_posix_noise_crypto_seam(eota_posix_noise_crypto *nc)
{
    eota_noise_crypto seam = {&posix_noise_ops, nc};
    return seam;
}
