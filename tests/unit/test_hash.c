/*
 * test_hash.c: the OpenSSL hash seam of the POSIX port
 * (src/port/posix/hash.c): MD5 and SHA-256 against known answers, the long
 * vectors fed in odd pieces, the one-shot helper, the seam's life cycle.
 */
/* White-box: reads the hash's private fields (eota/private_access.h). */
#define EOTA_ALLOW_PRIVATE_ACCESS

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/posix.h"

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest_hex(eota_hash_alg alg, const void *data, size_t len, char *out)
{
    uint8_t d[32];
    assert_int_equal(eota_posix_digest(alg, data, len, d), EOTA_OK);
    to_hex(d, eota_hash_digest_len(alg), out);
}

static void seam_hex(eota_hash *h, eota_hash_alg alg, const uint8_t *data, size_t len,
                     const size_t *pieces, size_t npieces, char *out)
{
    uint8_t d[32];
    size_t off = 0, i = 0;

    assert_int_equal(h->ops->begin(h->ctx, alg), EOTA_OK);
    while (off < len) {
        size_t n = pieces[i++ % npieces];
        if (n > len - off)
            n = len - off;
        h->ops->update(h->ctx, data + off, n);
        off += n;
    }
    assert_int_equal(h->ops->finish(h->ctx, d), EOTA_OK);
    to_hex(d, eota_hash_digest_len(alg), out);
}


static void test_md5_known_answers(void **state)
{
    char hex[65];
    (void)state;
    digest_hex(EOTA_HASH_MD5, "", 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    digest_hex(EOTA_HASH_MD5, NULL, 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    digest_hex(EOTA_HASH_MD5, "abc", 3, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    digest_hex(EOTA_HASH_MD5, "message digest", 14, hex);
    assert_string_equal(hex, "f96b697d7cb7938d525a2f31aaf161d0");
}

static void test_sha256_known_answers(void **state)
{
    char hex[65];
    (void)state;
    digest_hex(EOTA_HASH_SHA256, "", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_hex(EOTA_HASH_SHA256, "abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_hex(EOTA_HASH_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_digest_bad_arguments(void **state)
{
    uint8_t d[32];
    (void)state;
    assert_int_equal(eota_posix_digest((eota_hash_alg)7, "abc", 3, d), EOTA_EINVAL);
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, NULL, 3, d), EOTA_EINVAL);
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, "abc", 3, NULL), EOTA_EINVAL);
}

/* One million 'a' (the FIPS 180-2 / RFC 1321 long vectors), fed to the seam
 * in odd pieces and compared with both the published digest and the
 * one-shot helper. */
static void test_hash_million_a_in_pieces(void **state)
{
    static const size_t pieces[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4093, 8192, 8193, 0, 65537};
    static const size_t one[] = {1000000};
    const size_t len = 1000000;
    uint8_t *data = malloc(len);
    eota_posix_hash ph;
    eota_hash h;
    char seam[65], shot[65];

    (void)state;
    assert_non_null(data);
    memset(data, 'a', len);
    assert_int_equal(eota_posix_hash_init(&ph), EOTA_OK);
    h = eota_posix_hash_seam(&ph);
    assert_ptr_equal(h.ctx, &ph);

    seam_hex(&h, EOTA_HASH_MD5, data, len, pieces, sizeof pieces / sizeof pieces[0], seam);
    digest_hex(EOTA_HASH_MD5, data, len, shot);
    assert_string_equal(seam, "7707d6ae4e027c70eea2a935c2296f21");
    assert_string_equal(seam, shot);

    seam_hex(&h, EOTA_HASH_SHA256, data, len, pieces, sizeof pieces / sizeof pieces[0], seam);
    digest_hex(EOTA_HASH_SHA256, data, len, shot);
    assert_string_equal(seam, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_string_equal(seam, shot);

    /* the same instance again, one piece: no state left from before */
    seam_hex(&h, EOTA_HASH_SHA256, data, len, one, 1, seam);
    assert_string_equal(seam, shot);

    eota_posix_hash_free(&ph);
    free(data);
}

static void test_hash_seam_lifecycle(void **state)
{
    eota_posix_hash ph;
    eota_hash h;
    uint8_t d[32];
    char hex[65];

    (void)state;
    assert_int_equal(eota_posix_hash_init(&ph), EOTA_OK);
    assert_int_equal(ph.alg, -1);
    h = eota_posix_hash_seam(&ph);

    /* finish with nothing begun fails, and update alone does nothing */
    h.ops->update(h.ctx, (const uint8_t *)"x", 1);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    /* begin drops an unfinished hash */
    assert_int_equal(h.ops->begin(h.ctx, EOTA_HASH_SHA256), EOTA_OK);
    h.ops->update(h.ctx, (const uint8_t *)"garbage", 7);
    assert_int_equal(h.ops->begin(h.ctx, EOTA_HASH_MD5), EOTA_OK);
    assert_int_equal(ph.alg, EOTA_HASH_MD5);
    h.ops->update(h.ctx, (const uint8_t *)"ab", 2);
    h.ops->update(h.ctx, (const uint8_t *)"c", 1);
    h.ops->update(h.ctx, NULL, 0);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_OK);
    to_hex(d, 16, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    /* a second finish without begin fails: the hash is over */
    assert_int_equal(ph.alg, -1);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    /* an unknown algorithm is refused and leaves no hash in progress */
    assert_int_equal(h.ops->begin(h.ctx, (eota_hash_alg)9), EOTA_EINVAL);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    eota_posix_hash_free(&ph);
    assert_null(ph.md_ctx);
    eota_posix_hash_free(&ph); /* twice is harmless */
    assert_int_equal(eota_posix_hash_init(NULL), EOTA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_known_answers),
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_digest_bad_arguments),
        cmocka_unit_test(test_hash_million_a_in_pieces),
        cmocka_unit_test(test_hash_seam_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
