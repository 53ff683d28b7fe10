/*
 * chip_flash.c: the flash driver of chip_flash.h. controller_program and
 * controller_erase stand for the flash controller's two operations; the
 * rest is what the driver of a real part does around them.
 */
#include "chip_flash.h"

#include <string.h>

#define DWORDS_PER_PAGE (CHIP_FLASH_PAGE / CHIP_FLASH_ALIGN)

static int in_flash(uint32_t addr, size_t len) { return addr <= CHIP_FLASH_SIZE && len <= CHIP_FLASH_SIZE - addr; }

static int dword_programmed(const chip_flash *f, uint32_t dw) { return (f->programmed[dw / 8u] >> (dw % 8u)) & 1u; }

static void mark_programmed(chip_flash *f, uint32_t dw, int on)
{
    uint8_t bit = (uint8_t)(1u << (dw % 8u));
    f->programmed[dw / 8u] = (uint8_t)(on ? f->programmed[dw / 8u] | bit : f->programmed[dw / 8u] & ~bit);
}

/* The controller: program one double word (PROGERR when it was programmed
 * since its page was erased). */
static int controller_program(chip_flash *f, uint32_t addr, const uint8_t *dword)
{
    uint32_t dw = addr / CHIP_FLASH_ALIGN;
    if (dword_programmed(f, dw))
        return EOTA_EINVAL;
    memcpy(f->mem + addr, dword, CHIP_FLASH_ALIGN);
    mark_programmed(f, dw, 1);
    return EOTA_OK;
}

/* The controller: erase one page. */
static void controller_erase(chip_flash *f, uint32_t page)
{
    memset(f->mem + page * CHIP_FLASH_PAGE, CHIP_FLASH_ERASED, CHIP_FLASH_PAGE);
    for (uint32_t dw = page * DWORDS_PER_PAGE; dw < (page + 1u) * DWORDS_PER_PAGE; dw++)
        mark_programmed(f, dw, 0);
}

static int flash_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    chip_flash *f = ctx;
    if (!in_flash(addr, len))
        return EOTA_EINVAL;
    memcpy(buf, f->mem + addr, len);
    return EOTA_OK;
}

static int flash_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
    chip_flash *f = ctx;
    if (len == 0 || !in_flash(addr, len) || addr % CHIP_FLASH_ALIGN != 0 || len % CHIP_FLASH_ALIGN != 0 ||
        addr / CHIP_FLASH_PAGE != (addr + (uint32_t)len - 1u) / CHIP_FLASH_PAGE)
        return EOTA_EINVAL;
    /* Check the whole range first: a refused program writes nothing. */
    for (uint32_t a = addr; a < addr + len; a += CHIP_FLASH_ALIGN)
        if (dword_programmed(f, a / CHIP_FLASH_ALIGN))
            return EOTA_EINVAL;
    for (size_t off = 0; off < len; off += CHIP_FLASH_ALIGN)
        if (controller_program(f, addr + (uint32_t)off, (const uint8_t *)data + off) != EOTA_OK)
            return EOTA_EIO;
    f->programs++;
    return EOTA_OK;
}

static int flash_erase(void *ctx, uint32_t addr)
{
    chip_flash *f = ctx;
    if (addr >= CHIP_FLASH_SIZE || addr % CHIP_FLASH_PAGE != 0)
        return EOTA_EINVAL;
    controller_erase(f, addr / CHIP_FLASH_PAGE);
    f->erases++;
    return EOTA_OK;
}

static int flash_sector(void *ctx, uint32_t addr, uint32_t *start, uint32_t *size)
{
    (void)ctx;
    if (addr >= CHIP_FLASH_SIZE)
        return EOTA_EINVAL;
    *start = addr - addr % CHIP_FLASH_PAGE;
    *size = CHIP_FLASH_PAGE;
    return EOTA_OK;
}

static void flash_info(void *ctx, eota_flash_info *out)
{
    (void)ctx;
    out->size = CHIP_FLASH_SIZE;
    out->write_align = CHIP_FLASH_ALIGN;
    out->erased = CHIP_FLASH_ERASED;
}

static const eota_flash_ops chip_flash_ops = {flash_read, flash_program, flash_erase, flash_sector, flash_info};

static int dword_erased(const uint8_t *p)
{
    for (uint32_t i = 0; i < CHIP_FLASH_ALIGN; i++)
        if (p[i] != CHIP_FLASH_ERASED)
            return 0;
    return 1;
}

void chip_flash_init(chip_flash *f, uint8_t *mem)
{
    f->mem = mem;
    f->programs = f->erases = 0;
    for (uint32_t dw = 0; dw < CHIP_FLASH_SIZE / CHIP_FLASH_ALIGN; dw++)
        mark_programmed(f, dw, !dword_erased(mem + dw * CHIP_FLASH_ALIGN));
}

eota_flash chip_flash_seam(chip_flash *f)
{
    eota_flash s = {&chip_flash_ops, f};
    return s;
}

