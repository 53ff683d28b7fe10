/*
 * bootstate.c: the boot state on NOR flash and the bootloader's decision
 * (eota/bootstate.h; the layout and why every prefix of every write sequence
 * is safe are in docs/bootstate.md).
 *
 * Two copies, one per sector. A copy is a record (52 bytes, padded to the
 * write alignment) followed by a counter area of units, one write-alignment
 * unit each. A record write goes to the copy that does not hold the current
 * record: erase that sector, program the record (the commit point), read it
 * back. A boot is counted by programming the next unit after the current
 * record with the BOOT pattern; the count is cleared by programming the next
 * one with the CLEAR pattern. Nothing is ever rewritten in place, and a
 * confirmed boot costs two programs, no erase.
 */
#include "eota/bootstate.h"

#include <string.h>

#include "eota/crc32.h"

#define REC_MAGIC0 0x45u /* "EOBS" */
#define REC_MAGIC1 0x4Fu
#define REC_MAGIC2 0x42u
#define REC_MAGIC3 0x53u
#define REC_VERSION 1u
#define REC_LEN 52u        /* bytes covered by the record, CRC included */
#define REC_CRC_OFF 48u
#define REC_SLOT_OFF 16u
#define REC_SLOT_LEN 16u
#define REC_BUF (REC_LEN + EOTA_FLASH_MAX_ALIGN)
#define NO_SLOT 0xFFu
#define COUNT_MAX 0xFFFFFFF0u
#define SCAN_CHUNK 64u     /* a multiple of every alignment */
/* Counter units: every byte of a unit is the erased value XOR one of these.
 * A torn BOOT unit has bytes that are erased or BOOT, never CLEAR; a torn
 * CLEAR unit has bit 0 of every byte erased, so never reads as BOOT. A unit
 * counts only when every byte reads as written. */
#define UNIT_BOOT 0x01u
#define UNIT_CLEAR 0xFEu

void eota_safe_mode_config_defaults(eota_safe_mode_config *c)
{
    c->num_attempts = EOTA_SAFE_MODE_NUM_ATTEMPTS;
    c->reboot_timeout_ms = EOTA_SAFE_MODE_REBOOT_TIMEOUT_MS;
    c->boot_is_good_after_ms = EOTA_SAFE_MODE_BOOT_IS_GOOD_AFTER_MS;
    c->disabled = 0;
}

const char *eota_slot_state_name(int state)
{
    switch (state) {
    case EOTA_SLOT_EMPTY: return "empty";
    case EOTA_SLOT_NEW: return "new";
    case EOTA_SLOT_TRIAL: return "trial";
    case EOTA_SLOT_VALID: return "valid";
    case EOTA_SLOT_INVALID: return "invalid";
    default: return "?";
    }
}

/* --- encoding --- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void encode(const eota_bootrec *r, uint8_t *buf, uint32_t area, uint8_t erased)
{
    memset(buf, erased, area);
    memset(buf, 0, REC_LEN);
    buf[0] = REC_MAGIC0;
    buf[1] = REC_MAGIC1;
    buf[2] = REC_MAGIC2;
    buf[3] = REC_MAGIC3;
    buf[4] = REC_VERSION;
    buf[5] = r->active;
    buf[6] = r->flags;
    put32(buf + 8, r->seq);
    put32(buf + 12, r->boot_base);
    for (unsigned s = 0; s < EOTA_BOOT_SLOTS; s++) {
        uint8_t *p = buf + REC_SLOT_OFF + s * REC_SLOT_LEN;
        p[0] = r->slot[s].state;
        put32(p + 4, r->slot[s].image_seq);
        put32(p + 8, r->slot[s].size);
        put32(p + 12, r->slot[s].crc);
    }
    put32(buf + REC_CRC_OFF, eota_crc32(0, buf, REC_CRC_OFF));
}

/* 1 when buf holds a well-formed record (CRC over every field), else 0. */
static int decode(const uint8_t *buf, eota_bootrec *r)
{
    if (buf[0] != REC_MAGIC0 || buf[1] != REC_MAGIC1 || buf[2] != REC_MAGIC2 ||
        buf[3] != REC_MAGIC3 || buf[4] != REC_VERSION)
        return 0;
    if (get32(buf + REC_CRC_OFF) != eota_crc32(0, buf, REC_CRC_OFF))
        return 0;
    if (buf[7] != 0 || (buf[6] & (uint8_t)~EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST) != 0)
        return 0;
    if (buf[5] != NO_SLOT && buf[5] >= EOTA_BOOT_SLOTS)
        return 0;
    r->active = buf[5];
    r->flags = buf[6];
    r->seq = get32(buf + 8);
    r->boot_base = get32(buf + 12);
    for (unsigned s = 0; s < EOTA_BOOT_SLOTS; s++) {
        const uint8_t *p = buf + REC_SLOT_OFF + s * REC_SLOT_LEN;
        if (p[0] > EOTA_SLOT_INVALID || p[1] != 0 || p[2] != 0 || p[3] != 0)
            return 0;
        r->slot[s].state = p[0];
        r->slot[s].image_seq = get32(p + 4);
        r->slot[s].size = get32(p + 8);
        r->slot[s].crc = get32(p + 12);
    }
    return 1;
}

static void empty_record(eota_bootrec *r)
{
    memset(r, 0, sizeof *r);
    r->active = NO_SLOT;
}

/* --- reading --- */

static uint32_t tick_cap_of(const eota_bootstate *bs, int copy)
{
    uint32_t n = (bs->copy_size[copy] - bs->rec_area) / bs->tick;
    return n > EOTA_BOOT_MAX_TICKS ? EOTA_BOOT_MAX_TICKS : n;
}

/* 1 valid record, 0 none, or the read's error. */
static int read_copy(const eota_bootstate *bs, int copy, eota_bootrec *r)
{
    uint8_t buf[REC_LEN];
    const eota_flash *f = &bs->cfg.flash;
    int st = f->ops->read(f->ctx, bs->cfg.copy_addr[copy], buf, REC_LEN);
    if (st != EOTA_OK)
        return st;
    return decode(buf, r);
}

static uint32_t sat_add(uint32_t a, uint32_t b) { return a > COUNT_MAX - b ? COUNT_MAX : a + b; }

/* Scan the counter area of the current copy: the units used (one past the
 * last unit with any byte not erased: a torn unit is spent) and the count
 * (the record's base, plus one per BOOT unit, back to 0 at a CLEAR unit;
 * torn units count for nothing). */
static int scan_counter(eota_bootstate *bs)
{
    const eota_flash *f = &bs->cfg.flash;
    uint8_t buf[SCAN_CHUNK];
    uint32_t base = bs->cfg.copy_addr[bs->cur] + bs->rec_area;
    uint32_t t = bs->tick, total = bs->tick_cap * t;
    uint8_t e = bs->fi.erased, boot = (uint8_t)(e ^ UNIT_BOOT), clear = (uint8_t)(e ^ UNIT_CLEAR);
    uint32_t used = 0, count = bs->rec.boot_base;

    for (uint32_t off = 0; off < total; off += SCAN_CHUNK) {
        uint32_t n = total - off < SCAN_CHUNK ? total - off : SCAN_CHUNK;
        int st = f->ops->read(f->ctx, base + off, buf, n);
        if (st != EOTA_OK)
            return st;
        for (uint32_t u = 0; u < n; u += t) {
            uint8_t v = buf[u];
            uint32_t i = u + 1;
            while (i < u + t && buf[i] == v)
                i++;
            int whole = i == u + t; /* every byte of the unit reads v */
            if (whole && v == e)
                continue;
            used = (off + u) / t + 1;
            if (whole && v == boot)
                count = sat_add(count, 1);
            else if (whole && v == clear)
                count = 0;
        }
    }
    bs->ticks = used;
    bs->count = count;
    return EOTA_OK;
}

static int seq_newer(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

static int region_overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

/* The two record copies: each starts a sector of its own, big enough for a
 * record and a few counter ticks. */
static int check_copies(eota_bootstate *bs)
{
    const eota_bootstate_config *cfg = &bs->cfg;
    for (int i = 0; i < 2; i++) {
        uint32_t start, size;
        if (cfg->flash.ops->sector(cfg->flash.ctx, cfg->copy_addr[i], &start, &size) != EOTA_OK ||
            start != cfg->copy_addr[i] || size < bs->rec_area + 2 * bs->tick)
            return EOTA_EINVAL;
        bs->copy_size[i] = size;
    }
    return cfg->copy_addr[0] == cfg->copy_addr[1] ? EOTA_EINVAL : EOTA_OK;
}

/* The slot regions: on the flash, apart from the copies and each other. */
static int check_slots(const eota_bootstate *bs)
{
    const eota_bootstate_config *cfg = &bs->cfg;
    for (int s = 0; s < EOTA_BOOT_SLOTS; s++) {
        const eota_flash_region *r = &cfg->slot[s];
        if (r->size == 0) {
            if (cfg->verify)
                return EOTA_EINVAL;
            continue;
        }
        if (eota_flash_check_region(&cfg->flash, r->addr, r->size) != EOTA_OK)
            return EOTA_EINVAL;
        for (int i = 0; i < 2; i++)
            if (region_overlaps(r->addr, r->size, cfg->copy_addr[i], bs->copy_size[i]))
                return EOTA_EINVAL;
    }
    if (cfg->slot[0].size && cfg->slot[1].size &&
        region_overlaps(cfg->slot[0].addr, cfg->slot[0].size, cfg->slot[1].addr, cfg->slot[1].size))
        return EOTA_EINVAL;
    return EOTA_OK;
}

/* Read both copies and keep the newer good one, with its boot counter. */
static int load_newest(eota_bootstate *bs)
{
    eota_bootrec r[2];
    int ok[2];
    for (int i = 0; i < 2; i++) {
        ok[i] = read_copy(bs, i, &r[i]);
        if (ok[i] < 0)
            return ok[i];
    }
    if (ok[0] && (!ok[1] || !seq_newer(r[1].seq, r[0].seq)))
        bs->cur = 0;
    else if (ok[1])
        bs->cur = 1;
    if (bs->cur < 0)
        return EOTA_OK;
    bs->rec = r[bs->cur];
    bs->tick_cap = tick_cap_of(bs, bs->cur);
    return scan_counter(bs);
}

int eota_bootstate_open(eota_bootstate *bs, const eota_bootstate_config *cfg)
{
    if (!bs || !cfg)
        return EOTA_EINVAL;
    memset(bs, 0, sizeof *bs);
    bs->cur = -1;
    empty_record(&bs->rec);
    const eota_flash_ops *o = cfg->flash.ops;
    if (!o || !o->read || !o->program || !o->erase || !o->sector || !o->info)
        return EOTA_EINVAL;
    bs->cfg = *cfg;
    o->info(cfg->flash.ctx, &bs->fi);
    uint32_t a = bs->fi.write_align;
    if (a == 0 || a > EOTA_FLASH_MAX_ALIGN || (a & (a - 1)) != 0 ||
        (bs->fi.erased != 0x00 && bs->fi.erased != 0xFF))
        return EOTA_EINVAL;
    bs->tick = a;
    bs->rec_area = (REC_LEN + a - 1) / a * a;
    if (check_copies(bs) != EOTA_OK || check_slots(bs) != EOTA_OK)
        return EOTA_EINVAL;
    return load_newest(bs);
}

/* --- queries --- */

uint32_t eota_bootstate_attempts(const eota_bootstate *bs) { return bs->count; }

int eota_bootstate_active(const eota_bootstate *bs)
{
    return bs->rec.active < EOTA_BOOT_SLOTS ? (int)bs->rec.active : EOTA_BOOT_NO_SLOT;
}

eota_slot_state eota_bootstate_slot(const eota_bootstate *bs, int slot, eota_slot_info *info)
{
    if (slot < 0 || slot >= EOTA_BOOT_SLOTS) {
        if (info)
            memset(info, 0, sizeof *info);
        return EOTA_SLOT_EMPTY;
    }
    if (info)
        *info = bs->rec.slot[slot];
    return (eota_slot_state)bs->rec.slot[slot].state;
}

static int bootable(uint8_t state) { return state == EOTA_SLOT_VALID || state == EOTA_SLOT_TRIAL; }

int eota_bootstate_target(const eota_bootstate *bs)
{
    int a = eota_bootstate_active(bs);
    if (a != EOTA_BOOT_NO_SLOT)
        return 1 - a;
    return bootable(bs->rec.slot[0].state) ? 1 : 0;
}

int eota_bootstate_safe_mode_requested(const eota_bootstate *bs)
{
    return (bs->rec.flags & EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST) != 0;
}

uint32_t eota_bootstate_seq(const eota_bootstate *bs) { return bs->rec.seq; } /* 0 with no record */

const eota_flash *eota_bootstate_flash(const eota_bootstate *bs) { return &bs->cfg.flash; }

const eota_flash_info *eota_bootstate_geometry(const eota_bootstate *bs) { return &bs->fi; }

eota_flash_region eota_bootstate_slot_region(const eota_bootstate *bs, int slot)
{
    eota_flash_region none = {0, 0};
    return slot >= 0 && slot < EOTA_BOOT_SLOTS ? bs->cfg.slot[slot] : none;
}

/* --- writing --- */

/* Write nr as the next record: erase the sector of the copy that does not
 * hold the current record, program, read back. Until the program completes
 * the current record stands; after it, nr does. nr->seq is set here. */
static int write_record(eota_bootstate *bs, eota_bootrec *nr)
{
    const eota_flash *f = &bs->cfg.flash;
    uint8_t buf[REC_BUF], back[REC_BUF];
    int target = bs->cur == 0 ? 1 : 0;
    uint32_t addr = bs->cfg.copy_addr[target];

    nr->seq = bs->rec.seq + 1u; /* 1 for the first: no record reads as seq 0 */
    encode(nr, buf, bs->rec_area, bs->fi.erased);
    int st = f->ops->erase(f->ctx, addr);
    if (st != EOTA_OK)
        return st;
    st = f->ops->program(f->ctx, addr, buf, bs->rec_area);
    if (st != EOTA_OK)
        return st;
    st = f->ops->read(f->ctx, addr, back, bs->rec_area);
    if (st != EOTA_OK)
        return st;
    if (memcmp(buf, back, bs->rec_area) != 0)
        return EOTA_EIO;
    bs->cur = target;
    bs->rec = *nr;
    bs->ticks = 0;
    bs->count = nr->boot_base;
    bs->tick_cap = tick_cap_of(bs, target);
    return EOTA_OK;
}

/* Append a counter unit: BOOT (count + 1) or CLEAR (count = 0). When the
 * area is full, a new record takes the count over instead. */
static int append_unit(eota_bootstate *bs, uint8_t kind)
{
    uint32_t after = kind == UNIT_BOOT ? sat_add(bs->count, 1) : 0;
    if (bs->ticks >= bs->tick_cap) {
        eota_bootrec nr = bs->rec;
        nr.boot_base = after;
        return write_record(bs, &nr);
    }
    const eota_flash *f = &bs->cfg.flash;
    uint8_t unit[EOTA_FLASH_MAX_ALIGN];
    memset(unit, (uint8_t)(bs->fi.erased ^ kind), bs->tick);
    uint32_t addr = bs->cfg.copy_addr[bs->cur] + bs->rec_area + bs->ticks * bs->tick;
    /* Whatever happens, that unit is spent: never program it twice. */
    bs->ticks++;
    int st = f->ops->program(f->ctx, addr, unit, bs->tick);
    if (st == EOTA_OK)
        bs->count = after;
    return st;
}

int eota_bootstate_count_boot(eota_bootstate *bs)
{
    if (bs->cur < 0)
        return EOTA_OK;
    return append_unit(bs, UNIT_BOOT);
}

/* The count back to 0 (a CLEAR unit), when it is not 0 already. */
static int clear_count(eota_bootstate *bs)
{
    if (bs->cur < 0 || bs->count == 0)
        return EOTA_OK;
    return append_unit(bs, UNIT_CLEAR);
}

/* Image check for eota_boot: 1 good, 0 bad (size or CRC), or a read error
 * (not the image's fault: it is not booted, but not condemned either).
 * cache[s]: 0 unknown, else the answer + 2. */
static int check_image(const eota_bootstate *bs, int s, int *cache)
{
    const eota_bootstate_config *cfg = &bs->cfg;
    if (!cfg->verify && !cfg->check)
        return 1;
    if (cache[s])
        return cache[s] - 2;
    const eota_slot_info *si = &bs->rec.slot[s];
    int r;
    if (cfg->check) {
        r = cfg->check(cfg->check_ctx, s, si);
        if (r > 1)
            r = 1;
    } else if (si->size == 0 || si->size > cfg->slot[s].size) {
        r = 0;
    } else {
        uint32_t crc;
        r = eota_flash_crc32(&cfg->flash, cfg->slot[s].addr, si->size, &crc);
        if (r == EOTA_OK)
            r = crc == si->crc;
    }
    cache[s] = r + 2;
    return r;
}

static void note(eota_boot_decision *d, int st)
{
    if (st != EOTA_OK && d->status == EOTA_OK)
        d->status = st;
}

/* One boot's decision in the making: the record it will write, what it
 * found out about the slots' images, and whether anything changed. */
typedef struct boot_plan {
    eota_bootstate *bs;
    eota_boot_decision *d;
    eota_bootrec nr;
    int cache[EOTA_BOOT_SLOTS]; /* check_image results, 0 = not checked */
    uint32_t base;              /* the boot count the new record starts at */
    int changed;
} boot_plan;

static void plan_invalidate(boot_plan *p, int s)
{
    p->nr.slot[s].state = EOTA_SLOT_INVALID;
    p->d->invalidated = (int8_t)s;
    p->changed = 1;
}

/* Make `slot` the active one if its image checks, setting `mark` to
 * `state` on the way; a slot whose image is bad is invalidated. 1 when
 * switched. */
static int plan_switch(boot_plan *p, int slot, int mark, eota_slot_state state)
{
    int c = check_image(p->bs, slot, p->cache);
    if (c == 0)
        plan_invalidate(p, slot);
    if (c != 1)
        return 0;
    p->nr.slot[mark].state = (uint8_t)state;
    p->nr.active = (uint8_t)slot;
    p->changed = 1;
    return 1;
}

/* 1. An image on trial that reaches a boot without confirmation failed its
 * trial: back to the other slot, when that one is good. */
static void plan_end_failed_trials(boot_plan *p)
{
    for (int s = 0; s < EOTA_BOOT_SLOTS; s++) {
        int o = 1 - s;
        if (p->nr.slot[s].state != EOTA_SLOT_TRIAL || p->nr.slot[o].state != EOTA_SLOT_VALID)
            continue; /* no trial, or nothing to go back to: it keeps its trial */
        if (plan_switch(p, o, s, EOTA_SLOT_INVALID))
            p->d->rolled_back = 1;
    }
}

/* 2. Safe mode: a boot loop, or a request. Entering it clears both. */
static void plan_safe_mode(boot_plan *p, const eota_safe_mode_config *sm)
{
    int requested = (p->nr.flags & EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST) != 0;
    if (requested) {
        p->nr.flags &= (uint8_t)~EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST;
        p->changed = 1;
    }
    if (!sm->disabled && (requested || p->d->attempts >= sm->num_attempts)) {
        p->d->safe_mode = 1;
        p->d->requested = (uint8_t)requested;
        p->base = 0; /* in the record, or by a CLEAR unit when no record is due */
    }
}

/* 3. The newest new image starts its trial (on a normal boot only). */
static void plan_start_trial(boot_plan *p)
{
    int n = -1;
    for (int s = 0; s < EOTA_BOOT_SLOTS; s++)
        if (p->nr.slot[s].state == EOTA_SLOT_NEW &&
            (n < 0 || seq_newer(p->nr.slot[s].image_seq, p->nr.slot[n].image_seq)))
            n = s;
    if (n < 0)
        return;
    if (plan_switch(p, n, n, EOTA_SLOT_TRIAL)) {
        p->d->trial_started = 1;
        p->base = 1;
    }
}

/* The slots worth trying, in order: the active one, then the valid ones,
 * newest first. Returns how many. */
static int boot_candidates(const eota_bootrec *nr, int cand[3])
{
    int nc = 0;
    if (nr->active < EOTA_BOOT_SLOTS && bootable(nr->slot[nr->active].state))
        cand[nc++] = nr->active;
    int v0 = nr->slot[0].state == EOTA_SLOT_VALID, v1 = nr->slot[1].state == EOTA_SLOT_VALID;
    if (v0 && v1 && seq_newer(nr->slot[0].image_seq, nr->slot[1].image_seq)) {
        cand[nc++] = 0;
        cand[nc++] = 1;
    } else {
        if (v1)
            cand[nc++] = 1;
        if (v0)
            cand[nc++] = 0;
    }
    return nc;
}

/* 4. Pick: the active slot, else the newest valid one whose image checks. */
static void plan_pick(boot_plan *p)
{
    eota_boot_decision *d = p->d;
    int cand[3], nc = boot_candidates(&p->nr, cand);
    for (int i = 0; i < nc && d->slot == EOTA_BOOT_NO_SLOT; i++) {
        int s = cand[i];
        if (!bootable(p->nr.slot[s].state))
            continue; /* condemned by an earlier candidate's turn */
        int c = check_image(p->bs, s, p->cache);
        if (c == 1)
            d->slot = s;
        else if (c == 0)
            plan_invalidate(p, s);
    }
    if (d->slot != EOTA_BOOT_NO_SLOT && p->nr.active != (uint8_t)d->slot) {
        p->nr.active = (uint8_t)d->slot;
        p->changed = 1;
    }
    if (d->slot != EOTA_BOOT_NO_SLOT)
        d->trial = p->nr.slot[d->slot].state == EOTA_SLOT_TRIAL;
    if (!d->trial)
        d->trial_started = 0;
}

int eota_boot(eota_bootstate *bs, const eota_safe_mode_config *sm, eota_boot_decision *d)
{
    eota_safe_mode_config defaults;
    if (!sm) {
        eota_safe_mode_config_defaults(&defaults);
        sm = &defaults;
    }
    memset(d, 0, sizeof *d);
    d->slot = EOTA_BOOT_NO_SLOT;
    d->invalidated = -1;
    d->attempts = eota_bootstate_attempts(bs);

    /* 0. Count this boot, before anything else. */
    note(d, eota_bootstate_count_boot(bs));

    boot_plan p = {bs, d, bs->rec, {0, 0}, 0, 0};
    /* The count, this boot included (also when the tick could not be
     * written, or there is no record yet). */
    p.base = sat_add(d->attempts, 1);
    plan_end_failed_trials(&p);
    plan_safe_mode(&p, sm);
    if (!d->safe_mode)
        plan_start_trial(&p);
    plan_pick(&p);

    if (p.changed) {
        p.nr.boot_base = p.base;
        note(d, write_record(bs, &p.nr));
    } else if (p.base == 0) {
        note(d, clear_count(bs));
    }
    return d->status;
}

/* --- application side --- */

int eota_bootstate_confirm(eota_bootstate *bs)
{
    int a = eota_bootstate_active(bs);
    if (a == EOTA_BOOT_NO_SLOT || bs->rec.slot[a].state != EOTA_SLOT_TRIAL)
        return clear_count(bs); /* one program, no erase */
    eota_bootrec nr = bs->rec;
    nr.slot[a].state = EOTA_SLOT_VALID;
    nr.boot_base = 0;
    return write_record(bs, &nr);
}

int eota_bootstate_prepare(eota_bootstate *bs, int slot)
{
    if (slot < 0 || slot >= EOTA_BOOT_SLOTS)
        return EOTA_EINVAL;
    int a = eota_bootstate_active(bs);
    if (slot == a && bootable(bs->rec.slot[a].state))
        return EOTA_EBUSY;
    eota_bootrec nr = bs->rec;
    int changed = 0;
    nr.boot_base = eota_bootstate_attempts(bs);
    uint8_t st = nr.slot[slot].state;
    if (st == EOTA_SLOT_NEW || st == EOTA_SLOT_TRIAL || st == EOTA_SLOT_VALID) {
        memset(&nr.slot[slot], 0, sizeof nr.slot[slot]);
        changed = 1;
    }
    if (a != EOTA_BOOT_NO_SLOT && nr.slot[a].state == EOTA_SLOT_TRIAL) {
        nr.slot[a].state = EOTA_SLOT_VALID;
        nr.boot_base = 0;
        changed = 1;
    }
    return changed ? write_record(bs, &nr) : EOTA_OK;
}

int eota_bootstate_install(eota_bootstate *bs, int slot, uint32_t size, uint32_t crc)
{
    if (slot < 0 || slot >= EOTA_BOOT_SLOTS || size == 0)
        return EOTA_EINVAL;
    int a = eota_bootstate_active(bs);
    if (slot == a && bootable(bs->rec.slot[a].state))
        return EOTA_EBUSY;
    uint8_t st = bs->rec.slot[slot].state;
    if (st != EOTA_SLOT_EMPTY && st != EOTA_SLOT_INVALID)
        return EOTA_EINVAL;
    if (bs->cfg.slot[slot].size != 0 && size > bs->cfg.slot[slot].size)
        return EOTA_EINVAL;
    eota_bootrec nr = bs->rec;
    nr.slot[slot].state = EOTA_SLOT_NEW;
    nr.slot[slot].image_seq = bs->rec.seq + 1u; /* the seq this record gets */
    nr.slot[slot].size = size;
    nr.slot[slot].crc = crc;
    nr.boot_base = 0;
    return write_record(bs, &nr);
}

int eota_bootstate_restore(eota_bootstate *bs, const eota_bootrec *r)
{
    eota_bootrec nr = *r;
    uint32_t seq = bs->rec.seq;
    for (int s = 0; s < EOTA_BOOT_SLOTS; s++) {
        if (nr.slot[s].state > EOTA_SLOT_INVALID)
            return EOTA_EINVAL;
        if (seq_newer(nr.slot[s].image_seq, seq))
            seq = nr.slot[s].image_seq;
    }
    if (nr.active != NO_SLOT && (nr.active >= EOTA_BOOT_SLOTS || !bootable(nr.slot[nr.active].state)))
        return EOTA_EINVAL;
    nr.flags = 0;
    nr.boot_base = 0;
    bs->rec.seq = seq; /* write_record numbers the new record after it */
    return write_record(bs, &nr);
}

int eota_bootstate_request_safe_mode(eota_bootstate *bs)
{
    if (eota_bootstate_safe_mode_requested(bs))
        return EOTA_OK;
    eota_bootrec nr = bs->rec;
    nr.flags |= EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST;
    nr.boot_base = eota_bootstate_attempts(bs);
    return write_record(bs, &nr);
}
