/*
 * test_fileflash.c: the file-backed NOR flash of the POSIX port
 * (src/port/posix/fileflash.c) that `eota device` keeps its boot state on:
 * geometry, the NOR rules it enforces, persistence, a file of another size.
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

#include "eota/fileflash.h"

static void test_fileflash(void **state)
{
    (void)state;
    char dir[] = "/tmp/eota-ff-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/boot.flash", dir);

    eota_fileflash ff;
    assert_int_equal(eota_fileflash_open(&ff, path, 2, 4096, 4, 0xFF), EOTA_OK);
    ff.no_sync = 1;
    eota_flash f = eota_fileflash_seam(&ff);
    eota_flash_info fi;
    f.ops->info(f.ctx, &fi);
    assert_int_equal(fi.size, 8192);
    assert_int_equal(fi.write_align, 4);
    int erased = 0;
    assert_int_equal(eota_flash_is_erased(&f, 0, 8192, &erased), EOTA_OK);
    assert_true(erased);

    const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(f.ops->program(f.ctx, 4096, d, 8), EOTA_OK);
    assert_int_equal(f.ops->program(f.ctx, 4096, d, 4), EOTA_EINVAL);  /* not erased */
    assert_int_equal(f.ops->program(f.ctx, 4097, d, 4), EOTA_EINVAL);  /* misaligned */
    assert_int_equal(f.ops->program(f.ctx, 4092, d, 8), EOTA_EINVAL);  /* across sectors */
    assert_int_equal(f.ops->erase(f.ctx, 4), EOTA_EINVAL);
    uint32_t start, size;
    assert_int_equal(f.ops->sector(f.ctx, 5000, &start, &size), EOTA_OK);
    assert_int_equal(start, 4096);
    assert_int_equal(size, 4096);
    eota_fileflash_close(&ff);

    /* it persists; another size is refused */
    assert_int_equal(eota_fileflash_open(&ff, path, 4, 4096, 4, 0xFF), EOTA_EINVAL);
    assert_int_equal(eota_fileflash_open(&ff, path, 2, 4096, 4, 0xFF), EOTA_OK);
    f = eota_fileflash_seam(&ff);
    uint8_t r[8];
    assert_int_equal(f.ops->read(f.ctx, 4096, r, 8), EOTA_OK);
    assert_memory_equal(r, d, 8);
    assert_int_equal(f.ops->erase(f.ctx, 4096), EOTA_OK);
    assert_int_equal(eota_flash_is_erased(&f, 4096, 4096, &erased), EOTA_OK);
    assert_true(erased);
    assert_int_equal(f.ops->program(f.ctx, 4096, d, 8), EOTA_OK);
    eota_fileflash_close(&ff);

    assert_int_equal(eota_fileflash_open(&ff, path, 2, 4096, 3, 0xFF), EOTA_EINVAL);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fileflash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
