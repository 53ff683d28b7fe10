/*
 * eota/noise_crypto.h: the crypto seam of the Noise layer (eota/noise.h):
 * the primitives of Noise_NNpsk0_25519_ChaChaPoly_SHA256, that the core
 * never implements itself. X25519, ChaCha20-Poly1305 (the IETF AEAD of
 * RFC 8439 with Noise's nonce), SHA-256 and HMAC-SHA256 (for Noise's HKDF).
 * The instance's memory (ctx) belongs to the integrator, so the core needs
 * no allocation. The POSIX port fills it with OpenSSL 3's EVP API
 * (eota_posix_noise_crypto, eota/posix.h).
 *
 * Kept apart from eota/crypto.h (the hash seam) so that each seam can grow
 * on its own.
 */
#ifndef EOTA_NOISE_CRYPTO_H
#define EOTA_NOISE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "eota/crypto.h" /* EOTA_SHA256_LEN */

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_X25519_LEN 32u       /* private key, public key, shared secret */
#define EOTA_AEAD_KEY_LEN 32u
#define EOTA_AEAD_TAG_LEN 16u

/* Every op returns EOTA_OK (0) or a negative status (EOTA_ECRYPTO). Output
 * buffers may be the same as input buffers where said. */
typedef struct eota_noise_crypto_ops {
    /* pub = X25519(priv, 9): the public key of a private key (32 random
     * bytes; the op clamps them as RFC 7748 says). */
    int (*x25519_public)(void *ctx, uint8_t pub[32], const uint8_t priv[32]);
    /* shared = X25519(priv, peer). May fail (EOTA_ECRYPTO) for a peer key
     * of small order (all-zero result). */
    int (*x25519_shared)(void *ctx, uint8_t shared[32], const uint8_t priv[32], const uint8_t peer[32]);
    /* ChaCha20-Poly1305 (RFC 8439) with the 96-bit nonce Noise uses: four
     * zero bytes, then `nonce` as 64-bit little-endian. seal writes len
     * bytes of ciphertext and then the 16-byte tag to out (out may equal
     * in). */
    int (*aead_seal)(void *ctx, const uint8_t key[32], uint64_t nonce, const uint8_t *ad, size_t ad_len,
                     const uint8_t *in, size_t len, uint8_t *out);
    /* The inverse: in holds len bytes of ciphertext followed by the tag
     * (len + 16 in all); writes len bytes of plaintext to out (may equal
     * in). EOTA_ECRYPTO when the tag does not verify (out is then
     * unspecified and must not be used). */
    int (*aead_open)(void *ctx, const uint8_t key[32], uint64_t nonce, const uint8_t *ad, size_t ad_len,
                     const uint8_t *in, size_t len, uint8_t *out);
    /* out = SHA-256(a || b); b may be NULL when blen is 0. */
    int (*sha256)(void *ctx, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32]);
    /* out = HMAC-SHA256(key[0..32), a || b); a or b may be NULL when their
     * length is 0. */
    int (*hmac_sha256)(void *ctx, const uint8_t key[32], const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen, uint8_t out[32]);
} eota_noise_crypto_ops;

typedef struct eota_noise_crypto {
    const eota_noise_crypto_ops *ops;
    void *ctx;
} eota_noise_crypto;

#ifdef __cplusplus
}
#endif

#endif
