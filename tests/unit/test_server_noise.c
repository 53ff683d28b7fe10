/*
 * test_server_noise.c: the device engine inside Noise (PROTOCOL.md section
 * 10), as golden transcripts in tests/golden/noise/: whole exchanges with
 * fixed ephemeral keys (the uploader's is 11 x 32, the device's comes from
 * the counting fake random: 00 01 .. 1F), each checked three ways:
 *   - generator: the scenario code below, an interactive uploader built on
 *     the core's initiator, must produce the file as it is;
 *   - replay: the file's client lines played against the engine give the
 *     file again, device frames and outcome;
 *   - fragmentation: all client bytes at once, cut into reads of one byte
 *     or of random sizes, with writes of one byte or writes that would
 *     block, a small transfer buffer: the same device bytes and outcome.
 * The frames of these files are decrypted by the independent Python
 * reference in tests/integration/test_noise_golden.py.
 * EOTA_REGEN_GOLDEN=1 rewrites the files (then review them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/server.h"
#include "fake.h"
#include "golden.h"
#include "noise_fixture.h"

#define NOISE_DIR EOTA_SOURCE_DIR "/tests/golden/noise/"

/* ---- the transcript run: an engine and the text so far ---- */

typedef struct nrun {
    eota_harness *h;
    gbuf text;
    size_t out_seen;
    int flags_seen; /* 00 VV and the feature reply are out: frames follow */
    int reboots;
    uint8_t key[32];
} nrun;

static void key_of(uint8_t key[32], unsigned first)
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(first + (unsigned)i);
}

typedef struct nconfig {
    int required;          /* 0 offer (the API key), 1 required */
    unsigned key_first;    /* device key: bytes first, first+1, ... */
} nconfig;

static void harness_up(nrun *r, const nconfig *c)
{
    r->h = calloc(1, sizeof *r->h);
    assert_non_null(r->h);
    eota_harness_init(r->h);
    key_of(r->key, c->key_first);
    r->h->cfg.noise_key = r->key;
    r->h->cfg.noise_required = (uint8_t)c->required;
    r->h->cfg.noise_crypto = noise_fixture_seam();
}

/* Device bytes into lines: 00 VV, then 48 SS (or one error byte), then
 * frames (01 + length + payload) in a Noise session, else single bytes. */
static void emit(nrun *r)
{
    const fake_conn *c = &r->h->conn;
    eota_server_info info;
    eota_server_get_info(&r->h->srv, &info);
    while (r->out_seen < c->out_len) {
        const uint8_t *p = c->out + r->out_seen;
        size_t have = c->out_len - r->out_seen, take = 1;
        if (r->flags_seen == 0 || (r->flags_seen == 1 && p[0] == EOTA_RESP_FEATURE_FLAGS))
            take = 2;
        else if (r->flags_seen >= 2 && info.encrypted)
            take = have >= 3 ? 3 + (((size_t)p[1] << 8) | p[2]) : 3;
        if (have < take)
            return;
        r->flags_seen++;
        gbuf_str(&r->text, "D: ");
        hex_spaced(&r->text, p, take);
        gbuf_str(&r->text, "\n");
        r->out_seen += take;
    }
}

static void settle(nrun *r)
{
    r->reboots += srvt_run_until_stall(r->h);
    emit(r);
}

static void client_bytes(nrun *r, const uint8_t *p, size_t n)
{
    gbuf_str(&r->text, "C: ");
    hex_spaced(&r->text, p, n);
    gbuf_str(&r->text, "\n");
    fake_conn_push(&r->h->conn, p, n);
    settle(r);
}

static void client_close(nrun *r)
{
    gbuf_str(&r->text, "C: <close>\n");
    r->h->conn.eof = 1;
    settle(r);
}

static void config_line(gbuf *t, const nconfig *c)
{
    gbuf_printf(t, "config: noise=%s key=%02X\n", c->required ? "required" : "offered", c->key_first);
}

static int parse_config(const char *line, nconfig *c)
{
    char mode[16];
    unsigned k;
    if (sscanf(line, "config: noise=%15s key=%x", mode, &k) != 2)
        return -1;
    c->required = strcmp(mode, "required") == 0;
    c->key_first = k;
    return 0;
}

/* The outcome lines, then the engine freed; returns the text. */
static char *finish(nrun *r)
{
    eota_harness *h = r->h;
    r->reboots += srvt_drive_idle(h, 1000, 100);
    emit(r);
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    gbuf_printf(&r->text, "end: %s, connection closed %d time(s), reboot requested %d time(s)\n",
                eota_server_busy(&h->srv) ? "busy" : "idle", h->conn.closed, r->reboots);
    gbuf_printf(&r->text, "result: committed=%d committed_len=%zu image=%s aborted=%d\n", h->mem.committed,
                h->mem.committed_len,
                h->mem.committed ? (pattern_check(h->store, h->mem.committed_len) ? "pattern" : "OTHER") : "none",
                h->mem.aborted);
    gbuf_printf(&r->text, "info: client_features=%02X server_flags=%02X encrypted=%u noise_failure=%u error_code=%02X\n",
                info.client_features, info.server_flags, info.encrypted, info.noise_failure, info.error_code);
    eota_harness_free(h);
    free(h);
    return gbuf_take(&r->text);
}

/* ---- the uploader of the scenarios: the core's initiator over a capture
 * connection (what it writes becomes a C line; it reads device bytes) ---- */

typedef struct capture {
    gbuf out;
    const uint8_t *in;
    size_t in_len, in_pos;
} capture;

static long cap_read(void *conn, uint8_t *buf, size_t len)
{
    capture *c = conn;
    size_t n = c->in_len - c->in_pos < len ? c->in_len - c->in_pos : len;
    if (n == 0)
        return EOTA_AGAIN;
    memcpy(buf, c->in + c->in_pos, n);
    c->in_pos += n;
    return (long)n;
}

static long cap_write(void *conn, const uint8_t *buf, size_t len)
{
    gbuf_put(&((capture *)conn)->out, buf, len);
    return (long)len;
}

static void cap_close(void *conn) { (void)conn; }

static const eota_transport_ops cap_transport = {cap_read, cap_write, cap_close};

typedef struct uploader {
    eota_noise nz;
    capture cap;
    uint8_t key[32], eph;
} uploader;

/* Send what the initiator queued as one C line. */
static void up_flush(nrun *r, uploader *u)
{
    assert_true(eota_noise_flush(&u->nz) >= 0);
    if (u->cap.out.len)
        client_bytes(r, u->cap.out.p, u->cap.out.len);
    u->cap.out.len = 0;
}

/* Magic and features 0F, the initiator set up with the key. */
static void up_preamble(nrun *r, uploader *u, unsigned key_first)
{
    key_of(u->key, key_first);
    u->eph = 0x11;
    eota_noise_config cfg = {EOTA_NOISE_INITIATOR, u->key, noise_fixture_seam(), {noise_fixture_fill, &u->eph},
                             0};
    assert_int_equal(eota_noise_init(&u->nz, &cfg), EOTA_OK);
    client_bytes(r, (const uint8_t *)"\x6C\x26\xF7\x5C\x45", 5);
    client_bytes(r, (const uint8_t *)"\x0F", 1);
}

/* After the preamble: the Noise handshake. 1 when the session is up. */
static int up_noise(nrun *r, uploader *u)
{
    const fake_conn *c = &r->h->conn;
    if (c->out_len < 4 || c->out[2] != EOTA_RESP_FEATURE_FLAGS || !(c->out[3] & EOTA_SERVER_FLAG_NOISE))
        return 0;
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    eota_noise_prologue(pro, c->out[1], 0x0F, c->out[3]);
    assert_int_equal(eota_noise_start(&u->nz, &cap_transport, &u->cap, pro), EOTA_OK);
    up_flush(r, u);
    u->cap.in = c->out + 4;
    u->cap.in_len = c->out_len - 4;
    return eota_noise_handshake(&u->nz) == EOTA_OK;
}

/* Magic, features 0F, the handshake. 1 when the session is up. */
static int up_handshake(nrun *r, uploader *u, unsigned key_first)
{
    up_preamble(r, u, key_first);
    return up_noise(r, u);
}

/* One field (or image frame) as one frame. */
static void up_send(nrun *r, uploader *u, const void *data, size_t n)
{
    assert_int_equal(eota_noise_send(&u->nz, data, n), EOTA_OK);
    up_flush(r, u);
}

/* Type, size, MD5, the image in 1024-byte frames, the final 00. */
static void up_upload(nrun *r, uploader *u, uint32_t size, int bad_md5)
{
    uint8_t sz[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    char m[33];
    up_send(r, u, "\x00", 1);
    up_send(r, u, sz, 4);
    pattern_md5_hex(m, size);
    if (bad_md5)
        m[0] = m[0] == '0' ? '1' : '0';
    up_send(r, u, m, 32);
    uint8_t frame[EOTA_NOISE_MAX_PLAINTEXT];
    for (uint32_t off = 0; off < size; off += EOTA_NOISE_MAX_PLAINTEXT) {
        size_t n = size - off < EOTA_NOISE_MAX_PLAINTEXT ? size - off : EOTA_NOISE_MAX_PLAINTEXT;
        pattern_fill(frame, n, off);
        up_send(r, u, frame, n);
    }
    if (!bad_md5)
        up_send(r, u, "\x00", 1);
}

static void up_free(uploader *u) { gbuf_free(&u->cap.out); }

/* ---- the scenarios ---- */

static void begin_with_password(nrun *r, const nconfig *c, const char *what, const char *password)
{
    memset(r, 0, sizeof *r);
    harness_up(r, c);
    r->h->cfg.password = password;
    eota_harness_start(r->h, 0);
    gbuf_printf(&r->text, "# %s\n", what);
    gbuf_str(&r->text, "# C = uploader, D = device (eota engine), hex. Device key bytes KEY, KEY+1, ...;\n"
                       "# uploader ephemeral 11 x 32, device ephemeral 00 01 .. 1F (the fake random).\n"
                       "# After 48 SS every line is one frame: 01, 16-bit length, payload.\n"
                       "# Regenerate: EOTA_REGEN_GOLDEN=1 test_server_noise (then check by hand).\n");
    config_line(&r->text, c);
    assert_int_equal(eota_harness_connect(r->h), EOTA_OK);
}

static void begin(nrun *r, const nconfig *c, const char *what) { begin_with_password(r, c, what, NULL); }

static char *noise_upload(const nconfig *c, const char *what, uint32_t size, int bad_md5)
{
    nrun r;
    uploader u;
    memset(&u, 0, sizeof u);
    begin(&r, c, what);
    assert_true(up_handshake(&r, &u, 1));
    up_upload(&r, &u, size, bad_md5);
    if (bad_md5)
        client_close(&r);
    up_free(&u);
    return finish(&r);
}

static char *gen_offered_upload(void)
{
    nconfig c = {0, 1};
    return noise_upload(&c, "Offer mode (only an API key): a Noise uploader installs 20000 bytes.", 20000, 0);
}

static char *gen_required_upload(void)
{
    nconfig c = {1, 1};
    return noise_upload(&c, "Required mode: a Noise uploader installs 8193 bytes (two 47s).", 8193, 0);
}

static char *gen_required_md5_mismatch(void)
{
    nconfig c = {1, 1};
    return noise_upload(&c, "Required mode: an error byte (8B, MD5 mismatch) is a frame too.", 3000, 1);
}

/* A plaintext client 07: flags 04 and a plain upload (offer), or 94. */
static char *plain_client(const nconfig *c, const char *what)
{
    nrun r;
    begin(&r, c, what);
    client_bytes(&r, (const uint8_t *)"\x6C\x26\xF7\x5C\x45", 5);
    client_bytes(&r, (const uint8_t *)"\x07", 1);
    if (!c->required) {
        char m[33];
        uint8_t img[1000];
        pattern_md5_hex(m, sizeof img);
        pattern_fill(img, sizeof img, 0);
        client_bytes(&r, (const uint8_t *)"\x00", 1);
        client_bytes(&r, (const uint8_t *)"\x00\x00\x03\xE8", 4);
        client_bytes(&r, (const uint8_t *)m, 32);
        client_bytes(&r, img, sizeof img);
        client_bytes(&r, (const uint8_t *)"\x00", 1);
    } else {
        client_close(&r);
    }
    return finish(&r);
}

static char *gen_offered_plain(void)
{
    nconfig c = {0, 1};
    return plain_client(&c, "Offer mode: a plaintext uploader (07) sees flag 04 and installs in plaintext.");
}

static char *gen_required_plain(void)
{
    nconfig c = {1, 1};
    return plain_client(&c, "Required mode: a plaintext uploader (07) gets 94 after its feature byte.");
}

static char *gen_wrong_key(void)
{
    nconfig c = {1, 2};
    nrun r;
    uploader u;
    memset(&u, 0, sizeof u);
    begin(&r, &c, "Wrong key: the device answers message 1 with the reject frame 'Handshake MAC failure'.");
    assert_false(up_handshake(&r, &u, 1));
    assert_string_equal(eota_noise_reason(&u.nz), EOTA_NOISE_REASON_MAC);
    up_free(&u);
    return finish(&r);
}

typedef struct ncase {
    const char *file;
    char *(*gen)(void);
} ncase;

static const ncase CASES[] = {
    {"offered_upload.txt", gen_offered_upload},       {"offered_plain.txt", gen_offered_plain},
    {"required_upload.txt", gen_required_upload},     {"required_plain.txt", gen_required_plain},
    {"required_md5_mismatch.txt", gen_required_md5_mismatch}, {"wrong_key.txt", gen_wrong_key},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static char *path_of(const char *file, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", NOISE_DIR, file);
    return buf;
}

static void test_generator_matches_files(void **state)
{
    (void)state;
    int regen = getenv("EOTA_REGEN_GOLDEN") != NULL, bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char p[512];
        char *got = CASES[i].gen();
        if (regen)
            assert_int_equal(golden_write_file(path_of(CASES[i].file, p, sizeof p), got), 0);
        char *want = golden_read_file(path_of(CASES[i].file, p, sizeof p));
        if (!want || strcmp(want, got) != 0) {
            fprintf(stderr, "%s differs from its scenario:\n%s\n", CASES[i].file, got);
            bad++;
        }
        free(want);
        free(got);
    }
    assert_int_equal(bad, 0);
}

/* ---- replay ---- */

/* The file's client bytes: each C line, or NULL for <close>. */
typedef struct cline {
    gbuf bytes;
    int close;
} cline;

static size_t parse_clients(const char *text, cline *lines, size_t max, nconfig *c)
{
    size_t n = 0;
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char line[8192 * 4];
        assert_true(len < sizeof line);
        memcpy(line, s, len);
        line[len] = 0;
        if (strncmp(line, "config:", 7) == 0)
            assert_int_equal(parse_config(line, c), 0);
        if (strncmp(line, "C: ", 3) == 0) {
            assert_true(n < max);
            memset(&lines[n], 0, sizeof lines[n]);
            if (strcmp(line + 3, "<close>") == 0)
                lines[n].close = 1;
            else
                assert_int_equal(golden_parse_tokens(line + 3, &lines[n].bytes), 0);
            n++;
        }
        s += len + (e != NULL);
    }
    return n;
}

/* An engine set up from the file's config line (transfer buffer xfer, 0
 * the default), its client lines in lines; their count. */
static size_t run_from_file(nrun *r, const char *text, cline *lines, nconfig *c, size_t xfer)
{
    size_t n = parse_clients(text, lines, 64, c);
    memset(r, 0, sizeof *r);
    harness_up(r, c);
    eota_harness_start(r->h, xfer);
    return n;
}

static char *replay(const char *text)
{
    static cline lines[64];
    nconfig c;
    nrun r;
    size_t n = run_from_file(&r, text, lines, &c, 0);
    /* The comment lines come back as they are. */
    for (const char *s = text; *s == '#';) {
        const char *e = strchr(s, '\n');
        gbuf_put(&r.text, s, (size_t)(e - s) + 1);
        s = e + 1;
    }
    config_line(&r.text, &c);
    assert_int_equal(eota_harness_connect(r.h), EOTA_OK);
    for (size_t i = 0; i < n; i++) {
        if (lines[i].close)
            client_close(&r);
        else
            client_bytes(&r, lines[i].bytes.p, lines[i].bytes.len);
        gbuf_free(&lines[i].bytes);
    }
    return finish(&r);
}

static void test_replay_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        char p[512];
        char *want = golden_read_file(path_of(CASES[i].file, p, sizeof p));
        assert_non_null(want);
        char *got = replay(want);
        if (strcmp(want, got) != 0)
            fprintf(stderr, "replay of %s:\n%s\n", CASES[i].file, got);
        assert_string_equal(got, want);
        free(want);
        free(got);
    }
}

/* A changed client frame (a bit of a tag) changes what the device does. */
static void test_replay_detects_tampering(void **state)
{
    (void)state;
    char p[512];
    char *text = golden_read_file(path_of("required_upload.txt", p, sizeof p));
    assert_non_null(text);
    char *frame = strstr(text, "C: 01 00 14 "); /* the size field */
    assert_non_null(frame);
    frame[strlen("C: 01 00 14 ") + 1] ^= 1;       /* one hex digit of the ciphertext */
    char *got = replay(text);
    assert_string_not_equal(got, text);
    assert_non_null(strstr(got, "committed=0"));
    free(got);
    free(text);
}

/* ---- fragmentation ---- */

/* How the bytes are cut: reads (max bytes, or random sizes from a seed),
 * writes (max bytes, every n-th would block), the transfer buffer. */
typedef struct fmode {
    const char *name;
    size_t max_read, max_write, xfer;
    unsigned seed, again_every;
} fmode;

static const fmode MODES[] = {
    {"1-byte reads", 1, 0, 0, 0, 0},
    {"1-byte reads, 1-byte writes, every 2nd write blocks", 1, 1, 0, 0, 2},
    {"every 3rd write blocks", 0, 0, 0, 0, 3},
    {"random reads seed 1", 0, 0, 0, 1, 0},
    {"random reads seed 7, 1-byte writes, every 3rd blocks", 0, 1, 0, 7, 3},
    {"random reads seed 42, 64-byte transfer buffer", 0, 0, 64, 42, 0},
    {"1-byte reads, 100-byte buffer, every 2nd write blocks", 1, 0, 100, 0, 2},
};

/* All of the file's client bytes at once, cut as the mode says; the device
 * bytes (concatenated) and the result and info lines. */
static char *run_fragmented(const char *text, const fmode *m)
{
    static cline lines[64];
    nconfig c;
    nrun r;
    size_t n = run_from_file(&r, text, lines, &c, m ? m->xfer : 0);
    assert_int_equal(eota_harness_connect(r.h), EOTA_OK);
    fake_conn *fc = &r.h->conn;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].close)
            fc->eof = 1;
        else
            fake_conn_push(fc, lines[i].bytes.p, lines[i].bytes.len);
        gbuf_free(&lines[i].bytes);
    }
    if (m) {
        fc->max_read = m->max_read;
        fc->seed = m->seed;
        fc->max_write = m->max_write;
        fc->write_again_every = (int)m->again_every;
    }
    r.flags_seen = 3; /* no lines: one run of bytes */
    gbuf_str(&r.text, "D: ");
    r.reboots += srvt_drive_idle(r.h, 1, 100000);
    hex_spaced(&r.text, fc->out, fc->out_len);
    gbuf_str(&r.text, "\n");
    r.out_seen = fc->out_len;
    return finish(&r);
}

/* The file's device bytes as one line, and its outcome lines. */
static char *file_summary(const char *text)
{
    gbuf b = {0}, dev = {0};
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (strncmp(s, "D: ", 3) == 0) {
            char *line = strndup(s + 3, len - 3);
            assert_int_equal(golden_parse_tokens(line, &dev), 0);
            free(line);
        }
        s += len + (e != NULL);
    }
    gbuf_str(&b, "D: ");
    hex_spaced(&b, dev.p, dev.len);
    gbuf_str(&b, "\n");
    const char *out = strstr(text, "end: ");
    assert_non_null(out);
    gbuf_str(&b, out);
    gbuf_free(&dev);
    return gbuf_take(&b);
}

static void test_fragmentation_gives_same_result(void **state)
{
    (void)state;
    unsigned runs = 0;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char p[512];
        char *text = golden_read_file(path_of(CASES[i].file, p, sizeof p));
        assert_non_null(text);
        char *want = file_summary(text);
        for (size_t k = 0; k < sizeof MODES / sizeof MODES[0]; k++) {
            char *got = run_fragmented(text, &MODES[k]);
            runs++;
            if (strcmp(got, want) != 0) {
                fprintf(stderr, "[%s / %s]\n got: %s\nwant: %s\n", CASES[i].file, MODES[k].name, got, want);
                bad++;
            }
            free(got);
        }
        free(want);
        free(text);
    }
    fprintf(stderr, "  %u fragmented encrypted runs compared\n", runs);
    assert_int_equal(bad, 0);
}

/* ---- beyond the transcripts ---- */

/* A client that stops inside the Noise handshake is cut at the handshake
 * timeout, as a probe: no event, the connection closed once. */
static void test_handshake_timeout(void **state)
{
    (void)state;
    nconfig c = {1, 1};
    nrun r;
    begin(&r, &c, "timeout");
    client_bytes(&r, (const uint8_t *)"\x6C\x26\xF7\x5C\x45\x0F\x01\x00\x31\x00", 10);
    assert_true(eota_server_busy(&r.h->srv));
    r.h->clock.now += EOTA_DEVICE_HANDSHAKE_TIMEOUT_MS - 1;
    settle(&r);
    assert_true(eota_server_busy(&r.h->srv));
    r.h->clock.now += 1;
    settle(&r);
    assert_false(eota_server_busy(&r.h->srv));
    assert_int_equal(r.h->conn.closed, 1);
    assert_int_equal(r.h->events.n, 0);
    free(finish(&r));
}

/* With a password and an API key (offer mode): a Noise client skips the
 * password step (the key authenticates it), a plaintext client still gets
 * the SHA-256 challenge. */
static void test_password_skipped_inside_noise(void **state)
{
    (void)state;
    nconfig c = {0, 1};
    nrun r;
    uploader u;
    memset(&u, 0, sizeof u);
    begin_with_password(&r, &c, "noise with a password", "secret");
    assert_true(up_handshake(&r, &u, 1));
    up_upload(&r, &u, 5000, 0);
    up_free(&u);
    char *text = finish(&r);
    assert_non_null(strstr(text, "committed=1 committed_len=5000 image=pattern"));
    free(text);

    begin_with_password(&r, &c, "plaintext with a password", "secret");
    client_bytes(&r, (const uint8_t *)"\x6C\x26\xF7\x5C\x45\x07", 6);
    const fake_conn *fc = &r.h->conn;
    assert_true(fc->out_len == 4 + 1 + 64);
    assert_memory_equal(fc->out, "\x00\x02\x48\x04\x02", 5); /* the offer, then the challenge */
    free(finish(&r));
}

/* The engine refers to the caller's key (server.h): a change during a
 * Noise handshake ends it as a wrong key would, whichever key the client
 * holds: the old one completes the handshake the session began with (its
 * Noise state took the key at the feature byte), then gets 82 inside it,
 * and nothing is written. */
static void test_key_change_mid_handshake(void **state)
{
    (void)state;
    nconfig c = {1, 1};
    nrun r;
    uploader u;
    for (int round = 0; round < 2; round++) {
        memset(&u, 0, sizeof u);
        begin(&r, &c, "key changed during the handshake");
        up_preamble(&r, &u, 1);
        key_of(r.key, round ? 1 : 2); /* round 1: the same key named again */
        assert_int_equal(eota_server_set_noise_key(&r.h->srv, r.key, 1), EOTA_OK);
        assert_true(up_noise(&r, &u)); /* the session's own copy: the old key */
        eota_server_info info;
        r.reboots += srvt_drive_idle(r.h, 1000, 100);
        eota_server_get_info(&r.h->srv, &info);
        assert_int_equal(info.encrypted, 1);
        assert_int_equal(info.error_code, EOTA_RESP_ERROR_AUTH_INVALID);
        assert_int_equal(r.h->mem.begun, 0);
        assert_false(eota_server_busy(&r.h->srv));
        up_free(&u);
        free(finish(&r));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_matches_files),
        cmocka_unit_test(test_replay_files),
        cmocka_unit_test(test_replay_detects_tampering),
        cmocka_unit_test(test_fragmentation_gives_same_result),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_password_skipped_inside_noise),
        cmocka_unit_test(test_key_change_mid_handshake),
    };
    return cmocka_run_group_tests(tests, noise_fixture_setup, noise_fixture_teardown);
}
