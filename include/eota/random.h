/*
 * eota/random.h: the random seam. Must be a CSPRNG: the bytes become the
 * authentication nonce.
 */
#ifndef EOTA_RANDOM_H
#define EOTA_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_random {
    /* Fill buf with len random bytes; EOTA_OK (0) or a negative status. */
    int (*fill)(void *ctx, uint8_t *buf, size_t len);
    void *ctx;
} eota_random;

#ifdef __cplusplus
}
#endif

#endif
