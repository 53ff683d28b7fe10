/*
 * flash.c: small helpers over the NOR flash seam (eota/flash.h) shared by the
 * boot state and the flash backend.
 */
#include "eota/flash.h"

#include "eota/crc32.h"

/* Bytes read at once by the helpers (on the stack). */
#define CHUNK 64u

int eota_flash_check_region(const eota_flash *f, uint32_t addr, uint32_t len)
{
    eota_flash_info fi;
    uint32_t start, size;

    if (!f || !f->ops || len == 0)
        return EOTA_EINVAL;
    f->ops->info(f->ctx, &fi);
    if (addr >= fi.size || len > fi.size - addr)
        return EOTA_EINVAL;
    if (f->ops->sector(f->ctx, addr, &start, &size) != EOTA_OK || start != addr)
        return EOTA_EINVAL;
    if (addr + len == fi.size)
        return EOTA_OK;
    if (f->ops->sector(f->ctx, addr + len, &start, &size) != EOTA_OK || start != addr + len)
        return EOTA_EINVAL;
    return EOTA_OK;
}

int eota_flash_erase_region(const eota_flash *f, uint32_t addr, uint32_t len)
{
    int r = eota_flash_check_region(f, addr, len);
    if (r != EOTA_OK)
        return r;
    uint32_t end = addr + len;
    while (addr < end) {
        uint32_t start, size;
        r = f->ops->sector(f->ctx, addr, &start, &size);
        if (r != EOTA_OK)
            return r;
        r = f->ops->erase(f->ctx, start);
        if (r != EOTA_OK)
            return r;
        addr = start + size;
    }
    return EOTA_OK;
}

int eota_flash_is_erased(const eota_flash *f, uint32_t addr, uint32_t len, int *erased)
{
    eota_flash_info fi;
    uint8_t buf[CHUNK];

    f->ops->info(f->ctx, &fi);
    *erased = 1;
    while (len > 0) {
        uint32_t n = len < CHUNK ? len : CHUNK;
        int r = f->ops->read(f->ctx, addr, buf, n);
        if (r != EOTA_OK)
            return r;
        for (uint32_t i = 0; i < n; i++) {
            if (buf[i] != fi.erased) {
                *erased = 0;
                return EOTA_OK;
            }
        }
        addr += n;
        len -= n;
    }
    return EOTA_OK;
}

int eota_flash_crc32(const eota_flash *f, uint32_t addr, uint32_t len, uint32_t *crc)
{
    uint8_t buf[CHUNK];
    uint32_t c = 0;

    while (len > 0) {
        uint32_t n = len < CHUNK ? len : CHUNK;
        int r = f->ops->read(f->ctx, addr, buf, n);
        if (r != EOTA_OK)
            return r;
        c = eota_crc32(c, buf, n);
        addr += n;
        len -= n;
    }
    *crc = c;
    return EOTA_OK;
}
