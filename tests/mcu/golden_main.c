/*
 * golden_main.c: the MCU image that replays every golden transcript against
 * the bare device engine over the in-memory backend, as
 * tests/unit/test_server_golden.c does on the host, and prints one line per
 * transcript: `PASS name` or `FAIL name: reason`; the exit status is the
 * number of failures (semihosting).
 */
#include <string.h>

#include "eota/server.h"
#include "mem_backend.h"
#include "golden_mcu.h"
#include "semihost.h"

typedef struct bare_engine {
    eota_server srv;
    eota_mem_backend mem;
    uint8_t store[1u << 20]; /* as the host harness: 1 MiB at most */
    uint8_t xfer[4096];
} bare_engine;

static bare_engine engine;
static golden_world world;

/* The backend as the transcript's config line describes it. The only place
 * of this image that knows the backend API (eota/backend.h). */
static eota_backend transcript_backend(bare_engine *e, const golden_config *c)
{
    eota_mem_backend_init(&e->mem, e->store, c->capacity < sizeof e->store ? c->capacity : sizeof e->store);
    e->mem.caps = c->caps;
    return eota_mem_backend_seam(&e->mem);
}

static int bare_start(void *ctx, golden_world *w, const golden_transcript *t)
{
    bare_engine *e = ctx;
    eota_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    golden_world_seams(w, t, &cfg);
    cfg.backend = transcript_backend(e, &t->config);
    cfg.too_big_code = t->config.too_big;
    if (t->config.xfer > sizeof e->xfer)
        return EOTA_EINVAL;
    int st = eota_server_init(&e->srv, &cfg, e->xfer, t->config.xfer);
    return st != EOTA_OK ? st : eota_server_accept(&e->srv, golden_world_conn(w));
}

static int bare_poll(void *ctx) { return (int)eota_server_poll(&((bare_engine *)ctx)->srv); }

static const eota_server *bare_server(void *ctx) { return &((bare_engine *)ctx)->srv; }

static int bare_result(void *ctx, const golden_outcome *o, golden_text *why)
{
    static const char *const images[] = {"none", "pattern", "other"};
    const eota_mem_backend *m = &((bare_engine *)ctx)->mem;
    uint32_t image = m->committed ? 1u + !golden_is_pattern(m->buf, (uint32_t)m->committed_len, 0) : 0u;
    const int began = m->begin_calls != 0;
    const golden_field f[] = {
        {"result begin", m->begin_calls, o->begin},
        {"result committed", (uint32_t)m->committed, o->committed},
        {"result committed_len", (uint32_t)m->committed_len, o->committed_len},
        {"result image", image, golden_index(images, 3u, o->image)},
        {"result aborted", (uint32_t)m->aborted, o->aborted},
        {"result begin_size", began ? m->info.size : 0u, o->begin_size},
        {"result begin_type", began ? m->info.ota_type : 0u, o->begin_type},
        {"result begin_gzip", began ? m->info.gzip_agreed : 0u, o->begin_gzip},
    };
    return golden_check_fields(f, sizeof f / sizeof f[0], why);
}

int main(void)
{
    const golden_target target = {bare_start, bare_poll, bare_server, bare_result, &engine};
    uint32_t failed = 0;
    for (uint32_t i = 0; i < golden_transcript_count; i++) {
        const golden_transcript *t = &golden_transcripts[i];
        golden_text why;
        int ok = golden_play(t, &target, &world, &why);
        failed += !ok;
        sh_puts(ok ? "PASS " : "FAIL ");
        sh_puts(t->name);
        sh_puts(ok ? "\n" : ": ");
        if (!ok) {
            sh_puts(why.s);
            sh_puts("\n");
        }
    }
    golden_text sum = {.len = 0};
    golden_put(&sum, "golden transcripts on the MCU: ");
    golden_put_u32(&sum, golden_transcript_count);
    golden_put(&sum, " run, ");
    golden_put_u32(&sum, failed);
    golden_put(&sum, " failed\n");
    sh_puts(sum.s);
    return failed ? 1 : 0;
}
