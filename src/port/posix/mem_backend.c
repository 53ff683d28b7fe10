/*
 * mem_backend.c: a storage backend that receives into a caller buffer, with
 * failure injection and call counters for tests, the fuzzer and tools. Plain
 * portable C (no OS calls, no allocation) so that it also serves a
 * freestanding test build.
 *
 * Beyond eota/posix.h:
 * - end() also fails (ERROR_UPDATE_END) when fewer or more bytes were taken
 *   than begin announced, as a real flash backend (ESP32 Update.end) does;
 * - end_pending_rounds counts down as end() reports pending;
 * - a write past the capacity, or any call out of order (write or end
 *   without a successful begin), fails instead of touching memory, so an
 *   engine bug shows as an error code, not as corruption;
 * - abort() keeps len, so a test can see how far the upload got.
 */
#include "eota/posix.h"

#include <string.h>

#include "eota/protocol.h"

static uint8_t mem_begin(void *ctx, const eota_begin_info *info)
{
    eota_mem_backend *mb = ctx;

    mb->begin_calls++;
    mb->begun = 0;
    mb->len = 0;
    if (info == NULL)
        return EOTA_RESP_ERROR_UPDATE_PREPARE;
    mb->info = *info;
    if (mb->fail_begin != 0)
        return mb->fail_begin;
    if ((size_t)info->size > mb->capacity)
        return mb->too_big_code != 0 ? mb->too_big_code
                                     : (uint8_t)EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE;
    mb->begun = 1;
    return 0;
}

static uint8_t mem_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_mem_backend *mb = ctx;
    size_t n = len;

    mb->write_calls++;
    if (taken == NULL)
        return EOTA_RESP_ERROR_WRITING_FLASH;
    *taken = 0;
    if (!mb->begun || (data == NULL && len > 0))
        return EOTA_RESP_ERROR_WRITING_FLASH;
    if (mb->fail_write != 0) {
        if (mb->len >= mb->fail_write_after)
            return mb->fail_write;
        if (n > mb->fail_write_after - mb->len)
            n = mb->fail_write_after - mb->len;
    }
    if (mb->max_take != 0 && n > mb->max_take)
        n = mb->max_take;
    if (n > mb->capacity - mb->len)
        return EOTA_RESP_ERROR_WRITING_FLASH;
    if (n > 0)
        memcpy(mb->buf + mb->len, data, n);
    mb->len += n;
    *taken = n;
    return 0;
}

static uint8_t mem_end(void *ctx, int *pending)
{
    eota_mem_backend *mb = ctx;

    mb->end_calls++;
    if (pending != NULL)
        *pending = 0;
    if (!mb->begun)
        return EOTA_RESP_ERROR_UPDATE_END;
    if (mb->end_pending_rounds > 0 && pending != NULL) {
        mb->end_pending_rounds--;
        *pending = 1;
        return 0;
    }
    if (mb->fail_end != 0)
        return mb->fail_end;
    if (mb->len != (size_t)mb->info.size)
        return EOTA_RESP_ERROR_UPDATE_END;
    /* A failed end leaves begun set: the engine must still call abort. */
    mb->begun = 0;
    mb->committed++;
    mb->committed_len = mb->len;
    return 0;
}

static void mem_abort(void *ctx)
{
    eota_mem_backend *mb = ctx;

    mb->aborted++;
    mb->begun = 0;
}

static const eota_backend_ops mem_ops = {
    .begin = mem_begin,
    .write = mem_write,
    .end = mem_end,
    .abort = mem_abort,
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
