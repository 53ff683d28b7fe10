/*
 * test_powerfail.c: the power-cut sweep (issue 5). A device model on the
 * simulated NOR flash: a bootloader (eota_boot: count, pick, trial,
 * rollback, safe mode) and an application (the real OTA engine eota_server
 * writing the inactive slot through the flash backend, confirmation, the
 * safe-mode request), played through scenarios:
 *
 *   update    upload a new image, its first boot, its confirmation
 *   revert    upload, first boot, a reboot without confirmation (rollback),
 *             the old image confirmed
 *   trialup   upload, first boot, an upload during the trial, the next
 *             image's first boot, a reboot without confirmation
 *   safemode  10 unconfirmed boots, the safe-mode boot, a normal boot, a
 *             confirmation; a request, the requested safe-mode boot, ...
 *   fresh     on a blank flash: the first upload, its trial (no image to
 *             go back to: it stays on trial), its confirmation
 *   rebuild   OLDER and OLD installed, then the boot state damaged (both
 *             copies erased, garbage in one): the rebuild from the slots
 *             (as `eota device` does from the records beside its slot
 *             files, src/app/slots_check.c: the older image valid and
 *             active, the newest new) through eota_bootstate_restore, the
 *             newest image's trial boot, its confirmation; after a cut,
 *             the device rebuilds again when no record reads
 *
 * Each scenario is first played without a cut (the reference run): every
 * flash operation is numbered, and each one that changes the boot state
 * (a record's program, a counter unit) is tied to a transition of an
 * independent model of the specification (docs/bootstate.md), written here
 * from the spec and not from the code. Then, for every flash operation k of
 * the scenario and each kind of cut (before k, after k, k torn at several
 * points, erases torn into garbage or not), the scenario is replayed from
 * the same starting flash until the power goes at k; the device reboots, and:
 *   - a valid image boots, identified by the SHA-256 of the slot it runs:
 *     the old one or the new one (the one the model says), never a mix;
 *   - the decision (slot, trial, rollback, safe mode, attempts) and the
 *     state left on flash (every slot's state, the active slot, the count,
 *     the request) are the model's after the operations that completed (for
 *     a torn one: before or after it);
 *   - a following upload succeeds, boots on trial, is confirmed.
 * The flash must never see a NOR rule broken. Geometries: 4 KiB sectors
 * align 4 erased FF; 64 KiB align 16 erased 00; mixed 4/16/64 KiB align 1
 * erased FF; mixed align 32 erased 00; 8 KiB align 8 erased 00.
 *
 * Last line: "powerfail: N cuts, F failures"; exit status non-zero when F > 0
 * (or when a full run makes fewer than 10000 cuts).
 * EOTA_POWERFAIL_VERBOSE=1 prints each scenario's counts;
 * EOTA_POWERFAIL_STRIDE=n runs every n-th cut only (16 under valgrind).
 */
/* White-box: reads the boot state's and safe mode's private fields (eota/private_access.h). */
#define EOTA_ALLOW_PRIVATE_ACCESS

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "eota/bootstate.h"
#include "eota/crc32.h"
#include "eota/flash_backend.h"
#include "eota/posix.h"
#include "eota/safemode.h"
#include "eota/server.h"
#include "simflash.h"
#include "fake.h"

#define KIB 1024u
#define NIMG 5
enum { IMG_OLDER = 0, IMG_OLD = 1, IMG_NEW = 2, IMG_NEWER = 3, IMG_NEXT = 4 };

static unsigned long total_cuts, total_failures;
static int verbose;
static unsigned long stride = 1; /* sweep every stride-th cut only */

/* ------------------------------------------------------------------ */
/* geometries                                                          */

typedef struct gcase {
    const char *name;
    eota_simflash_geometry g;
    uint32_t copy[2];
    eota_flash_region slot[2];
    uint32_t img_size[NIMG];
    size_t stage;
} gcase;

static gcase gcases[5];

static void init_gcases(void)
{
    memset(gcases, 0, sizeof gcases);
    gcase *c = &gcases[0];
    c->name = "4k/align4/ff";
    c->g = eota_simflash_uniform(10, 4 * KIB, 4, 0xFF);
    c->copy[1] = 4 * KIB;
    c->slot[0] = (eota_flash_region){8 * KIB, 16 * KIB};
    c->slot[1] = (eota_flash_region){24 * KIB, 16 * KIB};
    uint32_t s0[NIMG] = {9001, 11000, 13333, 12001, 10007};
    memcpy(c->img_size, s0, sizeof s0);
    c->stage = 256;

    c = &gcases[1];
    c->name = "64k/align16/00";
    c->g = eota_simflash_uniform(6, 64 * KIB, 16, 0x00);
    c->copy[1] = 64 * KIB;
    c->slot[0] = (eota_flash_region){128 * KIB, 128 * KIB};
    c->slot[1] = (eota_flash_region){256 * KIB, 128 * KIB};
    uint32_t s1[NIMG] = {70001, 67000, 72013, 69001, 66600};
    memcpy(c->img_size, s1, sizeof s1);
    c->stage = 2048;

    /* mixed: 4 x 4 KiB, 2 x 16 KiB, 1 x 64 KiB; slot 0 = 4+4+16 KiB,
     * slot 1 = 16+64 KiB */
    for (int i = 2; i <= 3; i++) {
        c = &gcases[i];
        c->g.runs[0] = (eota_simflash_run){4, 4 * KIB};
        c->g.runs[1] = (eota_simflash_run){2, 16 * KIB};
        c->g.runs[2] = (eota_simflash_run){1, 64 * KIB};
        c->copy[1] = 4 * KIB;
        c->slot[0] = (eota_flash_region){8 * KIB, 24 * KIB};
        c->slot[1] = (eota_flash_region){32 * KIB, 80 * KIB};
        uint32_t s2[NIMG] = {18001, 20000, 23005, 21011, 19999};
        memcpy(c->img_size, s2, sizeof s2);
    }
    gcases[2].name = "mixed/align1/ff";
    gcases[2].g.write_align = 1;
    gcases[2].g.erased = 0xFF;
    gcases[2].stage = 512;
    gcases[3].name = "mixed/align32/00";
    gcases[3].g.write_align = 32;
    gcases[3].g.erased = 0x00;
    gcases[3].stage = 512;

    c = &gcases[4];
    c->name = "8k/align8/00";
    c->g = eota_simflash_uniform(8, 8 * KIB, 8, 0x00);
    c->copy[0] = 8 * KIB; /* copies need not be first, nor in order */
    c->copy[1] = 0;
    c->slot[0] = (eota_flash_region){16 * KIB, 24 * KIB};
    c->slot[1] = (eota_flash_region){40 * KIB, 24 * KIB};
    uint32_t s4[NIMG] = {20000, 17003, 22222, 19001, 16385};
    memcpy(c->img_size, s4, sizeof s4);
    c->stage = 512;
}

/* ------------------------------------------------------------------ */
/* the specification model                                             */

typedef struct model {
    uint8_t st[2];   /* eota_slot_state */
    int8_t img[2];   /* image in the slot, -1 for none */
    int8_t active;
    uint32_t count;
    uint8_t req;
    uint8_t has_rec; /* a record exists (a blank flash has none) */
} model;

typedef struct mdec {
    int slot;
    int safe;
    int requested;
    int trial;
    int rolled;
    uint32_t attempts;
} mdec;

static int m_bootable(uint8_t st) { return st == EOTA_SLOT_VALID || st == EOTA_SLOT_TRIAL; }

/* A boot from state m (before its tick): the decision, the state after the
 * tick and the record, and whether a record is written. */
static int m_boot(const model *m, const eota_safe_mode_config *c, model *o, mdec *d)
{
    memset(d, 0, sizeof *d);
    *o = *m;
    d->attempts = m->count;
    if (m->has_rec)
        o->count = m->count + 1; /* the tick (none without a record) */
    uint32_t base = m->count + 1;
    int changed = 0;
    /* an image on trial reached a boot unconfirmed: back to a valid other */
    for (int s = 0; s < 2; s++) {
        if (o->st[s] == EOTA_SLOT_TRIAL && o->st[1 - s] == EOTA_SLOT_VALID) {
            o->st[s] = EOTA_SLOT_INVALID;
            o->active = (int8_t)(1 - s);
            d->rolled = 1;
            changed = 1;
        }
    }
    if (o->req) {
        o->req = 0;
        changed = 1;
        d->requested = 1;
    }
    if (!c->disabled && (d->requested || d->attempts >= c->num_attempts)) {
        d->safe = 1;
        base = 0;
        changed = 1;
    }
    d->requested = d->safe && d->requested;
    if (!d->safe) {
        int n = -1;
        for (int s = 0; s < 2; s++)
            if (o->st[s] == EOTA_SLOT_NEW && (n < 0 || o->img[s] > o->img[n]))
                n = s;
        if (n >= 0) {
            o->st[n] = EOTA_SLOT_TRIAL;
            o->active = (int8_t)n;
            base = 1;
            changed = 1;
        }
    }
    d->slot = -1;
    if (o->active >= 0 && m_bootable(o->st[o->active])) {
        d->slot = o->active;
    } else {
        for (int s = 0; s < 2; s++)
            if (o->st[s] == EOTA_SLOT_VALID && (d->slot < 0 || o->img[s] > o->img[d->slot]))
                d->slot = s;
        if (d->slot >= 0) {
            o->active = (int8_t)d->slot;
            changed = 1;
        }
    }
    d->trial = d->slot >= 0 && o->st[d->slot] == EOTA_SLOT_TRIAL;
    if (changed) {
        o->count = base;
        o->has_rec = 1;
    }
    return changed;
}

static int m_target(const model *m) { return m->active >= 0 ? 1 - m->active : (m_bootable(m->st[0]) ? 1 : 0); }

/* Before an upload into slot: does a record get written, and the state. */
static int m_prepare(const model *m, int slot, model *o)
{
    *o = *m;
    int changed = 0;
    if (o->st[slot] == EOTA_SLOT_NEW || o->st[slot] == EOTA_SLOT_TRIAL || o->st[slot] == EOTA_SLOT_VALID) {
        o->st[slot] = EOTA_SLOT_EMPTY;
        o->img[slot] = -1;
        changed = 1;
    }
    if (o->active >= 0 && o->st[o->active] == EOTA_SLOT_TRIAL) {
        o->st[o->active] = EOTA_SLOT_VALID;
        o->count = 0;
        changed = 1;
    }
    if (changed)
        o->has_rec = 1;
    return changed;
}

static void m_install(model *m, int slot, int img)
{
    m->st[slot] = EOTA_SLOT_NEW;
    m->img[slot] = (int8_t)img;
    m->count = 0;
    m->has_rec = 1;
}

static int m_confirm(const model *m, model *o)
{
    *o = *m;
    int changed = o->count != 0;
    if (o->active >= 0 && o->st[o->active] == EOTA_SLOT_TRIAL) {
        o->st[o->active] = EOTA_SLOT_VALID;
        changed = 1;
    }
    o->count = 0;
    return changed;
}

static int m_request(const model *m, model *o)
{
    *o = *m;
    o->req = 1;
    o->has_rec = 1;
    return !m->req;
}

static void m_describe(const model *m, char *buf, size_t n)
{
    snprintf(buf, n, "slot0=%s(img %d) slot1=%s(img %d) active=%d count=%u req=%d rec=%d",
             eota_slot_state_name(m->st[0]), m->img[0], eota_slot_state_name(m->st[1]), m->img[1],
             m->active, m->count, m->req, m->has_rec);
}

/* ------------------------------------------------------------------ */
/* the device                                                          */

typedef struct image {
    uint8_t *data;
    uint32_t len;
    uint8_t sha[32];
} image;

#define MAX_RAW 4096

typedef struct rawop {
    unsigned long op;
    uint8_t tick; /* 1 a counter unit (BOOT or CLEAR), 0 a record commit */
} rawop;

typedef struct dev {
    const gcase *gc;
    eota_simflash sf;
    eota_simflash base;       /* the starting flash of every run */
    eota_bootstate_config cfg;
    eota_bootstate bs;
    eota_safe_mode_config smc;
    eota_flash_backend fb;
    uint8_t stage[4096];
    eota_safe_mode app;       /* the application's safe-mode timers */
    image img[NIMG];
    uint32_t rec_area;
    /* engine */
    eota_server srv;
    eota_server_config scfg;
    uint8_t xfer[4096];
    fake_conn conn;
    fake_clock clock;
    fake_random random;
    eota_posix_hash hash;
    /* reference run */
    int recording;
    rawop raw[MAX_RAW];
    int nraw;
} dev;

static void on_op(void *ctx, int kind, uint32_t addr, uint32_t len, unsigned long index)
{
    (void)len;
    dev *v = ctx;
    if (!v->recording || kind != EOTA_SIMFLASH_OP_PROGRAM || v->nraw >= MAX_RAW)
        return;
    for (int i = 0; i < 2; i++) {
        uint32_t c = v->gc->copy[i];
        if (addr == c) {
            v->raw[v->nraw++] = (rawop){index, 0};
            return;
        }
        if (addr >= c + v->rec_area && addr < c + v->bs.copy_size[i]) {
            v->raw[v->nraw++] = (rawop){index, 1};
            return;
        }
    }
}

static int dev_open(dev *v)
{
    return eota_bootstate_open(&v->bs, &v->cfg);
}

/* Upload image i through the engine (a stock-like client, protocol 2, no
 * password). 1 when committed (REBOOT reported). */
static int dev_upload(dev *v, int i)
{
    const image *im = &v->img[i];
    if (dev_open(v) != EOTA_OK)
        return 0;
    if (eota_flash_backend_init(&v->fb, &v->bs, v->stage, v->gc->stage) != EOTA_OK)
        return 0;
    memset(&v->scfg, 0, sizeof v->scfg);
    v->scfg.transport = &fake_transport;
    v->scfg.clock = fake_clock_seam(&v->clock);
    v->scfg.random = fake_random_seam(&v->random);
    v->scfg.hash = eota_posix_hash_seam(&v->hash);
    v->scfg.backend = eota_flash_backend_seam(&v->fb);
    v->scfg.version = 2;
    if (eota_server_init(&v->srv, &v->scfg, v->xfer, sizeof v->xfer) != EOTA_OK)
        return 0;
    fake_conn_free(&v->conn);
    fake_conn_init(&v->conn);
    fake_conn_push_hex(&v->conn, "6c 26 f7 5c 45 00");
    uint8_t sz[4] = {(uint8_t)(im->len >> 24), (uint8_t)(im->len >> 16), (uint8_t)(im->len >> 8),
                     (uint8_t)im->len};
    fake_conn_push(&v->conn, sz, 4);
    char m[33];
    md5_hex(m, im->data, im->len);
    fake_conn_push(&v->conn, m, 32);
    fake_conn_push(&v->conn, im->data, im->len);
    fake_conn_push_hex(&v->conn, "00");
    v->conn.eof = 1;
    if (eota_server_accept(&v->srv, &v->conn) != EOTA_OK)
        return 0;
    int reboot = 0;
    for (int n = 0; n < 1000000 && eota_server_busy(&v->srv); n++) {
        if (eota_server_poll(&v->srv) == EOTA_SERVER_REBOOT)
            reboot = 1;
        v->clock.now += 1;
    }
    if (eota_server_poll(&v->srv) == EOTA_SERVER_REBOOT)
        reboot = 1;
    return reboot;
}

/* The bootloader. The application that follows starts its safe-mode
 * timers with the decision. */
static int dev_boot(dev *v, eota_boot_decision *d)
{
    memset(d, 0, sizeof *d);
    d->slot = EOTA_BOOT_NO_SLOT;
    int st = dev_open(v) == EOTA_OK ? eota_boot(&v->bs, &v->smc, d) : EOTA_EIO;
    v->clock.now += 1000;
    eota_safe_mode_begin(&v->app, &v->bs, &v->smc, d, v->clock.now);
    return st;
}

/* The application runs past boot_is_good_after: its safe-mode timer
 * confirms the boot. */
static int dev_confirm(dev *v)
{
    if (eota_safe_mode_poll(&v->app, v->clock.now + v->smc.boot_is_good_after_ms - 1) != EOTA_SAFE_MODE_NOTHING)
        return EOTA_EINVAL;
    v->clock.now += v->smc.boot_is_good_after_ms;
    if (eota_safe_mode_poll(&v->app, v->clock.now) != EOTA_SAFE_MODE_CONFIRMED)
        return EOTA_EINVAL;
    return v->app.last_status;
}

/* The safe-mode button. */
static int dev_request(dev *v) { return eota_safe_mode_request(&v->app); }

static void rebuilt_slot(const dev *v, eota_bootrec *r, int slot, int img, uint8_t state, uint32_t seq)
{
    r->slot[slot].state = state;
    r->slot[slot].image_seq = seq;
    r->slot[slot].size = v->img[img].len;
    r->slot[slot].crc = eota_crc32(0, v->img[img].data, v->img[img].len);
}

/* The rebuild of a lost boot state from what the slots hold (the records
 * beside `eota device`'s slot files): OLDER in slot 0, confirmed; OLD in
 * slot 1, the newest, never confirmed. Only when no record reads. */
static int dev_rebuild(dev *v)
{
    if (dev_open(v) != EOTA_OK)
        return EOTA_EIO;
    if (eota_bootstate_seq(&v->bs) != 0)
        return EOTA_OK;
    eota_bootrec r;
    memset(&r, 0, sizeof r);
    rebuilt_slot(v, &r, 0, IMG_OLDER, EOTA_SLOT_VALID, 1);
    rebuilt_slot(v, &r, 1, IMG_OLD, EOTA_SLOT_NEW, 2);
    r.active = 0;
    return eota_bootstate_restore(&v->bs, &r);
}

/* The state that rebuild writes, in model terms. */
static const model rebuilt_model = {{EOTA_SLOT_VALID, EOTA_SLOT_NEW}, {IMG_OLDER, IMG_OLD}, 0, 0, 0, 1};

/* Which known image the slot holds, by the SHA-256 of its bytes (the
 * length the boot state gives); -1 for none of them (a mix). */
static int identify(dev *v, int slot)
{
    eota_slot_info si;
    eota_bootstate_slot(&v->bs, slot, &si);
    if (si.size == 0 || si.size > v->gc->slot[slot].size)
        return -1;
    uint8_t sha[32];
    if (eota_posix_digest(EOTA_HASH_SHA256, v->sf.mem + v->gc->slot[slot].addr, si.size, sha) != EOTA_OK)
        return -1;
    for (int i = 0; i < NIMG; i++)
        if (v->img[i].len == si.size && memcmp(sha, v->img[i].sha, 32) == 0)
            return i;
    return -1;
}

/* The state read back from flash, in model terms (images identified). */
static void real_model(dev *v, model *m)
{
    memset(m, 0, sizeof *m);
    for (int s = 0; s < 2; s++) {
        m->st[s] = (uint8_t)eota_bootstate_slot(&v->bs, s, NULL);
        m->img[s] = (int8_t)(m->st[s] == EOTA_SLOT_EMPTY || m->st[s] == EOTA_SLOT_INVALID ? -1 : identify(v, s));
    }
    m->active = (int8_t)eota_bootstate_active(&v->bs);
    m->count = eota_bootstate_attempts(&v->bs);
    m->req = (uint8_t)eota_bootstate_safe_mode_requested(&v->bs);
    m->has_rec = eota_bootstate_seq(&v->bs) != 0;
}

/* Equal on what matters: states, the images of bootable/new slots, the
 * active slot, the count and the request. */
static int model_eq(const model *a, const model *b)
{
    for (int s = 0; s < 2; s++) {
        if (a->st[s] != b->st[s])
            return 0;
        if (a->st[s] != EOTA_SLOT_EMPTY && a->st[s] != EOTA_SLOT_INVALID && a->img[s] != b->img[s])
            return 0;
    }
    return a->active == b->active && a->count == b->count && a->req == b->req && a->has_rec == b->has_rec;
}

static int dec_eq(const eota_boot_decision *d, const mdec *e)
{
    return d->slot == e->slot && d->safe_mode == e->safe && d->requested == e->requested &&
           d->trial == e->trial && d->rolled_back == e->rolled && d->attempts == e->attempts &&
           d->status == EOTA_OK;
}

/* ------------------------------------------------------------------ */
/* scenarios                                                           */

enum { S_UPLOAD, S_BOOT, S_CONFIRM, S_REQUEST, S_REBUILD };

typedef struct step {
    int kind;
    int img; /* S_UPLOAD */
} step;

typedef struct scenario {
    const char *name;
    const step *steps;
    int nsteps;
    int blank; /* BASE_*: where it starts */
} scenario;

static const step sc_update[] = {{S_UPLOAD, IMG_NEW}, {S_BOOT, 0}, {S_CONFIRM, 0}, {S_BOOT, 0}};
static const step sc_revert[] = {{S_UPLOAD, IMG_NEW}, {S_BOOT, 0}, {S_BOOT, 0}, {S_CONFIRM, 0}, {S_BOOT, 0}};
static const step sc_trialup[] = {{S_UPLOAD, IMG_NEW}, {S_BOOT, 0}, {S_UPLOAD, IMG_NEWER},
                                  {S_BOOT, 0},           {S_BOOT, 0}, {S_CONFIRM, 0}};
static const step sc_safemode[] = {
    {S_BOOT, 0}, {S_BOOT, 0}, {S_BOOT, 0}, {S_BOOT, 0},    {S_BOOT, 0},    {S_BOOT, 0},
    {S_BOOT, 0}, {S_BOOT, 0}, {S_BOOT, 0}, {S_BOOT, 0},    /* 10 unconfirmed boots */
    {S_BOOT, 0},                                           /* the 11th: safe mode */
    {S_BOOT, 0}, {S_CONFIRM, 0},                           /* normal again, confirmed */
    {S_BOOT, 0}, {S_BOOT, 0}, {S_REQUEST, 0}, {S_BOOT, 0}, /* requested safe mode */
    {S_BOOT, 0}, {S_CONFIRM, 0}};

static const step sc_fresh[] = {{S_UPLOAD, IMG_NEW}, {S_BOOT, 0}, {S_BOOT, 0}, {S_CONFIRM, 0}, {S_BOOT, 0}};
static const step sc_rebuild[] = {{S_REBUILD, 0}, {S_BOOT, 0}, {S_CONFIRM, 0}, {S_BOOT, 0}, {S_BOOT, 0}};

/* Where a scenario starts: OLDER + OLD valid, a blank flash, or OLDER +
 * OLD in the slots with the boot state lost. */
enum { BASE_OLD = 0, BASE_BLANK = 1, BASE_LOST = 2 };

#define SC(a, blank) {#a, sc_##a, (int)(sizeof sc_##a / sizeof sc_##a[0]), blank}
static const scenario scenarios[] = {SC(update, BASE_OLD),   SC(revert, BASE_OLD), SC(trialup, BASE_OLD),
                                     SC(safemode, BASE_OLD), SC(fresh, BASE_BLANK), SC(rebuild, BASE_LOST)};

/* The reference run's result: the events that change the boot state, the
 * flash op each one completes at, and the model after each. */
#define MAX_EV 256
typedef struct reference {
    unsigned long ops;         /* flash program/erase calls in the scenario */
    int nev;
    unsigned long ev_op[MAX_EV];
    model after[MAX_EV + 1];   /* after[j]: the model once j events are durable */
} reference;

static int why_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return 0;
}

static void restore_base(dev *v)
{
    eota_simflash_copy(&v->sf, &v->base);
    eota_simflash_power_on(&v->sf);
    v->sf.ops = 0;
    v->sf.violations = 0;
    v->sf.cuts = 0;
}

/* Play the scenario once without a cut, tying each state-changing flash
 * op to a model transition and checking the device against the model after
 * every step. 1 on success. */
static int reference_run(dev *v, const scenario *sc, reference *ref, char *why, size_t wn)
{
    restore_base(v);
    model m;
    dev_open(v);
    real_model(v, &m);
    ref->nev = 0;
    ref->after[0] = m;
    v->recording = 1;
    for (int i = 0; i < sc->nsteps; i++) {
        const step *st = &sc->steps[i];
        v->nraw = 0;
        model o;
        int ok = 1;
        switch (st->kind) {
        case S_UPLOAD: {
            int tgt = m_target(&m);
            int prep = m_prepare(&m, tgt, &o);
            if (!dev_upload(v, st->img))
                return why_fail(why, wn, "step %d: upload failed", i);
            if (v->nraw != prep + 1 || v->raw[v->nraw - 1].tick)
                return why_fail(why, wn, "step %d: upload wrote %d records, expected %d", i, v->nraw, prep + 1);
            if (prep) {
                ref->ev_op[ref->nev] = v->raw[0].op;
                ref->after[++ref->nev] = o;
                m = o;
            }
            m_install(&m, tgt, st->img);
            ref->ev_op[ref->nev] = v->raw[v->nraw - 1].op;
            ref->after[++ref->nev] = m;
            break;
        }
        case S_BOOT: {
            mdec e;
            int rec = m_boot(&m, &v->smc, &o, &e);
            eota_boot_decision d;
            dev_boot(v, &d);
            if (!dec_eq(&d, &e))
                return why_fail(why, wn, "step %d: boot decided slot %d safe %d trial %d rolled %d attempts %u; "
                                "the model: slot %d safe %d trial %d rolled %d attempts %u",
                                i, d.slot, d.safe_mode, d.trial, d.rolled_back, d.attempts, e.slot, e.safe,
                                e.trial, e.rolled, e.attempts);
            int ticks = m.has_rec;
            /* a tick, then a record or (the count cleared alone) a CLEAR unit */
            if (v->nraw != ticks + rec || (ticks && !v->raw[0].tick))
                return why_fail(why, wn, "step %d: boot wrote %d ops, expected %d tick and %d more", i, v->nraw,
                                ticks, rec);
            if (ticks) {
                model t = m;
                t.count++;
                ref->ev_op[ref->nev] = v->raw[0].op;
                ref->after[++ref->nev] = t;
            }
            if (rec) {
                ref->ev_op[ref->nev] = v->raw[ticks].op;
                ref->after[++ref->nev] = o;
            }
            m = o;
            break;
        }
        case S_REBUILD:
            if (dev_rebuild(v) != EOTA_OK)
                return why_fail(why, wn, "step %d: the rebuild failed", i);
            if (v->nraw != 1 || v->raw[0].tick)
                return why_fail(why, wn, "step %d: the rebuild wrote %d ops, expected a record", i, v->nraw);
            ref->ev_op[ref->nev] = v->raw[0].op;
            ref->after[++ref->nev] = rebuilt_model;
            m = rebuilt_model;
            break;
        case S_CONFIRM:
        case S_REQUEST: {
            int rec = st->kind == S_CONFIRM ? m_confirm(&m, &o) : m_request(&m, &o);
            ok = (st->kind == S_CONFIRM ? dev_confirm(v) : dev_request(v)) == EOTA_OK;
            /* confirm: a record (a trial ends) or a CLEAR unit; request: a record */
            if (!ok || v->nraw != rec || (rec && st->kind == S_REQUEST && v->raw[0].tick))
                return why_fail(why, wn, "step %d: wrote %d ops, expected %d", i, v->nraw, rec);
            if (rec) {
                ref->ev_op[ref->nev] = v->raw[0].op;
                ref->after[++ref->nev] = o;
            }
            m = o;
            break;
        }
        default: break;
        }
        if (ref->nev >= MAX_EV - 4)
            return why_fail(why, wn, "too many events");
        model r;
        dev_open(v);
        real_model(v, &r);
        if (!model_eq(&r, &m)) {
            char a[160], b[160];
            m_describe(&r, a, sizeof a);
            m_describe(&m, b, sizeof b);
            return why_fail(why, wn, "step %d: state %s; the model: %s", i, a, b);
        }
    }
    v->recording = 0;
    ref->ops = v->sf.ops;
    if (v->sf.violations)
        return why_fail(why, wn, "NOR rule broken: %s", v->sf.last_violation);
    return 1;
}

/* Play the scenario until the flash dies. */
static void play_until_cut(dev *v, const scenario *sc)
{
    for (int i = 0; i < sc->nsteps && !v->sf.dead; i++) {
        const step *st = &sc->steps[i];
        eota_boot_decision d;
        switch (st->kind) {
        case S_UPLOAD: (void)dev_upload(v, st->img); break;
        case S_BOOT: (void)dev_boot(v, &d); break;
        case S_CONFIRM: (void)dev_confirm(v); break;
        case S_REQUEST: (void)dev_request(v); break;
        case S_REBUILD: (void)dev_rebuild(v); break;
        default: break;
        }
    }
}

/* After the cut: reboot (with a rebuild first when the scenario lost its
 * boot state), check against the candidates, then a following upload, its
 * trial boot and its confirmation. 1 when all is right. */
static int recover(dev *v, const model *const *cand, int ncand, int rebuild, char *why, size_t wn)
{
    eota_boot_decision d;
    if (dev_open(v) != EOTA_OK)
        return why_fail(why, wn, "the boot state does not open");
    if (rebuild && dev_rebuild(v) != EOTA_OK)
        return why_fail(why, wn, "the rebuild failed");
    model pre;
    real_model(v, &pre);
    if (dev_boot(v, &d) != EOTA_OK)
        return why_fail(why, wn, "the boot failed: status %d", d.status);
    int booted = d.slot >= 0 ? identify(v, d.slot) : -1;
    if (d.slot >= 0 && booted < 0)
        return why_fail(why, wn, "slot %d holds no known image (a mix)", d.slot);
    model r;
    real_model(v, &r);
    int matched = 0;
    for (int c = 0; c < ncand && !matched; c++) {
        model o;
        mdec e;
        m_boot(cand[c], &v->smc, &o, &e);
        if (dec_eq(&d, &e) && model_eq(&r, &o) && (e.slot < 0 || o.img[e.slot] == booted))
            matched = 1;
    }
    if (!matched) {
        char a[160], b[160], p[160];
        model o;
        mdec e;
        m_boot(cand[0], &v->smc, &o, &e);
        m_describe(&pre, p, sizeof p);
        m_describe(&r, a, sizeof a);
        m_describe(&o, b, sizeof b);
        return why_fail(why, wn,
                        "found %s; booted slot %d (img %d) safe %d trial %d rolled %d attempts %u -> %s; "
                        "expected slot %d safe %d trial %d rolled %d attempts %u -> %s",
                        p, d.slot, booted, d.safe_mode, d.trial, d.rolled_back, d.attempts, a, e.slot, e.safe,
                        e.trial, e.rolled, e.attempts, b);
    }
    /* a following upload: from the running image (in safe mode or not) */
    if (!dev_upload(v, IMG_NEXT)) {
        eota_server_info info;
        eota_server_get_info(&v->srv, &info);
        return why_fail(why, wn, "the following upload failed (code 0x%02x)", info.error_code);
    }
    int tgt = eota_slotstore_slot(&v->fb.store);
    if (d.slot >= 0 && tgt == d.slot)
        return why_fail(why, wn, "the upload overwrote the running slot");
    if (dev_boot(v, &d) != EOTA_OK || d.slot != tgt || !d.trial || !d.trial_started || d.safe_mode ||
        identify(v, d.slot) != IMG_NEXT)
        return why_fail(why, wn, "after the following upload: slot %d trial %d safe %d img %d", d.slot,
                        d.trial, d.safe_mode, d.slot >= 0 ? identify(v, d.slot) : -1);
    if (dev_confirm(v) != EOTA_OK)
        return why_fail(why, wn, "the confirmation failed");
    if (dev_boot(v, &d) != EOTA_OK || d.slot != tgt || d.trial || d.attempts != 0 || identify(v, d.slot) != IMG_NEXT)
        return why_fail(why, wn, "after the confirmation: slot %d trial %d attempts %u", d.slot, d.trial, d.attempts);
    if (v->sf.violations)
        return why_fail(why, wn, "NOR rule broken: %s", v->sf.last_violation);
    return 1;
}

/* The kinds of cut at each op. */
typedef struct cutkind {
    eota_simflash_cut_mode mode;
    uint16_t tear;
    uint8_t garbage;
    uint8_t half_mask; /* bits of the half-programmed byte that made it; 0 random */
    const char *name;
} cutkind;

/* Torn programs: a prefix of the bytes, then one byte with some of its bits
 * (random, only bit 0, or all but bit 0: the masks that would turn one
 * counter pattern into another if the patterns were badly chosen). Torn
 * erases: a prefix erased, the rest kept or garbage. */
static const cutkind cutkinds[] = {
    {EOTA_SIMFLASH_CUT_BEFORE, 0, 0, 0, "before"},
    {EOTA_SIMFLASH_CUT_AFTER, 0, 0, 0, "after"},
    {EOTA_SIMFLASH_CUT_TORN, 0, 1, 0, "torn 0%/garbage"},
    {EOTA_SIMFLASH_CUT_TORN, 0, 0, 0x01, "torn 0%/bit0"},
    {EOTA_SIMFLASH_CUT_TORN, 300, 0, 0xFE, "torn 30%/bits1-7"},
    {EOTA_SIMFLASH_CUT_TORN, 600, 1, 0, "torn 60%/garbage"},
    {EOTA_SIMFLASH_CUT_TORN, 850, 1, 0x01, "torn 85%/garbage/bit0"},
    {EOTA_SIMFLASH_CUT_TORN, 999, 0, 0xFE, "torn 99.9%/bits1-7"},
};
#define NCUTKINDS (sizeof cutkinds / sizeof cutkinds[0])

/* ------------------------------------------------------------------ */

static void make_images(dev *v)
{
    for (int i = 0; i < NIMG; i++) {
        image *im = &v->img[i];
        im->len = v->gc->img_size[i];
        im->data = malloc(im->len);
        assert_non_null(im->data);
        uint32_t s = 0x1234567u * (uint32_t)(i + 1);
        for (uint32_t k = 0; k < im->len; k++) {
            s = s * 1664525u + 1013904223u;
            im->data[k] = (uint8_t)(s >> 24);
        }
        /* images share a prefix, as firmware versions do: a mix would not
         * show in the first bytes */
        if (i > 0)
            memcpy(im->data, v->img[0].data, 1000);
        assert_int_equal(eota_posix_digest(EOTA_HASH_SHA256, im->data, im->len, im->sha), EOTA_OK);
    }
}

/* The boot state lost: both copies erased, garbage in the first. */
static void lose_boot_state(dev *v)
{
    const eota_flash *f = &v->cfg.flash;
    uint8_t junk[EOTA_FLASH_MAX_ALIGN * 4];
    memset(junk, 0x5A, sizeof junk);
    for (int i = 0; i < 2; i++)
        assert_int_equal(f->ops->erase(f->ctx, v->gc->copy[i]), EOTA_OK);
    assert_int_equal(f->ops->program(f->ctx, v->gc->copy[0], junk, sizeof junk), EOTA_OK);
    assert_int_equal(dev_open(v), EOTA_OK);
    assert_int_equal(eota_bootstate_seq(&v->bs), 0);
}

static dev *dev_new(const gcase *gc, int blank)
{
    dev *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->gc = gc;
    assert_int_equal(eota_simflash_init(&v->sf, &gc->g), EOTA_OK);
    assert_int_equal(eota_simflash_init(&v->base, &gc->g), EOTA_OK);
    v->sf.on_op = on_op;
    v->sf.on_op_ctx = v;
    v->cfg.flash = eota_simflash_seam(&v->sf);
    v->cfg.copy_addr[0] = gc->copy[0];
    v->cfg.copy_addr[1] = gc->copy[1];
    v->cfg.slot[0] = gc->slot[0];
    v->cfg.slot[1] = gc->slot[1];
    v->cfg.verify = 1;
    eota_safe_mode_config_defaults(&v->smc);
    assert_int_equal(eota_posix_hash_init(&v->hash), EOTA_OK);
    v->clock.now = 1000;
    uint32_t a = gc->g.write_align;
    v->rec_area = (52 + a - 1) / a * a;
    make_images(v);
    if (blank == BASE_BLANK)
        return v; /* base: erased, as the simulator starts */
    /* the starting state: OLDER installed, tried, confirmed in slot 0; OLD
     * the same in slot 1 (active); the count at 0 */
    eota_boot_decision d;
    assert_true(dev_upload(v, IMG_OLDER));
    assert_int_equal(dev_boot(v, &d), EOTA_OK);
    assert_int_equal(dev_confirm(v), EOTA_OK);
    assert_true(dev_upload(v, IMG_OLD));
    assert_int_equal(dev_boot(v, &d), EOTA_OK);
    assert_int_equal(dev_confirm(v), EOTA_OK);
    assert_int_equal(dev_open(v), EOTA_OK);
    model m, want = {{EOTA_SLOT_VALID, EOTA_SLOT_VALID}, {IMG_OLDER, IMG_OLD}, 1, 0, 0, 1};
    real_model(v, &m);
    assert_true(model_eq(&m, &want));
    if (blank == BASE_LOST)
        lose_boot_state(v);
    assert_int_equal(v->sf.violations, 0);
    assert_int_equal(eota_simflash_copy(&v->base, &v->sf), EOTA_OK);
    return v;
}

static void dev_free(dev *v)
{
    for (int i = 0; i < NIMG; i++)
        free(v->img[i].data);
    fake_conn_free(&v->conn);
    eota_posix_hash_free(&v->hash);
    eota_simflash_free(&v->sf);
    eota_simflash_free(&v->base);
    free(v);
}

/* Sweep one scenario on one geometry. Returns the failures. */
static unsigned long sweep(const gcase *gc, const scenario *sc)
{
    dev *v = dev_new(gc, sc->blank);
    char why[1024];
    unsigned long cuts = 0, fails = 0;
    clock_t t0 = clock();
    reference *ref = calloc(1, sizeof *ref);
    assert_non_null(ref);

    if (!reference_run(v, sc, ref, why, sizeof why)) {
        fprintf(stderr, "powerfail: %s on %s: reference run: %s\n", sc->name, gc->name, why);
        total_failures++;
        free(ref);
        dev_free(v);
        return 1;
    }
    for (unsigned long k = 0; k < ref->ops; k++) {
        /* events durable before op k, and the one op k completes (if any) */
        int before = 0;
        while (before < ref->nev && ref->ev_op[before] < k)
            before++;
        int at_k = before < ref->nev && ref->ev_op[before] == k;
        for (size_t c = 0; c < NCUTKINDS; c++) {
            const cutkind *ck = &cutkinds[c];
            if ((k * NCUTKINDS + c) % stride != 0)
                continue;
            restore_base(v);
            eota_simflash_cut cut = {ck->mode, k, ck->tear, ck->garbage, ck->half_mask, (uint32_t)(k * 7919u + c)};
            eota_simflash_arm(&v->sf, &cut);
            play_until_cut(v, sc);
            int ok;
            if (!v->sf.dead || v->sf.cuts != 1) {
                ok = why_fail(why, sizeof why, "the cut did not happen");
            } else if (v->sf.violations) {
                ok = why_fail(why, sizeof why, "NOR rule broken before the cut: %s", v->sf.last_violation);
            } else {
                eota_simflash_power_on(&v->sf);
                const model *cand[2];
                int n = 0;
                if (ck->mode == EOTA_SIMFLASH_CUT_BEFORE) {
                    cand[n++] = &ref->after[before];
                } else if (ck->mode == EOTA_SIMFLASH_CUT_AFTER) {
                    cand[n++] = &ref->after[before + at_k];
                } else {
                    cand[n++] = &ref->after[before];
                    if (at_k)
                        cand[n++] = &ref->after[before + 1];
                }
                /* a device that finds no record rebuilds it first */
                for (int j = 0; j < n; j++)
                    if (sc->blank == BASE_LOST && !cand[j]->has_rec)
                        cand[j] = &rebuilt_model;
                ok = recover(v, cand, n, sc->blank == BASE_LOST, why, sizeof why);
            }
            cuts++;
            if (!ok) {
                fails++;
                if (total_failures + fails <= 20)
                    fprintf(stderr, "powerfail: FAIL %s on %s, cut %s op %lu of %lu: %s\n", sc->name, gc->name,
                            ck->name, k, ref->ops, why);
            }
        }
    }
    total_cuts += cuts;
    total_failures += fails;
    if (verbose)
        fprintf(stderr, "powerfail: %-8s on %-17s %4lu ops, %2d events, %5lu cuts, %lu failures (%.2f s)\n",
                sc->name, gc->name, ref->ops, ref->nev, cuts, fails, (double)(clock() - t0) / CLOCKS_PER_SEC);
    free(ref);
    dev_free(v);
    return fails;
}

static void sweep_scenario(int si)
{
    unsigned long fails = 0;
    for (size_t g = 0; g < sizeof gcases / sizeof gcases[0]; g++)
        fails += sweep(&gcases[g], &scenarios[si]);
    assert_int_equal(fails, 0);
}

static void test_update(void **state)
{
    (void)state;
    sweep_scenario(0);
}

static void test_revert(void **state)
{
    (void)state;
    sweep_scenario(1);
}

static void test_update_during_trial(void **state)
{
    (void)state;
    sweep_scenario(2);
}

static void test_safe_mode_counter(void **state)
{
    (void)state;
    sweep_scenario(3);
}

static void test_first_install(void **state)
{
    (void)state;
    sweep_scenario(4);
}

static void test_rebuild_of_a_lost_boot_state(void **state)
{
    (void)state;
    sweep_scenario(5);
}

/* The model itself, against the numbers of the specification. */
static void test_model_sanity(void **state)
{
    (void)state;
    eota_safe_mode_config c;
    eota_safe_mode_config_defaults(&c);
    model m = {{EOTA_SLOT_VALID, EOTA_SLOT_EMPTY}, {0, -1}, 0, 0, 0, 1}, o;
    mdec d;
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(m_boot(&m, &c, &o, &d), 0);
        assert_false(d.safe);
        m = o;
    }
    assert_int_equal(m_boot(&m, &c, &o, &d), 1);
    assert_true(d.safe);
    assert_int_equal(o.count, 0);
}

int main(void)
{
    verbose = getenv("EOTA_POWERFAIL_VERBOSE") != NULL;
    /* EOTA_POWERFAIL_STRIDE=n: every n-th cut only (a quick run). Under
     * valgrind (scripts/test.sh runs every unit test in it) the sweep is
     * cut down to every 16th: the full one runs in CTest under ASan. */
    const char *st = getenv("EOTA_POWERFAIL_STRIDE");
    const char *pre = getenv("LD_PRELOAD");
    if (st && atoi(st) > 0)
        stride = (unsigned long)atoi(st);
    else if (pre && strstr(pre, "vgpreload"))
        stride = 16;
    init_gcases();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_sanity),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_revert),
        cmocka_unit_test(test_update_during_trial),
        cmocka_unit_test(test_safe_mode_counter),
        cmocka_unit_test(test_first_install),
        cmocka_unit_test(test_rebuild_of_a_lost_boot_state),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    printf("powerfail: %lu cuts, %lu failures\n", total_cuts, total_failures);
    fflush(stdout);
    if (stride == 1 && total_cuts < 10000) {
        fprintf(stderr, "powerfail: fewer than 10000 cuts\n");
        return 1;
    }
    return (r != 0 || total_failures > 0) ? 1 : 0;
}
