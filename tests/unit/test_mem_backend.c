/*
 * test_mem_backend.c: the in-memory test backend (tests/support/mem_backend.c)
 * that the engine tests, the fuzzer and the example stand on: commits only
 * at end, partial takes, its injected statuses and their detail, end pending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eota/protocol.h"
#include "mem_backend.h"

static int do_begin(eota_backend *b, uint32_t size)
{
    eota_begin_info info = {size, EOTA_OTA_TYPE_APP, 0};
    return b->ops->begin(b->ctx, &info);
}

/* Write all of data, calling again for what the backend did not take;
 * returns the first failure, EOTA_OK when all was taken. */
static int write_all(eota_backend *b, const uint8_t *data, size_t len, unsigned *calls)
{
    size_t off = 0;
    *calls = 0;
    while (off < len) {
        size_t taken = 999999;
        int rc = b->ops->write(b->ctx, data + off, len - off, &taken);
        (*calls)++;
        if (rc != EOTA_OK)
            return rc;
        assert_true(taken <= len - off);
        off += taken;
        assert_true(*calls < 100000);
    }
    return 0;
}

/* A backend over a 100-byte store, its seam, and a call counter. */
typedef struct mfx {
    uint8_t store[100];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
} mfx;

static void mfx_init(mfx *f, size_t capacity)
{
    eota_mem_backend_init(&f->mb, f->store, capacity);
    f->b = eota_mem_backend_seam(&f->mb);
}

static void test_mem_commit(void **state)
{
    uint8_t img[100];
    mfx f;

    (void)state;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    mfx_init(&f, 100);
    f.mb.caps = EOTA_BACKEND_CAP_GZIP;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_ptr_equal(f.b.ctx, &f.mb);
    assert_int_equal(f.b.caps, EOTA_BACKEND_CAP_GZIP);

    assert_int_equal(do_begin(&f.b, 100), 0);
    assert_int_equal(f.mb.begun, 1);
    assert_int_equal(f.mb.info.size, 100);
    assert_int_equal(write_all(&f.b, img, 60, &f.calls), 0);
    assert_int_equal(f.calls, 1);
    assert_int_equal(write_all(&f.b, img + 60, 40, &f.calls), 0);
    assert_int_equal(f.mb.len, 100);
    assert_int_equal(f.mb.committed, 0); /* nothing counts before end */
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_OK);
    assert_int_equal(f.mb.committed, 1);
    assert_int_equal(f.mb.committed_len, 100);
    assert_int_equal(f.mb.begun, 0);
    assert_memory_equal(f.store, img, 100);
    assert_int_equal(f.mb.begin_calls, 1);
    assert_int_equal(f.mb.write_calls, 2);
    assert_int_equal(f.mb.end_calls, 1);
    assert_int_equal(f.mb.aborted, 0);

    /* a second upload that is aborted leaves the first commit alone */
    assert_int_equal(do_begin(&f.b, 10), 0);
    assert_int_equal(f.mb.len, 0);
    assert_int_equal(write_all(&f.b, img, 5, &f.calls), 0);
    f.b.ops->abort(f.b.ctx);
    assert_int_equal(f.mb.aborted, 1);
    assert_int_equal(f.mb.begun, 0);
    assert_int_equal(f.mb.committed, 1);
    assert_int_equal(f.mb.committed_len, 100);
    /* after abort, write and end fail: the upload is gone */
    {
        size_t taken = 5;
        assert_int_equal(f.b.ops->write(f.b.ctx, img, 1, &taken), EOTA_EINVAL);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_EINVAL);
    assert_int_equal(f.mb.committed, 1);
}

static void test_mem_too_big(void **state)
{
    mfx f;

    (void)state;
    mfx_init(&f, 16);
    assert_int_equal(do_begin(&f.b, 17), EOTA_ETOOBIG);
    assert_int_equal(f.mb.begun, 0);
    assert_int_equal(do_begin(&f.b, 16), EOTA_OK); /* exactly full fits */
    f.b.ops->abort(f.b.ctx);

    assert_int_equal(do_begin(&f.b, 0xFFFFFFFFu), EOTA_ETOOBIG);
    assert_int_equal(f.mb.begun, 0);
    assert_int_equal(f.mb.begin_calls, 3);
    /* the detail names it, and leaves the wire code to the engine */
    eota_backend_detail d = {NULL, 0xAA};
    f.b.ops->detail(f.b.ctx, &d);
    assert_non_null(d.why);
    assert_int_equal(d.code, 0);
}

static void test_mem_fail_begin(void **state)
{
    mfx f;

    (void)state;
    mfx_init(&f, 16);
    f.mb.fail_begin = EOTA_ENOSLOT;
    f.mb.fail_code = EOTA_RESP_ERROR_INVALID_BOOTSTRAPPING;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 4), EOTA_ENOSLOT);
    assert_int_equal(f.mb.begun, 0);
    assert_int_equal(f.mb.begin_calls, 1);
    /* an injected failure carries the chip's byte as its detail */
    eota_backend_detail d = {NULL, 0};
    f.b.ops->detail(f.b.ctx, &d);
    assert_int_equal(d.code, EOTA_RESP_ERROR_INVALID_BOOTSTRAPPING);
    f.mb.fail_begin = EOTA_OK;
    assert_int_equal(do_begin(&f.b, 4), EOTA_OK);
    assert_int_equal(f.mb.begun, 1);
    f.b.ops->detail(f.b.ctx, &d); /* a new begin forgets the old failure */
    assert_null(d.why);
    assert_int_equal(d.code, 0);
}

static void test_mem_max_take(void **state)
{
    uint8_t img[50];
    mfx f;

    (void)state;
    memset(img, 0xA5, sizeof img);
    mfx_init(&f, 64);
    f.mb.max_take = 7;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 50), 0);
    {
        size_t taken = 0;
        assert_int_equal(f.b.ops->write(f.b.ctx, img, 50, &taken), 0);
        assert_int_equal(taken, 7);
        assert_int_equal(f.b.ops->write(f.b.ctx, img, 3, &taken), 0);
        assert_int_equal(taken, 3);
        assert_int_equal(f.b.ops->write(f.b.ctx, img, 0, &taken), 0);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(write_all(&f.b, img + 10, 40, &f.calls), 0);
    assert_int_equal(f.calls, 6); /* ceil(40 / 7) */
    assert_int_equal(f.mb.len, 50);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_OK);
    assert_int_equal(f.mb.committed, 1);
    assert_memory_equal(f.store, img, 50);
}

static void test_mem_fail_write_after(void **state)
{
    uint8_t img[64];
    mfx f;

    (void)state;
    memset(img, 1, sizeof img);
    mfx_init(&f, 64);
    f.mb.fail_write = EOTA_EWRITE;
    f.mb.fail_write_after = 20;
    f.mb.max_take = 8;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 64), 0);
    /* 8 + 8 + 4 taken, then the failure */
    assert_int_equal(write_all(&f.b, img, 64, &f.calls), EOTA_EWRITE);
    assert_int_equal(f.mb.len, 20);
    assert_int_equal(f.calls, 4);
    /* it keeps failing, and end does not commit the partial image */
    {
        size_t taken = 1;
        assert_int_equal(f.b.ops->write(f.b.ctx, img, 1, &taken), EOTA_EWRITE);
        assert_int_equal(taken, 0);
    }
    f.b.ops->abort(f.b.ctx);
    assert_int_equal(f.mb.committed, 0);
    assert_int_equal(f.mb.aborted, 1);

    /* fail at once: fail_write_after 0 */
    mfx_init(&f, 64);
    f.mb.fail_write = EOTA_EIO;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 4), EOTA_OK);
    assert_int_equal(write_all(&f.b, img, 4, &f.calls), EOTA_EIO);
    assert_int_equal(f.mb.len, 0);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_EVERIFY);
    assert_int_equal(f.mb.committed, 0);
}

static void test_mem_fail_end(void **state)
{
    mfx f;

    (void)state;
    mfx_init(&f, 8);
    f.mb.fail_end = EOTA_EVERIFY;
    f.mb.fail_code = EOTA_RESP_ERROR_SIGNATURE_INVALID;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 8), 0);
    assert_int_equal(write_all(&f.b, (const uint8_t *)"12345678", 8, &f.calls), 0);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_EVERIFY);
    assert_int_equal(f.mb.committed, 0);
    assert_int_equal(f.mb.committed_len, 0);
    assert_int_equal(f.mb.begun, 1); /* the engine still owes an abort */
    f.b.ops->abort(f.b.ctx);
    assert_int_equal(f.mb.begun, 0);
    assert_int_equal(f.mb.aborted, 1);
}

static void test_mem_end_short_image(void **state)
{
    mfx f;

    (void)state;
    mfx_init(&f, 8);
    assert_int_equal(do_begin(&f.b, 8), 0);
    assert_int_equal(write_all(&f.b, (const uint8_t *)"1234", 4, &f.calls), 0);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_EVERIFY);
    assert_int_equal(f.mb.committed, 0);
    /* and never past the capacity */
    assert_int_equal(write_all(&f.b, (const uint8_t *)"1234", 4, &f.calls), 0);
    assert_int_equal(write_all(&f.b, (const uint8_t *)"9", 1, &f.calls), EOTA_EINVAL);
    assert_int_equal(f.mb.len, 8);
}

static void test_mem_end_pending(void **state)
{
    mfx f;

    (void)state;
    mfx_init(&f, 8);
    f.mb.end_pending_rounds = 3;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 2), 0);
    assert_int_equal(write_all(&f.b, (const uint8_t *)"ab", 2, &f.calls), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_AGAIN);
        assert_int_equal(f.mb.committed, 0);
    }
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_OK);
    assert_int_equal(f.mb.committed, 1);
    assert_int_equal(f.mb.committed_len, 2);
    assert_int_equal(f.mb.end_calls, 4);

    /* pending, then the injected failure */
    mfx_init(&f, 8);
    f.mb.end_pending_rounds = 1;
    f.mb.fail_end = EOTA_ECOMMIT;
    f.b = eota_mem_backend_seam(&f.mb);
    assert_int_equal(do_begin(&f.b, 1), EOTA_OK);
    assert_int_equal(write_all(&f.b, (const uint8_t *)"z", 1, &f.calls), EOTA_OK);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_AGAIN);
    assert_int_equal(f.b.ops->end(f.b.ctx), EOTA_ECOMMIT);
    assert_int_equal(f.mb.committed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_commit),
        cmocka_unit_test(test_mem_too_big),
        cmocka_unit_test(test_mem_fail_begin),
        cmocka_unit_test(test_mem_max_take),
        cmocka_unit_test(test_mem_fail_write_after),
        cmocka_unit_test(test_mem_fail_end),
        cmocka_unit_test(test_mem_end_short_image),
        cmocka_unit_test(test_mem_end_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
