/*
 * test_gzip_layer.c: gzip inflation as a layer (src/port/posix/gzip_layer.c)
 * over the in-memory backend: raw images pass through untouched (gzip not
 * agreed, or no 1F 8B), gzip ones arrive inflated whatever the pieces the
 * caller gives and the inner backend takes; a corrupt stream, bytes after
 * its end and a stream cut short fail with their status and detail; the
 * inner backend's failures and pace come through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "eota/gzip_layer.h"
#include "eota/protocol.h"
#include "mem_backend.h"

#define IMG 200000u

typedef struct fx {
    uint8_t img[IMG];        /* the image, compressible */
    uint8_t gz[IMG + 1024];  /* its gzip form */
    size_t gz_len;
    uint8_t got[IMG + 64];   /* what the inner backend received */
    eota_mem_backend mb;
    eota_gzip_layer g;
    eota_backend be;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    uint32_t s = 1;
    for (size_t i = 0; i < IMG; i++) {
        s = s * 1103515245u + 12345u;
        x->img[i] = (uint8_t)((s >> 16) % 16u + 'a'); /* 4 bits of entropy */
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    zs.next_in = x->img;
    zs.avail_in = IMG;
    zs.next_out = x->gz;
    zs.avail_out = sizeof x->gz;
    int r = deflate(&zs, Z_FINISH);
    x->gz_len = sizeof x->gz - zs.avail_out;
    deflateEnd(&zs);
    if (r != Z_STREAM_END)
        return -1;
    eota_mem_backend_init(&x->mb, x->got, sizeof x->got);
    eota_gzip_layer_init(&x->g, eota_mem_backend_seam(&x->mb));
    x->be = eota_gzip_layer_seam(&x->g);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    x->be.ops->abort(x->be.ctx); /* frees zlib's state, if any */
    free(x);
    return 0;
}

/* Feed n bytes in pieces of 1, 2, 3 ... 1000 bytes; a call that takes
 * nothing is retried (the test's inner backend never stays busy). */
static int feed(fx *x, const uint8_t *p, size_t n)
{
    size_t off = 0, piece = 1;
    int idle = 0;
    while (off < n) {
        size_t k = n - off < piece ? n - off : piece, t = 0;
        int st = x->be.ops->write(x->be.ctx, p + off, k, &t);
        if (st != EOTA_OK)
            return st;
        assert_true(t <= k);
        idle = t ? 0 : idle + 1;
        assert_true(idle < 1000);
        off += t;
        piece = piece % 1000 + 1;
    }
    return EOTA_OK;
}

static int begin(fx *x, uint32_t size, uint8_t agreed)
{
    eota_begin_info bi = {size, EOTA_OTA_TYPE_APP, agreed};
    return x->be.ops->begin(x->be.ctx, &bi);
}

static int end(fx *x)
{
    int st;
    while ((st = x->be.ops->end(x->be.ctx)) == EOTA_AGAIN)
        ;
    return st;
}

static const char *why(fx *x)
{
    eota_backend_detail d = {NULL, 0};
    x->be.ops->detail(x->be.ctx, &d);
    return d.why ? d.why : "";
}

static void test_caps_and_begin_info(void **state)
{
    fx *x = *state;
    assert_int_equal(x->be.caps, EOTA_BACKEND_CAP_GZIP);
    x->mb.caps = EOTA_BACKEND_CAP_PARTITION_TABLE;
    eota_gzip_layer_init(&x->g, eota_mem_backend_seam(&x->mb));
    x->be = eota_gzip_layer_seam(&x->g);
    assert_int_equal(x->be.caps, EOTA_BACKEND_CAP_PARTITION_TABLE | EOTA_BACKEND_CAP_GZIP);
    assert_int_equal(begin(x, 1234, 1), EOTA_OK);
    assert_int_equal(x->mb.info.size, 1234);
    assert_int_equal(x->mb.info.gzip_agreed, 1);
}

static void test_gzip_inflated(void **state)
{
    fx *x = *state;
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(feed(x, x->gz, x->gz_len), EOTA_OK);
    assert_int_equal(end(x), EOTA_OK);
    assert_int_equal(x->mb.committed, 1);
    assert_int_equal(x->mb.committed_len, IMG);
    assert_memory_equal(x->got, x->img, IMG);
}

/* An inner backend that is busy every other call (takes nothing), over
 * the in-memory one. */
typedef struct stingy {
    eota_backend inner;
    unsigned calls;
} stingy;

static int stingy_begin(void *ctx, const eota_begin_info *info)
{
    stingy *s = ctx;
    return s->inner.ops->begin(s->inner.ctx, info);
}

static int stingy_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    stingy *s = ctx;
    *taken = 0;
    return s->calls++ % 2 ? EOTA_OK : s->inner.ops->write(s->inner.ctx, data, len, taken);
}

static int stingy_end(void *ctx)
{
    stingy *s = ctx;
    return s->inner.ops->end(s->inner.ctx);
}

static void stingy_abort(void *ctx)
{
    stingy *s = ctx;
    s->inner.ops->abort(s->inner.ctx);
}

static const eota_backend_ops stingy_ops = {stingy_begin, stingy_write, stingy_end, stingy_abort, NULL};

static void test_gzip_inner_takes_little(void **state)
{
    fx *x = *state;
    stingy sg = {eota_mem_backend_seam(&x->mb), 0};
    eota_backend inner = {&stingy_ops, &sg, 0};
    eota_gzip_layer_init(&x->g, inner);
    x->be = eota_gzip_layer_seam(&x->g);
    x->mb.max_take = 777;     /* the inner backend's pace */
    x->mb.end_pending_rounds = 3;
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    size_t t = 0;
    /* one big write: the layer stops taking input while output waits */
    assert_int_equal(x->be.ops->write(x->be.ctx, x->gz, x->gz_len, &t), EOTA_OK);
    assert_true(t < x->gz_len);
    assert_int_equal(feed(x, x->gz + t, x->gz_len - t), EOTA_OK);
    assert_int_equal(end(x), EOTA_OK);
    assert_int_equal(x->mb.committed_len, IMG);
    assert_memory_equal(x->got, x->img, IMG);
    assert_true(sg.calls > IMG / 777);
    eota_gzip_layer_init(&x->g, eota_mem_backend_seam(&x->mb)); /* sg goes out of scope */
    x->be = eota_gzip_layer_seam(&x->g);
}

static void test_raw_passthrough(void **state)
{
    fx *x = *state;
    /* gzip agreed, but the image is raw */
    assert_int_equal(begin(x, 5000, 1), EOTA_OK);
    assert_int_equal(feed(x, x->img, 5000), EOTA_OK);
    assert_int_equal(end(x), EOTA_OK);
    assert_memory_equal(x->got, x->img, 5000);
    /* gzip not agreed: even a gzip stream is an image like any other */
    x->mb.max_take = 100;
    assert_int_equal(begin(x, (uint32_t)x->gz_len, 0), EOTA_OK);
    assert_int_equal(feed(x, x->gz, x->gz_len), EOTA_OK);
    assert_int_equal(end(x), EOTA_OK);
    assert_int_equal(x->mb.committed_len, x->gz_len);
    assert_memory_equal(x->got, x->gz, x->gz_len);
}

static void test_one_byte_images(void **state)
{
    fx *x = *state;
    static const uint8_t one[1] = {0x1f};
    size_t t = 0;
    assert_int_equal(begin(x, 1, 1), EOTA_OK);
    assert_int_equal(x->be.ops->write(x->be.ctx, one, 1, &t), EOTA_OK);
    assert_int_equal(t, 1);
    assert_int_equal(x->mb.len, 0); /* held while deciding */
    assert_int_equal(end(x), EOTA_OK);
    assert_int_equal(x->mb.committed_len, 1);
    assert_int_equal(x->got[0], 0x1f);
    assert_int_equal(begin(x, 0, 1), EOTA_OK); /* nothing at all */
    assert_int_equal(end(x), EOTA_OK);
    assert_int_equal(x->mb.committed_len, 0);
}

static void test_corrupt(void **state)
{
    fx *x = *state;
    uint8_t *bad = malloc(x->gz_len);
    assert_non_null(bad);
    memcpy(bad, x->gz, x->gz_len);
    memset(bad + 10, 0xff, 64); /* the deflate data right after the header */
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(feed(x, bad, x->gz_len), EOTA_EFORMAT);
    assert_string_equal(why(x), "the gzip image is corrupt");
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->mb.aborted, 1);
    assert_int_equal(x->mb.committed, 0);
    free(bad);
}

static void test_trailing_data(void **state)
{
    fx *x = *state;
    uint8_t *more = malloc(x->gz_len + 3);
    assert_non_null(more);
    memcpy(more, x->gz, x->gz_len);
    memcpy(more + x->gz_len, "abc", 3);
    /* in the same write as the end of the stream */
    size_t t;
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(x->be.ops->write(x->be.ctx, more, x->gz_len + 3, &t), EOTA_EFORMAT);
    assert_string_equal(why(x), "data after the end of the gzip stream");
    x->be.ops->abort(x->be.ctx);
    /* in a later write */
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_string_equal(why(x), "");
    assert_int_equal(feed(x, x->gz, x->gz_len), EOTA_OK);
    assert_int_equal(x->be.ops->write(x->be.ctx, more + x->gz_len, 3, &t), EOTA_EFORMAT);
    assert_int_equal(t, 0);
    x->be.ops->abort(x->be.ctx);
    assert_int_equal(x->mb.committed, 0);
    free(more);
}

static void test_truncated(void **state)
{
    fx *x = *state;
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(feed(x, x->gz, x->gz_len / 2), EOTA_OK);
    assert_int_equal(end(x), EOTA_EVERIFY);
    assert_string_equal(why(x), "the gzip image is truncated");
    assert_int_equal(x->mb.end_calls, 0); /* the inner backend never commits */
    x->be.ops->abort(x->be.ctx);
    /* the layer is ready for the next upload */
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(feed(x, x->gz, x->gz_len), EOTA_OK);
    assert_int_equal(end(x), EOTA_OK);
    assert_memory_equal(x->got, x->img, IMG);
}

static void test_inner_failures_come_through(void **state)
{
    fx *x = *state;
    x->mb.fail_write = EOTA_ETOOBIG;
    x->mb.fail_write_after = 1000;
    x->mb.fail_code = 0x42;
    assert_int_equal(begin(x, IMG, 1), EOTA_OK);
    assert_int_equal(feed(x, x->gz, x->gz_len), EOTA_ETOOBIG);
    eota_backend_detail d = {NULL, 0};
    x->be.ops->detail(x->be.ctx, &d);
    assert_string_equal(d.why, "injected failure");
    assert_int_equal(d.code, 0x42);
    x->be.ops->abort(x->be.ctx);
    x->mb.fail_write = EOTA_OK;
    x->mb.fail_begin = EOTA_EPREPARE;
    assert_int_equal(begin(x, IMG, 1), EOTA_EPREPARE);
    size_t t;
    assert_int_equal(x->be.ops->write(x->be.ctx, x->gz, 10, &t), EOTA_EINVAL);
    assert_int_equal(x->be.ops->end(x->be.ctx), EOTA_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_caps_and_begin_info),
        T(test_gzip_inflated),
        T(test_gzip_inner_takes_little),
        T(test_raw_passthrough),
        T(test_one_byte_images),
        T(test_corrupt),
        T(test_trailing_data),
        T(test_truncated),
        T(test_inner_failures_come_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
