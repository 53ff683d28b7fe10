/*
 * slotstore.c: the install path of an image into the inactive slot, over a
 * medium (eota/slotstore.h): the checks, the boot state's prepare and
 * install, the image's CRC-32, and a detail for every failure.
 */
#include "eota/slotstore.h"

#include <string.h>

#include "eota/crc32.h"
#include "eota/protocol.h"
#include "text.h"

enum { PH_IDLE = 0, PH_WRITING = 1 };

/* Detail sentences go through EOTA_LOG_TEXT: NULL in a build without log
 * text (the status still says what failed). */
#define TOO_BIG EOTA_LOG_TEXT("image larger than the slot")

static int say(eota_slotstore *s, int status, const char *why)
{
    s->why = why;
    return status;
}

/* The boot state refused: the sentence says which step; its own status is
 * kept for eota_slotstore_boot_error (the core has no names to spare). */
static int boot_failed(eota_slotstore *s, int status, const char *why, int st)
{
    s->boot_error = st;
    return say(s, status, why);
}

/* The medium failed: its status, in its own words. */
static int medium_failed(eota_slotstore *s, int st)
{
    const eota_slot_medium *m = &s->cfg.medium;
    return say(s, st, m->ops->why ? m->ops->why(m->ctx) : NULL);
}

static void stop(eota_slotstore *s)
{
    if (s->phase != PH_IDLE)
        s->cfg.medium.ops->discard(s->cfg.medium.ctx);
    s->phase = PH_IDLE;
}

/* What can be refused before anything is written; *slot the target. */
static int check_begin(eota_slotstore *s, const eota_begin_info *info, int *slot)
{
    const eota_slot_medium *m = &s->cfg.medium;
    if (!info)
        return say(s, EOTA_EINVAL, NULL);
    if (info->ota_type != EOTA_OTA_TYPE_APP)
        return say(s, EOTA_EUNSUPPORTED, EOTA_LOG_TEXT("only application images"));
    *slot = eota_bootstate_target(s->cfg.bs);
    s->capacity = m->ops->capacity(m->ctx, *slot);
    if (s->capacity == 0)
        return say(s, EOTA_ENOSLOT, NULL);
    /* gzip shrinks, so the wire size only bounds a raw image */
    if (!info->gzip_agreed && info->size > s->capacity)
        return say(s, EOTA_ETOOBIG, TOO_BIG);
    return EOTA_OK;
}

static int ss_begin(void *ctx, const eota_begin_info *info)
{
    eota_slotstore *s = ctx;
    const eota_slot_medium *m = &s->cfg.medium;
    int slot = -1;
    stop(s);
    s->why = NULL;
    s->boot_error = EOTA_OK;
    s->slot = -1;
    int st = check_begin(s, info, &slot);
    if (st != EOTA_OK)
        return st;
    /* The boot state says first that the target holds nothing bootable, so
     * that no crash from here on can boot a half-written slot. */
    st = eota_bootstate_prepare(s->cfg.bs, slot);
    if (st != EOTA_OK)
        return boot_failed(s, EOTA_EPREPARE, EOTA_LOG_TEXT("boot state: cannot prepare the slot"), st);
    st = m->ops->open(m->ctx, slot);
    if (st != EOTA_OK)
        return medium_failed(s, st);
    s->slot = slot;
    s->size = info->size;
    s->size_unknown = info->gzip_agreed ? 1u : 0u;
    s->taken = 0;
    s->crc = 0;
    s->phase = PH_WRITING;
    return EOTA_OK;
}

static int ss_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_slotstore *s = ctx;
    const eota_slot_medium *m = &s->cfg.medium;
    if (!taken)
        return EOTA_EINVAL;
    *taken = 0;
    if (s->phase != PH_WRITING || (!data && len))
        return say(s, EOTA_EINVAL, NULL);
    if (len > (size_t)(s->capacity - s->taken))
        return say(s, EOTA_ETOOBIG, TOO_BIG);
    if (!s->size_unknown && len > (size_t)(s->size - s->taken))
        return say(s, EOTA_EINVAL, NULL);
    size_t n = 0;
    int st = m->ops->write(m->ctx, data, len, &n);
    if (st != EOTA_OK)
        return medium_failed(s, st);
    if (n > len)
        n = len;
    s->crc = s->cfg.crc32(s->crc, data, n);
    s->taken += (uint32_t)n;
    *taken = n;
    return EOTA_OK;
}

static int ss_end(void *ctx)
{
    eota_slotstore *s = ctx;
    const eota_slot_medium *m = &s->cfg.medium;
    if (s->phase != PH_WRITING)
        return say(s, EOTA_EINVAL, NULL);
    if (!s->size_unknown && !s->cfg.size_is_bound && s->taken != s->size)
        return say(s, EOTA_EINVAL, NULL);
    int st = m->ops->finish(m->ctx);
    if (st == EOTA_AGAIN)
        return st;
    if (st == EOTA_OK && m->ops->verify)
        st = m->ops->verify(m->ctx, s->taken, s->crc);
    if (st != EOTA_OK)
        return medium_failed(s, st);
    st = eota_bootstate_install(s->cfg.bs, s->slot, s->taken, s->crc);
    if (st != EOTA_OK)
        return boot_failed(s, EOTA_ECOMMIT, EOTA_LOG_TEXT("boot state: cannot install the image"), st);
    s->phase = PH_IDLE;
    s->installs++;
    return EOTA_OK;
}

static void ss_abort(void *ctx) { stop(ctx); }

static void ss_detail(void *ctx, eota_backend_detail *out)
{
    const eota_slotstore *s = ctx;
    out->why = s->why;
    out->code = 0;
}

static const eota_backend_ops slotstore_ops = {ss_begin, ss_write, ss_end, ss_abort, ss_detail};

int eota_slotstore_init(eota_slotstore *s, const eota_slotstore_config *cfg)
{
    if (!s || !cfg || !cfg->bs)
        return EOTA_EINVAL;
    const eota_slot_medium_ops *o = cfg->medium.ops;
    if (!o || !o->capacity || !o->open || !o->write || !o->finish || !o->discard)
        return EOTA_EINVAL;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.crc32)
        s->cfg.crc32 = eota_crc32;
    s->slot = -1;
    return EOTA_OK;
}

eota_backend eota_slotstore_seam(eota_slotstore *s)
{
    eota_backend b = {&slotstore_ops, s, 0};
    return b;
}

int eota_slotstore_slot(const eota_slotstore *s) { return s->slot; }

unsigned eota_slotstore_installs(const eota_slotstore *s) { return s->installs; }

int eota_slotstore_boot_error(const eota_slotstore *s) { return s->boot_error; }
