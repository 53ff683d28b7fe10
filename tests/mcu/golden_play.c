/*
 * golden_play.c: the freestanding golden replayer of golden_mcu.h: the
 * world's seams (scripted connection, clock, random, events), the driver
 * that polls the engine until it settles after each client step, and the
 * comparisons with the transcript, each failure naming the transcript line.
 */
#include "golden_mcu.h"

#include <string.h>

/* Polls in a row that change nothing observable before a step counts as
 * settled. The engine does all it can in one poll (eota/server.h), so one
 * quiet poll would do; a few more leave room for a backend that works over
 * several polls without showing it on the connection. */
#define GOLDEN_QUIET_POLLS 4

/* ---- text ---- */

void golden_put(golden_text *t, const char *s)
{
    while (*s && t->len + 1 < sizeof t->s)
        t->s[t->len++] = *s++;
    t->s[t->len] = '\0';
}

void golden_put_u32(golden_text *t, uint32_t v)
{
    char d[11];
    int i = 10;
    d[i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    golden_put(t, d + i);
}

void golden_put_hex(golden_text *t, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    if (n == 0)
        golden_put(t, "nothing");
    for (size_t i = 0; i < n && i < 24; i++) {
        char b[4] = {' ', digits[p[i] >> 4], digits[p[i] & 15], '\0'};
        golden_put(t, i ? b : b + 1);
    }
    if (n > 24)
        golden_put(t, " ...");
}

int golden_streq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && memcmp(a, b, n) == 0;
}

int golden_is_pattern(const uint8_t *p, uint32_t n, uint32_t from)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)((from + i) * 7u))
            return 0;
    return 1;
}

/* ---- the seams ---- */

static long conn_read(void *c, uint8_t *buf, size_t len)
{
    golden_conn *k = c;
    if (k->in_pos == k->in_len)
        return k->eof ? EOTA_CLOSED : EOTA_AGAIN;
    size_t n = k->in_len - k->in_pos;
    if (n > len)
        n = len;
    memcpy(buf, k->in + k->in_pos, n);
    k->in_pos += (uint32_t)n;
    return (long)n;
}

static long conn_write(void *c, const uint8_t *buf, size_t len)
{
    golden_conn *k = c;
    size_t room = sizeof k->out - k->out_len;
    if (len > room)
        k->overflow = 1;
    memcpy(k->out + k->out_len, buf, len < room ? len : room);
    k->out_len += (uint32_t)(len < room ? len : room);
    return (long)len;
}

static void conn_close(void *c) { ((golden_conn *)c)->closed++; }

static const eota_transport_ops golden_transport = {conn_read, conn_write, conn_close};

static uint32_t clock_now(void *ctx) { return ((golden_world *)ctx)->now_ms; }

static int random_fill(void *ctx, uint8_t *buf, size_t len)
{
    golden_world *w = ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = w->random_next++;
    return EOTA_OK;
}

static void on_event(void *ctx, const eota_event *ev)
{
    golden_world *w = ctx;
    if (w->n_events < sizeof w->events / sizeof w->events[0])
        w->events[w->n_events] = *ev;
    w->n_events++;
}

void golden_world_init(golden_world *w, const golden_transcript *t)
{
    memset(w, 0, sizeof *w);
    w->now_ms = 1000;
    golden_hash_init(&w->hash, t->hashes, t->n_hashes);
}

void golden_world_seams(golden_world *w, const golden_transcript *t, eota_server_config *cfg)
{
    cfg->transport = &golden_transport;
    cfg->clock.now_ms = clock_now;
    cfg->clock.ctx = w;
    cfg->random.fill = random_fill;
    cfg->random.ctx = w;
    cfg->hash = golden_hash_seam(&w->hash);
    cfg->events.on_event = on_event;
    cfg->events.on_log = NULL;
    cfg->events.ctx = w;
    cfg->version = t->config.version;
    cfg->password = t->config.password;
    cfg->allow_md5_auth = t->config.allow_md5;
}

void *golden_world_conn(golden_world *w) { return &w->conn; }

/* ---- the driver ---- */

typedef struct golden_snap {
    uint32_t in_pos, out_len, closed, n_events;
    int busy;
} golden_snap;

static void snap(const golden_target *tg, const golden_world *w, golden_snap *s)
{
    s->in_pos = w->conn.in_pos;
    s->out_len = w->conn.out_len;
    s->closed = w->conn.closed;
    s->n_events = w->n_events;
    s->busy = eota_server_busy(tg->server(tg->ctx));
}

/* Poll until GOLDEN_QUIET_POLLS polls in a row change nothing; count the
 * reboots the engine asks for. 0 when it never settles. */
static int settle(const golden_target *tg, golden_world *w, uint32_t *reboots)
{
    int quiet = 0;
    for (long i = 0; i < 1000000L && quiet < GOLDEN_QUIET_POLLS; i++) {
        golden_snap a, b;
        snap(tg, w, &a);
        int r = tg->poll(tg->ctx);
        snap(tg, w, &b);
        if (r == EOTA_SERVER_REBOOT)
            (*reboots)++;
        quiet = (r != EOTA_SERVER_REBOOT && memcmp(&a, &b, sizeof a) == 0) ? quiet + 1 : 0;
    }
    return quiet == GOLDEN_QUIET_POLLS;
}

static int push(golden_conn *c, const golden_op *op)
{
    uint32_t n = op->kind == GOLDEN_SEND ? op->send.len : op->arg;
    if (n > sizeof c->in - c->in_len)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        c->in[c->in_len + i] = op->kind == GOLDEN_SEND ? op->send.p[i] : (uint8_t)((op->start + i) * 7u);
    c->in_len += n;
    return 1;
}

static int apply(const golden_op *op, const golden_target *tg, golden_world *w, const golden_transcript *t)
{
    switch (op->kind) {
    case GOLDEN_ACCEPT: return tg->start(tg->ctx, w, t) == EOTA_OK;
    case GOLDEN_SEND:
    case GOLDEN_DATA: return push(&w->conn, op);
    case GOLDEN_CLOSE: w->conn.eof = 1; return 1;
    case GOLDEN_WAIT: w->now_ms += op->arg; return 1;
    default: return 0;
    }
}

static int fail_at(golden_text *why, uint32_t line, const char *what)
{
    golden_put(why, "line ");
    golden_put_u32(why, line);
    golden_put(why, ": ");
    golden_put(why, what);
    return 0;
}

/* The device bytes since *seen must be `expect`. */
static int check_sent(golden_world *w, uint32_t *seen, golden_bytes expect, uint32_t line, golden_text *why)
{
    const uint8_t *got = w->conn.out + *seen;
    uint32_t n = w->conn.out_len - *seen;
    *seen = w->conn.out_len;
    if (!w->conn.overflow && n == expect.len && (n == 0 || memcmp(got, expect.p, n) == 0))
        return 1;
    fail_at(why, line, "device sent ");
    golden_put_hex(why, got, n);
    golden_put(why, w->conn.overflow ? " (and more)" : "");
    golden_put(why, ", expected ");
    golden_put_hex(why, expect.p, expect.len);
    return 0;
}

static int step(const golden_op *op, const golden_target *tg, golden_world *w, const golden_transcript *t,
                uint32_t *seen, uint32_t *reboots, golden_text *why)
{
    if (!apply(op, tg, w, t))
        return fail_at(why, op->line, "the step cannot be applied (start failed or input too long)");
    if (!settle(tg, w, reboots))
        return fail_at(why, op->line, "the engine never settles");
    if (w->hash.misses) {
        fail_at(why, op->line, "the engine hashed bytes that no session recorded, length ");
        golden_put_u32(why, w->hash.miss_len);
        return 0;
    }
    if (!check_sent(w, seen, op->expect, op->line, why))
        return 0;
    if (op->kind == GOLDEN_WAIT &&
        (eota_server_busy(tg->server(tg->ctx)) != op->busy || *reboots != (uint32_t)op->reboots))
        return fail_at(why, op->line, "the state after the wait (S line) differs");
    return 1;
}

/* ---- the outcome ---- */

int golden_check_fields(const golden_field *f, size_t n, golden_text *why)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i].got == f[i].want)
            continue;
        golden_put(why, f[i].name);
        golden_put(why, " is ");
        golden_put_u32(why, f[i].got);
        golden_put(why, ", expected ");
        golden_put_u32(why, f[i].want);
        return 0;
    }
    return 1;
}

uint32_t golden_index(const char *const *names, uint32_t n, const char *name)
{
    for (uint32_t k = 0; k < n; k++)
        if (golden_streq(names[k], name))
            return k;
    return 0xFFu;
}

static uint32_t state_number(const char *name)
{
    const char *names[8];
    for (uint32_t k = 0; k < 8u; k++)
        names[k] = eota_state_name((eota_state)k);
    return golden_index(names, 8u, name);
}

static int check_info(const eota_server *srv, const golden_outcome *o, golden_text *why)
{
    static const char *const auth[] = {"none", "sha256", "md5"}; /* eota_auth_kind */
    eota_server_info i;
    eota_server_get_info(srv, &i);
    const golden_field f[] = {
        {"info client_features", i.client_features, o->client_features},
        {"info server_flags", i.server_flags, o->server_flags},
        {"info auth", i.auth, golden_index(auth, 3u, o->auth)},
        {"info version", i.version, o->version},
        {"info ota_type", i.ota_type, o->ota_type},
        {"info size", i.size, o->size},
        {"info received", i.received, o->received},
        {"info error_code", i.error_code, o->error_code},
    };
    return golden_check_fields(f, sizeof f / sizeof f[0], why);
}

static int check_events(const golden_world *w, const golden_outcome *o, golden_text *why)
{
    if (w->n_events != o->n_events) {
        const golden_field f = {"events count", w->n_events, o->n_events};
        return golden_check_fields(&f, 1, why);
    }
    for (uint32_t k = 0; k < o->n_events; k++) {
        const eota_event *ev = &w->events[k];
        const golden_event *want = &o->events[k];
        int is_error = ev->state == EOTA_STATE_ERROR;
        const golden_field f[] = {
            {"event state", ev->state, state_number(want->state)},
            {"event code", is_error ? ev->code : 0u, want->code},
            {"event received", ev->received, want->received},
            {"event total", ev->total, want->total},
        };
        if (!golden_check_fields(f, sizeof f / sizeof f[0], why))
            return 0;
    }
    return 1;
}

static int check_outcome(const golden_target *tg, const golden_world *w, const golden_outcome *o,
                         uint32_t reboots, golden_text *why)
{
    const eota_server *srv = tg->server(tg->ctx);
    const golden_field end[] = {
        {"end busy", (uint32_t)eota_server_busy(srv), o->busy},
        {"end connection closed", w->conn.closed, o->closed},
        {"end reboots requested", reboots, o->reboots},
    };
    return golden_check_fields(end, sizeof end / sizeof end[0], why) && tg->check_result(tg->ctx, o, why) &&
           check_info(srv, o, why) && check_events(w, o, why);
}

int golden_play(const golden_transcript *t, const golden_target *target, golden_world *w, golden_text *why)
{
    uint32_t seen = 0, reboots = 0;
    why->len = 0;
    why->s[0] = '\0';
    golden_world_init(w, t);
    for (uint32_t i = 0; i < t->n_ops; i++)
        if (!step(&t->ops[i], target, w, t, &seen, &reboots, why))
            return 0;
    const golden_bytes none = {0, 0};
    uint32_t last = t->n_ops ? t->ops[t->n_ops - 1].line : 0;
    if (!settle(target, w, &reboots))
        return fail_at(why, last, "the engine never settles at the end");
    return check_sent(w, &seen, none, last, why) && check_outcome(target, w, &t->out, reboots, why);
}
