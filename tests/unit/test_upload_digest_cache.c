/*
 * test_upload_digest_cache.c: the MD5 cache of `eota upload`
 * (src/app/upload/digest_cache.c): a file too fresh is not cached, an old
 * one is and is found again, a change to the file or a dropped entry makes
 * it miss, a damaged entry is a miss and never a crash, EOTA_CACHE_DIR=off
 * turns it off; and up_image_load takes the cached digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "upload/digest_cache.h"
#include "upload/image.h"

static char dir[64], cache[96], file[96];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st;
}

static int setup(void **state)
{
    (void)state;
    test_tmpdir_make(dir, sizeof dir, "digest");
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(file, sizeof file, "%s/fw.bin", dir);
    setenv("EOTA_CACHE_DIR", cache, 1);
    write_file(file, "firmware one");
    sleep(3); /* older than the racy window of two seconds */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(dir);
}

static const uint8_t md5_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void test_old_file_is_cached_and_found(void **state)
{
    (void)state;
    struct stat st = stat_of(file);
    uint8_t got[16];
    assert_int_equal(up_digest_cache_get(&st, got), 0);
    up_digest_cache_put(&st, md5_a);
    assert_int_equal(up_digest_cache_get(&st, got), 1);
    assert_memory_equal(got, md5_a, 16);
    up_digest_cache_drop(&st);
    assert_int_equal(up_digest_cache_get(&st, got), 0);
}

static void test_fresh_or_changed_file_misses(void **state)
{
    (void)state;
    struct stat st = stat_of(file);
    uint8_t got[16];
    up_digest_cache_put(&st, md5_a);
    write_file(file, "firmware two"); /* same size, new times */
    struct stat now = stat_of(file);
    assert_int_equal(up_digest_cache_get(&now, got), 0);
    up_digest_cache_put(&now, md5_a); /* too fresh: not written */
    assert_int_equal(up_digest_cache_get(&now, got), 0);
}

static void test_damaged_entry_and_off(void **state)
{
    (void)state;
    struct stat st = stat_of(file);
    uint8_t got[16];
    up_digest_cache_put(&st, md5_a);
    char entry[256];
    snprintf(entry, sizeof entry, "%s/md5-%jx-%jx", cache, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    write_file(entry, "12 garbage\n");
    assert_int_equal(up_digest_cache_get(&st, got), 0);
    write_file(entry, "");
    assert_int_equal(up_digest_cache_get(&st, got), 0);
    setenv("EOTA_CACHE_DIR", "off", 1);
    up_digest_cache_put(&st, md5_a);
    assert_int_equal(up_digest_cache_get(&st, got), 0);
    setenv("EOTA_CACHE_DIR", cache, 1);
}

static void test_image_load_takes_the_cached_digest(void **state)
{
    (void)state;
    write_file(file, "the image");
    sleep(3);
    up_image im;
    char err[256];
    assert_int_equal(up_image_load(&im, file, err, sizeof err), 0);
    assert_int_equal(im.md5_cached, 0); /* computed, then remembered */
    uint8_t real[16];
    memcpy(real, im.md5, 16);
    up_image_free(&im);
    struct stat st = stat_of(file);
    up_digest_cache_put(&st, md5_a); /* a planted (wrong) digest is what the next load uses */
    assert_int_equal(up_image_load(&im, file, err, sizeof err), 0);
    assert_int_equal(im.md5_cached, 1);
    assert_memory_equal(im.md5, md5_a, 16);
    up_image_md5_refused(&im); /* a device refused it: forgotten */
    up_image_free(&im);
    assert_int_equal(up_image_load(&im, file, err, sizeof err), 0);
    assert_int_equal(im.md5_cached, 0);
    assert_memory_equal(im.md5, real, 16);
    up_image_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_file_is_cached_and_found),
        cmocka_unit_test(test_damaged_entry_and_off),
        cmocka_unit_test(test_fresh_or_changed_file_misses),
        cmocka_unit_test(test_image_load_takes_the_cached_digest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
