/*
 * storage.c: the storage stack of `eota device` (storage.h): the layers
 * chosen from the config, and on top the detail of a failure in words.
 */
#include "storage.h"

#include <stdio.h>
#include <string.h>

/* The top of the stack forwards every call to the layers below; only the
 * detail is its own: the layers' sentence, with the boot state's status
 * named when it was the one that failed ("boot state: cannot prepare the
 * slot (EIO)"), composed when the engine asks for it. */
static int top_begin(void *ctx, const eota_begin_info *info)
{
    eota_storage *st = ctx;
    st->refused = st->slots->read_only;
    if (st->refused)
        return EOTA_EPREPARE;
    return st->top.ops->begin(st->top.ctx, info);
}

static int top_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_storage *st = ctx;
    return st->top.ops->write(st->top.ctx, data, len, taken);
}

static int top_end(void *ctx)
{
    eota_storage *st = ctx;
    return st->top.ops->end(st->top.ctx);
}

static void top_abort(void *ctx)
{
    eota_storage *st = ctx;
    st->top.ops->abort(st->top.ctx);
}

static void top_detail(void *ctx, eota_backend_detail *out)
{
    eota_storage *st = ctx;
    out->why = NULL;
    out->code = 0;
    if (st->refused) {
        snprintf(st->why, sizeof st->why, "the state directory is read-only: updates are off until it is writable");
        out->why = st->why;
        return;
    }
    if (st->top.ops->detail)
        st->top.ops->detail(st->top.ctx, out);
    int boot = eota_slotstore_boot_error(&st->store);
    if (boot) {
        snprintf(st->why, sizeof st->why, "%s (%s)", out->why ? out->why : "", eota_status_name(boot));
        out->why = st->why;
    }
}

static const eota_backend_ops top_ops = {top_begin, top_write, top_end, top_abort, top_detail};

/* The slot store over the slot files, the bottom of the stack. */
static eota_backend slot_store(eota_storage *st, eota_slots *slots, uint32_t slot_size)
{
    char a[EOTA_FILESTORE_PATH_MAX], b[EOTA_FILESTORE_PATH_MAX];
    eota_slots_path(slots, 'a', a, sizeof a);
    eota_slots_path(slots, 'b', b, sizeof b);
    (void)eota_filestore_init(&st->files, a, b, slot_size); /* the paths fit */
    eota_slotstore_config c;
    memset(&c, 0, sizeof c);
    c.bs = &slots->bs;
    c.medium = eota_filestore_medium(&st->files);
    c.crc32 = eota_filestore_crc32;
    c.size_is_bound = 1; /* the web upload announces the form's length */
    (void)eota_slotstore_init(&st->store, &c); /* a complete config */
    return eota_slotstore_seam(&st->store);
}

eota_backend eota_storage_stack(eota_storage *st, eota_slots *slots, const eota_config *cfg)
{
    memset(st, 0, sizeof *st);
    eota_backend b = slot_store(st, slots, cfg->slot_size);
    b = eota_sig_stack_wrap(&st->sig, b, slots, cfg); /* signature check (sign/sig_stack.h) */
    if (cfg->gzip) {
        eota_gzip_layer_init(&st->gzip, b);
        b = eota_gzip_layer_seam(&st->gzip);
    }
    if (cfg->simulate.fail_at != EOTA_SIM_FAIL_NONE) {
        eota_sim_fail_init(&st->fail, b, &cfg->simulate);
        b = eota_sim_fail_seam(&st->fail);
    }
    if (cfg->simulate.flash_write_speed) {
        eota_sim_speed_init(&st->speed, b, cfg->simulate.flash_write_speed);
        b = eota_sim_speed_seam(&st->speed);
    }
    st->top = b;
    st->slots = slots;
    st->backend.ops = &top_ops;
    st->backend.ctx = st;
    st->backend.caps = b.caps;
    return st->backend;
}
