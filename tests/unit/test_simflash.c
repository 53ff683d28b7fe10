/*
 * test_simflash.c: the simulated NOR flash (src/port/simflash): geometry,
 * the NOR rules it enforces, its counters, the three kinds of power cut and
 * the torn operations. The file-backed flash has test_fileflash.c.
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

#include "simflash.h"

static eota_simflash_geometry mixed_geo(uint32_t align, uint8_t erased)
{
    eota_simflash_geometry g;
    memset(&g, 0, sizeof g);
    g.runs[0].count = 4;
    g.runs[0].size = 4096;
    g.runs[1].count = 2;
    g.runs[1].size = 65536;
    g.runs[2].count = 1;
    g.runs[2].size = 16384;
    g.write_align = align;
    g.erased = erased;
    return g;
}

static int all_are(const eota_simflash *sf, uint32_t addr, uint32_t len, uint8_t v)
{
    for (uint32_t i = 0; i < len; i++)
        if (sf->mem[addr + i] != v)
            return 0;
    return 1;
}

/* ---------- geometry ---------- */

static void test_uniform_geometry(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(8, 4096, 4, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    eota_flash_info fi;
    f.ops->info(f.ctx, &fi);
    assert_int_equal(fi.size, 8 * 4096);
    assert_int_equal(fi.write_align, 4);
    assert_int_equal(fi.erased, 0xFF);
    uint32_t start, size;
    assert_int_equal(f.ops->sector(f.ctx, 4096 * 3 + 17, &start, &size), EOTA_OK);
    assert_int_equal(start, 4096 * 3);
    assert_int_equal(size, 4096);
    assert_int_equal(f.ops->sector(f.ctx, 8 * 4096, &start, &size), EOTA_EINVAL);
    assert_true(all_are(&sf, 0, sf.size, 0xFF)); /* starts erased */
    eota_simflash_free(&sf);
}

static void test_mixed_geometry(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = mixed_geo(1, 0x00);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    assert_int_equal(sf.size, 4 * 4096 + 2 * 65536 + 16384);
    assert_int_equal(sf.nsectors, 7);
    uint32_t start, size;
    assert_int_equal(f.ops->sector(f.ctx, 0, &start, &size), EOTA_OK);
    assert_int_equal(start, 0);
    assert_int_equal(size, 4096);
    assert_int_equal(f.ops->sector(f.ctx, 16384 + 65536 + 5, &start, &size), EOTA_OK);
    assert_int_equal(start, 16384 + 65536);
    assert_int_equal(size, 65536);
    assert_int_equal(f.ops->sector(f.ctx, sf.size - 1, &start, &size), EOTA_OK);
    assert_int_equal(start, 16384 + 2 * 65536);
    assert_int_equal(size, 16384);
    assert_true(all_are(&sf, 0, sf.size, 0x00));
    /* region helpers follow the sectors */
    assert_int_equal(eota_flash_check_region(&f, 16384, 65536), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&f, 16384, 4096), EOTA_EINVAL);
    assert_int_equal(eota_flash_check_region(&f, 4096, 3 * 4096 + 2 * 65536 + 16384), EOTA_OK);
    assert_int_equal(eota_flash_check_region(&f, 4096, sf.size), EOTA_EINVAL);
    eota_simflash_free(&sf);
}

static void test_bad_geometry(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(4, 4096, 3, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_EINVAL);
    g = eota_simflash_uniform(4, 4096, 64, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_EINVAL);
    g = eota_simflash_uniform(4, 4096, 4, 0x55);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_EINVAL);
    g = eota_simflash_uniform(4, 100, 8, 0xFF); /* sector not a multiple of the alignment */
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_EINVAL);
    g = eota_simflash_uniform(0, 4096, 4, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_EINVAL);
}

/* ---------- NOR rules ---------- */

static void test_program_read_and_rules(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(4, 4096, 4, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t r[8];

    assert_int_equal(f.ops->program(f.ctx, 8, d, 8), EOTA_OK);
    assert_int_equal(f.ops->read(f.ctx, 8, r, 8), EOTA_OK);
    assert_memory_equal(r, d, 8);
    assert_int_equal(sf.programs, 1);
    assert_int_equal(sf.violations, 0);

    /* a second program over programmed bytes: refused, nothing changes */
    const uint8_t z[4] = {0, 0, 0, 0};
    assert_int_equal(f.ops->program(f.ctx, 8, z, 4), EOTA_EINVAL);
    assert_int_equal(sf.violations, 1);
    assert_int_equal(f.ops->read(f.ctx, 8, r, 8), EOTA_OK);
    assert_memory_equal(r, d, 8);

    /* misaligned address, misaligned length */
    assert_int_equal(f.ops->program(f.ctx, 18, d, 4), EOTA_EINVAL);
    assert_int_equal(f.ops->program(f.ctx, 16, d, 3), EOTA_EINVAL);
    /* across a sector boundary */
    assert_int_equal(f.ops->program(f.ctx, 4092, d, 8), EOTA_EINVAL);
    /* out of range */
    assert_int_equal(f.ops->program(f.ctx, 4 * 4096 - 4, d, 8), EOTA_EINVAL);
    assert_int_equal(sf.violations, 5);
    assert_true(all_are(&sf, 4088, 16, 0xFF));

    /* bytes programmed with the erased value are still programmed */
    const uint8_t ff[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    assert_int_equal(f.ops->program(f.ctx, 32, ff, 4), EOTA_OK);
    assert_int_equal(f.ops->program(f.ctx, 32, d, 4), EOTA_EINVAL);
    assert_string_equal(sf.last_violation, "program over bytes not erased");

    /* erase: whole sector, only at its start */
    assert_int_equal(f.ops->erase(f.ctx, 100), EOTA_EINVAL);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_OK);
    assert_true(all_are(&sf, 0, 4096, 0xFF));
    assert_int_equal(f.ops->program(f.ctx, 8, z, 4), EOTA_OK);
    assert_int_equal(f.ops->program(f.ctx, 32, d, 4), EOTA_OK);
    assert_int_equal(sf.erases, 1);
    assert_int_equal(sf.programs, 4);
    assert_int_equal(sf.ops, 12); /* every program/erase call, refused ones too */
    assert_int_equal(sf.reads, 2);
    eota_simflash_free(&sf);
}

static void test_erased_zero_polarity(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(2, 1024, 1, 0x00);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    const uint8_t v = 0xA5;
    assert_int_equal(f.ops->program(f.ctx, 3, &v, 1), EOTA_OK);
    assert_int_equal(sf.mem[3], 0xA5);
    assert_int_equal(f.ops->program(f.ctx, 3, &v, 1), EOTA_EINVAL);
    int erased = 1;
    assert_int_equal(eota_flash_is_erased(&f, 0, 1024, &erased), EOTA_OK);
    assert_false(erased);
    assert_int_equal(eota_flash_erase_region(&f, 0, 1024), EOTA_OK);
    assert_int_equal(eota_flash_is_erased(&f, 0, 1024, &erased), EOTA_OK);
    assert_true(erased);
    assert_int_equal(sf.mem[3], 0x00);
    eota_simflash_free(&sf);
}

/* ---------- power cuts ---------- */

static void arm(eota_simflash *sf, eota_simflash_cut_mode mode, unsigned long at, uint16_t tear, uint8_t garbage)
{
    eota_simflash_cut c;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.at = at;
    c.tear = tear;
    c.garbage = garbage;
    c.seed = 12345;
    eota_simflash_arm(sf, &c);
}

static void test_cut_before_and_after(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(4, 4096, 4, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    const uint8_t d[4] = {1, 2, 3, 4};
    uint8_t r[4];

    arm(&sf, EOTA_SIMFLASH_CUT_BEFORE, 1, 0, 0);
    assert_int_equal(f.ops->program(f.ctx, 0, d, 4), EOTA_OK);  /* op 0 */
    assert_int_equal(f.ops->program(f.ctx, 4, d, 4), EOTA_EIO); /* op 1: cut before */
    assert_true(sf.dead);
    assert_int_equal(sf.cuts, 1);
    assert_true(all_are(&sf, 4, 4, 0xFF));
    /* dead: everything fails, nothing changes */
    assert_int_equal(f.ops->read(f.ctx, 0, r, 4), EOTA_EIO);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_EIO);
    assert_memory_equal(sf.mem, d, 4);
    eota_simflash_power_on(&sf);
    assert_int_equal(f.ops->read(f.ctx, 0, r, 4), EOTA_OK);
    assert_memory_equal(r, d, 4);

    arm(&sf, EOTA_SIMFLASH_CUT_AFTER, sf.ops, 0, 0);
    assert_int_equal(f.ops->program(f.ctx, 8, d, 4), EOTA_EIO); /* completed, then the cut */
    assert_true(sf.dead);
    assert_memory_equal(sf.mem + 8, d, 4);
    eota_simflash_power_on(&sf);

    arm(&sf, EOTA_SIMFLASH_CUT_AFTER, sf.ops, 0, 0);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_EIO);
    assert_true(all_are(&sf, 0, 4096, 0xFF));
    eota_simflash_power_on(&sf);
    /* no cut armed any more */
    assert_int_equal(f.ops->program(f.ctx, 0, d, 4), EOTA_OK);
    assert_false(sf.dead);
    eota_simflash_free(&sf);
}

static void test_torn_program(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(2, 4096, 1, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    uint8_t d[100];
    for (int i = 0; i < 100; i++)
        d[i] = (uint8_t)(i * 3); /* d[40] = 120 */

    arm(&sf, EOTA_SIMFLASH_CUT_TORN, 0, 400, 0); /* 40 % of 100 bytes */
    assert_int_equal(f.ops->program(f.ctx, 0, d, 100), EOTA_EIO);
    assert_true(sf.dead);
    assert_memory_equal(sf.mem, d, 40);
    /* byte 40: between erased and its target, bit by bit */
    uint8_t half = sf.mem[40];
    assert_int_equal(half & d[40], d[40]); /* only bits 1 -> 0 that the target has */
    assert_true(all_are(&sf, 41, 59, 0xFF));
    eota_simflash_power_on(&sf);
    /* the bytes left erased can be programmed; the programmed ones cannot */
    assert_int_equal(f.ops->program(f.ctx, 41, d + 41, 59), EOTA_OK);
    assert_int_equal(f.ops->program(f.ctx, 39, d + 39, 1), EOTA_EINVAL);
    if (half == 0xFF)
        assert_int_equal(f.ops->program(f.ctx, 40, d + 40, 1), EOTA_OK);
    else
        assert_int_equal(f.ops->program(f.ctx, 40, d + 40, 1), EOTA_EINVAL);

    /* a chosen mask: only bit 0 of the half byte's changes made it */
    eota_simflash_cut m = {EOTA_SIMFLASH_CUT_TORN, sf.ops, 500, 0, 0x01, 0};
    const uint8_t two[2] = {0x00, 0x00};
    eota_simflash_arm(&sf, &m);
    assert_int_equal(f.ops->program(f.ctx, 300, two, 2), EOTA_EIO);
    assert_int_equal(sf.mem[300], 0x00);
    assert_int_equal(sf.mem[301], 0xFE);
    eota_simflash_power_on(&sf);

    /* a tear of 0: nothing but (maybe) the first byte */
    arm(&sf, EOTA_SIMFLASH_CUT_TORN, sf.ops, 0, 0);
    assert_int_equal(f.ops->program(f.ctx, 200, d, 8), EOTA_EIO);
    assert_true(all_are(&sf, 201, 7, 0xFF));
    eota_simflash_power_on(&sf);
    eota_simflash_free(&sf);
}

static void test_torn_erase(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(2, 1024, 4, 0x00);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_flash f = eota_simflash_seam(&sf);
    uint8_t d[1024];
    memset(d, 0x5A, sizeof d);
    assert_int_equal(f.ops->program(f.ctx, 0, d, 1024), EOTA_OK);

    /* half erased, the rest as it was */
    arm(&sf, EOTA_SIMFLASH_CUT_TORN, sf.ops, 500, 0);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_EIO);
    assert_true(all_are(&sf, 0, 512, 0x00));
    assert_true(all_are(&sf, 512, 512, 0x5A));
    eota_simflash_power_on(&sf);
    /* the erased half takes programs again */
    assert_int_equal(f.ops->program(f.ctx, 0, d, 512), EOTA_OK);

    /* a quarter erased, the rest garbage */
    arm(&sf, EOTA_SIMFLASH_CUT_TORN, sf.ops, 250, 1);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_EIO);
    assert_true(all_are(&sf, 0, 256, 0x00));
    assert_false(all_are(&sf, 256, 768, 0x5A));
    assert_false(all_are(&sf, 256, 768, 0x00));
    eota_simflash_power_on(&sf);
    /* a full erase cleans it */
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_OK);
    assert_true(all_are(&sf, 0, 1024, 0x00));
    assert_int_equal(f.ops->program(f.ctx, 0, d, 1024), EOTA_OK);
    eota_simflash_free(&sf);
}

typedef struct oplog {
    int kind[16];
    uint32_t addr[16];
    unsigned long idx[16];
    int n;
} oplog;

static void on_op(void *ctx, int kind, uint32_t addr, uint32_t len, unsigned long index)
{
    (void)len;
    oplog *l = ctx;
    if (l->n < 16) {
        l->kind[l->n] = kind;
        l->addr[l->n] = addr;
        l->idx[l->n] = index;
        l->n++;
    }
}

static void test_hook_and_copy(void **state)
{
    (void)state;
    eota_simflash a, b;
    eota_simflash_geometry g = eota_simflash_uniform(2, 4096, 2, 0xFF);
    assert_int_equal(eota_simflash_init(&a, &g), EOTA_OK);
    assert_int_equal(eota_simflash_init(&b, &g), EOTA_OK);
    oplog l;
    memset(&l, 0, sizeof l);
    a.on_op = on_op;
    a.on_op_ctx = &l;
    eota_flash f = eota_simflash_seam(&a);
    const uint8_t d[2] = {7, 8};
    assert_int_equal(f.ops->program(f.ctx, 4096, d, 2), EOTA_OK);
    assert_int_equal(f.ops->erase(f.ctx, 0), EOTA_OK);
    assert_int_equal(f.ops->program(f.ctx, 1, d, 2), EOTA_EINVAL); /* refused: no hook */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], EOTA_SIMFLASH_OP_PROGRAM);
    assert_int_equal(l.addr[0], 4096);
    assert_int_equal(l.idx[0], 0);
    assert_int_equal(l.kind[1], EOTA_SIMFLASH_OP_ERASE);
    assert_int_equal(l.idx[1], 1);

    assert_int_equal(eota_simflash_copy(&b, &a), EOTA_OK);
    assert_memory_equal(b.mem + 4096, d, 2);
    eota_flash fb = eota_simflash_seam(&b);
    assert_int_equal(fb.ops->program(fb.ctx, 4096, d, 2), EOTA_EINVAL); /* marks copied too */
    eota_simflash c;
    eota_simflash_geometry g2 = eota_simflash_uniform(3, 4096, 2, 0xFF);
    assert_int_equal(eota_simflash_init(&c, &g2), EOTA_OK);
    assert_int_equal(eota_simflash_copy(&c, &a), EOTA_EINVAL);
    eota_simflash_free(&a);
    eota_simflash_free(&b);
    eota_simflash_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_geometry),
        cmocka_unit_test(test_mixed_geometry),
        cmocka_unit_test(test_bad_geometry),
        cmocka_unit_test(test_program_read_and_rules),
        cmocka_unit_test(test_erased_zero_polarity),
        cmocka_unit_test(test_cut_before_and_after),
        cmocka_unit_test(test_torn_program),
        cmocka_unit_test(test_torn_erase),
        cmocka_unit_test(test_hook_and_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
