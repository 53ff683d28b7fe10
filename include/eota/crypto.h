/*
 * eota/crypto.h: the hash seam. One incremental hash at a time per instance;
 * the instance's memory (ctx) belongs to the integrator, so the core needs no
 * allocation. The POSIX port fills it with OpenSSL's libcrypto.
 */
#ifndef EOTA_CRYPTO_H
#define EOTA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eota_hash_alg {
    EOTA_HASH_MD5 = 0,     /* 16-byte digest */
    EOTA_HASH_SHA256 = 1   /* 32-byte digest */
} eota_hash_alg;

typedef struct eota_hash_ops {
    /* Start a new hash, dropping any unfinished one. EOTA_OK or negative. */
    int (*begin)(void *ctx, eota_hash_alg alg);
    void (*update)(void *ctx, const uint8_t *data, size_t len);
    /* Write the digest (16 or 32 bytes). EOTA_OK or negative. */
    int (*finish)(void *ctx, uint8_t *digest);
} eota_hash_ops;

typedef struct eota_hash {
    const eota_hash_ops *ops;
    void *ctx;
} eota_hash;

#define EOTA_SHA256_LEN 32u /* bytes of a SHA-256 digest */

static inline unsigned eota_hash_digest_len(eota_hash_alg alg)
{
    return alg == EOTA_HASH_SHA256 ? 32u : 16u;
}

#ifdef __cplusplus
}
#endif

#endif
