/*
 * fake.c: the test doubles of fake.h.
 */
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return q;
}

void fake_conn_init(fake_conn *c) { memset(c, 0, sizeof *c); }

void fake_conn_free(fake_conn *c)
{
    free(c->in);
    free(c->out);
    memset(c, 0, sizeof *c);
}

void fake_conn_push(fake_conn *c, const void *data, size_t n)
{
    c->in = xrealloc(c->in, c->in_len + n);
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    c->in_avail = c->in_len;
}

void fake_conn_push_hex(fake_conn *c, const char *hex)
{
    while (*hex) {
        while (*hex == ' ')
            hex++;
        if (!*hex)
            break;
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            abort();
        uint8_t b = (uint8_t)v;
        fake_conn_push(c, &b, 1);
        hex += 2;
    }
}

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static long fake_read(void *conn, uint8_t *buf, size_t len)
{
    fake_conn *c = conn;
    if (c->read_error)
        return EOTA_EIO;
    if (c->in_pos >= c->in_avail)
        return (c->eof && c->in_avail == c->in_len) ? EOTA_CLOSED : EOTA_AGAIN;
    size_t n = c->in_avail - c->in_pos;
    if (n > len)
        n = len;
    if (c->max_read && n > c->max_read)
        n = c->max_read;
    if (c->seed) {
        size_t r = 1 + next_rand(&c->seed) % 300;
        if (n > r)
            n = r;
    }
    memcpy(buf, c->in + c->in_pos, n);
    c->in_pos += n;
    return (long)n;
}

static long fake_write(void *conn, const uint8_t *buf, size_t len)
{
    fake_conn *c = conn;
    c->write_calls++;
    if (c->write_closed)
        return EOTA_CLOSED;
    if (c->write_again_every > 0 && c->write_calls % (unsigned)c->write_again_every == 0)
        return EOTA_AGAIN;
    size_t n = len;
    if (c->max_write && n > c->max_write)
        n = c->max_write;
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = xrealloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, buf, n);
    c->out_len += n;
    return (long)n;
}

static void fake_close(void *conn)
{
    fake_conn *c = conn;
    c->closed++;
}

const eota_transport_ops fake_transport = {fake_read, fake_write, fake_close};

static uint32_t fake_now(void *ctx) { return ((fake_clock *)ctx)->now; }

eota_clock fake_clock_seam(fake_clock *c)
{
    eota_clock k = {fake_now, c};
    return k;
}

static int fake_fill(void *ctx, uint8_t *buf, size_t len)
{
    fake_random *r = ctx;
    if (r->fail)
        return EOTA_ECRYPTO;
    for (size_t i = 0; i < len; i++)
        buf[i] = r->next++;
    return EOTA_OK;
}

eota_random fake_random_seam(fake_random *r)
{
    eota_random k = {fake_fill, r};
    return k;
}

static void fake_on_event(void *ctx, const eota_event *ev)
{
    fake_events *e = ctx;
    if (e->n < FAKE_MAX_EVENTS)
        e->ev[e->n++] = *ev;
}

static void fake_on_log(void *ctx, eota_log_level lvl, const char *msg, uint32_t arg)
{
    fake_events *e = ctx;
    if (e->verbose)
        fprintf(stderr, "  [log %d] %s (%u)\n", (int)lvl, msg, arg);
}

eota_events fake_events_seam(fake_events *e)
{
    eota_events k = {fake_on_event, fake_on_log, e};
    return k;
}

size_t fake_events_count(const fake_events *e, eota_state st)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->ev[i].state == st;
    return n;
}

void eota_harness_init(eota_harness *h)
{
    memset(h, 0, sizeof *h);
    fake_conn_init(&h->conn);
    if (eota_posix_hash_init(&h->hash) != EOTA_OK)
        abort();
    h->store_cap = 1u << 20;
    h->store = xrealloc(NULL, h->store_cap);
    eota_mem_backend_init(&h->mem, h->store, h->store_cap);
    h->clock.now = 1000;
    h->cfg.transport = &fake_transport;
    h->cfg.clock = fake_clock_seam(&h->clock);
    h->cfg.random = fake_random_seam(&h->random);
    h->cfg.hash = eota_posix_hash_seam(&h->hash);
    h->cfg.events = fake_events_seam(&h->events);
    h->cfg.version = 2;
    h->events.verbose = getenv("EOTA_TEST_VERBOSE") != NULL;
}

void eota_harness_start(eota_harness *h, size_t xfer_size)
{
    if (xfer_size == 0 || xfer_size > sizeof h->xfer)
        xfer_size = sizeof h->xfer;
    h->cfg.backend = eota_mem_backend_seam(&h->mem);
    if (eota_server_init(&h->srv, &h->cfg, h->xfer, xfer_size) != EOTA_OK)
        abort();
}

void eota_harness_free(eota_harness *h)
{
    fake_conn_free(&h->conn);
    eota_posix_hash_free(&h->hash);
    free(h->store);
}

int eota_harness_connect(eota_harness *h) { return eota_server_accept(&h->srv, &h->conn); }

int eota_harness_run(eota_harness *h, int rounds, uint32_t step_ms)
{
    int reboots = 0;
    for (int i = 0; i < rounds; i++) {
        eota_server_result r = eota_server_poll(&h->srv);
        if (r == EOTA_SERVER_REBOOT)
            reboots++;
        if (r == EOTA_SERVER_IDLE || r == EOTA_SERVER_REBOOT)
            if (!eota_server_busy(&h->srv))
                break;
        h->clock.now += step_ms;
    }
    return reboots;
}

void hex_of(char *dst, const uint8_t *src, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = d[src[i] >> 4];
        dst[2 * i + 1] = d[src[i] & 15];
    }
    dst[2 * n] = '\0';
}

void md5_hex(char out[33], const void *data, size_t n)
{
    uint8_t d[16];
    if (eota_posix_digest(EOTA_HASH_MD5, data, n, d) != EOTA_OK)
        abort();
    hex_of(out, d, 16);
}

void auth_response(char *out, eota_hash_alg alg, const char *password, const char *nonce,
                   const char *cnonce)
{
    size_t lp = strlen(password), ln = strlen(nonce), lc = strlen(cnonce);
    char *cat = xrealloc(NULL, lp + ln + lc);
    memcpy(cat, password, lp);
    memcpy(cat + lp, nonce, ln);
    memcpy(cat + lp + ln, cnonce, lc);
    uint8_t d[32];
    if (eota_posix_digest(alg, cat, lp + ln + lc, d) != EOTA_OK)
        abort();
    free(cat);
    hex_of(out, d, eota_hash_digest_len(alg));
}
