/*
 * flash_backend.c: the OTA engine's storage backend over a NOR flash slot
 * and the boot state (eota/flash_backend.h).
 */
#include "eota/flash_backend.h"

#include <string.h>

#include "eota/crc32.h"
#include "eota/protocol.h"

static const eota_flash *flash_of(const eota_flash_backend *fb) { return &fb->bs->cfg.flash; }

static int failed(eota_flash_backend *fb, int st)
{
    fb->flash_status = st;
    return st;
}

/* Program n bytes (a multiple of the alignment) at the write position,
 * erasing each sector just before its first program, one sector at most
 * per program call. */
static int program_bytes(eota_flash_backend *fb, const uint8_t *p, uint32_t n)
{
    const eota_flash *f = flash_of(fb);
    while (n > 0) {
        uint32_t addr = fb->base + fb->programmed, start, ssize;
        int st = f->ops->sector(f->ctx, addr, &start, &ssize);
        if (st != EOTA_OK)
            return failed(fb, st);
        if (addr >= fb->base + fb->erased_to) {
            st = f->ops->erase(f->ctx, start);
            if (st != EOTA_OK)
                return failed(fb, st);
            fb->erased_to = start + ssize - fb->base;
        }
        uint32_t room = start + ssize - addr;
        uint32_t k = n < room ? n : room;
        st = f->ops->program(f->ctx, addr, p, k);
        if (st != EOTA_OK)
            return failed(fb, st);
        fb->programmed += k;
        p += k;
        n -= k;
    }
    return EOTA_OK;
}

static int fb_begin(void *ctx, const eota_begin_info *info)
{
    eota_flash_backend *fb = ctx;
    fb->begun = 0;
    fb->slot = -1;
    if (!info)
        return EOTA_EINVAL;
    if (info->ota_type != EOTA_OTA_TYPE_APP)
        return EOTA_EUNSUPPORTED;
    int slot = eota_bootstate_target(fb->bs);
    const eota_flash_region *r = &fb->bs->cfg.slot[slot];
    if (r->size == 0)
        return EOTA_ENOSLOT;
    if (info->size == 0 || info->size > r->size)
        return EOTA_ETOOBIG;
    int st = eota_bootstate_prepare(fb->bs, slot);
    if (st != EOTA_OK) {
        failed(fb, st);
        return EOTA_EPREPARE;
    }
    fb->slot = slot;
    fb->base = r->addr;
    fb->capacity = r->size;
    fb->size = info->size;
    fb->taken = fb->programmed = fb->erased_to = 0;
    fb->stage_len = 0;
    fb->crc = 0;
    fb->flash_status = EOTA_OK;
    fb->begun = 1;
    return EOTA_OK;
}

static int fb_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_flash_backend *fb = ctx;
    if (!taken)
        return EOTA_EINVAL;
    *taken = 0;
    if (!fb->begun || (!data && len) || len > (size_t)(fb->size - fb->taken))
        return EOTA_EINVAL;
    size_t done = 0;
    while (done < len) {
        size_t n = fb->stage_size - fb->stage_len;
        if (n > len - done)
            n = len - done;
        memcpy(fb->stage + fb->stage_len, data + done, n);
        fb->stage_len += n;
        done += n;
        if (fb->stage_len == fb->stage_size) {
            if (program_bytes(fb, fb->stage, (uint32_t)fb->stage_size) != EOTA_OK)
                return EOTA_EWRITE;
            fb->stage_len = 0;
        }
    }
    fb->crc = eota_crc32(fb->crc, data, len);
    fb->taken += (uint32_t)len;
    *taken = len;
    return EOTA_OK;
}

static int fb_end(void *ctx)
{
    eota_flash_backend *fb = ctx;
    const eota_flash *f = flash_of(fb);
    if (!fb->begun || fb->taken != fb->size)
        return EOTA_EINVAL;
    if (fb->stage_len) {
        uint32_t a = fb->bs->fi.write_align;
        size_t padded = (fb->stage_len + a - 1) / a * a;
        memset(fb->stage + fb->stage_len, fb->bs->fi.erased, padded - fb->stage_len);
        if (program_bytes(fb, fb->stage, (uint32_t)padded) != EOTA_OK)
            return EOTA_EWRITE;
        fb->stage_len = 0;
    }
    uint32_t crc;
    int st = eota_flash_crc32(f, fb->base, fb->size, &crc);
    if (st != EOTA_OK) {
        failed(fb, st);
        return EOTA_EVERIFY; /* the slot could not be read back */
    }
    if (crc != fb->crc) {
        failed(fb, EOTA_EIO);
        return EOTA_EWRITE; /* what was read back is not what was written */
    }
    st = eota_bootstate_install(fb->bs, fb->slot, fb->size, crc);
    if (st != EOTA_OK) {
        failed(fb, st);
        return EOTA_ECOMMIT;
    }
    fb->begun = 0;
    fb->installs++;
    return EOTA_OK;
}

static void fb_abort(void *ctx)
{
    eota_flash_backend *fb = ctx;
    fb->begun = 0;
    fb->stage_len = 0;
}

static const eota_backend_ops flash_backend_ops = {
    .begin = fb_begin,
    .write = fb_write,
    .end = fb_end,
    .abort = fb_abort,
};

int eota_flash_backend_init(eota_flash_backend *fb, eota_bootstate *bs, uint8_t *stage, size_t stage_size)
{
    if (!fb || !bs || !stage)
        return EOTA_EINVAL;
    memset(fb, 0, sizeof *fb);
    fb->slot = -1;
    uint32_t a = bs->fi.write_align;
    if (a == 0 || stage_size == 0 || stage_size % a != 0 || stage_size > 0x7FFFFFFFu)
        return EOTA_EINVAL;
    if (bs->cfg.slot[0].size == 0 || bs->cfg.slot[1].size == 0)
        return EOTA_EINVAL;
    fb->bs = bs;
    fb->stage = stage;
    fb->stage_size = stage_size;
    return EOTA_OK;
}

eota_backend eota_flash_backend_seam(eota_flash_backend *fb)
{
    eota_backend b = {&flash_backend_ops, fb, 0};
    return b;
}
