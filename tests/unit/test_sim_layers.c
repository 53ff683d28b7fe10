/*
 * test_sim_layers.c: the `simulate:` layers (src/app/sim_layers.c) over the
 * in-memory backend: the emulated flash takes bytes at its speed on a clock
 * the test moves (and banks no credit while idle); the injected failures
 * come at prepare, while writing (after fail_after_bytes) or at end, with
 * the chip's response byte in the detail; everything else is forwarded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/protocol.h"
#include "mem_backend.h"
#include "sim_layers.h"

#define CAP 100000u

typedef struct fx {
    uint8_t buf[CAP];
    uint8_t img[CAP];
    eota_mem_backend mb;
    eota_sim_speed sp;
    eota_sim_fail sf;
    eota_backend be;
} fx;

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    for (size_t i = 0; i < CAP; i++)
        x->img[i] = (uint8_t)(i * 13u);
    eota_mem_backend_init(&x->mb, x->buf, CAP);
    x->mb.caps = EOTA_BACKEND_CAP_GZIP;
    fake_now = 5000;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void speed_over_mem(fx *x, uint64_t bps)
{
    eota_sim_speed_init(&x->sp, eota_mem_backend_seam(&x->mb), bps);
    x->sp.now_ms = fake_clock;
    x->be = eota_sim_speed_seam(&x->sp);
}

static void fail_over_mem(fx *x, eota_sim_fail_at at, uint32_t after, uint8_t code)
{
    eota_simulate_config sim;
    memset(&sim, 0, sizeof sim);
    sim.fail_at = at;
    sim.fail_code = code;
    sim.has_fail_after_bytes = after != 0;
    sim.fail_after_bytes = after;
    eota_sim_fail_init(&x->sf, eota_mem_backend_seam(&x->mb), &sim);
    x->be = eota_sim_fail_seam(&x->sf);
}

static int begin(fx *x, uint32_t size)
{
    eota_begin_info bi = {size, EOTA_OTA_TYPE_APP, 1};
    return x->be.ops->begin(x->be.ctx, &bi);
}

static size_t write_now(fx *x, size_t off, size_t len)
{
    size_t t = 99;
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img + off, len, &t), EOTA_OK);
    return t;
}

static eota_backend_detail detail(fx *x)
{
    eota_backend_detail d = {NULL, 0};
    x->be.ops->detail(x->be.ctx, &d);
    return d;
}

static void test_speed_paces_writes(void **state)
{
    fx *x = *state;
    speed_over_mem(x, 10000); /* 10 bytes per ms */
    assert_int_equal(x->be.caps, EOTA_BACKEND_CAP_GZIP);
    assert_int_equal(begin(x, 3000), EOTA_OK);
    assert_int_equal(write_now(x, 0, 1000), 0); /* the flash starts now */
    fake_now += 30;
    assert_int_equal(write_now(x, 0, 1000), 300);
    fake_now += 100;
    assert_int_equal(write_now(x, 300, 700), 700); /* the rest of the credit stays */
    assert_int_equal(x->sp.tokens, 300);
    /* idle (the flash had nothing to do): no credit banked */
    fake_now += 10000;
    assert_int_equal(write_now(x, 1000, 1000), 0);
    fake_now += 50;
    assert_int_equal(write_now(x, 1000, 1000), 500);
    fake_now += 200;
    assert_int_equal(write_now(x, 1500, 1500), 1500);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_OK);
    assert_int_equal(x->mb.committed_len, 3000);
    assert_memory_equal(x->buf, x->img, 3000);
}

static void test_speed_keeps_credit_the_inner_did_not_use(void **state)
{
    fx *x = *state;
    speed_over_mem(x, 1000);
    x->mb.max_take = 100;
    assert_int_equal(begin(x, 1000), EOTA_OK);
    assert_int_equal(write_now(x, 0, 1000), 0);
    fake_now += 500;
    assert_int_equal(write_now(x, 0, 1000), 100); /* 500 allowed, 100 taken */
    assert_int_equal(write_now(x, 100, 900), 100); /* the credit was kept */
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->mb.aborted, 1);
}

static void test_no_speed_forwards_everything(void **state)
{
    fx *x = *state;
    speed_over_mem(x, 0);
    x->mb.fail_end = EOTA_ECOMMIT;
    assert_int_equal(begin(x, 5000), EOTA_OK);
    assert_int_equal(x->mb.info.gzip_agreed, 1);
    assert_int_equal(write_now(x, 0, 5000), 5000);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_ECOMMIT);
    assert_string_equal(detail(x).why, "injected failure");
}

static void test_fail_at_prepare(void **state)
{
    fx *x = *state;
    fail_over_mem(x, EOTA_SIM_FAIL_PREPARE, 0, EOTA_RESP_ERROR_UPDATE_PREPARE);
    assert_int_equal(x->be.caps, EOTA_BACKEND_CAP_GZIP);
    assert_int_equal(begin(x, 100), EOTA_EPREPARE);
    assert_int_equal(x->mb.begin_calls, 0); /* the slot was never touched */
    eota_backend_detail d = detail(x);
    assert_string_equal(d.why, "simulated failure at prepare");
    assert_int_equal(d.code, EOTA_RESP_ERROR_UPDATE_PREPARE);
}

static void test_fail_while_writing(void **state)
{
    fx *x = *state;
    fail_over_mem(x, EOTA_SIM_FAIL_WRITE, 20000, 0x8D);
    assert_int_equal(begin(x, 50000), EOTA_OK);
    assert_int_equal(write_now(x, 0, 15000), 15000);
    assert_int_equal(write_now(x, 15000, 5000), 5000); /* exactly 20000 */
    size_t t = 9;
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 1, &t), EOTA_EWRITE);
    assert_int_equal(t, 0);
    eota_backend_detail d = detail(x);
    assert_string_equal(d.why, "simulated failure while writing");
    assert_int_equal(d.code, 0x8D);
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->mb.aborted, 1);
    /* the count starts again with the next upload; without fail_after, the
     * first write fails */
    assert_int_equal(begin(x, 50000), EOTA_OK);
    assert_null(detail(x).why);
    assert_int_equal(write_now(x, 0, 20000), 20000);
    fail_over_mem(x, EOTA_SIM_FAIL_WRITE, 0, 0x83);
    assert_int_equal(begin(x, 50000), EOTA_OK);
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 1, &t), EOTA_EWRITE);
}

static void test_fail_at_end(void **state)
{
    fx *x = *state;
    fail_over_mem(x, EOTA_SIM_FAIL_END, 0, EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(begin(x, 1000), EOTA_OK);
    assert_int_equal(write_now(x, 0, 1000), 1000);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_EVERIFY);
    assert_int_equal(x->mb.end_calls, 0);
    assert_int_equal(detail(x).code, EOTA_RESP_ERROR_UPDATE_END);
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->mb.committed, 0);
}

static void test_fail_forwards_the_inner_detail(void **state)
{
    fx *x = *state;
    fail_over_mem(x, EOTA_SIM_FAIL_END, 0, 0x84);
    assert_int_equal(begin(x, CAP + 1), EOTA_ETOOBIG); /* the inner refuses */
    eota_backend_detail d = detail(x);
    assert_string_equal(d.why, "image larger than the buffer");
    assert_int_equal(d.code, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_speed_paces_writes),
        T(test_speed_keeps_credit_the_inner_did_not_use),
        T(test_no_speed_forwards_everything),
        T(test_fail_at_prepare),
        T(test_fail_while_writing),
        T(test_fail_at_end),
        T(test_fail_forwards_the_inner_detail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
