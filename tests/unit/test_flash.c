/*
 * test_flash.c: the helpers over the NOR flash seam (src/core/flash.c,
 * eota/flash.h) on the simulated flash (src/port/simflash), with sectors of
 * two sizes (4 x 1 KiB then 2 x 4 KiB). It proves that a region is accepted
 * only when both its ends lie on sector boundaries inside the flash (across
 * the change of sector size, up to the very end, never by wrapping round);
 * that erasing a region erases exactly its sectors and stops at the first
 * error; that the erased check looks at every byte against the flash's own
 * erased value (0xFF or 0x00); and that the CRC over flash equals the CRC of
 * the same bytes in memory whatever the length, errors passed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eota/crc32.h"
#include "eota/flash.h"
#include "simflash.h"

#define SMALL 1024u
#define BIG 4096u
#define SIZE (4u * SMALL + 2u * BIG)

typedef struct fx {
    eota_simflash sf;
    eota_flash f;
} fx;

static int init_flash(fx *x, uint8_t erased)
{
    eota_simflash_geometry g;
    memset(&g, 0, sizeof g);
    g.runs[0].count = 4;
    g.runs[0].size = SMALL;
    g.runs[1].count = 2;
    g.runs[1].size = BIG;
    g.write_align = 4;
    g.erased = erased;
    int r = eota_simflash_init(&x->sf, &g);
    x->f = eota_simflash_seam(&x->sf);
    return r;
}

static int setup(void **state)
{
    static fx x;
    *state = &x;
    return init_flash(&x, 0xFF) == EOTA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    fx *x = *state;
    eota_simflash_free(&x->sf);
    return 0;
}

/* Program n bytes (a multiple of 4, inside one sector) of value v at addr. */
static void program(fx *x, uint32_t addr, uint8_t v, size_t n)
{
    uint8_t b[BIG];
    memset(b, v, n);
    assert_int_equal(x->f.ops->program(x->f.ctx, addr, b, n), EOTA_OK);
}

static uint8_t byte_at(const fx *x, uint32_t addr) { return x->sf.mem[addr]; }

/* --- check_region --- */

static void test_region_on_sector_boundaries(void **state)
{
    fx *x = *state;
    assert_int_equal(eota_flash_check_region(&x->f, 0, SIZE), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&x->f, 0, SMALL), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&x->f, SMALL, 3 * SMALL), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&x->f, 3 * SMALL, SMALL + BIG), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&x->f, 4 * SMALL, 2 * BIG), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&x->f, SIZE - BIG, BIG), EOTA_OK);
}

static void test_region_off_boundaries_refused(void **state)
{
    fx *x = *state;
    assert_int_equal(eota_flash_check_region(&x->f, 512, SMALL - 512), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, 0, 1500), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, 0, SMALL - 4), EOTA_EINVAL);
    /* a whole small sector's worth into a big one ends inside it */
    assert_int_equal(eota_flash_check_region(&x->f, 4 * SMALL, SMALL), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, 3 * SMALL, 2 * SMALL), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, 4 * SMALL + SMALL, 3 * SMALL), EOTA_EINVAL);
}

static void test_region_outside_flash_refused(void **state)
{
    fx *x = *state;
    assert_int_equal(eota_flash_check_region(&x->f, 0, 0), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, SMALL, 0), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, SIZE, BIG), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, 0, SIZE + SMALL), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&x->f, SIZE - BIG, 2 * BIG), EOTA_EINVAL);
    /* addr + len wraps round to a boundary (SMALL) */
    assert_int_equal(eota_flash_check_region(&x->f, 2 * SMALL, UINT32_MAX - SMALL + 1), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(NULL, 0, SMALL), EOTA_EINVAL);
    eota_flash none = {NULL, x->f.ctx};
    assert_int_equal(eota_flash_check_region(&none, 0, SMALL), EOTA_EINVAL);
}

/* --- erase_region --- */

static void test_erase_region_erases_exactly_its_sectors(void **state)
{
    fx *x = *state;
    for (uint32_t s = 0; s < 4; s++)
        program(x, s * SMALL, (uint8_t)(0x10 + s), SMALL);
    program(x, 4 * SMALL, 0x20, BIG);
    program(x, 4 * SMALL + BIG, 0x21, BIG);
    unsigned long before = x->sf.erases;
    assert_int_equal(eota_flash_erase_region(&x->f, 3 * SMALL, SMALL + BIG), EOTA_OK);
    assert_int_equal(x->sf.erases - before, 2);
    for (uint32_t a = 0; a < SIZE; a++) {
        uint8_t want = a < 3 * SMALL ? (uint8_t)(0x10 + a / SMALL) : a < 4 * SMALL + BIG ? 0xFF : 0x21;
        if (byte_at(x, a) != want)
            fail_msg("byte %u is %02x, not %02x", a, byte_at(x, a), want);
    }
    /* erased sectors take a program again */
    program(x, 3 * SMALL, 0x33, SMALL);
    assert_int_equal(x->sf.violations, 0);
}

static void test_erase_region_refuses_bad_region_untouched(void **state)
{
    fx *x = *state;
    program(x, 0, 0x55, SMALL);
    assert_int_equal(eota_flash_erase_region(&x->f, 0, 1500), EOTA_EINVAL);
    assert_int_equal(eota_flash_erase_region(&x->f, 0, 0), EOTA_EINVAL);
    assert_int_equal(x->sf.ops, 1); /* the program only: no erase tried */
    assert_int_equal(byte_at(x, 0), 0x55);
}

static void test_erase_region_stops_at_first_error(void **state)
{
    fx *x = *state;
    eota_simflash_cut cut;
    memset(&cut, 0, sizeof cut);
    cut.mode = EOTA_SIMFLASH_CUT_BEFORE;
    cut.at = x->sf.ops + 1; /* the second erase */
    eota_simflash_arm(&x->sf, &cut);
    assert_int_equal(eota_flash_erase_region(&x->f, 0, 4 * SMALL), EOTA_EIO);
    assert_int_equal(x->sf.erases, 1);
    assert_int_equal(x->sf.ops, 2); /* nothing tried after the failure */
}

/* --- is_erased --- */

static void test_is_erased_sees_every_byte(void **state)
{
    fx *x = *state;
    int erased = -1;
    assert_int_equal(eota_flash_is_erased(&x->f, 0, SIZE, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
    program(x, 3 * 64, 0x7F, 4); /* just after the third 64-byte read */
    assert_int_equal(eota_flash_is_erased(&x->f, 0, 3 * 64, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
    assert_int_equal(eota_flash_is_erased(&x->f, 0, 3 * 64 + 1, &erased), EOTA_OK);
    assert_int_equal(erased, 0);
    assert_int_equal(eota_flash_is_erased(&x->f, 3 * 64 + 3, 1, &erased), EOTA_OK);
    assert_int_equal(erased, 0);
    assert_int_equal(eota_flash_is_erased(&x->f, 3 * 64 + 4, SIZE - 3 * 64 - 4, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
    program(x, SIZE - 4, 0xFE, 4); /* the very last byte differs in one bit */
    assert_int_equal(eota_flash_is_erased(&x->f, 3 * 64 + 4, SIZE - 3 * 64 - 4, &erased), EOTA_OK);
    assert_int_equal(erased, 0);
    erased = -1;
    assert_int_equal(eota_flash_is_erased(&x->f, 0, 0, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
}

static void test_is_erased_uses_the_flash_erased_value(void **state)
{
    fx *x = *state;
    eota_simflash_free(&x->sf);
    assert_int_equal(init_flash(x, 0x00), EOTA_OK);
    int erased = -1;
    assert_int_equal(eota_flash_is_erased(&x->f, 0, SIZE, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
    program(x, SMALL, 0xFF, 4);
    assert_int_equal(eota_flash_is_erased(&x->f, 0, SIZE, &erased), EOTA_OK);
    assert_int_equal(erased, 0);
    assert_int_equal(eota_flash_is_erased(&x->f, 0, SMALL, &erased), EOTA_OK);
    assert_int_equal(erased, 1);
}

static void test_is_erased_passes_read_errors_on(void **state)
{
    fx *x = *state;
    int erased;
    assert_int_equal(eota_flash_is_erased(&x->f, SIZE - 10, 20, &erased), EOTA_EINVAL);
    x->sf.dead = 1;
    assert_int_equal(eota_flash_is_erased(&x->f, 0, 10, &erased), EOTA_EIO);
}

/* --- crc32 --- */

static void test_crc32_equals_crc_of_the_bytes(void **state)
{
    fx *x = *state;
    uint8_t img[BIG];
    for (uint32_t i = 0; i < BIG; i++)
        img[i] = (uint8_t)(i * 31 + (i >> 5));
    assert_int_equal(x->f.ops->program(x->f.ctx, 4 * SMALL, img, BIG), EOTA_OK);
    static const uint32_t lens[] = {1, 63, 64, 65, 128, 1000, BIG};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        uint32_t crc = 0;
        assert_int_equal(eota_flash_crc32(&x->f, 4 * SMALL, lens[k], &crc), EOTA_OK);
        assert_int_equal(crc, eota_crc32(0, img, lens[k]));
    }
    uint32_t crc = 0;
    assert_int_equal(eota_flash_crc32(&x->f, 4 * SMALL + 7, 999, &crc), EOTA_OK);
    assert_int_equal(crc, eota_crc32(0, img + 7, 999));
    /* the whole flash, across both sector sizes */
    assert_int_equal(eota_flash_crc32(&x->f, 0, SIZE, &crc), EOTA_OK);
    assert_int_equal(crc, eota_crc32(0, x->sf.mem, SIZE));
    crc = 1;
    assert_int_equal(eota_flash_crc32(&x->f, 0, 0, &crc), EOTA_OK);
    assert_int_equal(crc, 0);
}

static void test_crc32_passes_read_errors_on(void **state)
{
    fx *x = *state;
    uint32_t crc = 0x1234;
    assert_int_equal(eota_flash_crc32(&x->f, SIZE - 64, 128, &crc), EOTA_EINVAL);
    assert_int_equal(crc, 0x1234);
    x->sf.dead = 1;
    assert_int_equal(eota_flash_crc32(&x->f, 0, 16, &crc), EOTA_EIO);
    assert_int_equal(crc, 0x1234);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_region_on_sector_boundaries),
        T(test_region_off_boundaries_refused),
        T(test_region_outside_flash_refused),
        T(test_erase_region_erases_exactly_its_sectors),
        T(test_erase_region_refuses_bad_region_untouched),
        T(test_erase_region_stops_at_first_error),
        T(test_is_erased_sees_every_byte),
        T(test_is_erased_uses_the_flash_erased_value),
        T(test_is_erased_passes_read_errors_on),
        T(test_crc32_equals_crc_of_the_bytes),
        T(test_crc32_passes_read_errors_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
