/*
 * flash_backend.c: the NOR flash medium of the slot store, and the slot
 * store over it in one call (eota/flash_backend.h).
 */
#include "eota/flash_backend.h"

#include <string.h>

static int failed(eota_flash_medium *m, int st)
{
    m->flash_status = st;
    return st;
}

/* Program n bytes (a multiple of the alignment) at the write position,
 * erasing each sector just before its first program, one sector at most
 * per program call. */
static int program_bytes(eota_flash_medium *m, const uint8_t *p, uint32_t n)
{
    const eota_flash *f = eota_bootstate_flash(m->bs);
    while (n > 0) {
        uint32_t addr = m->base + m->programmed, start, ssize;
        int st = f->ops->sector(f->ctx, addr, &start, &ssize);
        if (st != EOTA_OK)
            return failed(m, st);
        if (addr >= m->base + m->erased_to) {
            st = f->ops->erase(f->ctx, start);
            if (st != EOTA_OK)
                return failed(m, st);
            m->erased_to = start + ssize - m->base;
        }
        uint32_t room = start + ssize - addr;
        uint32_t k = n < room ? n : room;
        st = f->ops->program(f->ctx, addr, p, k);
        if (st != EOTA_OK)
            return failed(m, st);
        m->programmed += k;
        p += k;
        n -= k;
    }
    return EOTA_OK;
}

static uint32_t fm_capacity(void *ctx, int slot)
{
    eota_flash_medium *m = ctx;
    return eota_bootstate_slot_region(m->bs, slot).size;
}

static int fm_open(void *ctx, int slot)
{
    eota_flash_medium *m = ctx;
    m->base = eota_bootstate_slot_region(m->bs, slot).addr;
    m->programmed = m->erased_to = 0;
    m->stage_len = 0;
    m->flash_status = EOTA_OK;
    return EOTA_OK;
}

static int fm_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_flash_medium *m = ctx;
    size_t done = 0;
    while (done < len) {
        size_t n = m->stage_size - m->stage_len;
        if (n > len - done)
            n = len - done;
        memcpy(m->stage + m->stage_len, data + done, n);
        m->stage_len += n;
        done += n;
        if (m->stage_len == m->stage_size) {
            if (program_bytes(m, m->stage, (uint32_t)m->stage_size) != EOTA_OK)
                return EOTA_EWRITE;
            m->stage_len = 0;
        }
    }
    *taken = len;
    return EOTA_OK;
}

static int fm_finish(void *ctx)
{
    eota_flash_medium *m = ctx;
    if (m->stage_len) {
        const eota_flash_info *g = eota_bootstate_geometry(m->bs);
        size_t padded = (m->stage_len + g->write_align - 1) / g->write_align * g->write_align;
        memset(m->stage + m->stage_len, g->erased, padded - m->stage_len);
        if (program_bytes(m, m->stage, (uint32_t)padded) != EOTA_OK)
            return EOTA_EWRITE;
        m->stage_len = 0;
    }
    return EOTA_OK;
}

static int fm_verify(void *ctx, uint32_t size, uint32_t crc)
{
    eota_flash_medium *m = ctx;
    uint32_t back;
    int st = eota_flash_crc32(eota_bootstate_flash(m->bs), m->base, size, &back);
    if (st != EOTA_OK) {
        failed(m, st);
        return EOTA_EVERIFY; /* the slot could not be read back */
    }
    if (back != crc) {
        failed(m, EOTA_EIO);
        return EOTA_EWRITE; /* what was read back is not what was written */
    }
    return EOTA_OK;
}

static void fm_discard(void *ctx)
{
    eota_flash_medium *m = ctx;
    m->stage_len = 0;
}

static const eota_slot_medium_ops flash_medium_ops = {fm_capacity, fm_open,    fm_write, fm_finish,
                                                       fm_verify,   fm_discard, NULL};

int eota_flash_medium_init(eota_flash_medium *m, eota_bootstate *bs, uint8_t *stage, size_t stage_size)
{
    if (!m || !bs || !stage)
        return EOTA_EINVAL;
    memset(m, 0, sizeof *m);
    uint32_t a = eota_bootstate_geometry(bs)->write_align;
    if (a == 0 || stage_size == 0 || stage_size % a != 0 || stage_size > 0x7FFFFFFFu)
        return EOTA_EINVAL;
    if (eota_bootstate_slot_region(bs, 0).size == 0 || eota_bootstate_slot_region(bs, 1).size == 0)
        return EOTA_EINVAL;
    m->bs = bs;
    m->stage = stage;
    m->stage_size = stage_size;
    return EOTA_OK;
}

eota_slot_medium eota_flash_medium_seam(eota_flash_medium *m)
{
    eota_slot_medium sm = {&flash_medium_ops, m};
    return sm;
}

int eota_flash_medium_error(const eota_flash_medium *m) { return m->flash_status; }

int eota_flash_backend_init(eota_flash_backend *fb, eota_bootstate *bs, uint8_t *stage, size_t stage_size)
{
    if (!fb)
        return EOTA_EINVAL;
    int st = eota_flash_medium_init(&fb->medium, bs, stage, stage_size);
    if (st != EOTA_OK)
        return st;
    /* the core's CRC-32 (NULL), exact sizes (0) */
    eota_slotstore_config c = {bs, eota_flash_medium_seam(&fb->medium), NULL, 0};
    return eota_slotstore_init(&fb->store, &c);
}

eota_backend eota_flash_backend_seam(eota_flash_backend *fb) { return eota_slotstore_seam(&fb->store); }
