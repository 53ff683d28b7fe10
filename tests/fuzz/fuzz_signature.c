/*
 * fuzz_signature.c: libFuzzer target over the signed-image trailer
 * (eota/signature.h) and the storage layer that checks it
 * (eota/sig_layer.h). The input is an image's tail: the parser must never
 * read outside it and what it returns must lie inside it; streamed through
 * the layer over the in-memory backend (in pieces the input's first byte
 * chooses), nothing may ever be committed (no input carries a signature by
 * the fuzzer's trusted key), and nothing may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"
#include "eota/sig_layer.h"
#include "mem_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const uint8_t *data, size_t size, const void *p, size_t n)
{
    const uint8_t *q = p;
    if (n && (q < data || q + n > data + size))
        abort();
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
    eota_sig_info in;
    const char *why;
    if (eota_sig_parse(data, size, &in, &why) != EOTA_OK)
        return;
    if (in.trailer_len > size || in.trailer_len > EOTA_SIG_TRAILER_MAX || in.nsigs < 1 ||
        in.nsigs > EOTA_SIG_MAX_SIGS || in.version_len < 1 || in.version_len > EOTA_SIG_VERSION_MAX)
        abort();
    check_inside(data, size, in.protected_area, in.protected_len);
    check_inside(data, size, in.sha256, 32);
    check_inside(data, size, in.version, in.version_len);
    check_inside(data, size, in.chip, in.chip_len);
    for (unsigned i = 0; i < in.nsigs; i++) {
        check_inside(data, size, in.keyhash[i], 32);
        check_inside(data, size, in.sig[i], 64);
    }
}

static void fuzz_layer(const uint8_t *data, size_t size, eota_hash hash)
{
    static uint8_t store[1u << 16];
    static const uint8_t pub[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                    0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                    0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    eota_mem_backend mb;
    eota_sig_key key;
    eota_sig_layer l;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.max_take = size ? (data[0] & 0x0f) * 37u : 0;
    if (eota_sig_key_init(&key, pub, &hash) != EOTA_OK)
        abort();
    eota_sig_layer_config c = {eota_mem_backend_seam(&mb), hash, eota_posix_verify(), &key, 1, 1, 0, NULL, NULL, NULL};
    if (eota_sig_layer_init(&l, &c) != EOTA_OK)
        abort();
    eota_backend b = eota_sig_layer_seam(&l);
    eota_begin_info bi = {(uint32_t)size, 0, 0};
    size_t step = size ? 1u + data[size / 2] * 3u : 1u, off = 0, taken;
    if (b.ops->begin(b.ctx, &bi) != EOTA_OK)
        return;
    while (off < size && b.ops->write(b.ctx, data + off, size - off < step ? size - off : step, &taken) == EOTA_OK)
        off += taken;
    int st = off == size ? b.ops->end(b.ctx) : EOTA_EIO;
    if (st == EOTA_OK || mb.committed)
        abort(); /* signed by the trusted key: not something a fuzzer finds */
    b.ops->abort(b.ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eota_posix_hash h;
    static int ready;
    if (!ready && eota_posix_hash_init(&h) == EOTA_OK)
        ready = 1;
    fuzz_parse(data, size);
    if (ready && size <= 60000)
        fuzz_layer(data, size, eota_posix_hash_seam(&h));
    return 0;
}
