/*
 * eota/verify.h: the signature verification seam. The core asks one
 * question: is sig the Ed25519 signature, by the key pub, of this 32-byte
 * SHA-256 digest (the digest itself is the signed message, one shot, as
 * MCUboot signs its images)? The seam takes any message length (msg_len),
 * so that it is tested with RFC 8032's vectors as they are; the core always
 * passes the 32-byte digest. The integrator answers with whatever the chip
 * has (a ROM routine, a crypto engine, Monocypher, TweetNaCl); the POSIX
 * port answers with OpenSSL 3 (eota_posix_verify, eota/posix.h).
 *
 * Kept apart from eota/crypto.h (the hashes and the other crypto seams) so
 * that a build without signatures includes nothing of it.
 */
#ifndef EOTA_VERIFY_H
#define EOTA_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "eota/crypto.h" /* EOTA_SHA256_LEN */

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_ED25519_PUBKEY_LEN 32
#define EOTA_ED25519_SIG_LEN 64

typedef struct eota_verify_ops {
    /* EOTA_OK when sig is a valid Ed25519 signature (RFC 8032, pure
     * Ed25519) by pub of the msg_len bytes of msg (the core: the 32-byte
     * digest); EOTA_EVERIFY when it is not (a bad signature, a key that is
     * not a point); EOTA_ECRYPTO when the seam could not answer. */
    int (*ed25519)(void *ctx, const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], const uint8_t *msg, size_t msg_len,
                   const uint8_t sig[EOTA_ED25519_SIG_LEN]);
} eota_verify_ops;

typedef struct eota_verify {
    const eota_verify_ops *ops;
    void *ctx;
} eota_verify;

#ifdef __cplusplus
}
#endif

#endif
