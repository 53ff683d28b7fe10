/*
 * test_slotstore.c: the one install path (src/core/slotstore.c) over a fake
 * medium that records its calls and fails on demand, with a real boot state
 * on a simulated flash. It proves the order (prepare before the medium is
 * opened, install after finish and verify), the checks (ETOOBIG before
 * anything is written, or as bytes come when gzip was agreed; exact or
 * bounded sizes), the size and CRC-32 the boot state records, and that every
 * failure leaves the slot uninstalled and the store ready for the next
 * upload.
 */
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
#include "eota/protocol.h"
#include "simflash.h"
#include "eota/slotstore.h"

#define SEC 4096u
#define CAP 3000u

enum { STEP_NONE, STEP_OPEN, STEP_WRITE, STEP_FINISH, STEP_VERIFY };

typedef struct fake_medium {
    eota_bootstate *bs;
    uint32_t capacity;
    uint8_t img[CAP];       /* the bytes written since open */
    uint32_t len;
    char log[256];          /* O<slot>, W, F, V, D: the calls in order */
    int fail_step;          /* STEP_*: that call fails */
    int again;              /* finish answers EOTA_AGAIN this many times */
    size_t max_take;        /* 0: all; else at most this many per write */
    int state_at_open;      /* the target slot's boot state at open */
    int has_verify;
} fake_medium;

typedef struct fx {
    eota_simflash sf;
    eota_bootstate_config cfg;
    eota_bootstate bs;
    fake_medium m;
    eota_slotstore s;
    eota_backend be;
    uint8_t img[2 * CAP];
    unsigned long crc_calls;
} fx;

static void note(fake_medium *m, const char *what)
{
    strncat(m->log, what, sizeof m->log - strlen(m->log) - 1);
}

static uint32_t fm_capacity(void *ctx, int slot)
{
    fake_medium *m = ctx;
    return slot >= 0 && slot < 2 ? m->capacity : 0;
}

static int fm_open(void *ctx, int slot)
{
    fake_medium *m = ctx;
    note(m, slot ? "O1 " : "O0 ");
    m->state_at_open = eota_bootstate_slot(m->bs, slot, NULL);
    m->len = 0;
    return m->fail_step == STEP_OPEN ? EOTA_EPREPARE : EOTA_OK;
}

static int fm_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    fake_medium *m = ctx;
    if (!strstr(m->log, "W"))
        note(m, "W ");
    if (m->fail_step == STEP_WRITE)
        return EOTA_EWRITE;
    size_t n = m->max_take && len > m->max_take ? m->max_take : len;
    assert_true(m->len + n <= CAP);
    memcpy(m->img + m->len, data, n);
    m->len += (uint32_t)n;
    *taken = n;
    return EOTA_OK;
}

static int fm_finish(void *ctx)
{
    fake_medium *m = ctx;
    note(m, "F ");
    if (m->again > 0) {
        m->again--;
        return EOTA_AGAIN;
    }
    return m->fail_step == STEP_FINISH ? EOTA_ECOMMIT : EOTA_OK;
}

static int fm_verify(void *ctx, uint32_t size, uint32_t crc)
{
    fake_medium *m = ctx;
    note(m, "V ");
    if (m->fail_step == STEP_VERIFY)
        return EOTA_EVERIFY;
    return size == m->len && crc == eota_crc32(0, m->img, m->len) ? EOTA_OK : EOTA_EVERIFY;
}

static void fm_discard(void *ctx) { note(ctx, "D "); }

static const char *fm_why(void *ctx)
{
    fake_medium *m = ctx;
    return m->fail_step ? "the fake medium failed" : NULL;
}

static const eota_slot_medium_ops fake_ops = {fm_capacity, fm_open, fm_write, fm_finish, fm_verify, fm_discard, fm_why};
static const eota_slot_medium_ops fake_ops_no_verify = {fm_capacity, fm_open,    fm_write, fm_finish,
                                                        NULL,        fm_discard, NULL};

static fx *g_fx; /* for the CRC hook */

static uint32_t counting_crc32(uint32_t crc, const void *data, size_t len)
{
    g_fx->crc_calls++;
    return eota_crc32(crc, data, len);
}

static void store_init(fx *x, uint8_t size_is_bound, eota_crc32_fn crc)
{
    eota_slotstore_config c;
    memset(&c, 0, sizeof c);
    c.bs = &x->bs;
    c.medium.ops = x->m.has_verify ? &fake_ops : &fake_ops_no_verify;
    c.medium.ctx = &x->m;
    c.crc32 = crc;
    c.size_is_bound = size_is_bound;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_OK);
    x->be = eota_slotstore_seam(&x->s);
}

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    eota_simflash_geometry g = eota_simflash_uniform(2, SEC, 4, 0xFF);
    if (eota_simflash_init(&x->sf, &g) != EOTA_OK)
        return -1;
    x->cfg.flash = eota_simflash_seam(&x->sf);
    x->cfg.copy_addr[1] = SEC; /* slots elsewhere: sizes 0, no verify */
    if (eota_bootstate_open(&x->bs, &x->cfg) != EOTA_OK)
        return -1;
    x->m.bs = &x->bs;
    x->m.capacity = CAP;
    x->m.has_verify = 1;
    for (size_t i = 0; i < sizeof x->img; i++)
        x->img[i] = (uint8_t)(i * 7u + 3u);
    g_fx = x;
    store_init(x, 0, NULL);
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

static int begin(fx *x, uint32_t size, uint8_t gzip)
{
    eota_begin_info bi = {size, EOTA_OTA_TYPE_APP, gzip};
    x->m.log[0] = '\0';
    return x->be.ops->begin(x->be.ctx, &bi);
}

/* Write n bytes of the test image in pieces of `piece`, retrying short
 * takes. The first failing status, or EOTA_OK. */
static int write_all(fx *x, size_t n, size_t piece)
{
    size_t off = 0;
    while (off < n) {
        size_t k = n - off < piece ? n - off : piece, t = 0;
        int st = x->be.ops->write(x->be.ctx, x->img + off, k, &t);
        if (st != EOTA_OK)
            return st;
        assert_true(t <= k);
        off += t;
    }
    return EOTA_OK;
}

static int upload(fx *x, uint32_t n)
{
    int st = begin(x, n, 0);
    if (st == EOTA_OK)
        st = write_all(x, n, 100);
    if (st == EOTA_OK)
        st = x->be.ops->end(x->be.ctx);
    if (st != EOTA_OK)
        x->be.ops->abort(x->be.ctx);
    return st;
}

static const char *why(fx *x)
{
    eota_backend_detail d = {NULL, 9};
    x->be.ops->detail(x->be.ctx, &d);
    assert_int_equal(d.code, 0); /* the store never picks a wire code */
    return d.why ? d.why : "";
}

static void assert_installed(fx *x, int slot, uint32_t n)
{
    eota_slot_info si;
    assert_int_equal(eota_bootstate_slot(&x->bs, slot, &si), EOTA_SLOT_NEW);
    assert_int_equal(si.size, n);
    assert_int_equal(si.crc, eota_crc32(0, x->img, n));
}

/* An active, confirmed image in slot 0 and a NEW one in slot 1: the next
 * upload goes to slot 1, whose state prepare must clear first. */
static void seed(fx *x)
{
    eota_boot_decision d;
    assert_int_equal(upload(x, 1000), EOTA_OK);
    assert_int_equal(eota_boot(&x->bs, NULL, &d), EOTA_OK);
    assert_int_equal(d.slot, 0);
    assert_int_equal(eota_bootstate_confirm(&x->bs), EOTA_OK);
    assert_int_equal(upload(x, 1200), EOTA_OK);
    assert_installed(x, 1, 1200);
}

static void test_install_with_partial_takes(void **state)
{
    fx *x = *state;
    x->m.max_take = 7;
    assert_int_equal(begin(x, 2999, 0), EOTA_OK);
    assert_int_equal(write_all(x, 2999, 1000), EOTA_OK);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_OK);
    assert_string_equal(x->m.log, "O0 W F V ");
    assert_memory_equal(x->m.img, x->img, 2999);
    assert_installed(x, 0, 2999);
    assert_int_equal(eota_slotstore_slot(&x->s), 0);
    assert_int_equal(eota_slotstore_installs(&x->s), 1);
    assert_int_equal(x->be.caps, 0);
}

static void test_prepare_before_the_first_write(void **state)
{
    fx *x = *state;
    seed(x);
    uint32_t seq = eota_bootstate_seq(&x->bs);
    assert_int_equal(begin(x, 500, 0), EOTA_OK);
    assert_int_equal(x->m.state_at_open, EOTA_SLOT_EMPTY); /* was NEW */
    assert_true(eota_bootstate_seq(&x->bs) > seq);
    assert_int_equal(upload(x, 500), EOTA_OK);
    assert_installed(x, 1, 500);
    assert_int_equal(eota_bootstate_active(&x->bs), 0);
}

static void test_too_big_before_any_write(void **state)
{
    fx *x = *state;
    seed(x);
    uint32_t seq = eota_bootstate_seq(&x->bs);
    assert_int_equal(begin(x, CAP + 1, 0), EOTA_ETOOBIG);
    assert_string_equal(x->m.log, ""); /* the medium never heard of it */
    assert_int_equal(eota_bootstate_seq(&x->bs), seq);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_NEW);
    assert_string_equal(why(x), "image larger than the slot");
    assert_int_equal(begin(x, CAP, 0), EOTA_OK);
    x->be.ops->abort(x->be.ctx);
}

static void test_gzip_agreed_checks_as_bytes_come(void **state)
{
    fx *x = *state;
    size_t t = 99;
    assert_int_equal(begin(x, 100, 1), EOTA_OK); /* a wire size under the slot */
    assert_int_equal(write_all(x, CAP, 1000), EOTA_OK); /* more than announced */
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 1, &t), EOTA_ETOOBIG);
    assert_int_equal(t, 0);
    assert_string_equal(why(x), "image larger than the slot");
    x->be.ops->abort(x->be.ctx);
    assert_string_equal(x->m.log, "O0 W D ");
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
    /* and a wire size over the slot is fine when gzip was agreed */
    assert_int_equal(begin(x, CAP * 4, 1), EOTA_OK);
    assert_int_equal(write_all(x, 800, 64), EOTA_OK);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_OK);
    assert_installed(x, 0, 800);
}

static void test_exact_size(void **state)
{
    fx *x = *state;
    size_t t;
    assert_int_equal(begin(x, 10, 0), EOTA_OK);
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 11, &t), EOTA_EINVAL);
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 5, &t), EOTA_OK);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_EINVAL); /* 5 of 10 */
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 5, &t), EOTA_EINVAL);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_EINVAL);
    assert_int_equal(x->be.ops->write(x->be.ctx, x->img, 5, NULL), EOTA_EINVAL);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
}

static void test_bounded_size(void **state)
{
    fx *x = *state;
    store_init(x, 1, NULL);
    assert_int_equal(begin(x, 2000, 0), EOTA_OK);
    assert_int_equal(write_all(x, 1500, 512), EOTA_OK);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_OK); /* what arrived */
    assert_installed(x, 0, 1500);
}

static void test_unsupported_types(void **state)
{
    fx *x = *state;
    eota_begin_info bi = {100, EOTA_OTA_TYPE_BOOTLOADER, 0};
    assert_int_equal(x->be.ops->begin(x->be.ctx, &bi), EOTA_EUNSUPPORTED);
    assert_string_equal(why(x), "only application images");
    bi.ota_type = EOTA_OTA_TYPE_PARTITION_TABLE;
    assert_int_equal(x->be.ops->begin(x->be.ctx, &bi), EOTA_EUNSUPPORTED);
    assert_int_equal(x->be.ops->begin(x->be.ctx, NULL), EOTA_EINVAL);
    x->m.capacity = 0;
    assert_int_equal(begin(x, 100, 0), EOTA_ENOSLOT);
    assert_string_equal(x->m.log, "");
}

/* A medium failure at each step: its status and words come back, nothing
 * is installed, abort discards, and the next upload works. */
static void test_every_medium_failure_aborts_cleanly(void **state)
{
    static const struct {
        int step;
        int status;
        const char *log;
    } c[] = {
        {STEP_OPEN, EOTA_EPREPARE, "O1 "},
        {STEP_WRITE, EOTA_EWRITE, "O1 W D "},
        {STEP_FINISH, EOTA_ECOMMIT, "O1 W F D "},
        {STEP_VERIFY, EOTA_EVERIFY, "O1 W F V D "},
    };
    fx *x = *state;
    seed(x);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        x->m.fail_step = c[i].step;
        assert_int_equal(upload(x, 700), c[i].status);
        assert_string_equal(why(x), "the fake medium failed");
        assert_string_equal(x->m.log, c[i].log);
        assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
        assert_int_equal(eota_slotstore_installs(&x->s), 2 + i);
        x->m.fail_step = STEP_NONE;
        assert_int_equal(upload(x, 600 + (uint32_t)i), EOTA_OK);
        assert_installed(x, 1, 600 + (uint32_t)i);
    }
}

static void test_boot_state_failures(void **state)
{
    fx *x = *state;
    seed(x);
    /* prepare cannot write its record */
    eota_simflash_cut cut = {EOTA_SIMFLASH_CUT_BEFORE, x->sf.ops, 0, 0, 0, 0};
    eota_simflash_arm(&x->sf, &cut);
    assert_int_equal(begin(x, 700, 0), EOTA_EPREPARE);
    assert_string_equal(why(x), "boot state: cannot prepare the slot");
    assert_int_equal(eota_slotstore_boot_error(&x->s), EOTA_EIO);
    assert_string_equal(x->m.log, "");
    eota_simflash_power_on(&x->sf);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    /* install cannot write its record */
    assert_int_equal(begin(x, 700, 0), EOTA_OK);
    assert_int_equal(eota_slotstore_boot_error(&x->s), EOTA_OK); /* cleared */
    assert_int_equal(write_all(x, 700, 700), EOTA_OK);
    cut.at = x->sf.ops;
    eota_simflash_arm(&x->sf, &cut);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_ECOMMIT);
    assert_string_equal(why(x), "boot state: cannot install the image");
    assert_int_equal(eota_slotstore_boot_error(&x->s), EOTA_EIO);
    x->be.ops->abort(x->be.ctx);
    assert_string_equal(x->m.log, "O1 W F V D ");
    eota_simflash_power_on(&x->sf);
    assert_int_equal(eota_bootstate_open(&x->bs, &x->cfg), EOTA_OK);
    assert_int_equal(eota_bootstate_slot(&x->bs, 1, NULL), EOTA_SLOT_EMPTY);
}

static void test_finish_pending(void **state)
{
    fx *x = *state;
    x->m.again = 2;
    assert_int_equal(begin(x, 300, 0), EOTA_OK);
    assert_int_equal(write_all(x, 300, 300), EOTA_OK);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_AGAIN);
    assert_int_equal(eota_bootstate_slot(&x->bs, 0, NULL), EOTA_SLOT_EMPTY);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_AGAIN);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_OK);
    assert_string_equal(x->m.log, "O0 W F F F V ");
    assert_installed(x, 0, 300);
}

static void test_crc_hook_and_no_verify(void **state)
{
    fx *x = *state;
    x->m.has_verify = 0;
    store_init(x, 0, counting_crc32);
    x->m.max_take = 50;
    assert_int_equal(upload(x, 1234), EOTA_OK);
    assert_true(x->crc_calls >= 1234 / 50);
    assert_string_equal(x->m.log, "O0 W F ");
    assert_installed(x, 0, 1234);
}

static void test_init_checks(void **state)
{
    fx *x = *state;
    eota_slotstore_config c;
    eota_slot_medium_ops o = fake_ops;
    memset(&c, 0, sizeof c);
    c.medium.ops = &o;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_EINVAL); /* no boot state */
    c.bs = &x->bs;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_OK);
    o.discard = NULL;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_EINVAL);
    o = fake_ops;
    o.capacity = NULL;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_EINVAL);
    c.medium.ops = NULL;
    assert_int_equal(eota_slotstore_init(&x->s, &c), EOTA_EINVAL);
    assert_int_equal(eota_slotstore_init(NULL, &c), EOTA_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_install_with_partial_takes),
        T(test_prepare_before_the_first_write),
        T(test_too_big_before_any_write),
        T(test_gzip_agreed_checks_as_bytes_come),
        T(test_exact_size),
        T(test_bounded_size),
        T(test_unsupported_types),
        T(test_every_medium_failure_aborts_cleanly),
        T(test_boot_state_failures),
        T(test_finish_pending),
        T(test_crc_hook_and_no_verify),
        T(test_init_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
