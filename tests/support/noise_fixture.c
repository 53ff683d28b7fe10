/*
 * noise_fixture.c: the Noise tests' shared crypto instance and fixed
 * random source (noise_fixture.h).
 */
#include "noise_fixture.h"

#include <string.h>

#include "eota/noise_posix.h"
#include "eota/status.h"

static eota_posix_noise_crypto nc;

int noise_fixture_setup(void **state)
{
    (void)state;
    return eota_posix_noise_crypto_init(&nc) == EOTA_OK ? 0 : -1;
}

int noise_fixture_teardown(void **state)
{
    (void)state;
    eota_posix_noise_crypto_free(&nc);
    return 0;
}

eota_noise_crypto noise_fixture_seam(void) { return eota_posix_noise_crypto_seam(&nc); }

int noise_fixture_fill(void *ctx, uint8_t *buf, size_t len)
{
    memset(buf, *(const uint8_t *)ctx, len);
    return EOTA_OK;
}
