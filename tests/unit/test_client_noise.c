/*
 * test_client_noise.c: the uploader engine (src/core/client.c) as Noise
 * initiator (PROTOCOL.md section 10), against golden transcripts computed
 * by an independent implementation (tests/golden/client/gen_noise.py:
 * Python, python3-cryptography, fixed ephemeral keys on both sides). The
 * device's lines of each file are played to the engine over the in-memory
 * pipe; the engine must write exactly the uploader's lines, and end as the
 * file says. Each file is replayed whole, one byte at a time both ways, and
 * in random splits with would-block reads and writes: the same bytes every
 * time (fragmentation equivalence of the encrypted exchange).
 *
 * Then the engine's own checks of a key: an all-zero key and a key without
 * the crypto seam are refused, --previous-key's eota_client_set_noise_key,
 * and the API-key fallback (noise_fallback) going on in plaintext.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/client.h"
#include "eota/noise_posix.h"
#include "eota/posix.h"
#include "fake.h"
#include "golden.h"
#include "pipe.h"

#ifndef EOTA_SOURCE_DIR
#error "EOTA_SOURCE_DIR must be defined by the build"
#endif
#define DIR EOTA_SOURCE_DIR "/tests/golden/client/"

/* ---------- the transcript file ---------- */

typedef struct tline {
    char dir; /* 'C' or 'D' */
    uint8_t *b;
    size_t n;
} tline;

typedef struct transcript {
    uint8_t key[32];
    uint32_t size;
    uint16_t window;
    tline *l;
    size_t n;
    char end[128]; /* the end: line */
} transcript;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (n < cap && sscanf(s, " %2x%n", &v, &used) == 1) {
        out[n++] = (uint8_t)v;
        s += used;
    }
    return n;
}

static void add_line(transcript *t, char dir, const char *hex)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", hex);
    char *semi = strchr(buf, ';');
    if (semi)
        *semi = '\0';
    t->l = realloc(t->l, (t->n + 1) * sizeof *t->l);
    assert_non_null(t->l);
    tline *l = &t->l[t->n++];
    l->dir = dir;
    l->b = malloc(2048);
    assert_non_null(l->b);
    l->n = unhex(buf, l->b, 2048);
    assert_true(l->n > 0);
}

static void load(transcript *t, const char *name)
{
    char path[512], line[8192], key[80];
    snprintf(path, sizeof path, DIR "%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(t, 0, sizeof *t);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        unsigned size, window;
        if (sscanf(line, "config: key=%64s device_key=%*s size=%u flags=%*s window=%u", key, &size, &window) == 3) {
            assert_int_equal(unhex(key, t->key, 32), 32);
            t->size = size;
            t->window = (uint16_t)window;
        } else if (!strncmp(line, "C: ", 3) || !strncmp(line, "D: ", 3)) {
            add_line(t, line[0], line + 3);
        } else if (!strncmp(line, "end: ", 5)) {
            snprintf(t->end, sizeof t->end, "%.*s", (int)sizeof t->end - 1, line + 5);
        }
    }
    fclose(f);
    assert_true(t->size > 0 && t->n > 0 && t->end[0]);
}

static void unload(transcript *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->l[i].b);
    free(t->l);
}

/* ---------- the engine under test ---------- */

typedef struct rig {
    mem_pipe pipe;
    fake_clock clock;
    fake_random rnd;
    eota_posix_hash hash;
    eota_posix_noise_crypto nc;
    eota_client cl;
    uint8_t buf[4096];
    uint8_t *img;
    uint32_t size;
    unsigned seed; /* 0: whole; 1: one byte at a time; else random splits */
} rig;

static int img_read(void *ctx, uint32_t off, uint8_t *b, size_t n)
{
    rig *r = ctx;
    memcpy(b, r->img + off, n);
    return EOTA_OK;
}

static eota_client_config base_config(rig *r, const uint8_t *key)
{
    eota_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &mem_pipe_transport;
    cfg.clock = fake_clock_seam(&r->clock);
    cfg.random = fake_random_seam(&r->rnd);
    cfg.hash = eota_posix_hash_seam(&r->hash);
    cfg.noise_key = key;
    cfg.noise_crypto = eota_posix_noise_crypto_seam(&r->nc);
    cfg.image.read = img_read;
    cfg.image.ctx = r;
    cfg.image.size = r->size;
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, r->img, r->size, cfg.image.md5), EOTA_OK);
    return cfg;
}

static void rig_init(rig *r, uint32_t size, unsigned seed)
{
    memset(r, 0, sizeof *r);
    mem_pipe_init(&r->pipe, 0);
    assert_int_equal(eota_posix_hash_init(&r->hash), EOTA_OK);
    assert_int_equal(eota_posix_noise_crypto_init(&r->nc), EOTA_OK);
    r->size = size;
    r->img = malloc(size);
    assert_non_null(r->img);
    pattern_fill(r->img, size, 0);
    r->seed = seed;
    if (seed == 1)
        r->pipe.end[0].max_io = 1;
}

static void rig_free(rig *r)
{
    eota_posix_hash_free(&r->hash);
    eota_posix_noise_crypto_free(&r->nc);
    mem_pipe_free(&r->pipe);
    free(r->img);
}

/* Vary the client's I/O sizes and would-blocks, by the seed. */
static void shake(rig *r)
{
    if (r->seed < 2)
        return;
    r->seed = r->seed * 1103515245u + 12345u;
    r->pipe.end[0].max_io = 1 + (r->seed >> 16) % 1500;
    r->pipe.end[0].again_reads = (r->seed >> 8) % 4 == 0;
}

static eota_client_status poll_some(rig *r, int rounds)
{
    eota_client_status st = EOTA_CLIENT_BUSY;
    for (int i = 0; i < rounds; i++) {
        shake(r);
        st = eota_client_poll(&r->cl);
        r->clock.now += 1;
    }
    return st;
}

/* The device's bytes, in pieces as the seed says, the engine polled between. */
static void device_says(rig *r, const tline *l)
{
    mem_pipe_end *d = &r->pipe.end[1];
    for (size_t off = 0; off < l->n;) {
        size_t piece = r->seed == 0 ? l->n - off : r->seed == 1 ? 1 : 1 + (r->seed >> 4) % 200;
        if (piece > l->n - off)
            piece = l->n - off;
        assert_int_equal(mem_pipe_transport.write(d, l->b + off, piece), (long)piece);
        off += piece;
        poll_some(r, 2);
    }
}

/* The engine must write exactly these bytes next. */
static void client_says(rig *r, const tline *l, size_t idx)
{
    uint8_t got[2048];
    for (int i = 0; i < 20000 && mem_pipe_pending(&r->pipe, 1) < l->n; i++)
        poll_some(r, 1);
    assert_true(mem_pipe_pending(&r->pipe, 1) >= l->n);
    assert_int_equal(mem_pipe_transport.read(&r->pipe.end[1], got, l->n), (long)l->n);
    if (memcmp(got, l->b, l->n) != 0)
        fail_msg("line %zu: the uploader's bytes differ from the transcript", idx);
}

static void replay(const char *name, unsigned seed)
{
    transcript t;
    rig r;
    load(&t, name);
    rig_init(&r, t.size, seed);
    eota_client_config cfg = base_config(&r, t.key);
    cfg.window = t.window;
    assert_int_equal(eota_client_init(&r.cl, &cfg, r.buf, sizeof r.buf), EOTA_OK);
    assert_int_equal(eota_client_start(&r.cl, &r.pipe.end[0]), EOTA_OK);
    for (size_t i = 0; i < t.n; i++) {
        if (t.l[i].dir == 'D')
            device_says(&r, &t.l[i]);
        else
            client_says(&r, &t.l[i], i);
    }
    eota_client_status st = poll_some(&r, 50);
    assert_int_equal(mem_pipe_pending(&r.pipe, 1), 0); /* nothing more than the file */
    eota_client_report rep;
    eota_client_get_report(&r.cl, &rep);
    char end[128];
    if (rep.error == EOTA_CLIENT_OK)
        snprintf(end, sizeof end, "done encrypted=%u", rep.encrypted);
    else
        snprintf(end, sizeof end, "failed %s %s", eota_client_error_name(rep.error),
                 eota_client_phase_name(rep.phase));
    assert_string_equal(end, t.end);
    assert_int_equal(st, rep.error == EOTA_CLIENT_OK ? EOTA_CLIENT_DONE : EOTA_CLIENT_FAILED);
    assert_int_equal(r.pipe.end[0].closed, 1);
    rig_free(&r);
    unload(&t);
}

#define REPLAYS(file, stem)                                                                                          \
    static void test_##stem##_whole(void **s) { (void)s, replay(file, 0); }                                          \
    static void test_##stem##_bytewise(void **s) { (void)s, replay(file, 1); }                                       \
    static void test_##stem##_random(void **s)                                                                       \
    {                                                                                                                \
        (void)s;                                                                                                     \
        for (unsigned seed = 2; seed < 12; seed++)                                                                   \
            replay(file, seed * 7919u);                                                                              \
    }

REPLAYS("noise_upload.txt", upload)
REPLAYS("noise_wrong_key.txt", wrong_key)
REPLAYS("noise_unoffered.txt", unoffered)

/* ---------- the key ---------- */

static void test_key_checks(void **s)
{
    (void)s;
    rig r;
    uint8_t zero[32] = {0}, key[32];
    memset(key, 0x5A, sizeof key);
    rig_init(&r, 100, 0);
    eota_client_config cfg = base_config(&r, zero);
    assert_int_equal(eota_client_init(&r.cl, &cfg, r.buf, sizeof r.buf), EOTA_EINVAL);
    cfg = base_config(&r, key);
    cfg.noise_crypto.ops = NULL;
    assert_int_equal(eota_client_init(&r.cl, &cfg, r.buf, sizeof r.buf), EOTA_EINVAL);
    cfg = base_config(&r, key);
    assert_int_equal(eota_client_init(&r.cl, &cfg, r.buf, sizeof r.buf), EOTA_OK);
    assert_int_equal(eota_client_set_noise_key(&r.cl, zero), EOTA_EINVAL);
    assert_int_equal(eota_client_set_noise_key(&r.cl, NULL), EOTA_OK);
    /* without a key: the stock feature byte, no Noise bit */
    assert_int_equal(eota_client_start(&r.cl, &r.pipe.end[0]), EOTA_OK);
    uint8_t hello[] = {0x00, 0x02}, got[6];
    assert_int_equal(mem_pipe_transport.write(&r.pipe.end[1], hello, 2), 2);
    poll_some(&r, 3);
    assert_int_equal(mem_pipe_transport.read(&r.pipe.end[1], got, 6), 6);
    assert_int_equal(got[5], 0x06);
    eota_client_cancel(&r.cl);
    rig_free(&r);
}

/* noise_fallback: a device without Noise gets the plaintext exchange, and
 * the report says it was not encrypted. */
static void test_fallback_goes_on_in_plaintext(void **s)
{
    (void)s;
    rig r;
    uint8_t key[32], got[64];
    memset(key, 0x5A, sizeof key);
    rig_init(&r, 100, 0);
    eota_client_config cfg = base_config(&r, key);
    cfg.noise_fallback = 1;
    assert_int_equal(eota_client_init(&r.cl, &cfg, r.buf, sizeof r.buf), EOTA_OK);
    assert_int_equal(eota_client_start(&r.cl, &r.pipe.end[0]), EOTA_OK);
    uint8_t dev[] = {0x00, 0x02, 0x48, 0x00, 0x41};
    assert_int_equal(mem_pipe_transport.write(&r.pipe.end[1], dev, sizeof dev), (long)sizeof dev);
    poll_some(&r, 5);
    /* magic, 0E, then the type and the size in plaintext */
    assert_int_equal(mem_pipe_transport.read(&r.pipe.end[1], got, sizeof got), 11);
    assert_int_equal(got[5], 0x0E);
    assert_int_equal(got[6], 0x00);
    assert_int_equal(got[10], 100);
    eota_client_report rep;
    eota_client_get_report(&r.cl, &rep);
    assert_int_equal(rep.encrypted, 0);
    assert_int_equal(rep.noise_offered, 0);
    eota_client_cancel(&r.cl);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_whole),          cmocka_unit_test(test_upload_bytewise),
        cmocka_unit_test(test_upload_random),         cmocka_unit_test(test_wrong_key_whole),
        cmocka_unit_test(test_wrong_key_bytewise),    cmocka_unit_test(test_wrong_key_random),
        cmocka_unit_test(test_unoffered_whole),       cmocka_unit_test(test_unoffered_bytewise),
        cmocka_unit_test(test_unoffered_random),      cmocka_unit_test(test_key_checks),
        cmocka_unit_test(test_fallback_goes_on_in_plaintext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
