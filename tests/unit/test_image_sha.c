/*
 * test_image_sha.c: the slot image's SHA-256 a slice at a time
 * (src/app/device/image_sha.c): "pending" until the last slice, then the
 * first 12 hex digits of the digest OpenSSL gives for the whole file in one
 * call; only the recorded size counts; the same image is not hashed again,
 * another one starts over; a missing or short file says "unknown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "device/image_sha.h"

#define SIZE 300000u

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/eota_image_sha_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    uint8_t *b = malloc(SIZE + 100);
    for (size_t i = 0; i < SIZE + 100; i++)
        b[i] = (uint8_t)(i * 131u >> 3);
    int ok = write(fd, b, SIZE + 100) == (ssize_t)(SIZE + 100);
    free(b);
    close(fd);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

/* The first 12 hex digits of the SHA-256 of the file's first n bytes. */
static void want_hex(size_t n, char hex[13])
{
    uint8_t *b = malloc(n), md[32];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(b, 1, n, f), n);
    fclose(f);
    assert_int_equal(EVP_Digest(b, n, md, NULL, EVP_sha256(), NULL), 1);
    free(b);
    for (int i = 0; i < 6; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void test_slices_give_the_whole_digest(void **state)
{
    (void)state;
    dev_image_sha s;
    memset(&s, 0, sizeof s);
    char want[13];
    want_hex(SIZE, want);
    dev_image_sha_want(&s, 1, path, SIZE);
    int turns = 0;
    while (dev_image_sha_busy(&s)) {
        assert_string_equal(dev_image_sha_hex(&s), "pending");
        dev_image_sha_step(&s, 70000);
        turns++;
    }
    assert_int_equal(turns, 5); /* 300000 bytes, 70000 a turn */
    assert_string_equal(dev_image_sha_hex(&s), want);
    dev_image_sha_want(&s, 1, path, SIZE); /* the same image: kept */
    assert_false(dev_image_sha_busy(&s));
    assert_string_equal(dev_image_sha_hex(&s), want);
    dev_image_sha_want(&s, 2, path, 1000); /* another: hashed anew */
    assert_true(dev_image_sha_busy(&s));
    assert_int_equal(dev_image_sha_step(&s, 1 << 20), 0);
    want_hex(1000, want);
    assert_string_equal(dev_image_sha_hex(&s), want);
    dev_image_sha_free(&s);
}

static void test_missing_or_short_file_is_unknown(void **state)
{
    (void)state;
    dev_image_sha s;
    memset(&s, 0, sizeof s);
    dev_image_sha_want(&s, 1, "/nonexistent/slot_a.bin", 10);
    assert_false(dev_image_sha_busy(&s));
    assert_string_equal(dev_image_sha_hex(&s), "unknown");
    dev_image_sha_want(&s, 2, path, SIZE + 5000); /* the record says more than the file holds */
    while (dev_image_sha_step(&s, 1 << 20))
        ;
    assert_string_equal(dev_image_sha_hex(&s), "unknown");
    dev_image_sha_want(&s, 3, path, SIZE); /* dropped in the middle: nothing leaks */
    dev_image_sha_step(&s, 100);
    assert_true(dev_image_sha_busy(&s));
    dev_image_sha_free(&s);
    assert_false(dev_image_sha_busy(&s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slices_give_the_whole_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_or_short_file_is_unknown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
