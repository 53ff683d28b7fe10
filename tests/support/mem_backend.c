/*
 * mem_backend.c: a storage backend that receives into a caller buffer, with
 * failure injection and call counters for tests, the fuzzer and tools (see
 * mem_backend.h). Plain portable C (no OS calls, no allocation) so that it
 * also serves a freestanding test build.
 *
 * Beyond the seam's contract:
 * - end() also fails (EOTA_EVERIFY) when fewer or more bytes were taken
 *   than begin announced, as a real flash backend (ESP32 Update.end) does;
 * - end_pending_rounds counts down as end() reports pending;
 * - a write past the capacity, or any call out of order (write or end
 *   without a successful begin), fails (EOTA_EINVAL) instead of touching
 *   memory, so an engine bug shows as an error code, not as corruption;
 * - abort() keeps len, so a test can see how far the upload got.
 */
#include "mem_backend.h"

#include <string.h>

/* A failure: the status, with the detail the engine will ask for. */
static int failed(eota_mem_backend *mb, int status, const char *why, uint8_t code)
{
    mb->last.why = why;
    mb->last.code = code;
    return status;
}

static int injected(eota_mem_backend *mb, int status)
{
    return failed(mb, status, "injected failure", mb->fail_code);
}

static int mem_begin(void *ctx, const eota_begin_info *info)
{
    eota_mem_backend *mb = ctx;

    mb->begin_calls++;
    mb->begun = 0;
    mb->len = 0;
    mb->last.why = NULL;
    mb->last.code = 0;
    if (info == NULL)
        return failed(mb, EOTA_EINVAL, "no begin info", 0);
    mb->info = *info;
    if (mb->fail_begin != EOTA_OK)
        return injected(mb, mb->fail_begin);
    if ((size_t)info->size > mb->capacity)
        return failed(mb, EOTA_ETOOBIG, "image larger than the buffer", 0);
    mb->begun = 1;
    return EOTA_OK;
}

static int mem_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_mem_backend *mb = ctx;
    size_t n = len;

    mb->write_calls++;
    if (taken == NULL)
        return failed(mb, EOTA_EINVAL, "no taken pointer", 0);
    *taken = 0;
    if (!mb->begun || (data == NULL && len > 0))
        return failed(mb, EOTA_EINVAL, "write without begin", 0);
    if (mb->fail_write != EOTA_OK) {
        if (mb->len >= mb->fail_write_after)
            return injected(mb, mb->fail_write);
        if (n > mb->fail_write_after - mb->len)
            n = mb->fail_write_after - mb->len;
    }
    if (mb->max_take != 0 && n > mb->max_take)
        n = mb->max_take;
    if (n > mb->capacity - mb->len)
        return failed(mb, EOTA_EINVAL, "write past the buffer", 0);
    if (n > 0)
        memcpy(mb->buf + mb->len, data, n);
    mb->len += n;
    *taken = n;
    return EOTA_OK;
}

static int mem_end(void *ctx)
{
    eota_mem_backend *mb = ctx;

    mb->end_calls++;
    if (!mb->begun)
        return failed(mb, EOTA_EINVAL, "end without begin", 0);
    if (mb->end_pending_rounds > 0) {
        mb->end_pending_rounds--;
        return EOTA_AGAIN;
    }
    if (mb->fail_end != EOTA_OK)
        return injected(mb, mb->fail_end);
    if (mb->len != (size_t)mb->info.size)
        return failed(mb, EOTA_EVERIFY, "the image has not the announced size", 0);
    /* A failed end leaves begun set: the engine must still call abort. */
    mb->begun = 0;
    mb->committed++;
    mb->committed_len = mb->len;
    return EOTA_OK;
}

static void mem_abort(void *ctx)
{
    eota_mem_backend *mb = ctx;

    mb->aborted++;
    mb->begun = 0;
}

static void mem_detail(void *ctx, eota_backend_detail *out)
{
    eota_mem_backend *mb = ctx;

    *out = mb->last;
}

static const eota_backend_ops mem_ops = {
    .begin = mem_begin,
    .write = mem_write,
    .end = mem_end,
    .abort = mem_abort,
    .detail = mem_detail,
};

void eota_mem_backend_init(eota_mem_backend *mb, uint8_t *buf, size_t capacity)
{
    memset(mb, 0, sizeof *mb);
    mb->buf = buf;
    mb->capacity = buf != NULL ? capacity : 0;
}

eota_backend eota_mem_backend_seam(eota_mem_backend *mb)
{
    eota_backend b = {&mem_ops, mb, mb->caps};
    return b;
}
