/*
 * test_storage.c: the storage stack of `eota device` (src/app/storage.c)
 * built from real configs over a real state directory: which layers a
 * config puts in (gzip for a host profile, none for an esp32, the
 * simulate: layers), an image committed into the inactive slot file with
 * the boot state's size and CRC, and the detail of a failure kept where the
 * device's log and the web page read it.
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
#include <zlib.h>

#include "config_fixture.h"
#include "eota/crc32.h"
#include "eota/protocol.h"
#include "storage.h"

#define IMG 50000u

typedef struct fx {
    char dir[160];
    eota_config cfg;
    eota_slots slots;
    eota_storage st;
    eota_backend be;
    uint8_t img[IMG];
    char err[1024];
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    snprintf(x->dir, sizeof x->dir, "%s/state", cfg_tmpdir);
    char cmd[200]; /* the folder is the group's: each test starts without state */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
    if (system(cmd) != 0)
        return -1;
    for (size_t i = 0; i < IMG; i++)
        x->img[i] = (uint8_t)("abcd"[i % 4] + (i / 1000) % 7);
    x->slots.ff.fd = -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    if (x->be.ops)
        x->be.ops->abort(x->be.ctx);
    eota_slots_close(&x->slots);
    eota_config_free(&x->cfg);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
    int rc = system(cmd);
    free(x);
    return rc == 0 ? 0 : -1;
}

static void stack(fx *x, const char *yaml)
{
    load_ok(yaml, &x->cfg);
    assert_int_equal(eota_slots_open(&x->slots, x->dir, x->err, sizeof x->err), 0);
    x->be = eota_storage_stack(&x->st, &x->slots, &x->cfg);
    assert_ptr_equal(x->be.ctx, &x->st);
}

static int send(fx *x, const uint8_t *p, size_t n, uint8_t gzip)
{
    eota_begin_info bi = {(uint32_t)n, EOTA_OTA_TYPE_APP, gzip};
    int st = x->be.ops->begin(x->be.ctx, &bi);
    for (size_t off = 0; st == EOTA_OK && off < n;) {
        size_t t = 0;
        st = x->be.ops->write(x->be.ctx, p + off, n - off < 4096 ? n - off : 4096, &t);
        off += t;
    }
    if (st == EOTA_OK)
        st = x->be.ops->end(x->be.ctx);
    if (st != EOTA_OK)
        x->be.ops->abort(x->be.ctx);
    return st;
}

static void assert_slot_file(fx *x, char slot, const uint8_t *img, size_t n)
{
    char p[300];
    uint8_t *got = malloc(n + 1);
    assert_non_null(got);
    FILE *f = fopen(eota_slots_path(&x->slots, slot, p, sizeof p), "rb");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, n + 1, f), n);
    fclose(f);
    assert_memory_equal(got, img, n);
    free(got);
    strcat(p, ".part");
    assert_int_not_equal(access(p, F_OK), 0);
    eota_slot_info si;
    assert_int_equal(eota_bootstate_slot(&x->slots.bs, slot - 'a', &si), EOTA_SLOT_NEW);
    assert_int_equal(si.size, n);
    assert_int_equal(si.crc, eota_crc32(0, img, n));
}

/* The stack's detail of the last failure: its sentence ("" for none) and
 * its response byte. */
static const char *detail_why(fx *x, uint8_t *code)
{
    eota_backend_detail d = {NULL, 0xEE};
    x->be.ops->detail(x->be.ctx, &d);
    if (code)
        *code = d.code;
    return d.why ? d.why : "";
}

static void test_host_inflates_gzip(void **state)
{
    fx *x = *state;
    stack(x, "esphome:\n  name: dev\nhost:\n  gzip: true\nota:\n  - platform: esphome\n");
    assert_int_equal(x->be.caps, EOTA_BACKEND_CAP_GZIP);
    uLongf n = compressBound(IMG) + 32;
    uint8_t *gz = malloc(n);
    assert_non_null(gz);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = x->img;
    zs.avail_in = IMG;
    zs.next_out = gz;
    zs.avail_out = (uInt)n;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t gz_len = zs.total_out;
    deflateEnd(&zs);
    assert_int_equal(send(x, gz, gz_len, 1), EOTA_OK);
    assert_slot_file(x, 'a', x->img, IMG);
    assert_string_equal(detail_why(x, NULL), "");
    /* a raw image to the same device */
    assert_int_equal(send(x, x->img, 1000, 1), EOTA_OK);
    assert_slot_file(x, 'a', x->img, 1000);
    free(gz);
}

static void test_esp32_no_gzip_and_too_big(void **state)
{
    fx *x = *state;
    stack(x, "esphome:\n  name: dev\nesp32:\n  board: esp32dev\nota:\n  - platform: esphome\n"
             "simulate:\n  slot_size: 20000\n");
    assert_int_equal(x->be.caps, 0);
    assert_int_equal(send(x, x->img, 20001, 0), EOTA_ETOOBIG);
    assert_string_equal(detail_why(x, NULL), "image larger than the slot");
    eota_backend_detail d = {NULL, 9};
    x->be.ops->detail(x->be.ctx, &d);
    assert_string_equal(d.why, "image larger than the slot");
    assert_int_equal(d.code, 0);
    assert_int_equal(send(x, x->img, 20000, 0), EOTA_OK);
    assert_string_equal(detail_why(x, NULL), ""); /* cleared by begin */
    assert_slot_file(x, 'a', x->img, 20000);
}

static void test_simulated_failure_keeps_its_code(void **state)
{
    fx *x = *state;
    stack(x, BASE "ota:\n  - platform: esphome\n"
                  "simulate:\n  fail_at: write\n  fail_after_bytes: 8000\n  fail_code: 0x8D\n");
    assert_int_equal(x->be.caps, 0); /* host: no gzip unless host: gzip: true */
    assert_int_equal(send(x, x->img, IMG, 0), EOTA_EWRITE);
    uint8_t code = 0;
    assert_string_equal(detail_why(x, &code), "simulated failure while writing");
    assert_int_equal(code, 0x8D);
    eota_backend_detail d = {NULL, 0};
    x->be.ops->detail(x->be.ctx, &d);
    assert_int_equal(d.code, 0x8D);
    char p[300];
    strcat(eota_slots_path(&x->slots, 'a', p, sizeof p), ".part");
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(eota_bootstate_slot(&x->slots.bs, 0, NULL), EOTA_SLOT_EMPTY);
}

/* The emulated flash's clock, moved by the test (no sleeping: the test
 * cannot flake under load). */
static uint64_t fake_ms;
static uint64_t fake_now_ms(void) { return fake_ms; }

static void test_flash_speed_layer(void **state)
{
    fx *x = *state;
    stack(x, BASE "ota:\n  - platform: esphome\nsimulate:\n  flash_write_speed: 1MB/s\n");
    fake_ms = 1000;
    x->st.speed.now_ms = fake_now_ms;
    eota_begin_info bi = {IMG, EOTA_OTA_TYPE_APP, 0};
    assert_int_equal(x->be.ops->begin(x->be.ctx, &bi), EOTA_OK);
    size_t t = 9;
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, IMG, &t), EOTA_OK);
    assert_int_equal(t, 0); /* the emulated flash starts now */
    fake_ms += 20; /* 20 ms at 1 MB/s: 20000 bytes of the 50000 */
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, IMG, &t), EOTA_OK);
    assert_true(t > 15000 && t <= 20000);
    fake_ms += 100; /* time enough for the rest */
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img + t, IMG - t, &t), EOTA_OK);
    assert_true(t > 0);
}

static void test_boot_state_failure_named(void **state)
{
    fx *x = *state;
    stack(x, BASE "ota:\n  - platform: esphome\n");
    assert_int_equal(send(x, x->img, 1000, 0), EOTA_OK); /* slot a NEW: the next prepare writes */
    close(x->slots.ff.fd); /* the boot state's file is gone */
    x->slots.ff.fd = -1;
    assert_int_equal(send(x, x->img, 1000, 0), EOTA_EPREPARE);
    uint8_t code = 9;
    assert_string_equal(detail_why(x, &code), "boot state: cannot prepare the slot (EIO)");
    assert_int_equal(code, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_host_inflates_gzip),
        T(test_esp32_no_gzip_and_too_big),
        T(test_simulated_failure_keeps_its_code),
        T(test_flash_speed_layer),
        T(test_boot_state_failure_named),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
