/*
 * simflash.c: a simulated NOR flash in RAM with power cuts (eota/simflash.h).
 * Part of the test port: it may allocate; the core never does.
 */
#include "simflash.h"

#include <stdlib.h>
#include <string.h>

static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

eota_simflash_geometry eota_simflash_uniform(uint32_t count, uint32_t size, uint32_t align, uint8_t erased)
{
    eota_simflash_geometry g;
    memset(&g, 0, sizeof g);
    g.runs[0].count = count;
    g.runs[0].size = size;
    g.write_align = align;
    g.erased = erased;
    return g;
}

int eota_simflash_init(eota_simflash *sf, const eota_simflash_geometry *geo)
{
    memset(sf, 0, sizeof *sf);
    uint32_t a = geo->write_align;
    if (a == 0 || a > EOTA_FLASH_MAX_ALIGN || (a & (a - 1)) != 0 || (geo->erased != 0x00 && geo->erased != 0xFF))
        return EOTA_EINVAL;
    uint64_t size = 0;
    uint32_t n = 0;
    for (int i = 0; i < EOTA_SIMFLASH_MAX_RUNS && geo->runs[i].count; i++) {
        if (geo->runs[i].size == 0 || geo->runs[i].size % a != 0)
            return EOTA_EINVAL;
        size += (uint64_t)geo->runs[i].count * geo->runs[i].size;
        n += geo->runs[i].count;
    }
    if (n == 0 || size > 0x80000000u)
        return EOTA_EINVAL;
    sf->geo = *geo;
    sf->size = (uint32_t)size;
    sf->nsectors = n;
    sf->sector_start = malloc((n + 1) * sizeof *sf->sector_start);
    sf->mem = malloc(sf->size);
    sf->written = calloc(sf->size, 1);
    if (!sf->sector_start || !sf->mem || !sf->written) {
        eota_simflash_free(sf);
        return EOTA_ENOSPC;
    }
    memset(sf->mem, geo->erased, sf->size);
    uint32_t k = 0, addr = 0;
    for (int i = 0; i < EOTA_SIMFLASH_MAX_RUNS && geo->runs[i].count; i++) {
        for (uint32_t j = 0; j < geo->runs[i].count; j++) {
            sf->sector_start[k++] = addr;
            addr += geo->runs[i].size;
        }
    }
    sf->sector_start[n] = addr;
    return EOTA_OK;
}

void eota_simflash_free(eota_simflash *sf)
{
    free(sf->sector_start);
    free(sf->mem);
    free(sf->written);
    sf->sector_start = NULL;
    sf->mem = sf->written = NULL;
}

/* Index of the sector holding addr (addr < size). */
static uint32_t sector_index(const eota_simflash *sf, uint32_t addr)
{
    uint32_t lo = 0, hi = sf->nsectors; /* sector_start[lo] <= addr < sector_start[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sf->sector_start[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int violation(eota_simflash *sf, const char *why)
{
    sf->violations++;
    sf->last_violation = why;
    return EOTA_EINVAL;
}

static int die(eota_simflash *sf)
{
    sf->dead = 1;
    sf->cuts++;
    sf->cut.mode = EOTA_SIMFLASH_CUT_NONE;
    return EOTA_EIO;
}

static int sim_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    eota_simflash *sf = ctx;
    if (sf->dead)
        return EOTA_EIO;
    if (addr > sf->size || len > sf->size - addr)
        return EOTA_EINVAL;
    memcpy(buf, sf->mem + addr, len);
    sf->reads++;
    return EOTA_OK;
}

static int sim_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
    eota_simflash *sf = ctx;
    const uint8_t *d = data;
    if (sf->dead)
        return EOTA_EIO;
    unsigned long idx = sf->ops++;
    uint32_t a = sf->geo.write_align;
    if (len == 0 || addr >= sf->size || len > sf->size - addr)
        return violation(sf, "program out of range");
    if (addr % a != 0 || len % a != 0)
        return violation(sf, "misaligned program");
    if (sector_index(sf, addr) != sector_index(sf, addr + (uint32_t)len - 1))
        return violation(sf, "program crosses a sector");
    for (size_t i = 0; i < len; i++)
        if (sf->written[addr + i] || sf->mem[addr + i] != sf->geo.erased)
            return violation(sf, "program over bytes not erased");

    int cutting = sf->cut.mode != EOTA_SIMFLASH_CUT_NONE && sf->cut.at == idx;
    if (cutting && sf->cut.mode == EOTA_SIMFLASH_CUT_BEFORE)
        return die(sf);
    size_t n = len;
    if (cutting && sf->cut.mode == EOTA_SIMFLASH_CUT_TORN) {
        n = (size_t)((uint64_t)len * (sf->cut.tear > 1000 ? 1000 : sf->cut.tear) / 1000);
        if (n > len)
            n = len;
    }
    memcpy(sf->mem + addr, d, n);
    memset(sf->written + addr, 1, n);
    if (n < len) {
        /* the byte being programmed when the power went: some of its bits */
        uint32_t s = sf->cut.seed;
        uint8_t e = sf->geo.erased;
        uint8_t mask = sf->cut.half_mask ? sf->cut.half_mask : (uint8_t)next_rand(&s);
        uint8_t half = (uint8_t)(e ^ ((e ^ d[n]) & mask));
        sf->mem[addr + n] = half;
        sf->written[addr + n] = half != e;
    }
    if (sf->on_op)
        sf->on_op(sf->on_op_ctx, EOTA_SIMFLASH_OP_PROGRAM, addr, (uint32_t)len, idx);
    if (cutting)
        return die(sf);
    sf->programs++;
    return EOTA_OK;
}

static int sim_erase(void *ctx, uint32_t addr)
{
    eota_simflash *sf = ctx;
    if (sf->dead)
        return EOTA_EIO;
    unsigned long idx = sf->ops++;
    if (addr >= sf->size)
        return violation(sf, "erase out of range");
    uint32_t i = sector_index(sf, addr);
    if (sf->sector_start[i] != addr)
        return violation(sf, "erase not at a sector start");
    uint32_t size = sf->sector_start[i + 1] - addr;

    int cutting = sf->cut.mode != EOTA_SIMFLASH_CUT_NONE && sf->cut.at == idx;
    if (cutting && sf->cut.mode == EOTA_SIMFLASH_CUT_BEFORE)
        return die(sf);
    uint32_t n = size;
    if (cutting && sf->cut.mode == EOTA_SIMFLASH_CUT_TORN)
        n = (uint32_t)((uint64_t)size * (sf->cut.tear > 1000 ? 1000 : sf->cut.tear) / 1000);
    memset(sf->mem + addr, sf->geo.erased, n);
    memset(sf->written + addr, 0, n);
    if (n < size && sf->cut.garbage) {
        uint32_t s = sf->cut.seed;
        for (uint32_t k = n; k < size; k++) {
            uint8_t b = (uint8_t)next_rand(&s);
            sf->mem[addr + k] = b;
            sf->written[addr + k] = b != sf->geo.erased;
        }
    }
    if (sf->on_op)
        sf->on_op(sf->on_op_ctx, EOTA_SIMFLASH_OP_ERASE, addr, size, idx);
    if (cutting)
        return die(sf);
    sf->erases++;
    return EOTA_OK;
}

static int sim_sector(void *ctx, uint32_t addr, uint32_t *start, uint32_t *size)
{
    eota_simflash *sf = ctx;
    if (addr >= sf->size)
        return EOTA_EINVAL;
    uint32_t i = sector_index(sf, addr);
    *start = sf->sector_start[i];
    *size = sf->sector_start[i + 1] - sf->sector_start[i];
    return EOTA_OK;
}

static void sim_info(void *ctx, eota_flash_info *out)
{
    eota_simflash *sf = ctx;
    out->size = sf->size;
    out->write_align = sf->geo.write_align;
    out->erased = sf->geo.erased;
}

static const eota_flash_ops simflash_ops = {
    .read = sim_read,
    .program = sim_program,
    .erase = sim_erase,
    .sector = sim_sector,
    .info = sim_info,
};

eota_flash eota_simflash_seam(eota_simflash *sf)
{
    eota_flash f = {&simflash_ops, sf};
    return f;
}

void eota_simflash_arm(eota_simflash *sf, const eota_simflash_cut *cut) { sf->cut = *cut; }

void eota_simflash_power_on(eota_simflash *sf)
{
    sf->dead = 0;
    sf->cut.mode = EOTA_SIMFLASH_CUT_NONE;
}

int eota_simflash_copy(eota_simflash *dst, const eota_simflash *src)
{
    if (dst->size != src->size || dst->nsectors != src->nsectors ||
        dst->geo.write_align != src->geo.write_align || dst->geo.erased != src->geo.erased)
        return EOTA_EINVAL;
    memcpy(dst->mem, src->mem, src->size);
    memcpy(dst->written, src->written, src->size);
    return EOTA_OK;
}
