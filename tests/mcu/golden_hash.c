/*
 * golden_hash.c: the hash seam of the MCU test image. The core has no MD5 or
 * SHA-256 (the port supplies them, eota/crypto.h) and the test image must
 * not carry a hand-written one, so this seam knows only the sessions a
 * transcript needs: golden_to_c.py recorded, for each, the exact input bytes
 * and their digest computed with OpenSSL. Every byte the engine feeds is
 * compared with the recorded input as it arrives (the candidates of the
 * session's algorithm drop out at the first difference); finish returns the
 * digest of the candidate whose input was matched whole, or EOTA_ECRYPTO
 * and a counted miss, which the replayer reports.
 */
#include "golden_mcu.h"

#include <string.h>

void golden_hash_init(golden_hash *h, const golden_hash_entry *entries, uint32_t n)
{
    h->entries = entries;
    h->n = n < 32u ? n : 32u;
    h->live = 0;
    h->fed = 0;
    h->alg = 0;
    h->misses = 0;
    h->miss_len = 0;
}

static int gh_begin(void *ctx, eota_hash_alg alg)
{
    golden_hash *h = ctx;
    h->alg = (uint8_t)alg;
    h->fed = 0;
    h->live = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->entries[i].alg == (uint8_t)alg)
            h->live |= 1u << i;
    return EOTA_OK;
}

static void gh_update(void *ctx, const uint8_t *data, size_t len)
{
    golden_hash *h = ctx;
    for (uint32_t i = 0; i < h->n; i++) {
        const golden_bytes *in = &h->entries[i].input;
        if (!(h->live & (1u << i)))
            continue;
        if (len > in->len - h->fed || memcmp(in->p + h->fed, data, len) != 0)
            h->live &= ~(1u << i);
    }
    h->fed += (uint32_t)len;
}

static int gh_finish(void *ctx, uint8_t *digest)
{
    golden_hash *h = ctx;
    for (uint32_t i = 0; i < h->n; i++) {
        if ((h->live & (1u << i)) && h->entries[i].input.len == h->fed) {
            memcpy(digest, h->entries[i].digest, eota_hash_digest_len((eota_hash_alg)h->alg));
            h->live = 0;
            return EOTA_OK;
        }
    }
    h->misses++;
    h->miss_len = h->fed;
    return EOTA_ECRYPTO;
}

static const eota_hash_ops golden_hash_ops = {gh_begin, gh_update, gh_finish};

eota_hash golden_hash_seam(golden_hash *h)
{
    eota_hash s = {&golden_hash_ops, h};
    return s;
}
