/*
 * sim_layers.c: the emulated flash speed and the injected failures of
 * `simulate:` as backend layers (sim_layers.h).
 */
#include "sim_layers.h"

#include <string.h>

#include "eota/posix.h"

/* Both layers' structs start with their inner backend: what a layer does
 * not change goes straight to it. */
static int inner_end(void *ctx)
{
    const eota_backend *in = ctx;
    return in->ops->end(in->ctx);
}

static void inner_abort(void *ctx)
{
    const eota_backend *in = ctx;
    in->ops->abort(in->ctx);
}

static void inner_detail(void *ctx, eota_backend_detail *out)
{
    const eota_backend *in = ctx;
    if (in->ops->detail)
        in->ops->detail(in->ctx, out);
}

/* ---------------- flash speed ---------------- */

/* How much of len the emulated flash can take now. It works only while it
 * has data: time spent waiting for the network is not banked as write
 * credit, so a block arriving after an idle gap takes len / speed to be
 * written, as on a chip. */
static size_t speed_can_take(eota_sim_speed *s, size_t len)
{
    uint64_t t = s->now_ms();
    if (!s->busy) {
        s->bucket_ms = t;
        s->tokens = 0;
    }
    s->tokens += (t - s->bucket_ms) * s->bytes_per_s / 1000;
    s->bucket_ms = t;
    size_t n = len > s->tokens ? (size_t)s->tokens : len;
    s->tokens -= n;
    s->busy = n < len;
    return n;
}

static int speed_begin(void *ctx, const eota_begin_info *info)
{
    eota_sim_speed *s = ctx;
    s->bucket_ms = s->now_ms();
    s->tokens = 0;
    s->busy = 0;
    return s->inner.ops->begin(s->inner.ctx, info);
}

static int speed_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_sim_speed *s = ctx;
    *taken = 0;
    if (s->bytes_per_s) {
        size_t n = speed_can_take(s, len);
        if (n == 0)
            return EOTA_OK;
        len = n;
    }
    int st = s->inner.ops->write(s->inner.ctx, data, len, taken);
    if (st == EOTA_OK && *taken < len && s->bytes_per_s)
        s->tokens += len - *taken; /* not written: the credit stays */
    return st;
}

static const eota_backend_ops speed_ops = {speed_begin, speed_write, inner_end, inner_abort, inner_detail};

void eota_sim_speed_init(eota_sim_speed *s, eota_backend inner, uint64_t bytes_per_s)
{
    memset(s, 0, sizeof *s);
    s->inner = inner;
    s->bytes_per_s = bytes_per_s;
    s->now_ms = eota_posix_now_ms64;
}

eota_backend eota_sim_speed_seam(eota_sim_speed *s)
{
    eota_backend b = {&speed_ops, s, s->inner.caps};
    return b;
}

/* ---------------- injected failures ---------------- */

static int injected(eota_sim_fail *f, int status, const char *why)
{
    f->why = why;
    return status;
}

static int fail_begin(void *ctx, const eota_begin_info *info)
{
    eota_sim_fail *f = ctx;
    f->why = NULL;
    f->taken = 0;
    if (f->at == EOTA_SIM_FAIL_PREPARE)
        return injected(f, EOTA_EPREPARE, "simulated failure at prepare");
    return f->inner.ops->begin(f->inner.ctx, info);
}

static int fail_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_sim_fail *f = ctx;
    *taken = 0;
    if (f->at == EOTA_SIM_FAIL_WRITE && (!f->has_after || f->taken + len > f->after))
        return injected(f, EOTA_EWRITE, "simulated failure while writing");
    int st = f->inner.ops->write(f->inner.ctx, data, len, taken);
    if (st == EOTA_OK)
        f->taken += (uint32_t)*taken;
    return st;
}

static int fail_end(void *ctx)
{
    eota_sim_fail *f = ctx;
    if (f->at == EOTA_SIM_FAIL_END)
        return injected(f, EOTA_EVERIFY, "simulated failure at end");
    return f->inner.ops->end(f->inner.ctx);
}

static void fail_detail(void *ctx, eota_backend_detail *out)
{
    eota_sim_fail *f = ctx;
    if (!f->why) {
        inner_detail(ctx, out);
        return;
    }
    out->why = f->why;
    out->code = f->code;
}

static const eota_backend_ops fail_ops = {fail_begin, fail_write, fail_end, inner_abort, fail_detail};

void eota_sim_fail_init(eota_sim_fail *f, eota_backend inner, const eota_simulate_config *sim)
{
    memset(f, 0, sizeof *f);
    f->inner = inner;
    f->at = sim->fail_at;
    f->code = sim->fail_code;
    f->has_after = sim->has_fail_after_bytes;
    f->after = sim->fail_after_bytes;
}

eota_backend eota_sim_fail_seam(eota_sim_fail *f)
{
    eota_backend b = {&fail_ops, f, f->inner.caps};
    return b;
}
