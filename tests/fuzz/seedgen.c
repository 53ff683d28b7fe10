/*
 * seedgen.c: writes the fuzzer's seed corpus, a few valid and a few broken
 * exchanges in the input format of fuzz_harness.h, and checks that each one
 * does what it is meant to do by running it through the harness (so the
 * seeds stay meaningful when the engine changes: a seed that stops
 * committing fails here).
 *
 * usage: fuzz_seedgen DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"
#include "eota/protocol.h"
#include "fuzz_harness.h"

#define SEED_MAX 8192

typedef struct seed {
    uint8_t b[SEED_MAX];
    size_t n;
} seed;

static _Noreturn void fatal(const char *msg)
{
    fprintf(stderr, "seedgen: %s\n", msg);
    exit(1);
}

static void put(seed *s, uint8_t v)
{
    if (s->n >= SEED_MAX)
        fatal("seed too long");
    s->b[s->n++] = v;
}

static void hdr(seed *s, uint8_t cfg, uint8_t inj, uint8_t be, uint8_t bs)
{
    s->n = 0;
    put(s, cfg);
    put(s, inj);
    put(s, be);
    put(s, bs);
}

/* The client sends these bytes (data records of at most 128 bytes). */
static void csend(seed *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n > 0) {
        size_t k = n > 128 ? 128 : n;
        put(s, (uint8_t)(k - 1));
        for (size_t i = 0; i < k; i++)
            put(s, p[i]);
        p += k;
        n -= k;
    }
}

static void csend_str(seed *s, const char *str) { csend(s, str, strlen(str)); }

static void send_u32(seed *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    csend(s, b, 4);
}

static void hexs(char *out, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const uint8_t magic[5] = {EOTA_MAGIC_0, EOTA_MAGIC_1, EOTA_MAGIC_2, EOTA_MAGIC_3, EOTA_MAGIC_4};

/* An image: explicit bytes, optionally after runs of 8192 equal bytes. */
typedef struct image {
    unsigned runs;          /* blocks of 8192 bytes, each one value */
    uint8_t tail[600];
    size_t tail_len;
} image;

static uint32_t image_size(const image *im) { return im->runs * 8192u + (uint32_t)im->tail_len; }

static void image_md5(const image *im, char hex[33])
{
    size_t n = image_size(im);
    uint8_t *all = malloc(n ? n : 1);
    uint8_t d[16];
    if (!all)
        fatal("oom");
    for (unsigned r = 0; r < im->runs; r++)
        memset(all + r * 8192u, 0x30 + (int)r, 8192);
    memcpy(all + im->runs * 8192u, im->tail, im->tail_len);
    if (eota_posix_digest(EOTA_HASH_MD5, all, n, d) != EOTA_OK)
        fatal("md5");
    hexs(hex, d, 16);
    free(all);
}

static void send_image(seed *s, const image *im)
{
    for (unsigned r = 0; r < im->runs; r++) {
        put(s, FZ_OP_RUN | 0x1F); /* 32 * 256 = 8192 */
        put(s, (uint8_t)(0x30 + r));
    }
    csend(s, im->tail, im->tail_len);
}

static void make_image(image *im, unsigned runs, size_t tail, uint8_t salt)
{
    memset(im, 0, sizeof *im);
    im->runs = runs;
    im->tail_len = tail;
    for (size_t i = 0; i < tail; i++)
        im->tail[i] = (uint8_t)(i * 13u + salt);
}

/* Read the challenge the engine sends for this prefix (fixed random: the
 * same nonce comes again in the full run). Returns the nonce length. */
static size_t challenge(const seed *prefix, char *nonce)
{
    static fuzz_result r;
    size_t p = 2, len;
    fuzz_run(prefix->b, prefix->n, &r);
    if (r.out_len < 4)
        fatal("no challenge");
    p += r.out[2] == EOTA_RESP_FEATURE_FLAGS ? 2 : 1;
    if (r.out[p] == EOTA_RESP_REQUEST_SHA256_AUTH)
        len = 64;
    else if (r.out[p] == EOTA_RESP_REQUEST_AUTH)
        len = 32;
    else
        fatal("no auth request in the reply");
    if (r.out_len < p + 1 + len)
        fatal("short nonce");
    memcpy(nonce, r.out + p + 1, len);
    nonce[len] = '\0';
    return len;
}

static void auth_reply(seed *s, const char *password, const char *nonce, size_t len, int wrong)
{
    char cnonce[65], resp[65], buf[256];
    uint8_t d[32];
    eota_hash_alg alg = len == 64 ? EOTA_HASH_SHA256 : EOTA_HASH_MD5;
    for (size_t i = 0; i < len; i++)
        cnonce[i] = "0123456789abcdef"[(i * 7 + 3) & 15];
    cnonce[len] = '\0';
    snprintf(buf, sizeof buf, "%s%s%s", password, nonce, cnonce);
    if (eota_posix_digest(alg, buf, strlen(buf), d) != EOTA_OK)
        fatal("digest");
    hexs(resp, d, len / 2);
    if (wrong)
        resp[0] = resp[0] == '0' ? '1' : '0';
    csend_str(s, cnonce);
    csend_str(s, resp);
}

typedef struct plan {
    const char *name;
    uint8_t cfg, inj, be, bs;
    uint8_t features;
    int extended_type;   /* -1: no type byte (plain protocol) */
    const char *pre_ops; /* raw record bytes after the header */
    image im;
    uint32_t size_override;
    int wrong_md5, wrong_auth, no_final_ack, cancel_mid;
    int bad_magic_first;
    int expect_commit;
    uint8_t expect_error; /* 0: no check */
} plan;

static int write_seed(const char *dir, const char *name, const seed *s)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "seedgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fwrite(s->b, 1, s->n, f);
    return fclose(f) != 0;
}

static int build(const char *dir, const plan *pl)
{
    static seed s;
    static fuzz_result r;
    char md5[33];
    uint32_t size = pl->size_override ? pl->size_override : image_size(&pl->im);

    hdr(&s, pl->cfg, pl->inj, pl->be, pl->bs);
    for (const char *o = pl->pre_ops; o && *o; o++)
        put(&s, (uint8_t)*o);
    if (pl->bad_magic_first) {
        csend_str(&s, "GET /");
        put(&s, FZ_OP_EOF);
        put(&s, FZ_OP_CLOCK | 0x1F);
        put(&s, FZ_OP_CONNECT);
    }
    csend(&s, magic, sizeof magic);
    csend(&s, &pl->features, 1);
    if (pl->cfg & FZ_CFG_PASSWORD) {
        char nonce[65];
        size_t len = challenge(&s, nonce);
        auth_reply(&s, FZ_PASSWORD, nonce, len, pl->wrong_auth);
    }
    if (pl->extended_type >= 0) {
        uint8_t t = (uint8_t)pl->extended_type;
        csend(&s, &t, 1);
    }
    send_u32(&s, size);
    image_md5(&pl->im, md5);
    if (pl->wrong_md5)
        md5[5] = md5[5] == 'a' ? 'b' : 'a';
    csend_str(&s, md5);
    if (pl->cancel_mid) {
        image half = pl->im;
        half.tail_len /= 2;
        send_image(&s, &half);
        put(&s, FZ_OP_CANCEL);
    } else {
        send_image(&s, &pl->im);
        if (!pl->no_final_ack) {
            uint8_t z = 0;
            put(&s, FZ_OP_POLLS | 7);
            csend(&s, &z, 1);
        }
    }

    fuzz_run(s.b, s.n, &r);
    if (r.committed != pl->expect_commit) {
        fprintf(stderr, "seedgen: %s: %d commits, expected %d (error 0x%02x)\n", pl->name, r.committed,
                pl->expect_commit, r.last_error);
        return 1;
    }
    if (pl->expect_error && r.last_error != pl->expect_error) {
        fprintf(stderr, "seedgen: %s: error 0x%02x, expected 0x%02x\n", pl->name, r.last_error,
                pl->expect_error);
        return 1;
    }
    printf("seedgen: %-28s %5zu bytes, %d commit(s), error 0x%02x\n", pl->name, s.n, r.committed,
           r.last_error);
    return write_seed(dir, pl->name, &s);
}

int main(int argc, char **argv)
{
    static plan plans[20];
    size_t np = 0;
    int bad = 0;
    static seed s;
    static fuzz_result r;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
#define P(...) (plans[np++] = (plan){__VA_ARGS__})
    P(.name = "ok_v2_plain", .features = 0x07, .extended_type = 0, .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 300, 1);
    P(.name = "ok_v2_blocks_fragmented", .bs = 3, .pre_ops = "\xA7\xB3\xC1", .features = 0x07,
      .extended_type = 0, .expect_commit = 1);
    make_image(&plans[np - 1].im, 2, 100, 2);
    P(.name = "ok_sha256_password", .cfg = FZ_CFG_PASSWORD, .features = 0x07, .extended_type = 0,
      .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 200, 3);
    P(.name = "ok_md5_legacy_auth", .cfg = FZ_CFG_PASSWORD | FZ_CFG_MD5, .features = 0x05,
      .extended_type = 0, .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 150, 4);
    P(.name = "ok_v1_plain_client", .cfg = FZ_CFG_V1, .features = 0x00, .extended_type = -1,
      .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 500, 5);
    P(.name = "ok_gzip_partition_table", .cfg = FZ_CFG_GZIP | FZ_CFG_PARTS, .features = 0x07,
      .extended_type = 1, .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 64, 6);
    plans[np - 1].im.tail[0] = 0x1F;
    plans[np - 1].im.tail[1] = 0x8B;
    P(.name = "ok_slow_backend_pending", .be = 0x01 | (3u << 5), .bs = 0, .pre_ops = "\xA3",
      .features = 0x07, .extended_type = 0, .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 400, 7);
    P(.name = "ok_no_final_ack_short_timeouts", .cfg = FZ_CFG_SHORT_TIMEOUTS | FZ_CFG_CLOCK_WRAP,
      .features = 0x07, .extended_type = 0, .no_final_ack = 1, .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 100, 8);
    P(.name = "ok_after_a_bad_client", .features = 0x07, .extended_type = 0, .bad_magic_first = 1,
      .expect_commit = 1);
    make_image(&plans[np - 1].im, 0, 90, 9);
    P(.name = "err_md5_mismatch", .features = 0x07, .extended_type = 0, .wrong_md5 = 1,
      .expect_error = EOTA_RESP_ERROR_MD5_MISMATCH);
    make_image(&plans[np - 1].im, 0, 120, 10);
    P(.name = "err_too_big", .features = 0x07, .extended_type = 0, .size_override = 50000,
      .expect_error = EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE);
    make_image(&plans[np - 1].im, 0, 10, 11);
    P(.name = "err_write_fails", .inj = FZ_INJ_WRITE | (3u << 2), .features = 0x07, .extended_type = 0,
      .expect_error = EOTA_RESP_ERROR_WRITING_FLASH);
    make_image(&plans[np - 1].im, 0, 500, 12);
    P(.name = "err_end_fails", .inj = FZ_INJ_END, .cfg = FZ_CFG_V1, .features = 0x07, .extended_type = 0,
      .expect_error = EOTA_RESP_ERROR_UPDATE_END);
    make_image(&plans[np - 1].im, 0, 50, 13);
    P(.name = "err_wrong_password", .cfg = FZ_CFG_PASSWORD, .features = 0x07, .extended_type = 0,
      .wrong_auth = 1, .expect_error = EOTA_RESP_ERROR_AUTH_INVALID);
    make_image(&plans[np - 1].im, 0, 50, 14);
    P(.name = "err_unsupported_type", .features = 0x07, .extended_type = 2,
      .expect_error = EOTA_RESP_ERROR_UNSUPPORTED_OTA_TYPE);
    make_image(&plans[np - 1].im, 0, 50, 15);
    P(.name = "cancel_mid_upload", .features = 0x07, .extended_type = 0, .cancel_mid = 1);
    make_image(&plans[np - 1].im, 0, 300, 16);
#undef P
    for (size_t i = 0; i < np; i++)
        bad |= build(argv[1], &plans[i]);

    /* Two hand-made ones: bad magic, and SHA-256 required. */
    hdr(&s, 0, 0, 0, 2);
    csend_str(&s, "GET / HTTP/1.1\r\n");
    fuzz_run(s.b, s.n, &r);
    if (r.out_len != 1 || r.out[0] != EOTA_RESP_ERROR_MAGIC) {
        fprintf(stderr, "seedgen: err_magic: no 80\n");
        bad = 1;
    }
    printf("seedgen: %-28s %5zu bytes, reply 0x%02x\n", "err_magic", s.n, r.out_len ? r.out[0] : 0);
    bad |= write_seed(argv[1], "err_magic", &s);

    hdr(&s, FZ_CFG_PASSWORD, 0, 0, 2);
    csend(&s, magic, sizeof magic);
    csend(&s, "\x01", 1);
    fuzz_run(s.b, s.n, &r);
    if (r.last_error != EOTA_RESP_ERROR_AUTH_INVALID) {
        fprintf(stderr, "seedgen: err_sha256_required: error 0x%02x\n", r.last_error);
        bad = 1;
    }
    printf("seedgen: %-28s %5zu bytes, error 0x%02x\n", "err_sha256_required", s.n, r.last_error);
    bad |= write_seed(argv[1], "err_sha256_required", &s);
    return bad ? 1 : 0;
}
