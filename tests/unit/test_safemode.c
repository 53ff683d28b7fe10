/*
 * test_safemode.c: the application side of safe mode
 * (src/core/safemode.c): boot_is_good_after confirms a normal boot once,
 * reboot_timeout ends safe mode, safe mode confirms nothing, an orderly
 * shutdown confirms, the request, the timeouts a main loop sleeps on; and
 * the whole loop of PROTOCOL.md section 8 with the bootloader.
 */
/* White-box: reads safe mode's private fields (eota/private_access.h). */
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
#include "eota/safemode.h"
#include "simflash.h"

typedef struct fx {
    eota_simflash sf;
    eota_bootstate_config cfg;
    eota_bootstate bs;
    eota_safe_mode_config sm;
    eota_safe_mode app;
    eota_boot_decision d;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    eota_simflash_geometry g = eota_simflash_uniform(2, 4096, 8, 0xFF);
    if (eota_simflash_init(&x->sf, &g) != EOTA_OK)
        return -1;
    x->cfg.flash = eota_simflash_seam(&x->sf);
    x->cfg.copy_addr[1] = 4096;
    eota_safe_mode_config_defaults(&x->sm);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    eota_simflash_free(&x->sf);
    free(x);
    return 0;
}

/* Boot (the bootloader's part) and start the app's timers at t. */
static void boot_at(fx *x, uint32_t t)
{
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_boot(&x->bs, &x->sm, &x->d), EOTA_OK);
    eota_safe_mode_begin(&x->app, &x->bs, &x->sm, &x->d, t);
}

/* Images live elsewhere (no slot regions): install a made-up one. */
static void install(fx *x, int slot)
{
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_prepare(&x->bs, slot), EOTA_OK);
    assert_int_equal(eota_bootstate_install(&x->bs, slot, 1000, 42), EOTA_OK);
}

static void test_confirmed_after_boot_is_good_after(void **state)
{
    fx *x = *state;
    install(x, 0);
    uint32_t t0 = 0xFFFFF000u; /* the clock wraps during the minute */
    boot_at(x, t0);
    assert_true(x->d.trial);
    assert_false(eota_safe_mode_is_active(&x->app));
    assert_int_equal(eota_safe_mode_timeout_ms(&x->app, t0), 60000);
    assert_int_equal(eota_safe_mode_poll(&x->app, t0 + 59999), EOTA_SAFE_MODE_NOTHING);
    assert_int_equal(eota_safe_mode_timeout_ms(&x->app, t0 + 59999), 1);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_TRIAL);
    assert_int_equal(eota_safe_mode_poll(&x->app, t0 + 60000), EOTA_SAFE_MODE_CONFIRMED);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_bootstate_attempts(&x->bs), 0);
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_safe_mode_poll(&x->app, t0 + 70000), EOTA_SAFE_MODE_NOTHING);
    assert_int_equal(eota_safe_mode_timeout_ms(&x->app, t0 + 70000), -1);
    assert_int_equal(eota_safe_mode_mark_successful(&x->app), EOTA_OK);
    assert_int_equal(x->sf.ops, ops); /* confirmed once */
    /* it survives a reboot */
    boot_at(x, 0);
    assert_false(x->d.trial);
    assert_int_equal(x->d.slot, 0);
}

static void test_explicit_mark_successful(void **state)
{
    fx *x = *state;
    install(x, 0);
    boot_at(x, 100);
    assert_int_equal(eota_safe_mode_mark_successful(&x->app), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_VALID);
    assert_int_equal(eota_safe_mode_poll(&x->app, 100 + 60000), EOTA_SAFE_MODE_NOTHING);
}

static void test_orderly_shutdown_confirms(void **state)
{
    fx *x = *state;
    install(x, 0);
    boot_at(x, 0);
    assert_int_equal(eota_safe_mode_poll(&x->app, 1000), EOTA_SAFE_MODE_NOTHING);
    assert_int_equal(eota_safe_mode_shutdown(&x->app), EOTA_OK);
    boot_at(x, 0);
    assert_false(x->d.trial);
    assert_false(x->d.rolled_back);
    assert_int_equal(x->d.attempts, 0);
}

static void test_safe_mode_reboots_after_timeout(void **state)
{
    fx *x = *state;
    install(x, 0);
    boot_at(x, 0);
    eota_safe_mode_mark_successful(&x->app);
    /* ten boots that die within the minute */
    for (int i = 0; i < 10; i++) {
        boot_at(x, 0);
        assert_false(eota_safe_mode_is_active(&x->app));
        assert_int_equal(eota_safe_mode_poll(&x->app, 30000), EOTA_SAFE_MODE_NOTHING);
    }
    boot_at(x, 5);
    assert_true(eota_safe_mode_is_active(&x->app));
    assert_int_equal(eota_safe_mode_timeout_ms(&x->app, 5), 300000);
    /* no confirmation in safe mode, however long it runs */
    unsigned long ops = x->sf.ops;
    assert_int_equal(eota_safe_mode_poll(&x->app, 5 + 60000), EOTA_SAFE_MODE_NOTHING);
    assert_int_equal(eota_safe_mode_mark_successful(&x->app), EOTA_OK);
    assert_int_equal(eota_safe_mode_shutdown(&x->app), EOTA_OK);
    assert_int_equal(x->sf.ops, ops);
    assert_int_equal(eota_safe_mode_poll(&x->app, 5 + 299999), EOTA_SAFE_MODE_NOTHING);
    assert_int_equal(eota_safe_mode_poll(&x->app, 5 + 300000), EOTA_SAFE_MODE_REBOOT);
    assert_int_equal(eota_safe_mode_poll(&x->app, 5 + 300001), EOTA_SAFE_MODE_REBOOT);
    assert_int_equal(eota_safe_mode_timeout_ms(&x->app, 5 + 300001), 0);
    /* the count was cleared on entry: the application gets 10 more tries */
    boot_at(x, 0);
    assert_false(eota_safe_mode_is_active(&x->app));
    assert_int_equal(x->d.attempts, 0);
}

static void test_trial_in_safe_mode_is_not_confirmed(void **state)
{
    fx *x = *state;
    install(x, 0); /* no fallback: it stays on trial */
    boot_at(x, 0);
    assert_true(x->d.trial);
    assert_int_equal(eota_safe_mode_request(&x->app), EOTA_OK);
    boot_at(x, 0);
    assert_true(eota_safe_mode_is_active(&x->app));
    assert_true(x->d.trial);
    assert_int_equal(eota_safe_mode_shutdown(&x->app), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_TRIAL);
}

static void test_request_from_the_app(void **state)
{
    fx *x = *state;
    install(x, 0);
    boot_at(x, 0);
    assert_int_equal(eota_safe_mode_poll(&x->app, 60000), EOTA_SAFE_MODE_CONFIRMED);
    assert_int_equal(eota_safe_mode_request(&x->app), EOTA_OK);
    assert_int_equal(eota_safe_mode_shutdown(&x->app), EOTA_OK); /* keeps the request */
    boot_at(x, 0);
    assert_true(eota_safe_mode_is_active(&x->app));
    assert_true(x->d.requested);
    boot_at(x, 0);
    assert_false(eota_safe_mode_is_active(&x->app));
}

static void test_custom_times_and_no_decision(void **state)
{
    fx *x = *state;
    x->sm.boot_is_good_after_ms = 10;
    x->sm.reboot_timeout_ms = 20;
    install(x, 0);
    boot_at(x, 0);
    assert_int_equal(eota_safe_mode_poll(&x->app, 10), EOTA_SAFE_MODE_CONFIRMED);
    /* defaults when no config and no decision are given */
    eota_safe_mode m;
    eota_safe_mode_begin(&m, &x->bs, NULL, NULL, 0);
    assert_false(eota_safe_mode_is_active(&m));
    assert_int_equal(m.slot, EOTA_BOOT_NO_SLOT);
    assert_int_equal(eota_safe_mode_timeout_ms(&m, 0), 60000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_confirmed_after_boot_is_good_after),
        T(test_explicit_mark_successful),
        T(test_orderly_shutdown_confirms),
        T(test_safe_mode_reboots_after_timeout),
        T(test_trial_in_safe_mode_is_not_confirmed),
        T(test_request_from_the_app),
        T(test_custom_times_and_no_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
