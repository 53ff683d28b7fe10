/*
 * cost.c: small measurements for bench/run.py.
 *   eota_bench_cost sizes     print the engine structs' sizes (the Noise
 *                             session's too)
 *   eota_bench_cost md5 N     MD5 of N MiB in 64 KiB pieces (the device's
 *                             transfer size), for callgrind to count
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"
#include "eota/server.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "sizes")) {
        printf("server=%zu\n", sizeof(eota_server));
        printf("noise=%zu\nnoise_tx=%d\n", sizeof(eota_noise), EOTA_NOISE_TX_BUFFER);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "md5")) {
        long mib = atol(argv[2]);
        static unsigned char buf[65536];
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(i * 131u);
        eota_posix_hash h;
        if (eota_posix_hash_init(&h) != EOTA_OK)
            return 1;
        eota_hash seam = eota_posix_hash_seam(&h);
        uint8_t d[16];
        seam.ops->begin(seam.ctx, EOTA_HASH_MD5);
        for (long i = 0; i < mib * 16; i++)
            seam.ops->update(seam.ctx, buf, sizeof buf);
        seam.ops->finish(seam.ctx, d);
        eota_posix_hash_free(&h);
        printf("%02x%02x...\n", d[0], d[1]);
        return 0;
    }
    fprintf(stderr, "usage: eota_bench_cost sizes | md5 MIB\n");
    return 2;
}
