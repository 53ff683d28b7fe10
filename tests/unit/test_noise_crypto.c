/*
 * test_noise_crypto.c: the Noise crypto seam of the POSIX port
 * (src/port/posix/noise_crypto.c, eota/noise_crypto.h) against published
 * vectors: X25519 from RFC 7748 (sections 5.2 and 6.1), ChaCha20-Poly1305
 * from RFC 8439 appendix A.5 (whose nonce has Noise's shape: four zero
 * bytes and a 64-bit little-endian counter), SHA-256 of "abc" (FIPS 180-2)
 * in two parts, HMAC-SHA256 against a value of Python's hmac module, and
 * the refusals: a changed tag, AAD or ciphertext does not open; an
 * instance that changes keys between calls gives what a fresh one gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eota/noise_posix.h"
#include "eota/status.h"

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

#define HEX32(name, hex) uint8_t name[32]; unhex(hex, name, 32)

/* RFC 8439 appendix A.5 (the transcription checked with Python's
 * cryptography when it was written into this file). */
static const uint8_t a5_key[32] = {
    0x1c, 0x92, 0x40, 0xa5, 0xeb, 0x55, 0xd3, 0x8a, 0xf3, 0x33, 0x88, 0x86,
    0x04, 0xf6, 0xb5, 0xf0, 0x47, 0x39, 0x17, 0xc1, 0x40, 0x2b, 0x80, 0x09,
    0x9d, 0xca, 0x5c, 0xbc, 0x20, 0x70, 0x75, 0xc0,
};
static const uint8_t a5_aad[12] = {
    0xf3, 0x33, 0x88, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x91,
};
static const uint8_t a5_ct[265] = {
    0x64, 0xa0, 0x86, 0x15, 0x75, 0x86, 0x1a, 0xf4, 0x60, 0xf0, 0x62, 0xc7,
    0x9b, 0xe6, 0x43, 0xbd, 0x5e, 0x80, 0x5c, 0xfd, 0x34, 0x5c, 0xf3, 0x89,
    0xf1, 0x08, 0x67, 0x0a, 0xc7, 0x6c, 0x8c, 0xb2, 0x4c, 0x6c, 0xfc, 0x18,
    0x75, 0x5d, 0x43, 0xee, 0xa0, 0x9e, 0xe9, 0x4e, 0x38, 0x2d, 0x26, 0xb0,
    0xbd, 0xb7, 0xb7, 0x3c, 0x32, 0x1b, 0x01, 0x00, 0xd4, 0xf0, 0x3b, 0x7f,
    0x35, 0x58, 0x94, 0xcf, 0x33, 0x2f, 0x83, 0x0e, 0x71, 0x0b, 0x97, 0xce,
    0x98, 0xc8, 0xa8, 0x4a, 0xbd, 0x0b, 0x94, 0x81, 0x14, 0xad, 0x17, 0x6e,
    0x00, 0x8d, 0x33, 0xbd, 0x60, 0xf9, 0x82, 0xb1, 0xff, 0x37, 0xc8, 0x55,
    0x97, 0x97, 0xa0, 0x6e, 0xf4, 0xf0, 0xef, 0x61, 0xc1, 0x86, 0x32, 0x4e,
    0x2b, 0x35, 0x06, 0x38, 0x36, 0x06, 0x90, 0x7b, 0x6a, 0x7c, 0x02, 0xb0,
    0xf9, 0xf6, 0x15, 0x7b, 0x53, 0xc8, 0x67, 0xe4, 0xb9, 0x16, 0x6c, 0x76,
    0x7b, 0x80, 0x4d, 0x46, 0xa5, 0x9b, 0x52, 0x16, 0xcd, 0xe7, 0xa4, 0xe9,
    0x90, 0x40, 0xc5, 0xa4, 0x04, 0x33, 0x22, 0x5e, 0xe2, 0x82, 0xa1, 0xb0,
    0xa0, 0x6c, 0x52, 0x3e, 0xaf, 0x45, 0x34, 0xd7, 0xf8, 0x3f, 0xa1, 0x15,
    0x5b, 0x00, 0x47, 0x71, 0x8c, 0xbc, 0x54, 0x6a, 0x0d, 0x07, 0x2b, 0x04,
    0xb3, 0x56, 0x4e, 0xea, 0x1b, 0x42, 0x22, 0x73, 0xf5, 0x48, 0x27, 0x1a,
    0x0b, 0xb2, 0x31, 0x60, 0x53, 0xfa, 0x76, 0x99, 0x19, 0x55, 0xeb, 0xd6,
    0x31, 0x59, 0x43, 0x4e, 0xce, 0xbb, 0x4e, 0x46, 0x6d, 0xae, 0x5a, 0x10,
    0x73, 0xa6, 0x72, 0x76, 0x27, 0x09, 0x7a, 0x10, 0x49, 0xe6, 0x17, 0xd9,
    0x1d, 0x36, 0x10, 0x94, 0xfa, 0x68, 0xf0, 0xff, 0x77, 0x98, 0x71, 0x30,
    0x30, 0x5b, 0xea, 0xba, 0x2e, 0xda, 0x04, 0xdf, 0x99, 0x7b, 0x71, 0x4d,
    0x6c, 0x6f, 0x2c, 0x29, 0xa6, 0xad, 0x5c, 0xb4, 0x02, 0x2b, 0x02, 0x70,
    0x9b,
};
static const uint8_t a5_tag[16] = {
    0xee, 0xad, 0x9d, 0x67, 0x89, 0x0c, 0xbb, 0x22, 0x39, 0x23, 0x36, 0xfe,
    0xa1, 0x85, 0x1f, 0x38,
};
static const uint8_t a5_pt[265] = {
    0x49, 0x6e, 0x74, 0x65, 0x72, 0x6e, 0x65, 0x74, 0x2d, 0x44, 0x72, 0x61,
    0x66, 0x74, 0x73, 0x20, 0x61, 0x72, 0x65, 0x20, 0x64, 0x72, 0x61, 0x66,
    0x74, 0x20, 0x64, 0x6f, 0x63, 0x75, 0x6d, 0x65, 0x6e, 0x74, 0x73, 0x20,
    0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x61, 0x20,
    0x6d, 0x61, 0x78, 0x69, 0x6d, 0x75, 0x6d, 0x20, 0x6f, 0x66, 0x20, 0x73,
    0x69, 0x78, 0x20, 0x6d, 0x6f, 0x6e, 0x74, 0x68, 0x73, 0x20, 0x61, 0x6e,
    0x64, 0x20, 0x6d, 0x61, 0x79, 0x20, 0x62, 0x65, 0x20, 0x75, 0x70, 0x64,
    0x61, 0x74, 0x65, 0x64, 0x2c, 0x20, 0x72, 0x65, 0x70, 0x6c, 0x61, 0x63,
    0x65, 0x64, 0x2c, 0x20, 0x6f, 0x72, 0x20, 0x6f, 0x62, 0x73, 0x6f, 0x6c,
    0x65, 0x74, 0x65, 0x64, 0x20, 0x62, 0x79, 0x20, 0x6f, 0x74, 0x68, 0x65,
    0x72, 0x20, 0x64, 0x6f, 0x63, 0x75, 0x6d, 0x65, 0x6e, 0x74, 0x73, 0x20,
    0x61, 0x74, 0x20, 0x61, 0x6e, 0x79, 0x20, 0x74, 0x69, 0x6d, 0x65, 0x2e,
    0x20, 0x49, 0x74, 0x20, 0x69, 0x73, 0x20, 0x69, 0x6e, 0x61, 0x70, 0x70,
    0x72, 0x6f, 0x70, 0x72, 0x69, 0x61, 0x74, 0x65, 0x20, 0x74, 0x6f, 0x20,
    0x75, 0x73, 0x65, 0x20, 0x49, 0x6e, 0x74, 0x65, 0x72, 0x6e, 0x65, 0x74,
    0x2d, 0x44, 0x72, 0x61, 0x66, 0x74, 0x73, 0x20, 0x61, 0x73, 0x20, 0x72,
    0x65, 0x66, 0x65, 0x72, 0x65, 0x6e, 0x63, 0x65, 0x20, 0x6d, 0x61, 0x74,
    0x65, 0x72, 0x69, 0x61, 0x6c, 0x20, 0x6f, 0x72, 0x20, 0x74, 0x6f, 0x20,
    0x63, 0x69, 0x74, 0x65, 0x20, 0x74, 0x68, 0x65, 0x6d, 0x20, 0x6f, 0x74,
    0x68, 0x65, 0x72, 0x20, 0x74, 0x68, 0x61, 0x6e, 0x20, 0x61, 0x73, 0x20,
    0x2f, 0xe2, 0x80, 0x9c, 0x77, 0x6f, 0x72, 0x6b, 0x20, 0x69, 0x6e, 0x20,
    0x70, 0x72, 0x6f, 0x67, 0x72, 0x65, 0x73, 0x73, 0x2e, 0x2f, 0xe2, 0x80,
    0x9d,
};

static eota_posix_noise_crypto nc;
static eota_noise_crypto seam;

static int setup(void **state)
{
    (void)state;
    if (eota_posix_noise_crypto_init(&nc) != EOTA_OK)
        return -1;
    seam = eota_posix_noise_crypto_seam(&nc);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    eota_posix_noise_crypto_free(&nc);
    eota_posix_noise_crypto_free(&nc); /* twice is safe */
    return 0;
}

static void x25519_case(const char *scalar, const char *u, const char *want_hex)
{
    HEX32(k, scalar);
    HEX32(p, u);
    HEX32(want, want_hex);
    uint8_t out[32];
    assert_int_equal(seam.ops->x25519_shared(seam.ctx, out, k, p), EOTA_OK);
    assert_memory_equal(out, want, 32);
}

static void test_x25519_rfc7748_5_2(void **state)
{
    (void)state;
    x25519_case("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    x25519_case("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

static void test_x25519_rfc7748_6_1(void **state)
{
    (void)state;
    HEX32(a_priv, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    HEX32(a_pub_want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    HEX32(b_priv, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    HEX32(b_pub_want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    HEX32(shared_want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    uint8_t a_pub[32], b_pub[32], s1[32], s2[32];
    assert_int_equal(seam.ops->x25519_public(seam.ctx, a_pub, a_priv), EOTA_OK);
    assert_int_equal(seam.ops->x25519_public(seam.ctx, b_pub, b_priv), EOTA_OK);
    assert_memory_equal(a_pub, a_pub_want, 32);
    assert_memory_equal(b_pub, b_pub_want, 32);
    assert_int_equal(seam.ops->x25519_shared(seam.ctx, s1, a_priv, b_pub), EOTA_OK);
    assert_int_equal(seam.ops->x25519_shared(seam.ctx, s2, b_priv, a_pub), EOTA_OK);
    assert_memory_equal(s1, shared_want, 32);
    assert_memory_equal(s2, shared_want, 32);
}

static void test_x25519_small_order_refused(void **state)
{
    (void)state;
    HEX32(k, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    uint8_t zero[32] = {0}, out[32];
    /* u = 0 is of small order: the result would be all zero. */
    assert_int_equal(seam.ops->x25519_shared(seam.ctx, out, k, zero), EOTA_ECRYPTO);
}

/* Noise's counter for the A.5 nonce 00000000 0102030405060708. */
#define A5_COUNTER 0x0807060504030201ull

static void test_aead_rfc8439_a5_open(void **state)
{
    (void)state;
    uint8_t buf[sizeof a5_ct + 16];
    memcpy(buf, a5_ct, sizeof a5_ct);
    memcpy(buf + sizeof a5_ct, a5_tag, 16);
    /* In place, as the Noise layer decrypts frames. */
    assert_int_equal(seam.ops->aead_open(seam.ctx, a5_key, A5_COUNTER, a5_aad, sizeof a5_aad, buf, sizeof a5_ct, buf),
                     EOTA_OK);
    assert_memory_equal(buf, a5_pt, sizeof a5_pt);
}

static void test_aead_rfc8439_a5_seal(void **state)
{
    (void)state;
    uint8_t out[sizeof a5_pt + 16];
    assert_int_equal(
        seam.ops->aead_seal(seam.ctx, a5_key, A5_COUNTER, a5_aad, sizeof a5_aad, a5_pt, sizeof a5_pt, out), EOTA_OK);
    assert_memory_equal(out, a5_ct, sizeof a5_ct);
    assert_memory_equal(out + sizeof a5_ct, a5_tag, 16);
}

static void test_aead_refuses_changes(void **state)
{
    (void)state;
    uint8_t buf[sizeof a5_ct + 16], out[sizeof a5_ct];
    uint8_t aad[sizeof a5_aad];
    for (int which = 0; which < 4; which++) {
        memcpy(buf, a5_ct, sizeof a5_ct);
        memcpy(buf + sizeof a5_ct, a5_tag, 16);
        memcpy(aad, a5_aad, sizeof aad);
        uint64_t n = A5_COUNTER;
        if (which == 0) buf[sizeof a5_ct + 15] ^= 1;   /* tag */
        if (which == 1) buf[100] ^= 0x80;              /* ciphertext */
        if (which == 2) aad[0] ^= 1;                   /* associated data */
        if (which == 3) n++;                           /* nonce */
        assert_int_equal(seam.ops->aead_open(seam.ctx, a5_key, n, aad, sizeof aad, buf, sizeof a5_ct, out),
                         EOTA_ECRYPTO);
    }
}

static void test_aead_empty_plaintext(void **state)
{
    (void)state;
    uint8_t tag[16], back[1];
    /* A tag over nothing (Noise handshake messages with empty payloads). */
    assert_int_equal(seam.ops->aead_seal(seam.ctx, a5_key, 0, a5_aad, sizeof a5_aad, NULL, 0, tag), EOTA_OK);
    assert_int_equal(seam.ops->aead_open(seam.ctx, a5_key, 0, a5_aad, sizeof a5_aad, tag, 0, back), EOTA_OK);
    tag[0] ^= 1;
    assert_int_equal(seam.ops->aead_open(seam.ctx, a5_key, 0, a5_aad, sizeof a5_aad, tag, 0, back), EOTA_ECRYPTO);
}

/* The instance keeps a key from call to call (only the nonce changes):
 * switching keys back and forth, and a key that differs in its last byte
 * only, gives what a fresh instance gives, and a frame does not open
 * under the key held from the call before. */
static void test_aead_key_changes(void **state)
{
    (void)state;
    uint8_t k[2][32], out[2][40], want[40], pt[24];
    memcpy(k[0], a5_key, 32);
    memcpy(k[1], a5_key, 32);
    k[1][31] ^= 1;
    memset(pt, 0x5a, sizeof pt);
    for (int i = 0; i < 6; i++) {
        int w = i % 3 == 2 ? 0 : i % 2;
        eota_posix_noise_crypto fresh;
        assert_int_equal(eota_posix_noise_crypto_init(&fresh), EOTA_OK);
        eota_noise_crypto fs = eota_posix_noise_crypto_seam(&fresh);
        assert_int_equal(fs.ops->aead_seal(fs.ctx, k[w], (uint64_t)i, NULL, 0, pt, sizeof pt, want), EOTA_OK);
        eota_posix_noise_crypto_free(&fresh);
        assert_int_equal(seam.ops->aead_seal(seam.ctx, k[w], (uint64_t)i, NULL, 0, pt, sizeof pt, out[w]), EOTA_OK);
        assert_memory_equal(out[w], want, sizeof pt + 16);
        uint8_t back[24];
        assert_int_equal(seam.ops->aead_open(seam.ctx, k[w], (uint64_t)i, NULL, 0, out[w], sizeof pt, back), EOTA_OK);
        assert_memory_equal(back, pt, sizeof pt);
        assert_int_equal(seam.ops->aead_open(seam.ctx, k[!w], (uint64_t)i, NULL, 0, out[w], sizeof pt, back),
                         EOTA_ECRYPTO);
    }
    assert_memory_not_equal(out[0], out[1], sizeof pt + 16);
}

static void test_sha256_two_parts(void **state)
{
    (void)state;
    HEX32(want, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t out[32];
    assert_int_equal(seam.ops->sha256(seam.ctx, (const uint8_t *)"a", 1, (const uint8_t *)"bc", 2, out), EOTA_OK);
    assert_memory_equal(out, want, 32);
    assert_int_equal(seam.ops->sha256(seam.ctx, (const uint8_t *)"abc", 3, NULL, 0, out), EOTA_OK);
    assert_memory_equal(out, want, 32);
}

static void test_hmac_sha256(void **state)
{
    (void)state;
    uint8_t key[32], out[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    /* python3 -c "import hmac,hashlib;print(hmac.new(bytes(range(32)),
     *   b'Hi There',hashlib.sha256).hexdigest())" */
    HEX32(want, "278639ec02309d3afded1b273f1349ba63b9089c12476d716bee3ecc94673e9e");
    assert_int_equal(seam.ops->hmac_sha256(seam.ctx, key, (const uint8_t *)"Hi ", 3, (const uint8_t *)"There", 5, out),
                     EOTA_OK);
    assert_memory_equal(out, want, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x25519_rfc7748_5_2),
        cmocka_unit_test(test_x25519_rfc7748_6_1),
        cmocka_unit_test(test_x25519_small_order_refused),
        cmocka_unit_test(test_aead_rfc8439_a5_open),
        cmocka_unit_test(test_aead_rfc8439_a5_seal),
        cmocka_unit_test(test_aead_refuses_changes),
        cmocka_unit_test(test_aead_empty_plaintext),
        cmocka_unit_test(test_aead_key_changes),
        cmocka_unit_test(test_sha256_two_parts),
        cmocka_unit_test(test_hmac_sha256),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
