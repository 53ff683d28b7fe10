/*
 * test_flash_backend.c: the slot store over the NOR flash medium
 * (src/core/flash_backend.c over src/core/slotstore.c) behind the real OTA
 * engine (src/core/server.c) driven by a scripted client, and called
 * directly: the image lands in the inactive slot, sectors are erased just
 * ahead of the writes, programs are aligned and padded, the boot state goes
 * EMPTY then NEW, failures (a flash error, a read-back that differs or
 * fails) leave nothing installed.
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
#include "eota/flash_backend.h"
#include "eota/protocol.h"
#include "eota/server.h"
#include "simflash.h"
#include "fake.h"

#define SEC 4096u

typedef struct fx {
    eota_simflash sf;
    eota_flash flash; /* the seam the boot state uses (maybe a wrapper) */
    eota_bootstate_config cfg;
    eota_bootstate bs;
    eota_flash_backend fb;
    uint8_t stage[256];
    /* engine */
    eota_server srv;
    eota_server_config scfg;
    uint8_t xfer[4096];
    fake_conn conn;
    fake_clock clock;
    fake_random random;
    eota_posix_hash hash;
    int unreadable_slots; /* the lossy flash's reads of the slots fail */
} fx;

/* 8 x 4 KiB then 2 x 16 KiB: copies in sectors 0-1, slot 0 in sectors 2-5
 * (16 KiB), slot 1 in sectors 6, 7 and the first 16 KiB sector (24 KiB). */
static int setup_geo(void **state, uint32_t align, uint8_t erased)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    eota_simflash_geometry g;
    memset(&g, 0, sizeof g);
    g.runs[0].count = 8;
    g.runs[0].size = SEC;
    g.runs[1].count = 2;
    g.runs[1].size = 4 * SEC;
    g.write_align = align;
    g.erased = erased;
    if (eota_simflash_init(&x->sf, &g) != EOTA_OK)
        return -1;
    x->flash = eota_simflash_seam(&x->sf);
    x->cfg.flash = x->flash;
    x->cfg.copy_addr[0] = 0;
    x->cfg.copy_addr[1] = SEC;
    x->cfg.slot[0].addr = 2 * SEC;
    x->cfg.slot[0].size = 4 * SEC;
    x->cfg.slot[1].addr = 6 * SEC;
    x->cfg.slot[1].size = 6 * SEC;
    x->cfg.verify = 1;
    if (eota_posix_hash_init(&x->hash) != EOTA_OK)
        return -1;
    *state = x;
    return 0;
}

static int setup(void **state) { return setup_geo(state, 4, 0xFF); }
static int setup_a32(void **state) { return setup_geo(state, 32, 0x00); }
static int setup_a1(void **state) { return setup_geo(state, 1, 0xFF); }

static int teardown(void **state)
{
    fx *x = *state;
    fake_conn_free(&x->conn);
    eota_posix_hash_free(&x->hash);
    eota_simflash_free(&x->sf);
    free(x);
    return 0;
}

static void open_all(fx *x)
{
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, x->stage, sizeof x->stage), EOTA_OK);
}

static uint8_t *image(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (uint8_t)(s >> 16);
    }
    return p;
}

/* Upload through the engine. Returns the engine's error code (0 when the
 * image was committed and REBOOT reported). cut_after: the client closes
 * after that many data bytes (0: sends everything). */
static uint8_t engine_upload(fx *x, const uint8_t *img, size_t n, size_t cut_after)
{
    uint8_t too_big = x->scfg.too_big_code; /* the one setting a test chooses */
    memset(&x->scfg, 0, sizeof x->scfg);
    x->scfg.too_big_code = too_big;
    x->scfg.transport = &fake_transport;
    x->scfg.clock = fake_clock_seam(&x->clock);
    x->scfg.random = fake_random_seam(&x->random);
    x->scfg.hash = eota_posix_hash_seam(&x->hash);
    x->scfg.backend = eota_flash_backend_seam(&x->fb);
    x->scfg.version = 2;
    assert_int_equal(eota_server_init(&x->srv, &x->scfg, x->xfer, sizeof x->xfer), EOTA_OK);
    fake_conn_free(&x->conn);
    fake_conn_init(&x->conn);
    fake_conn_push_hex(&x->conn, "6c 26 f7 5c 45 00");
    uint8_t sz[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    fake_conn_push(&x->conn, sz, 4);
    char m[33];
    md5_hex(m, img, n);
    fake_conn_push(&x->conn, m, 32);
    fake_conn_push(&x->conn, img, cut_after ? cut_after : n);
    if (!cut_after)
        fake_conn_push_hex(&x->conn, "00");
    x->conn.eof = 1;
    assert_int_equal(eota_server_accept(&x->srv, &x->conn), EOTA_OK);
    int reboot = 0;
    for (int i = 0; i < 100000; i++) {
        eota_server_result r = eota_server_poll(&x->srv);
        if (r == EOTA_SERVER_REBOOT)
            reboot = 1;
        if (!eota_server_busy(&x->srv))
            break;
        x->clock.now += 1;
    }
    assert_false(eota_server_busy(&x->srv));
    eota_server_info info;
    eota_server_get_info(&x->srv, &info);
    if (reboot)
        assert_int_equal(info.error_code, 0);
    return reboot ? 0 : (info.error_code ? info.error_code : 0xFF);
}

static void assert_slot_holds(fx *x, int slot, const uint8_t *img, size_t n)
{
    assert_memory_equal(x->sf.mem + x->cfg.slot[slot].addr, img, n);
    eota_slot_info si;
    assert_int_equal(eota_bootstate_slot(&x->bs, slot, &si), EOTA_SLOT_NEW);
    assert_int_equal(si.size, n);
    assert_int_equal(si.crc, eota_crc32(0, img, n));
}

/* A valid image in slot 0, booted and confirmed. */
static void seed_valid(fx *x)
{
    open_all(x);
    uint8_t *a = image(9000, 1);
    assert_int_equal(engine_upload(x, a, 9000, 0), 0);
    eota_boot_decision d;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_boot(&x->bs, NULL, &d), EOTA_OK);
    assert_int_equal(d.slot, 0);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    free(a);
}

/* ---------- through the engine ---------- */

static void test_first_upload_goes_to_slot0(void **state)
{
    fx *x = *state;
    open_all(x);
    uint8_t *a = image(10001, 1);
    assert_int_equal(engine_upload(x, a, 10001, 0), 0);
    assert_int_equal(eota_slotstore_slot(&x->fb.store), 0);
    assert_int_equal(eota_slotstore_installs(&x->fb.store), 1);
    assert_slot_holds(x, 0, a, 10001);
    /* erase-ahead: the three sectors written, not the fourth */
    assert_int_equal(x->sf.erases, 3 + 1); /* + the record's copy */
    uint8_t e = x->sf.geo.erased;
    for (uint32_t i = 0; i < SEC; i++)
        assert_int_equal(x->sf.mem[5 * SEC + i], e);
    assert_int_equal(x->sf.violations, 0);
    free(a);
}

static void test_update_goes_to_inactive_slot(void **state)
{
    fx *x = *state;
    seed_valid(x);
    uint8_t *b = image(20000, 2); /* slot 1: 2 small sectors and a big one */
    assert_int_equal(engine_upload(x, b, 20000, 0), 0);
    assert_int_equal(eota_slotstore_slot(&x->fb.store), 1);
    assert_slot_holds(x, 1, b, 20000);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
    /* the padding after the image is the erased value */
    uint32_t a = x->sf.geo.write_align;
    uint32_t end = (20000 + a - 1) / a * a;
    for (uint32_t i = 20000; i < end; i++)
        assert_int_equal(x->sf.mem[6 * SEC + i], x->sf.geo.erased);
    assert_int_equal(x->sf.violations, 0);
    /* the bootloader starts its trial */
    eota_boot_decision d;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_boot(&x->bs, NULL, &d), EOTA_OK);
    assert_int_equal(d.slot, 1);
    assert_true(d.trial_started);
    free(b);
}

static void test_too_big_touches_nothing(void **state)
{
    fx *x = *state;
    seed_valid(x);
    x->scfg.too_big_code = 0;
    unsigned long ops = x->sf.ops;
    uint8_t *b = image(6 * SEC + 1, 2);
    assert_int_equal(engine_upload(x, b, 6 * SEC + 1, 0), EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE);
    assert_int_equal(x->sf.ops, ops);
    x->scfg.too_big_code = EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE;
    assert_int_equal(engine_upload(x, b, 6 * SEC + 1, 0), EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE);
    free(b);
}

static void test_cut_upload_installs_nothing(void **state)
{
    fx *x = *state;
    seed_valid(x);
    uint8_t *b = image(20000, 2);
    assert_int_equal(engine_upload(x, b, 20000, 0), 0); /* slot 1 NEW */
    /* the next upload to slot 1 is cut off: the NEW image is gone, slot 0
     * still boots */
    uint8_t *c = image(15000, 3);
    assert_int_not_equal(engine_upload(x, c, 15000, 9000), 0);
    assert_int_equal(eota_slotstore_installs(&x->fb.store), 2);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    eota_boot_decision d;
    assert_int_equal(eota_boot(&x->bs, NULL, &d), EOTA_OK);
    assert_int_equal(d.slot, 0);
    assert_false(d.trial);
    /* a following upload works */
    assert_int_equal(engine_upload(x, c, 15000, 0), 0);
    assert_slot_holds(x, 1, c, 15000);
    assert_int_equal(x->sf.violations, 0);
    free(b);
    free(c);
}

static void test_md5_mismatch_installs_nothing(void **state)
{
    fx *x = *state;
    seed_valid(x);
    uint8_t *b = image(5000, 2);
    /* the client announces the MD5 of other bytes */
    uint8_t *other = image(5000, 9);
    char m[33];
    md5_hex(m, other, 5000);
    memset(&x->scfg, 0, sizeof x->scfg);
    x->scfg.transport = &fake_transport;
    x->scfg.clock = fake_clock_seam(&x->clock);
    x->scfg.random = fake_random_seam(&x->random);
    x->scfg.hash = eota_posix_hash_seam(&x->hash);
    x->scfg.backend = eota_flash_backend_seam(&x->fb);
    assert_int_equal(eota_server_init(&x->srv, &x->scfg, x->xfer, sizeof x->xfer), EOTA_OK);
    fake_conn_free(&x->conn);
    fake_conn_init(&x->conn);
    fake_conn_push_hex(&x->conn, "6c 26 f7 5c 45 00 00 00 13 88");
    fake_conn_push(&x->conn, m, 32);
    fake_conn_push(&x->conn, b, 5000);
    x->conn.eof = 1;
    eota_server_accept(&x->srv, &x->conn);
    for (int i = 0; i < 10000 && eota_server_busy(&x->srv); i++) {
        assert_int_not_equal(eota_server_poll(&x->srv), EOTA_SERVER_REBOOT);
        x->clock.now++;
    }
    eota_server_info info;
    eota_server_get_info(&x->srv, &info);
    assert_int_equal(info.error_code, EOTA_RESP_ERROR_MD5_MISMATCH);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    free(b);
    free(other);
}

/* ---------- called directly ---------- */

static void test_direct_odd_writes(void **state)
{
    fx *x = *state;
    open_all(x);
    eota_backend be = eota_flash_backend_seam(&x->fb);
    assert_int_equal(be.caps, 0);
    uint8_t *a = image(7777, 4);
    eota_begin_info bi = {7777, EOTA_OTA_TYPE_APP, 0};
    assert_int_equal(be.ops->begin(be.ctx, &bi), 0);
    size_t off = 0, step = 1;
    while (off < 7777) {
        size_t n = 7777 - off < step ? 7777 - off : step;
        size_t taken = 0;
        assert_int_equal(be.ops->write(be.ctx, a + off, n, &taken), 0);
        assert_int_equal(taken, n);
        off += n;
        step = step * 3 % 1021 + 1;
    }
    assert_int_equal(be.ops->end(be.ctx), EOTA_OK);
    assert_slot_holds(x, 0, a, 7777);
    assert_int_equal(x->sf.violations, 0);
    /* more bytes than announced, or end too early */
    bi.size = 10;
    assert_int_equal(be.ops->begin(be.ctx, &bi), 0);
    size_t taken;
    assert_int_equal(be.ops->write(be.ctx, a, 11, &taken), EOTA_EINVAL);
    assert_int_equal(be.ops->write(be.ctx, a, 5, &taken), EOTA_OK);
    assert_int_equal(be.ops->end(be.ctx), EOTA_EINVAL);
    be.ops->abort(be.ctx);
    assert_int_equal(be.ops->write(be.ctx, a, 5, &taken), EOTA_EINVAL);
    /* other OTA types */
    bi.ota_type = EOTA_OTA_TYPE_BOOTLOADER;
    assert_int_equal(be.ops->begin(be.ctx, &bi), EOTA_EUNSUPPORTED);
    free(a);
}

static void test_init_checks(void **state)
{
    fx *x = *state;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    uint32_t a = eota_bootstate_geometry(&x->bs)->write_align;
    if (a > 1)
        assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, x->stage, a + 1), EOTA_EINVAL);
    assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, x->stage, 0), EOTA_EINVAL);
    assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, NULL, 64), EOTA_EINVAL);
    assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, x->stage, a), EOTA_OK);
    eota_bootstate_config c = x->cfg;
    c.verify = 0;
    c.slot[1].size = 0;
    assert_int_equal(eota_bootstate_open(&x->bs, &c), EOTA_OK);
    assert_int_equal(eota_flash_backend_init(&x->fb, &x->bs, x->stage, a), EOTA_EINVAL);
}

static void test_flash_failure_is_a_write_error(void **state)
{
    fx *x = *state;
    seed_valid(x);
    uint8_t *b = image(12000, 5);
    eota_simflash_cut c = {EOTA_SIMFLASH_CUT_BEFORE, x->sf.ops + 6, 0, 0, 0, 0};
    eota_simflash_arm(&x->sf, &c);
    assert_int_equal(engine_upload(x, b, 12000, 0), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_not_equal(eota_flash_medium_error(&x->fb.medium), EOTA_OK);
    eota_simflash_power_on(&x->sf);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    free(b);
}

/* A flash that loses one program in the slots without saying so: the
 * read-back catches it. */
static int lossy_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
    fx *x = ctx;
    static const uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
    if (addr == 6 * SEC + 512 && len >= 4) {
        /* program something else instead */
        uint8_t buf[512];
        memcpy(buf, data, len);
        memcpy(buf, junk, 4);
        return x->flash.ops->program(x->flash.ctx, addr, buf, len);
    }
    return x->flash.ops->program(x->flash.ctx, addr, data, len);
}
static int lossy_read(void *ctx, uint32_t a, void *b, size_t n)
{
    fx *x = ctx;
    if (x->unreadable_slots && a >= x->cfg.slot[0].addr)
        return EOTA_EIO;
    return x->flash.ops->read(x->flash.ctx, a, b, n);
}
static int lossy_erase(void *ctx, uint32_t a)
{
    fx *x = ctx;
    return x->flash.ops->erase(x->flash.ctx, a);
}
static int lossy_sector(void *ctx, uint32_t a, uint32_t *s, uint32_t *z)
{
    fx *x = ctx;
    return x->flash.ops->sector(x->flash.ctx, a, s, z);
}
static void lossy_info(void *ctx, eota_flash_info *i)
{
    fx *x = ctx;
    x->flash.ops->info(x->flash.ctx, i);
}
static const eota_flash_ops lossy_ops = {lossy_read, lossy_program, lossy_erase, lossy_sector, lossy_info};

static void test_readback_catches_bad_flash(void **state)
{
    fx *x = *state;
    seed_valid(x);
    x->cfg.flash.ops = &lossy_ops;
    x->cfg.flash.ctx = x;
    open_all(x);
    uint8_t *b = image(3000, 6);
    assert_int_equal(engine_upload(x, b, 3000, 0), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    free(b);
}

/* The slot cannot be read back: a verify error, nothing installed. */
static void test_unreadable_slot_is_a_verify_error(void **state)
{
    fx *x = *state;
    seed_valid(x);
    x->cfg.flash.ops = &lossy_ops;
    x->cfg.flash.ctx = x;
    open_all(x);
    x->unreadable_slots = 1;
    uint8_t *b = image(3000, 7);
    assert_int_equal(engine_upload(x, b, 3000, 0), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(eota_flash_medium_error(&x->fb.medium), EOTA_EIO);
    assert_int_equal(eota_slotstore_installs(&x->fb.store), 0);
    x->unreadable_slots = 0;
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
    free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T32(f) cmocka_unit_test_setup_teardown(f, setup_a32, teardown)
#define T1(f) cmocka_unit_test_setup_teardown(f, setup_a1, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_first_upload_goes_to_slot0),
        T32(test_first_upload_goes_to_slot0),
        T(test_update_goes_to_inactive_slot),
        T32(test_update_goes_to_inactive_slot),
        T1(test_update_goes_to_inactive_slot),
        T(test_too_big_touches_nothing),
        T(test_cut_upload_installs_nothing),
        T32(test_cut_upload_installs_nothing),
        T(test_md5_mismatch_installs_nothing),
        T(test_direct_odd_writes),
        T32(test_direct_odd_writes),
        T1(test_direct_odd_writes),
        T(test_init_checks),
        T32(test_init_checks),
        T(test_flash_failure_is_a_write_error),
        T(test_readback_catches_bad_flash),
        T(test_unreadable_slot_is_a_verify_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
