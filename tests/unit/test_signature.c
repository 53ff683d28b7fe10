/*
 * test_signature.c: signed images in the core (eota/signature.h,
 * eota/sig_layer.h) over the POSIX seams: RFC 8032's Ed25519 vectors
 * through the verify seam, the keys refused at load, the trailer parser on
 * images made by the host's signer (sign/sign.h), and the storage layer
 * over the in-memory backend: streamed in pieces of every size, refusals
 * with nothing committed, the running image's counter and version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "eota/posix.h"
#include "eota/sig_layer.h"
#include "mem_backend.h"
#include "sign/sign.h"

static void unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* RFC 8032, section 7.1: TEST 1, 2, 3 and SHA(abc). */
static const struct {
    const char *pub, *msg, *sig;
} rfc8032[] = {
    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

static void test_rfc8032_vectors(void **state)
{
    (void)state;
    eota_verify v = eota_posix_verify();
    for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
        uint8_t pub[32], msg[64], sig[64];
        size_t mlen = strlen(rfc8032[i].msg) / 2;
        unhex(rfc8032[i].pub, pub);
        unhex(rfc8032[i].msg, msg);
        unhex(rfc8032[i].sig, sig);
        assert_int_equal(v.ops->ed25519(v.ctx, pub, msg, mlen, sig), EOTA_OK);
        sig[i * 7] ^= 0x01; /* any bit of the signature */
        assert_int_equal(v.ops->ed25519(v.ctx, pub, msg, mlen, sig), EOTA_EVERIFY);
        sig[i * 7] ^= 0x01;
        if (mlen) {
            msg[0] ^= 0x80;
            assert_int_equal(v.ops->ed25519(v.ctx, pub, msg, mlen, sig), EOTA_EVERIFY);
        }
    }
}

typedef struct fixture {
    eota_posix_hash h;
    eota_hash hash;
    EVP_PKEY *key[2];
    eota_sig_key trusted[2];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(eota_posix_hash_init(&f->h), EOTA_OK);
    f->hash = eota_posix_hash_seam(&f->h);
    for (int i = 0; i < 2; i++) {
        uint8_t pub[32];
        size_t n = sizeof pub;
        f->key[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_int_equal(EVP_PKEY_get_raw_public_key(f->key[i], pub, &n), 1);
        assert_int_equal(eota_sig_key_init(&f->trusted[i], pub, &f->hash), EOTA_OK);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    eota_posix_hash_free(&f->h);
    EVP_PKEY_free(f->key[0]);
    EVP_PKEY_free(f->key[1]);
    free(f);
    return 0;
}

static void test_low_order_keys_refused(void **state)
{
    fixture *f = *state;
    eota_sig_key k;
    uint8_t pub[32] = {0};
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_EINVAL); /* all zero */
    pub[0] = 1;
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_EINVAL); /* the neutral point */
    pub[31] = 0x80;
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_EINVAL); /* its sign bit set */
    unhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", pub);
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_EINVAL); /* order 8 */
    unhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", pub);
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_EINVAL); /* p - 1 */
    unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pub);
    assert_int_equal(eota_sig_key_init(&k, pub, &f->hash), EOTA_OK);
    uint8_t want[32];
    assert_int_equal(sign_key_hash(pub, want), 0);
    assert_memory_equal(k.hash, want, 32);
}

/* A signed image of len payload bytes (malloc'd). */
static uint8_t *make_signed(fixture *f, size_t len, const char *version, long long counter, int nkeys, size_t *outlen)
{
    uint8_t *payload = malloc(len), *out = NULL;
    char err[256];
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(i * 131 + 7);
    sign_fields sf = {version, "esp32", counter};
    assert_int_equal(sign_image(payload, len, &sf, f->key, (size_t)nkeys, &out, outlen, err, sizeof err), 0);
    free(payload);
    return out;
}

static void test_parse(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = make_signed(f, 3000, "1.2.3", 9, 2, &len);
    eota_sig_info in;
    const char *why;
    assert_int_equal(eota_sig_parse(img, len, &in, &why), EOTA_OK);
    assert_int_equal(in.payload_len, 3000);
    assert_int_equal(in.trailer_len, len - 3000);
    assert_int_equal(in.counter, 9);
    assert_int_equal(in.nsigs, 2);
    assert_memory_equal(in.version, "1.2.3", 5);
    assert_memory_equal(in.chip, "esp32", 5);
    assert_memory_equal(in.keyhash[1], f->trusted[1].hash, 32);
    /* only the tail is needed */
    assert_int_equal(eota_sig_parse(img + 3000, len - 3000, &in, &why), EOTA_OK);
    assert_int_equal(eota_sig_parse(img + 3001, len - 3001, &in, &why), EOTA_EFORMAT);
    assert_int_equal(eota_sig_parse(img, len - 1, &in, &why), EOTA_EFORMAT); /* no footer */
    for (size_t at = 3000; at < len; at++) { /* every byte of the trailer */
        img[at] ^= 0x5a;
        int st = eota_sig_parse(img, len, &in, &why);
        if (st == EOTA_OK) /* a value changed, not the structure: the check catches it */
            assert_true(at >= 3000 && at < len - 16);
        img[at] ^= 0x5a;
    }
    free(img);
}

static void test_version_cmp(void **state)
{
    (void)state;
    assert_true(eota_sig_version_cmp("1.10.0", 6, "1.9.2", 5) > 0);
    assert_true(eota_sig_version_cmp("2024.6.0", 8, "2024.6.1", 8) < 0);
    assert_int_equal(eota_sig_version_cmp("1.01", 4, "1.1", 3), 0);
    assert_true(eota_sig_version_cmp("1.0", 3, "1.0.1", 5) < 0);
    assert_true(eota_sig_version_cmp("1.0b", 4, "1.0a", 4) > 0);
}

typedef struct layer_rig {
    eota_mem_backend mb;
    uint8_t store[8192];
    eota_sig_layer l;
    eota_backend b;
    eota_sig_running run;
    int accepted;
} layer_rig;

static void rig_running(void *ctx, eota_sig_running *out) { *out = ((layer_rig *)ctx)->run; }
static int rig_accepted(void *ctx, const eota_sig_info *info)
{
    (void)info;
    ((layer_rig *)ctx)->accepted++;
    return EOTA_OK;
}

static void rig_init(layer_rig *r, fixture *f, size_t nkeys, size_t max_take)
{
    memset(r, 0, sizeof *r);
    eota_mem_backend_init(&r->mb, r->store, sizeof r->store);
    r->mb.max_take = max_take;
    eota_sig_layer_config c = {eota_mem_backend_seam(&r->mb), f->hash, eota_posix_verify(), f->trusted + 2 - nkeys,
                               nkeys, 1, 0, rig_running, rig_accepted, r};
    assert_int_equal(eota_sig_layer_init(&r->l, &c), EOTA_OK);
    r->b = eota_sig_layer_seam(&r->l);
}

/* Stream img in pieces of step bytes; the end's status. The in-memory
 * backend wants the exact size: the payload's is announced (a slot store
 * under the layer takes the wire size as a bound: size_is_bound). */
static int stream(layer_rig *r, const uint8_t *img, size_t len, size_t step)
{
    eota_sig_info in;
    const char *why;
    eota_begin_info bi = {(uint32_t)len, 0, 0};
    if (eota_sig_parse(img, len, &in, &why) == EOTA_OK)
        bi.size = in.payload_len;
    assert_int_equal(r->b.ops->begin(r->b.ctx, &bi), EOTA_OK);
    for (size_t off = 0; off < len;) {
        size_t n = len - off < step ? len - off : step, taken;
        assert_int_equal(r->b.ops->write(r->b.ctx, img + off, n, &taken), EOTA_OK);
        off += taken;
    }
    int st;
    while ((st = r->b.ops->end(r->b.ctx)) == EOTA_AGAIN)
        ;
    if (st != EOTA_OK)
        r->b.ops->abort(r->b.ctx);
    return st;
}

static void test_layer_streams(void **state)
{
    fixture *f = *state;
    layer_rig r;
    size_t len;
    uint8_t *img = make_signed(f, 5000, "1.0", 1, 2, &len);
    static const size_t steps[] = {1, 7, 100, 511, 512, 513, 4096, 100000};
    static const size_t takes[] = {0, 3, 700};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        for (size_t t = 0; t < 3; t++) {
            rig_init(&r, f, 1 + (i & 1), takes[t]); /* either key suffices */
            assert_int_equal(stream(&r, img, len, steps[i]), EOTA_OK);
            assert_int_equal(r.mb.committed, 1);
            assert_int_equal(r.mb.committed_len, 5000); /* the payload, not the trailer */
            assert_memory_equal(r.store, img, 5000);
            assert_int_equal(r.accepted, 1);
            assert_non_null(eota_sig_layer_info(&r.l));
        }
    free(img);
}

static void expect_refused(layer_rig *r, const uint8_t *img, size_t len, int status)
{
    assert_int_equal(stream(r, img, len, 300), status);
    assert_int_equal(r->mb.committed, 0);
    assert_true(r->mb.aborted >= 1);
    assert_int_equal(r->accepted, 0);
    eota_backend_detail d;
    r->b.ops->detail(r->b.ctx, &d);
    assert_non_null(d.why);
}

static void test_layer_refuses(void **state)
{
    fixture *f = *state;
    layer_rig r;
    size_t len;
    uint8_t *img = make_signed(f, 2000, "2.0", 5, 1, &len); /* signed by key 0 */
    rig_init(&r, f, 1, 0); /* trusts key 1 only */
    expect_refused(&r, img, len, EOTA_ESIGNATURE);
    rig_init(&r, f, 2, 0);
    expect_refused(&r, img, 2000, EOTA_ESIGNATURE); /* unsigned */
    for (size_t at = 0; at < len; at += 97) { /* a byte anywhere */
        img[at] ^= 0x10;
        rig_init(&r, f, 2, 0);
        expect_refused(&r, img, len, EOTA_ESIGNATURE);
        img[at] ^= 0x10;
    }
    rig_init(&r, f, 2, 0);
    r.run = (eota_sig_running){1, 3, 6, "2.0"};
    expect_refused(&r, img, len, EOTA_EDOWNGRADE); /* counter 5 < 6 */
    rig_init(&r, f, 2, 0);
    r.run = (eota_sig_running){1, 3, 5, "2.1"};
    expect_refused(&r, img, len, EOTA_EDOWNGRADE); /* version 2.0 < 2.1 */
    rig_init(&r, f, 2, 0);
    r.run = (eota_sig_running){1, 3, 5, "2.0"};
    assert_int_equal(stream(&r, img, len, 300), EOTA_OK); /* equal: taken */
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_vectors),
        cmocka_unit_test_setup_teardown(test_low_order_keys_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
        cmocka_unit_test(test_version_cmp),
        cmocka_unit_test_setup_teardown(test_layer_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
