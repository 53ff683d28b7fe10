/*
 * fuzz_noise.c: libFuzzer target for the encrypted path of the device
 * engine (PROTOCOL.md section 10): an engine with a Noise key (offered or
 * required) against a client the input drives, which can send raw bytes
 * (bad frames, bad lengths, garbage handshakes) and can also act as a real
 * Noise initiator (the core's, over the POSIX seam: right key or wrong
 * key), sending valid frames, frames with a broken tag, or a whole upload.
 *
 * Input: byte 0 config (bit0 required, else offered; bit1 64-byte
 * transfer buffer), then records; the engine is polled after each:
 *   00..3F  the client sends the next t+1 bytes as they are
 *   40      magic and the feature byte that follows
 *   41, 42  the initiator starts (right key, wrong key) and sends message 1
 *   43      the initiator reads message 2 (or the reject frame)
 *   50..5F  one valid frame of the next (t & 0F) + 1 bytes
 *   60      a whole upload inside Noise of (next byte * 37 + 1) bytes
 *   61      one frame of the next byte with a broken tag
 *   70..7F  reads return at most t & 0F bytes (0: no limit)
 *   80..8F  the next t & 0F writes would block
 *   90..9F  the clock moves (t & 0F)^2 * 500 ms
 *   F0      the client closes its side
 *   others  one extra poll
 *
 * Beyond the sanitizers it aborts when: a required device lets a plaintext
 * client past its feature byte (anything but 00 VV 94) or commits outside
 * Noise; after 48 SS of an encrypted session the device sends anything but
 * frames (message 2 or a reject, then 17-byte frames of one reply each);
 * a reply follows an error byte or 45 comes without a commit; the
 * connection is not closed exactly once or is used after its close; the
 * engine is not idle in the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/noise_posix.h"
#include "eota/posix.h"
#include "eota/server.h"
#include "mem_backend.h"

#define CIN_MAX (96u * 1024u)
#define STORE_CAP 12000u

#define CHECK(cond, msg)                                                                              \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "fuzz_noise: invariant broken: %s (%s:%d)\n", msg, __FILE__, __LINE__); \
            abort();                                                                                  \
        }                                                                                             \
    } while (0)

typedef struct nconn {
    uint8_t in[CIN_MAX], out[CIN_MAX];
    size_t in_len, in_pos, out_len, up_pos;
    int eof, closed;
} nconn;

static struct {
    nconn c;
    size_t max_read;
    unsigned again;
    uint32_t now;
    uint8_t rnd, required;
    eota_server srv;
    uint8_t xfer[4096];
    eota_mem_backend mb;
    uint8_t store[STORE_CAP];
    eota_noise up;
    int up_started, up_ready;
    uint8_t up_eph;
} F;

static eota_posix_hash hash_ctx;
static eota_posix_noise_crypto nc;
static int ready;

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* ---- the device's connection ---- */

static long dev_read(void *p, uint8_t *buf, size_t len)
{
    nconn *c = p;
    CHECK(!c->closed && len > 0, "read after close or of 0 bytes");
    size_t n = c->in_len - c->in_pos;
    if (n == 0)
        return c->eof ? EOTA_CLOSED : EOTA_AGAIN;
    if (n > len)
        n = len;
    if (F.max_read && n > F.max_read)
        n = F.max_read;
    memcpy(buf, c->in + c->in_pos, n);
    c->in_pos += n;
    return (long)n;
}

static long dev_write(void *p, const uint8_t *buf, size_t len)
{
    nconn *c = p;
    CHECK(!c->closed && len > 0, "write after close or of 0 bytes");
    if (F.again > 0) {
        F.again--;
        return EOTA_AGAIN;
    }
    if (len > CIN_MAX - c->out_len)
        len = CIN_MAX - c->out_len;
    if (len == 0)
        return EOTA_CLOSED;
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return (long)len;
}

static void dev_close(void *p)
{
    nconn *c = p;
    CHECK(!c->closed, "connection closed twice");
    c->closed = 1;
}

static const eota_transport_ops dev_transport = {dev_read, dev_write, dev_close};

/* ---- the initiator's side: it writes into the device's input and reads
 * the device's output after 00 VV 48 SS ---- */

static long up_read(void *p, uint8_t *buf, size_t len)
{
    nconn *c = p;
    size_t n = c->out_len - c->up_pos;
    if (n == 0)
        return EOTA_AGAIN;
    n = n < len ? n : len;
    memcpy(buf, c->out + c->up_pos, n);
    c->up_pos += n;
    return (long)n;
}

static void client_send(const uint8_t *p, size_t n)
{
    if (n > CIN_MAX - F.c.in_len)
        n = CIN_MAX - F.c.in_len;
    memcpy(F.c.in + F.c.in_len, p, n);
    F.c.in_len += n;
}

static long up_write(void *p, const uint8_t *buf, size_t len)
{
    (void)p;
    client_send(buf, len);
    return (long)len;
}

static void up_close(void *p) { (void)p; }

static const eota_transport_ops up_transport = {up_read, up_write, up_close};

/* ---- seams ---- */

static uint32_t clock_now(void *ctx)
{
    (void)ctx;
    return F.now;
}

static int rand_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint8_t *next = ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (*next)++;
    return EOTA_OK;
}

static int fixed_fill(void *ctx, uint8_t *buf, size_t len)
{
    memset(buf, *(uint8_t *)ctx, len);
    return EOTA_OK;
}

static void setup(uint8_t cfg)
{
    if (!ready) {
        if (eota_posix_hash_init(&hash_ctx) != EOTA_OK || eota_posix_noise_crypto_init(&nc) != EOTA_OK)
            abort();
        ready = 1;
    }
    memset(&F, 0, sizeof F);
    F.now = 5000;
    F.required = cfg & 1;
    eota_mem_backend_init(&F.mb, F.store, sizeof F.store);
    eota_server_config sc = {
        .transport = &dev_transport,
        .clock = {clock_now, NULL},
        .random = {rand_fill, &F.rnd},
        .hash = eota_posix_hash_seam(&hash_ctx),
        .backend = eota_mem_backend_seam(&F.mb),
        .handshake_timeout_ms = 3000,
        .data_timeout_ms = 5000,
        .final_ack_timeout_ms = 1000,
        .noise_key = KEY,
        .noise_required = F.required,
        .noise_crypto = eota_posix_noise_crypto_seam(&nc),
    };
    CHECK(eota_server_init(&F.srv, &sc, F.xfer, (cfg & 2) ? 64 : sizeof F.xfer) == EOTA_OK, "init");
    CHECK(eota_server_accept(&F.srv, &F.c) == EOTA_OK, "accept");
}

/* ---- the initiator's records ---- */

static void up_start(int right_key)
{
    static const uint8_t other[32] = {9};
    const nconn *c = &F.c;
    if (F.up_started || c->out_len < 4 || c->out[2] != EOTA_RESP_FEATURE_FLAGS)
        return;
    F.up_eph = 0x11;
    eota_noise_config cfg = {EOTA_NOISE_INITIATOR, right_key ? KEY : other, eota_posix_noise_crypto_seam(&nc),
                             {fixed_fill, &F.up_eph}, 0};
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    eota_server_info info;
    eota_server_get_info(&F.srv, &info); /* the feature byte the device read */
    eota_noise_prologue(pro, c->out[1], info.client_features, c->out[3]);
    if (eota_noise_init(&F.up, &cfg) != EOTA_OK || eota_noise_start(&F.up, &up_transport, &F.c, pro) != EOTA_OK)
        return;
    F.c.up_pos = 4;
    F.up_started = 1;
    (void)eota_noise_flush(&F.up);
}

static void up_frame(const uint8_t *p, size_t n, int break_tag)
{
    if (!F.up_ready || eota_noise_send(&F.up, p, n) != EOTA_OK)
        return;
    (void)eota_noise_flush(&F.up);
    if (break_tag && F.c.in_len > 0)
        F.c.in[F.c.in_len - 1] ^= 0x01;
}

static void up_upload(uint32_t size)
{
    static uint8_t img[256 * 37 + 1];
    uint8_t sz[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    uint8_t md5[16];
    char hex[33];
    for (uint32_t i = 0; i < size; i++)
        img[i] = (uint8_t)(i * 7);
    if (eota_posix_digest(EOTA_HASH_MD5, img, size, md5) != EOTA_OK)
        return;
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md5[i]);
    up_frame((const uint8_t *)"\x00", 1, 0);
    up_frame(sz, 4, 0);
    up_frame((const uint8_t *)hex, 32, 0);
    for (uint32_t off = 0; off < size; off += 1024)
        up_frame(img + off, size - off < 1024 ? size - off : 1024, 0);
    up_frame((const uint8_t *)"\x00", 1, 0);
}

/* One record at data[*i]; returns the bytes it took. */
static size_t record(const uint8_t *d, size_t left)
{
    uint8_t t = d[0];
    size_t n = 0;
    if (t <= 0x3F) {
        n = (size_t)t + 1 < left - 1 ? (size_t)t + 1 : left - 1;
        client_send(d + 1, n);
    } else if (t == 0x40 && left > 1) {
        client_send((const uint8_t *)"\x6C\x26\xF7\x5C\x45", 5);
        client_send(d + 1, n = 1);
    } else if (t == 0x41 || t == 0x42) {
        up_start(t == 0x41);
    } else if (t == 0x43) {
        if (F.up_started && !F.up_ready)
            F.up_ready = eota_noise_handshake(&F.up) == EOTA_OK;
    } else if (t >= 0x50 && t <= 0x5F) {
        n = (size_t)(t & 0x0F) + 1 < left - 1 ? (size_t)(t & 0x0F) + 1 : left - 1;
        if (n)
            up_frame(d + 1, n, 0);
    } else if ((t == 0x60 || t == 0x61) && left > 1) {
        n = 1;
        if (t == 0x60)
            up_upload((uint32_t)d[1] * 37u + 1u);
        else
            up_frame(d + 1, 1, 1);
    } else if (t >= 0x70 && t <= 0x7F) {
        F.max_read = t & 0x0F;
    } else if (t >= 0x80 && t <= 0x8F) {
        F.again = t & 0x0F;
    } else if (t >= 0x90 && t <= 0x9F) {
        F.now += (uint32_t)(t & 0x0F) * (t & 0x0F) * 500u;
    } else if (t == 0xF0) {
        F.c.eof = 1;
    }
    return 1 + n;
}

/* ---- the invariants on what the device sent ---- */

static void check_plain_refused(void)
{
    const nconn *c = &F.c;
    eota_server_info info;
    eota_server_get_info(&F.srv, &info); /* the feature byte the device read */
    int noise = (info.client_features & 0x0C) == 0x0C;
    if (!F.required || noise || c->out_len < 3 || c->out[0] != 0x00)
        return;
    CHECK(c->out[2] == EOTA_RESP_ERROR_ENCRYPTION_REQUIRED && c->out_len == 3, "plaintext client not refused");
}

/* After 00 VV 48 SS of an encrypted session: message 2 or a reject, then
 * frames of one reply each. */
static void check_frames(void)
{
    const nconn *c = &F.c;
    eota_server_info info;
    eota_server_get_info(&F.srv, &info);
    if (!info.encrypted)
        return;
    size_t pos = 4, k = 0;
    while (pos + 3 <= c->out_len) {
        size_t len = ((size_t)c->out[pos + 1] << 8) | c->out[pos + 2];
        CHECK(c->out[pos] == 0x01, "not a frame");
        if (k == 0)
            CHECK((len == 49 && c->out[pos + 3] == 0x00) || c->out[pos + 3] == 0x01, "bad handshake frame");
        else
            CHECK(len == 17, "a transport frame of more than one reply");
        pos += 3 + len;
        k++;
    }
    CHECK(pos == c->out_len, "a partial frame at the end");
}

/* The replies the initiator can read: none after an error, 45 only with a
 * commit. */
static void check_replies(void)
{
    uint8_t buf[256];
    int error_seen = 0;
    long n;
    if (!F.up_ready)
        return;
    while ((n = eota_noise_transport.read(&F.up, buf, sizeof buf)) > 0)
        for (long i = 0; i < n; i++) {
            CHECK(!error_seen, "a reply after an error byte");
            error_seen = buf[i] >= 0x80;
            if (buf[i] == EOTA_RESP_UPDATE_END_OK)
                CHECK(F.mb.committed, "45 without a commit");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup(data[0]);
    for (size_t i = 1; i < size;) {
        i += record(data + i, size - i);
        (void)eota_server_poll(&F.srv);
    }
    F.c.eof = 1;
    F.again = 0;
    for (int k = 0; k < 400 && eota_server_busy(&F.srv); k++) {
        (void)eota_server_poll(&F.srv);
        F.now += 100;
    }
    CHECK(!eota_server_busy(&F.srv) && F.c.closed, "engine not idle at the end");
    eota_server_info info;
    eota_server_get_info(&F.srv, &info);
    if (F.required && F.mb.committed)
        CHECK(info.encrypted, "a required device committed outside Noise");
    check_plain_refused();
    check_frames();
    check_replies();
    if (getenv("FUZZ_NOISE_VERBOSE"))
        fprintf(stderr, "fuzz_noise: encrypted %u, noise failure %u, committed %d, error %02X, %zu bytes out\n",
                info.encrypted, info.noise_failure, F.mb.committed, info.error_code, F.c.out_len);
    return 0;
}
