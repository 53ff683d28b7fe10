/*
 * eota/noise_posix.h: the Noise crypto seam (eota/noise_crypto.h) for
 * Linux/POSIX, over OpenSSL 3's EVP API (src/port/posix/noise_crypto.c).
 * The OpenSSL contexts are made once per instance (init) and reused by
 * every call, so a session's frames cost no allocation, and a cipher
 * context keeps its key from frame to frame: only the nonce changes.
 *
 *   eota_posix_noise_crypto nc;
 *   if (eota_posix_noise_crypto_init(&nc) != EOTA_OK) ...;
 *   cfg.crypto = eota_posix_noise_crypto_seam(&nc);
 *   ...
 *   eota_posix_noise_crypto_free(&nc);
 */
#ifndef EOTA_NOISE_POSIX_H
#define EOTA_NOISE_POSIX_H

#include "eota/noise_crypto.h"
#include "eota/private_access.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_posix_noise_crypto {
    void *EOTA_PRIVATE(cipher);   /* EVP_CIPHER * (ChaCha20-Poly1305) */
    void *EOTA_PRIVATE(seal_ctx); /* EVP_CIPHER_CTX * */
    void *EOTA_PRIVATE(open_ctx); /* EVP_CIPHER_CTX * */
    void *EOTA_PRIVATE(md_ctx);   /* EVP_MD_CTX * */
    void *EOTA_PRIVATE(mac);      /* EVP_MAC * (HMAC) */
    void *EOTA_PRIVATE(mac_ctx);  /* EVP_MAC_CTX * */
    /* The key each cipher context holds: a frame under the same key sets
     * only the nonce (the context keeps the key's state). */
    uint8_t EOTA_PRIVATE(seal_key)[EOTA_AEAD_KEY_LEN];
    uint8_t EOTA_PRIVATE(open_key)[EOTA_AEAD_KEY_LEN];
    uint8_t EOTA_PRIVATE(seal_keyed), EOTA_PRIVATE(open_keyed);
} eota_posix_noise_crypto;

/* EOTA_OK, or EOTA_ECRYPTO when OpenSSL cannot give the contexts (then
 * nothing is held). */
int eota_posix_noise_crypto_init(eota_posix_noise_crypto *nc);
/* Safe on a zeroed struct and after a previous free. */
void eota_posix_noise_crypto_free(eota_posix_noise_crypto *nc);
/* The seam view of nc: {&ops, nc}. */
eota_noise_crypto eota_posix_noise_crypto_seam(eota_posix_noise_crypto *nc);

#ifdef __cplusplus
}
#endif

#endif
