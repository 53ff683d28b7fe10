/*
 * noise_fixture.h: what the Noise tests share: one POSIX Noise crypto
 * instance for a cmocka group (setup and teardown), its seam, and a random
 * seam that fills with one fixed byte (fixed ephemeral keys).
 */
#ifndef EOTA_TEST_NOISE_FIXTURE_H
#define EOTA_TEST_NOISE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/noise_crypto.h"

/* cmocka group setup/teardown: the OpenSSL contexts. */
int noise_fixture_setup(void **state);
int noise_fixture_teardown(void **state);
/* The seam of the group's instance. */
eota_noise_crypto noise_fixture_seam(void);
/* eota_random.fill: every byte is *(uint8_t *)ctx. */
int noise_fixture_fill(void *ctx, uint8_t *buf, size_t len);

#endif
