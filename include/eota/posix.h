/*
 * eota/posix.h: the seams filled in for Linux/POSIX (src/port/posix):
 * OpenSSL libcrypto hashes, getrandom, CLOCK_MONOTONIC and non-blocking file
 * descriptors.
 */
#ifndef EOTA_POSIX_H
#define EOTA_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "eota/clock.h"
#include "eota/crypto.h"
#include "eota/private_access.h"
#include "eota/random.h"
#include "eota/transport.h"
#include "eota/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- hashes (OpenSSL EVP) ---
 * The fields are private (EOTA_PRIVATE): init, seam, free. */
typedef struct eota_posix_hash {
    void *EOTA_PRIVATE(md_ctx); /* EVP_MD_CTX * */
    int EOTA_PRIVATE(alg);      /* algorithm of the hash in progress, -1 when none */
} eota_posix_hash;

/* EOTA_OK, or EOTA_ECRYPTO when OpenSSL cannot give a context. */
int eota_posix_hash_init(eota_posix_hash *h);
/* Safe on a zeroed struct and after a previous free. */
void eota_posix_hash_free(eota_posix_hash *h);
/* The seam view of h: {&ops, h}. */
eota_hash eota_posix_hash_seam(eota_posix_hash *h);
/* One-shot helper: digest of data (16 or 32 bytes). EOTA_OK or negative. */
int eota_posix_digest(eota_hash_alg alg, const void *data, size_t len, uint8_t *digest);

/* --- signature verification (OpenSSL 3 Ed25519, eota/verify.h) --- */
eota_verify eota_posix_verify(void);

/* --- random (getrandom) and clock (CLOCK_MONOTONIC) --- */
eota_random eota_posix_random(void);
eota_clock eota_posix_clock(void);
/* Milliseconds since an arbitrary point, 64-bit, for the tools. */
uint64_t eota_posix_now_ms64(void);

/* --- transport over a non-blocking file descriptor ---
 * The connection pointer handed to the engine is an eota_posix_conn *.
 * close() closes the fd and marks the struct unused (fd = -1); the struct
 * itself belongs to the caller. */
typedef struct eota_posix_conn {
    int fd;
} eota_posix_conn;

extern const eota_transport_ops eota_posix_transport;
/* Put fd in non-blocking mode; EOTA_OK or EOTA_EIO. */
int eota_posix_set_nonblocking(int fd);

#ifdef __cplusplus
}
#endif

#endif
