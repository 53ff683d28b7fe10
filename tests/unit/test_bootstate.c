/*
 * test_bootstate.c: the boot state on NOR flash (src/core/bootstate.c) over
 * the simulated flash: the record layout and its two copies, the write
 * orders, the appended boot counter, the slot state machine (install, trial,
 * confirm, rollback), safe mode (attempts, request, disabled), image checks,
 * configuration checks; and the CRC-32.
 */
/* White-box: reads the boot state's private fields (eota/private_access.h). */
#define EOTA_ALLOW_PRIVATE_ACCESS

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/bootstate.h"
#include "eota/crc32.h"
#include "simflash.h"

#define SEC 4096u

/* Layout used by most tests: sectors 0 and 1 the two copies, slot 0 in
 * sectors 2-3, slot 1 in sectors 4-5. */
typedef struct fx {
    eota_simflash sf;
    eota_bootstate_config cfg;
    eota_bootstate bs;
    eota_safe_mode_config sm;
} fx;

static void fx_cfg(fx *x)
{
    memset(&x->cfg, 0, sizeof x->cfg);
    x->cfg.flash = eota_simflash_seam(&x->sf);
    x->cfg.copy_addr[0] = 0;
    x->cfg.copy_addr[1] = SEC;
    x->cfg.slot[0].addr = 2 * SEC;
    x->cfg.slot[0].size = 2 * SEC;
    x->cfg.slot[1].addr = 4 * SEC;
    x->cfg.slot[1].size = 2 * SEC;
    x->cfg.verify = 1;
    eota_safe_mode_config_defaults(&x->sm);
}

static int setup_geo(void **state, uint32_t align, uint8_t erased)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    eota_simflash_geometry g = eota_simflash_uniform(6, SEC, align, erased);
    if (eota_simflash_init(&x->sf, &g) != EOTA_OK)
        return -1;
    fx_cfg(x);
    *state = x;
    return 0;
}

static int setup(void **state) { return setup_geo(state, 4, 0xFF); }
static int setup_a32(void **state) { return setup_geo(state, 32, 0x00); }
static int setup_a1(void **state) { return setup_geo(state, 1, 0x00); }

static int teardown(void **state)
{
    fx *x = *state;
    eota_simflash_free(&x->sf);
    free(x);
    return 0;
}

/* Re-read the state from flash, as a new boot does. */
static void reopen(fx *x) { assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK); }

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Write an image into a slot the way the flash backend does, and install. */
static void put_image(fx *x, int slot, size_t n, unsigned seed)
{
    uint8_t *img = malloc(2 * SEC);
    assert_non_null(img);
    reopen(x);
    uint32_t a = x->bs.fi.write_align;
    size_t padded = (n + a - 1) / a * a;
    memset(img, x->bs.fi.erased, padded);
    fill(img, n, seed);
    assert_int_equal(eota_bootstate_prepare(&x->bs, slot), EOTA_OK);
    eota_flash f = x->cfg.flash;
    assert_int_equal(eota_flash_erase_region(&f, x->cfg.slot[slot].addr, x->cfg.slot[slot].size), EOTA_OK);
    for (size_t off = 0; off < padded; off += SEC) {
        size_t k = padded - off < SEC ? padded - off : SEC;
        assert_int_equal(f.ops->program(f.ctx, x->cfg.slot[slot].addr + (uint32_t)off, img + off, k), EOTA_OK);
    }
    assert_int_equal(eota_bootstate_install(&x->bs, slot, (uint32_t)n, eota_crc32(0, img, n)), EOTA_OK);
    free(img);
}

static eota_boot_decision boot(fx *x)
{
    eota_boot_decision d;
    reopen(x);
    assert_int_equal(eota_boot(&x->bs, &x->sm, &d), EOTA_OK);
    return d;
}

/* An image installed, booted and confirmed in slot s. */
static void valid_image(fx *x, int s, unsigned seed)
{
    put_image(x, s, 5000, seed);
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, s);
    assert_true(d.trial);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, s, NULL), EOTA_SLOT_VALID);
}

/* ---------- CRC ---------- */

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(eota_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(eota_crc32(0, "", 0), 0);
    uint32_t c = eota_crc32(0, "1234", 4);
    assert_int_equal(eota_crc32(c, "56789", 5), 0xCBF43926u);
    uint8_t z[32] = {0};
    assert_int_equal(eota_crc32(0, z, 32), 0x190A55ADu);
}

/* ---------- configuration ---------- */

static void test_open_blank(void **state)
{
    fx *x = *state;
    reopen(x);
    assert_int_equal(eota_bootstate_active(&x->bs), EOTA_BOOT_NO_SLOT);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    assert_int_equal(eota_bootstate_target(&x->bs), 0);
    assert_int_equal(eota_bootstate_seq(&x->bs), 0);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    assert_false(eota_bootstate_safe_mode_requested(&x->bs));
    /* a boot with nothing installed: no slot, nothing written */
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, EOTA_BOOT_NO_SLOT);
    assert_false(d.safe_mode);
    assert_int_equal(x->sf.ops, 0);
}

static void test_open_rejects_bad_config(void **state)
{
    fx *x = *state;
    eota_bootstate_config good = x->cfg;

    x->cfg.copy_addr[1] = 0; /* same sector twice */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.copy_addr[1] = SEC + 64; /* not a sector start */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.copy_addr[1] = 6 * SEC; /* out of the flash */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.slot[0].addr = SEC; /* a slot over a copy */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.slot[1].addr = 3 * SEC; /* slots overlap */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.slot[1].size = SEC + 100; /* not whole sectors */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    x->cfg.slot[1].size = 0; /* verify needs the slots */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg.verify = 0; /* without verify, slots elsewhere are fine */
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    x->cfg = good;
    x->cfg.flash.ops = NULL;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_EINVAL);
    x->cfg = good;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
}

static void test_sector_too_small(void **state)
{
    (void)state;
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(4, 64, 32, 0xFF); /* 64 < 64 + 2 ticks */
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_bootstate_config c;
    memset(&c, 0, sizeof c);
    c.flash = eota_simflash_seam(&sf);
    c.copy_addr[1] = 64;
    eota_bootstate bs;
    assert_int_equal(eota_bootstate_open(&bs, &c), EOTA_EINVAL);
    eota_simflash_free(&sf);
}

/* ---------- layout and write order ---------- */

typedef struct oplog {
    int kind[64];
    uint32_t addr[64], len[64];
    int n;
} oplog;

static void log_op(void *ctx, int kind, uint32_t addr, uint32_t len, unsigned long index)
{
    (void)index;
    oplog *l = ctx;
    if (l->n < 64) {
        l->kind[l->n] = kind;
        l->addr[l->n] = addr;
        l->len[l->n] = len;
        l->n++;
    }
}

static void test_record_layout_and_write_order(void **state)
{
    fx *x = *state;
    reopen(x);
    oplog l;
    memset(&l, 0, sizeof l);
    x->sf.on_op = log_op;
    x->sf.on_op_ctx = &l;
    assert_int_equal(eota_bootstate_install(&x->bs, 1, 1000, 0xDEADBEEFu), EOTA_OK);
    /* first record: copy 0 erased, then programmed (52 bytes + padding to 4) */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], EOTA_SIMFLASH_OP_ERASE);
    assert_int_equal(l.addr[0], 0);
    assert_int_equal(l.kind[1], EOTA_SIMFLASH_OP_PROGRAM);
    assert_int_equal(l.addr[1], 0);
    assert_int_equal(l.len[1], 52);
    const uint8_t *r = x->sf.mem;
    assert_memory_equal(r, "EOBS", 4);
    assert_int_equal(r[4], 1);    /* version */
    assert_int_equal(r[5], 0xFF); /* no active slot */
    assert_int_equal(r[6], 0);    /* flags */
    assert_int_equal(r[8], 1);    /* seq 1, little-endian */
    assert_int_equal(r[12], 0);   /* boot_base */
    assert_int_equal(r[16 + 16], EOTA_SLOT_NEW);
    assert_int_equal(r[32 + 4], 1);                  /* image_seq */
    assert_int_equal(r[32 + 8] | (r[32 + 9] << 8), 1000); /* size */
    assert_int_equal(r[32 + 12], 0xEF);              /* crc */
    uint32_t crc = (uint32_t)r[48] | ((uint32_t)r[49] << 8) | ((uint32_t)r[50] << 16) | ((uint32_t)r[51] << 24);
    assert_int_equal(crc, eota_crc32(0, r, 48));

    /* the next record goes to the other copy; the first stays as it was */
    l.n = 0;
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], EOTA_SIMFLASH_OP_ERASE);
    assert_int_equal(l.addr[0], SEC);
    assert_int_equal(l.addr[1], SEC);
    assert_int_equal(x->sf.mem[SEC + 8], 2);
    assert_int_equal(x->sf.mem[SEC + 6], EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST);
    assert_int_equal(x->sf.mem[8], 1);
    /* and the third back to copy 0 */
    l.n = 0;
    eota_boot_decision d;
    assert_int_equal(eota_boot(&x->bs, &x->sm, &d), EOTA_OK);
    assert_true(d.safe_mode);
    assert_int_equal(l.addr[l.n - 1], 0);
    assert_int_equal(x->sf.mem[8], 3);
    x->sf.on_op = NULL;
}

static void test_padding_to_alignment(void **state)
{
    fx *x = *state; /* align 32, erased 00 */
    reopen(x);
    assert_int_equal(x->bs.rec_area, 64);
    assert_int_equal(x->bs.tick, 32);
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 10, 1), EOTA_OK);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_NEW);
    assert_int_equal(x->bs.tick_cap, (SEC - 64) / 32);
    assert_int_equal(x->sf.violations, 0);
}

static void test_newest_copy_wins_and_torn_falls_back(void **state)
{
    fx *x = *state;
    reopen(x);
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 100, 5), EOTA_OK);  /* seq 1, copy 0 */
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);  /* seq 2, copy 1 */
    reopen(x);
    assert_int_equal(x->bs.cur, 1);
    assert_int_equal(eota_bootstate_seq(&x->bs), 2);
    assert_true(eota_bootstate_safe_mode_requested(&x->bs));
    /* one flipped bit anywhere in the newest record: the older one stands */
    for (uint32_t i = 0; i < 52; i++) {
        x->sf.mem[SEC + i] ^= 0x10;
        reopen(x);
        assert_int_equal(eota_bootstate_seq(&x->bs), 1);
        assert_false(eota_bootstate_safe_mode_requested(&x->bs));
        assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_NEW);
        x->sf.mem[SEC + i] ^= 0x10;
    }
    reopen(x);
    assert_int_equal(eota_bootstate_seq(&x->bs), 2);
    /* both bad: a blank state */
    x->sf.mem[SEC + 20] ^= 1;
    x->sf.mem[20] ^= 1;
    reopen(x);
    assert_int_equal(eota_bootstate_seq(&x->bs), 0);
    assert_int_equal(eota_bootstate_active(&x->bs), EOTA_BOOT_NO_SLOT);
}

static void test_sequence_wraps(void **state)
{
    fx *x = *state;
    reopen(x);
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 100, 5), EOTA_OK); /* seq 1 at copy 0 */
    /* rewrite copy 0's record with seq 0xFFFFFFFF (a valid CRC) */
    uint8_t *r = x->sf.mem;
    r[8] = r[9] = r[10] = r[11] = 0xFF;
    uint32_t c = eota_crc32(0, r, 48);
    r[48] = (uint8_t)c;
    r[49] = (uint8_t)(c >> 8);
    r[50] = (uint8_t)(c >> 16);
    r[51] = (uint8_t)(c >> 24);
    reopen(x);
    assert_int_equal(eota_bootstate_seq(&x->bs), 0xFFFFFFFFu);
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK); /* seq 0 at copy 1 */
    reopen(x);
    assert_int_equal(x->bs.cur, 1);
    assert_int_equal(eota_bootstate_seq(&x->bs), 0);
    assert_true(eota_bootstate_safe_mode_requested(&x->bs));
}

/* ---------- the counter ---------- */

static void test_counter_appends(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    uint32_t seq = eota_bootstate_seq(&x->bs);
    int cur = x->bs.cur;
    uint32_t area = x->cfg.copy_addr[cur] + x->bs.rec_area;
    unsigned long erases = x->sf.erases;
    for (uint32_t i = 1; i <= 5; i++) {
        eota_boot_decision d = boot(x);
        assert_int_equal(d.attempts, i - 1);
        assert_int_equal(d.slot, 0);
        assert_false(d.safe_mode);
        assert_int_equal(eota_bootstate_attempts(&x->bs), i);
        /* one more BOOT unit (erased ^ 01), same record, no erase */
        assert_int_equal(eota_bootstate_seq(&x->bs), seq);
        assert_int_equal(x->bs.cur, cur);
        assert_memory_equal(x->sf.mem + area + (i - 1) * 4, "\xFE\xFE\xFE\xFE", 4);
        assert_int_equal(x->sf.mem[area + i * 4], 0xFF);
    }
    /* confirmation: a CLEAR unit (erased ^ FE), same record, no erase */
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    assert_memory_equal(x->sf.mem + area + 5 * 4, "\x01\x01\x01\x01", 4);
    reopen(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    assert_int_equal(eota_bootstate_seq(&x->bs), seq);
    assert_int_equal(x->sf.erases, erases);
    /* and a confirmation with nothing to change writes nothing */
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    assert_int_equal(x->sf.ops, ops);
    /* counting goes on after the CLEAR */
    eota_boot_decision d = boot(x);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1);
    reopen(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1);
    assert_int_equal(x->bs.ticks, 7);
}

static void test_torn_tick_counts(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    eota_simflash_cut c = {EOTA_SIMFLASH_CUT_TORN, x->sf.ops, 500, 0, 0, 77};
    eota_simflash_arm(&x->sf, &c);
    eota_boot_decision d;
    reopen(x);
    eota_boot(&x->bs, &x->sm, &d);
    assert_int_equal(x->sf.cuts, 1);
    eota_simflash_power_on(&x->sf);
    reopen(x);
    /* two of the four bytes of the unit were written: a torn unit counts
     * for nothing, but it is spent */
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    assert_int_equal(x->bs.ticks, 1);
    d = boot(x);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1);
    reopen(x);
    assert_int_equal(x->bs.ticks, 2);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1);
    assert_int_equal(x->sf.violations, 0);
}

/* A torn CLEAR never reads as BOOT, a torn BOOT never as CLEAR, whatever
 * the bits that made it: every single-byte unit value, classified. */
static void test_unit_patterns(void **state)
{
    fx *x = *state; /* align 1, erased 00 */
    valid_image(x, 0, 1);
    reopen(x);
    uint32_t area = x->cfg.copy_addr[x->bs.cur] + x->bs.rec_area;
    uint32_t base_count = eota_bootstate_attempts(&x->bs);
    assert_int_equal(base_count, 0);
    for (unsigned v = 1; v < 256; v++) {
        x->sf.mem[area] = (uint8_t)v;
        x->sf.written[area] = 1;
        reopen(x);
        assert_int_equal(x->bs.ticks, 1);
        if (v == 0x01) /* BOOT */
            assert_int_equal(eota_bootstate_attempts(&x->bs), 1);
        else /* CLEAR (FE) or torn: nothing */
            assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    }
    /* with a count before it: CLEAR resets, torn leaves it */
    x->sf.mem[area] = 0x01;
    for (unsigned v = 1; v < 256; v++) {
        x->sf.mem[area + 1] = (uint8_t)v;
        reopen(x);
        assert_int_equal(x->bs.ticks, 2);
        uint32_t want = v == 0x01 ? 2 : v == 0xFE ? 0 : 1;
        assert_int_equal(eota_bootstate_attempts(&x->bs), want);
    }
}

static void test_counter_rolls_over(void **state)
{
    (void)state;
    /* tiny sectors: 256 bytes, align 32: record area 64, 6 ticks */
    eota_simflash sf;
    eota_simflash_geometry g = eota_simflash_uniform(2, 256, 32, 0xFF);
    assert_int_equal(eota_simflash_init(&sf, &g), EOTA_OK);
    eota_bootstate_config c;
    memset(&c, 0, sizeof c);
    c.flash = eota_simflash_seam(&sf);
    c.copy_addr[1] = 256;
    eota_bootstate bs;
    eota_safe_mode_config sm;
    eota_safe_mode_config_defaults(&sm);
    sm.disabled = 1;
    assert_int_equal(eota_bootstate_open(&bs, &c), EOTA_OK);
    assert_int_equal(eota_bootstate_install(&bs, 0, 10, 1), EOTA_OK);
    for (uint32_t i = 1; i <= 40; i++) {
        eota_boot_decision d;
        assert_int_equal(eota_bootstate_open(&bs, &c), EOTA_OK);
        assert_int_equal(bs.tick_cap, 6);
        assert_int_equal(eota_boot(&bs, &sm, &d), EOTA_OK);
        assert_int_equal(d.attempts, i - 1);
        assert_false(d.safe_mode);
    }
    assert_int_equal(eota_bootstate_open(&bs, &c), EOTA_OK);
    /* boot 1 started the trial (count 1); 39 boots more */
    assert_int_equal(eota_bootstate_attempts(&bs), 40);
    assert_int_equal(sf.violations, 0);
    eota_simflash_free(&sf);
}

/* ---------- slots: install, trial, confirm, rollback ---------- */

static void test_first_install_trial_confirm(void **state)
{
    fx *x = *state;
    reopen(x);
    assert_int_equal(eota_bootstate_target(&x->bs), 0);
    put_image(x, 0, 6000, 3);
    reopen(x);
    eota_slot_info si;
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, &si), EOTA_SLOT_NEW);
    assert_int_equal(si.size, 6000);
    assert_int_equal(eota_bootstate_active(&x->bs), EOTA_BOOT_NO_SLOT);

    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_true(d.trial);
    assert_true(d.trial_started);
    assert_false(d.rolled_back);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_TRIAL);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1);

    /* no other image: a reboot without confirmation keeps it on trial */
    d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_true(d.trial);
    assert_false(d.trial_started);
    assert_false(d.rolled_back);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 2);

    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    assert_int_equal(eota_bootstate_target(&x->bs), 1);
    d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_false(d.trial);
}

static void test_update_and_confirm(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 7000, 2);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_NEW);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 1);
    assert_true(d.trial_started);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    d = boot(x);
    assert_int_equal(d.slot, 1);
    assert_false(d.trial);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID); /* kept as a fallback */
    assert_int_equal(eota_bootstate_target(&x->bs), 0);
}

static void test_unconfirmed_trial_rolls_back(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 7000, 2);
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 1);
    assert_true(d.trial);
    /* the new image dies before its confirmation: one trial boot only */
    d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_true(d.rolled_back);
    assert_false(d.trial);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_INVALID);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 2); /* the count carries on */
    /* and it stays rolled back */
    d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_false(d.rolled_back);
    /* the invalid slot is the next target; install needs no prepare write */
    assert_int_equal(eota_bootstate_target(&x->bs), 1);
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_bootstate_prepare(&x->bs, 1), EOTA_OK);
    assert_int_equal(x->sf.ops, ops);
}

static void test_prepare_rules(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK); /* nothing on trial: no-op */
    eota_boot_decision d = boot(x);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    (void)d;
    reopen(x);
    /* slot 1 active and valid, slot 0 valid (older) */
    assert_int_equal(eota_bootstate_prepare(&x->bs, 1), EOTA_EBUSY);
    assert_int_equal(eota_bootstate_install(&x->bs, 1, 100, 1), EOTA_EBUSY);
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 100, 1), EOTA_EINVAL); /* not prepared */
    assert_int_equal(eota_bootstate_prepare(&x->bs, 2), EOTA_EINVAL);
    assert_int_equal(eota_bootstate_prepare(&x->bs, 0), EOTA_OK);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 3 * SEC, 1), EOTA_EINVAL); /* too big */
    assert_int_equal(eota_bootstate_install(&x->bs, 0, 0, 1), EOTA_EINVAL);
}

static void test_prepare_during_trial_confirms(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    eota_boot_decision d = boot(x);
    assert_true(d.trial);
    /* an upload starts while slot 1 is on trial: slot 1 is confirmed,
     * slot 0 emptied, in one record */
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_bootstate_prepare(&x->bs, 0), EOTA_OK);
    assert_int_equal(x->sf.ops, ops + 2);
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
}

static void test_second_upload_replaces_pending(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    reopen(x);
    eota_slot_info a, b;
    eota_bootstate_slot(&x->bs, 1, &a);
    put_image(x, 1, 4000, 3); /* NEW -> emptied -> NEW again */
    reopen(x);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, &b), EOTA_SLOT_NEW);
    assert_int_equal(b.size, 4000);
    assert_true(b.image_seq > a.image_seq);
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 1);
    assert_true(d.trial_started);
}

/* ---------- image checks ---------- */

static void test_corrupt_new_image_is_not_tried(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    x->sf.mem[4 * SEC + 1234] ^= 0x01; /* bit rot, or a bug */
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_false(d.trial);
    assert_int_equal(d.invalidated, 1);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_INVALID);
}

static void test_corrupt_active_falls_back(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    boot(x);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    x->sf.mem[4 * SEC + 10] ^= 0x80;
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_int_equal(d.invalidated, 1);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    /* both bad: nothing boots */
    x->sf.mem[2 * SEC + 10] ^= 0x80;
    d = boot(x);
    assert_int_equal(d.slot, EOTA_BOOT_NO_SLOT);
    assert_int_equal(d.invalidated, 0);
}

static void test_without_verify_images_are_trusted(void **state)
{
    fx *x = *state;
    x->cfg.verify = 0;
    valid_image(x, 0, 1);
    x->sf.mem[2 * SEC] ^= 1;
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 0);
}

/* The check seam: answers per slot (1 good, 0 bad, -1 unknown), counted. */
typedef struct checker {
    int answer[EOTA_BOOT_SLOTS];
    int calls;
} checker;

static int check_slot(void *ctx, int slot, const eota_slot_info *info)
{
    checker *c = ctx;
    assert_true(info->size > 0);
    c->calls++;
    return c->answer[slot];
}

static void test_check_seam_decides_what_boots(void **state)
{
    fx *x = *state;
    checker c = {{1, 1}, 0};
    x->cfg.verify = 0;
    x->cfg.check = check_slot;
    x->cfg.check_ctx = &c;
    valid_image(x, 0, 1);
    valid_image(x, 1, 2);
    /* the active slot's file does not match: the other one boots */
    c.answer[1] = 0;
    eota_boot_decision d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_int_equal(d.invalidated, 1);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_INVALID);
    /* unknown (unreadable): not booted, not condemned */
    c.answer[0] = -1;
    d = boot(x);
    assert_int_equal(d.slot, EOTA_BOOT_NO_SLOT);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    /* the seam wins over verify, and the answer is asked once per boot */
    c.answer[0] = 1;
    x->cfg.verify = 1;
    x->sf.mem[2 * SEC] ^= 1; /* the flash image is bad, the seam says good */
    c.calls = 0;
    d = boot(x);
    assert_int_equal(d.slot, 0);
    assert_int_equal(c.calls, 1);
}

static void test_restore_rebuilds_a_lost_state(void **state)
{
    fx *x = *state;
    reopen(x);
    assert_int_equal(eota_bootstate_seq(&x->bs), 0);
    eota_bootrec r;
    memset(&r, 0, sizeof r);
    r.active = 0;
    r.slot[0] = (eota_slot_info){EOTA_SLOT_VALID, 7, 100, 0x1234};
    r.slot[1] = (eota_slot_info){EOTA_SLOT_NEW, 9, 200, 0x5678};
    /* refused: an active slot that is not bootable, an unknown state */
    r.active = 1;
    assert_int_equal(eota_bootstate_restore(&x->bs, &r), EOTA_EINVAL);
    r.active = 0;
    r.slot[1].state = 9;
    assert_int_equal(eota_bootstate_restore(&x->bs, &r), EOTA_EINVAL);
    r.slot[1].state = EOTA_SLOT_NEW;
    r.flags = EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST;
    r.boot_base = 5;
    assert_int_equal(eota_bootstate_restore(&x->bs, &r), EOTA_OK);
    reopen(x);
    eota_slot_info si;
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, &si), EOTA_SLOT_NEW);
    assert_int_equal(si.size, 200);
    assert_int_equal(si.crc, 0x5678);
    assert_int_equal(eota_bootstate_seq(&x->bs), 10); /* after every image_seq */
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    assert_false(eota_bootstate_safe_mode_requested(&x->bs));
}

/* ---------- safe mode ---------- */

static void test_safe_mode_after_num_attempts(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    /* boots 1..10 are normal (0..9 unconfirmed before them) */
    for (uint32_t i = 0; i < 10; i++) {
        eota_boot_decision d = boot(x);
        assert_int_equal(d.attempts, i);
        assert_false(d.safe_mode);
        assert_int_equal(d.slot, 0);
    }
    /* the 11th: 10 failed boots in a row */
    eota_boot_decision d = boot(x);
    assert_int_equal(d.attempts, 10);
    assert_true(d.safe_mode);
    assert_false(d.requested);
    assert_int_equal(d.slot, 0);
    /* entering safe mode cleared the count: the next boot is normal */
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    d = boot(x);
    assert_false(d.safe_mode);
    assert_int_equal(d.attempts, 0);
    /* a confirmation clears the count */
    for (int i = 0; i < 5; i++)
        boot(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 6);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    for (uint32_t i = 0; i < 10; i++) {
        d = boot(x);
        assert_int_equal(d.attempts, i);
        assert_false(d.safe_mode);
    }
}

static void test_num_attempts_configurable(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    x->sm.num_attempts = 3;
    boot(x);
    boot(x);
    boot(x);
    eota_boot_decision d = boot(x);
    assert_true(d.safe_mode);
    assert_int_equal(d.attempts, 3);
}

static void test_safe_mode_request(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK); /* once is enough */
    assert_int_equal(x->sf.ops, ops);
    /* a confirmation keeps the request */
    boot(x);
    /* (that boot was the safe one) */
    reopen(x);
    assert_false(eota_bootstate_safe_mode_requested(&x->bs));
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    reopen(x);
    assert_true(eota_bootstate_safe_mode_requested(&x->bs));
    eota_boot_decision d = boot(x);
    assert_true(d.safe_mode);
    assert_true(d.requested);
    assert_int_equal(d.slot, 0);
    assert_false(eota_bootstate_safe_mode_requested(&x->bs));
    d = boot(x);
    assert_false(d.safe_mode);
}

static void test_safe_mode_disabled(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    x->sm.disabled = 1;
    for (int i = 0; i < 15; i++) {
        eota_boot_decision d = boot(x);
        assert_false(d.safe_mode);
    }
    reopen(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 15);
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    eota_boot_decision d = boot(x);
    assert_false(d.safe_mode);
    assert_false(eota_bootstate_safe_mode_requested(&x->bs)); /* dropped */
}

static void test_safe_mode_keeps_new_image_pending(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    reopen(x);
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    eota_boot_decision d = boot(x);
    assert_true(d.safe_mode);
    assert_int_equal(d.slot, 0);
    assert_false(d.trial);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_NEW);
    d = boot(x);
    assert_false(d.safe_mode);
    assert_int_equal(d.slot, 1);
    assert_true(d.trial_started);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 1); /* the trial's first boot */
}

static void test_rollback_in_safe_mode_boot(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    reopen(x);
    put_image(x, 1, 3000, 2);
    boot(x); /* trial of slot 1 */
    reopen(x);
    assert_int_equal(eota_bootstate_request_safe_mode(&x->bs), EOTA_OK);
    eota_boot_decision d = boot(x);
    assert_true(d.safe_mode);
    assert_true(d.rolled_back);
    assert_int_equal(d.slot, 0);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_INVALID);
}

static void test_install_resets_count(void **state)
{
    fx *x = *state;
    valid_image(x, 0, 1);
    for (int i = 0; i < 9; i++)
        boot(x);
    reopen(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 9);
    put_image(x, 1, 3000, 2);
    reopen(x);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    eota_boot_decision d = boot(x);
    assert_false(d.safe_mode);
    assert_true(d.trial_started);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(eota_slot_state_name(EOTA_SLOT_EMPTY), "empty");
    assert_string_equal(eota_slot_state_name(EOTA_SLOT_NEW), "new");
    assert_string_equal(eota_slot_state_name(EOTA_SLOT_TRIAL), "trial");
    assert_string_equal(eota_slot_state_name(EOTA_SLOT_VALID), "valid");
    assert_string_equal(eota_slot_state_name(EOTA_SLOT_INVALID), "invalid");
    assert_string_equal(eota_slot_state_name(9), "?");
    eota_safe_mode_config c;
    eota_safe_mode_config_defaults(&c);
    assert_int_equal(c.num_attempts, 10);
    assert_int_equal(c.reboot_timeout_ms, 300000);
    assert_int_equal(c.boot_is_good_after_ms, 60000);
    assert_int_equal(c.disabled, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_names),
        T(test_check_seam_decides_what_boots),
        T(test_restore_rebuilds_a_lost_state),
        T(test_open_blank),
        T(test_open_rejects_bad_config),
        cmocka_unit_test(test_sector_too_small),
        T(test_record_layout_and_write_order),
        cmocka_unit_test_setup_teardown(test_padding_to_alignment, setup_a32, teardown),
        T(test_newest_copy_wins_and_torn_falls_back),
        T(test_sequence_wraps),
        T(test_counter_appends),
        T(test_torn_tick_counts),
        cmocka_unit_test_setup_teardown(test_unit_patterns, setup_a1, teardown),
        cmocka_unit_test(test_counter_rolls_over),
        T(test_first_install_trial_confirm),
        cmocka_unit_test_setup_teardown(test_first_install_trial_confirm, setup_a1, teardown),
        T(test_update_and_confirm),
        cmocka_unit_test_setup_teardown(test_update_and_confirm, setup_a32, teardown),
        T(test_unconfirmed_trial_rolls_back),
        T(test_prepare_rules),
        T(test_prepare_during_trial_confirms),
        T(test_second_upload_replaces_pending),
        T(test_corrupt_new_image_is_not_tried),
        T(test_corrupt_active_falls_back),
        T(test_without_verify_images_are_trusted),
        T(test_safe_mode_after_num_attempts),
        cmocka_unit_test_setup_teardown(test_safe_mode_after_num_attempts, setup_a1, teardown),
        T(test_num_attempts_configurable),
        T(test_safe_mode_request),
        T(test_safe_mode_disabled),
        T(test_safe_mode_keeps_new_image_pending),
        T(test_rollback_in_safe_mode_boot),
        T(test_install_resets_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
