/*
 * test_mem_backend.c: the in-memory storage backend (a test double): commit
 * only at end, too big, partial takes and the injected failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/posix.h"
#include "eota/protocol.h"


static uint8_t do_begin(eota_backend *b, uint32_t size)
{
    eota_begin_info info = {size, EOTA_OTA_TYPE_APP, 0};
    return b->ops->begin(b->ctx, &info);
}

/* Write all of data, calling again for what the backend did not take;
 * returns the first non-zero code, 0 when all was taken. */
static uint8_t write_all(eota_backend *b, const uint8_t *data, size_t len, unsigned *calls)
{
    size_t off = 0;
    *calls = 0;
    while (off < len) {
        size_t taken = 999999;
        uint8_t rc = b->ops->write(b->ctx, data + off, len - off, &taken);
        (*calls)++;
        if (rc != 0)
            return rc;
        assert_true(taken <= len - off);
        off += taken;
        assert_true(*calls < 100000);
    }
    return 0;
}

static void test_mem_commit(void **state)
{
    uint8_t store[100];
    uint8_t img[100];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending = 7;

    (void)state;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.caps = EOTA_BACKEND_CAP_GZIP;
    b = eota_mem_backend_seam(&mb);
    assert_ptr_equal(b.ctx, &mb);
    assert_int_equal(b.caps, EOTA_BACKEND_CAP_GZIP);

    assert_int_equal(do_begin(&b, 100), 0);
    assert_int_equal(mb.begun, 1);
    assert_int_equal(mb.info.size, 100);
    assert_int_equal(write_all(&b, img, 60, &calls), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(write_all(&b, img + 60, 40, &calls), 0);
    assert_int_equal(mb.len, 100);
    assert_int_equal(mb.committed, 0); /* nothing counts before end */
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 100);
    assert_int_equal(mb.begun, 0);
    assert_memory_equal(store, img, 100);
    assert_int_equal(mb.begin_calls, 1);
    assert_int_equal(mb.write_calls, 2);
    assert_int_equal(mb.end_calls, 1);
    assert_int_equal(mb.aborted, 0);

    /* a second upload that is aborted leaves the first commit alone */
    assert_int_equal(do_begin(&b, 10), 0);
    assert_int_equal(mb.len, 0);
    assert_int_equal(write_all(&b, img, 5, &calls), 0);
    b.ops->abort(b.ctx);
    assert_int_equal(mb.aborted, 1);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 100);
    /* after abort, write and end fail: the upload is gone */
    {
        size_t taken = 5;
        assert_int_equal(b.ops->write(b.ctx, img, 1, &taken), EOTA_RESP_ERROR_WRITING_FLASH);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 1);
}

static void test_mem_too_big(void **state)
{
    uint8_t store[16];
    eota_mem_backend mb;
    eota_backend b;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 17), EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(do_begin(&b, 16), 0); /* exactly full fits */
    b.ops->abort(b.ctx);

    mb.too_big_code = EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE;
    assert_int_equal(do_begin(&b, 0xFFFFFFFFu), EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.begin_calls, 3);
}

static void test_mem_fail_begin(void **state)
{
    uint8_t store[16];
    eota_mem_backend mb;
    eota_backend b;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_begin = EOTA_RESP_ERROR_NO_UPDATE_PARTITION;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 4), EOTA_RESP_ERROR_NO_UPDATE_PARTITION);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.begin_calls, 1);
    mb.fail_begin = 0;
    assert_int_equal(do_begin(&b, 4), 0);
    assert_int_equal(mb.begun, 1);
}

static void test_mem_max_take(void **state)
{
    uint8_t store[64], img[50];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    memset(img, 0xA5, sizeof img);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.max_take = 7;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 50), 0);
    {
        size_t taken = 0;
        assert_int_equal(b.ops->write(b.ctx, img, 50, &taken), 0);
        assert_int_equal(taken, 7);
        assert_int_equal(b.ops->write(b.ctx, img, 3, &taken), 0);
        assert_int_equal(taken, 3);
        assert_int_equal(b.ops->write(b.ctx, img, 0, &taken), 0);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(write_all(&b, img + 10, 40, &calls), 0);
    assert_int_equal(calls, 6); /* ceil(40 / 7) */
    assert_int_equal(mb.len, 50);
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(mb.committed, 1);
    assert_memory_equal(store, img, 50);
}

static void test_mem_fail_write_after(void **state)
{
    uint8_t store[64], img[64];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    memset(img, 1, sizeof img);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_write = EOTA_RESP_ERROR_WRITING_FLASH;
    mb.fail_write_after = 20;
    mb.max_take = 8;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 64), 0);
    /* 8 + 8 + 4 taken, then the failure */
    assert_int_equal(write_all(&b, img, 64, &calls), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_equal(mb.len, 20);
    assert_int_equal(calls, 4);
    /* it keeps failing, and end does not commit the partial image */
    {
        size_t taken = 1;
        assert_int_equal(b.ops->write(b.ctx, img, 1, &taken), EOTA_RESP_ERROR_WRITING_FLASH);
        assert_int_equal(taken, 0);
    }
    b.ops->abort(b.ctx);
    assert_int_equal(mb.committed, 0);
    assert_int_equal(mb.aborted, 1);

    /* fail at once: fail_write_after 0 */
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_write = 0x90;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 4), 0);
    assert_int_equal(write_all(&b, img, 4, &calls), 0x90);
    assert_int_equal(mb.len, 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 0);
}

static void test_mem_fail_end(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending = 5;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_end = EOTA_RESP_ERROR_SIGNATURE_INVALID;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 8), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"12345678", 8, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_SIGNATURE_INVALID);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 0);
    assert_int_equal(mb.committed_len, 0);
    assert_int_equal(mb.begun, 1); /* the engine still owes an abort */
    b.ops->abort(b.ctx);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.aborted, 1);
}

static void test_mem_end_short_image(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 8), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"1234", 4, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 0);
    /* and never past the capacity */
    assert_int_equal(write_all(&b, (const uint8_t *)"1234", 4, &calls), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"9", 1, &calls), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_equal(mb.len, 8);
}

static void test_mem_end_pending(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.end_pending_rounds = 3;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 2), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"ab", 2, &calls), 0);
    for (int i = 0; i < 3; i++) {
        pending = 0;
        assert_int_equal(b.ops->end(b.ctx, &pending), 0);
        assert_int_equal(pending, 1);
        assert_int_equal(mb.committed, 0);
    }
    pending = 1;
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 2);
    assert_int_equal(mb.end_calls, 4);

    /* pending, then the injected failure */
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.end_pending_rounds = 1;
    mb.fail_end = EOTA_RESP_ERROR_UPDATE_END;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 1), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"z", 1, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 0);
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
