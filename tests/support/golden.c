/*
 * golden.c: the helpers of golden.h: byte buffer, test image pattern,
 * harness drivers and the golden transcript runner.
 */
#include "golden.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- gbuf ---- */

static void gbuf_reserve(gbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void gbuf_put(gbuf *b, const void *data, size_t n)
{
    gbuf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void gbuf_byte(gbuf *b, uint8_t v) { gbuf_put(b, &v, 1); }

void gbuf_str(gbuf *b, const char *s) { gbuf_put(b, s, strlen(s)); }

void gbuf_printf(gbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    gbuf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *gbuf_cstr(gbuf *b)
{
    gbuf_reserve(b, 0);
    b->p[b->len] = 0;
    return (const char *)b->p;
}

char *gbuf_take(gbuf *b)
{
    gbuf_reserve(b, 0);
    b->p[b->len] = 0;
    char *s = (char *)b->p;
    memset(b, 0, sizeof *b);
    return s;
}

void gbuf_free(gbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- pattern ---- */

uint8_t pattern_byte(size_t i) { return (uint8_t)(i * 7u); }

void pattern_fill(uint8_t *dst, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = pattern_byte(from + i);
}

void pattern_md5_hex(char out[33], size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    pattern_fill(p, n, 0);
    md5_hex(out, p, n);
    free(p);
}

int pattern_check(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern_byte(i))
            return 0;
    return 1;
}

void fake_nonce_hex(char *out, uint8_t start, size_t nbytes)
{
    uint8_t r[64];
    for (size_t i = 0; i < nbytes && i < sizeof r; i++)
        r[i] = (uint8_t)(start + i);
    hex_of(out, r, nbytes);
}

void hex_spaced(gbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gbuf_printf(b, i ? " %02X" : "%02X", p[i]);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int golden_parse_tokens(const char *s, gbuf *out)
{
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (*s == '"') {
            const char *e = strchr(s + 1, '"');
            if (!e)
                return -1;
            gbuf_put(out, s + 1, (size_t)(e - s - 1));
            s = e + 1;
        } else {
            int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
            if (hi < 0 || lo < 0 || (s[2] != ' ' && s[2] != '\0'))
                return -1;
            gbuf_byte(out, (uint8_t)(hi * 16 + lo));
            s += 2;
        }
    }
    return 0;
}

/* ---- drivers ---- */

typedef struct snap {
    size_t in_pos, out_len, mem_len, events;
    int closed, busy;
    unsigned end_calls, begin_calls;
    int aborted;
} snap;

static void take_snap(const eota_harness *h, snap *s)
{
    memset(s, 0, sizeof *s);
    s->in_pos = h->conn.in_pos;
    s->out_len = h->conn.out_len;
    s->mem_len = h->mem.len;
    s->events = h->events.n;
    s->closed = h->conn.closed;
    s->busy = eota_server_busy(&h->srv);
    s->end_calls = h->mem.end_calls;
    s->begin_calls = h->mem.begin_calls;
    s->aborted = h->mem.aborted;
}

int srvt_run_until_stall(eota_harness *h)
{
    int reboots = 0;
    for (long i = 0; i < 10000000L; i++) {
        snap a, b;
        take_snap(h, &a);
        eota_server_result r = eota_server_poll(&h->srv);
        if (r == EOTA_SERVER_REBOOT)
            reboots++;
        take_snap(h, &b);
        if (r != EOTA_SERVER_REBOOT && memcmp(&a, &b, sizeof a) == 0)
            break;
    }
    return reboots;
}

int srvt_drive_idle(eota_harness *h, uint32_t step_ms, long max_stalls)
{
    int reboots = 0;
    for (long i = 0; i < max_stalls; i++) {
        reboots += srvt_run_until_stall(h);
        if (!eota_server_busy(&h->srv))
            break;
        h->clock.now += step_ms;
    }
    return reboots;
}

/* ---- golden runner ---- */

void golden_config_default(golden_config *c)
{
    memset(c, 0, sizeof *c);
    c->version = 2;
    c->capacity = 1u << 20;
    c->too_big = 0x89;
    c->xfer = 4096;
}

static void config_line(gbuf *t, const golden_config *c)
{
    gbuf_printf(t, "config: version=%u password=\"%s\" allow_md5=%u caps=%02X capacity=%zu too_big=%02X xfer=%zu\n",
                c->version, c->password, c->allow_md5, c->caps, c->capacity, c->too_big, c->xfer);
}

static int parse_config(const char *line, golden_config *c)
{
    golden_config_default(c);
    const char *s = line + strlen("config:");
    unsigned v, md5, caps, tb;
    size_t cap, xfer;
    int n = 0;
    if (sscanf(s, " version=%u password=\"%n", &v, &n) != 1 || n == 0)
        return -1;
    s += n;
    const char *e = strchr(s, '"');
    if (!e || (size_t)(e - s) > EOTA_PASSWORD_MAX)
        return -1;
    memcpy(c->password, s, (size_t)(e - s));
    c->password[e - s] = 0;
    s = e + 1;
    n = 0;
    if (sscanf(s, " allow_md5=%u caps=%x capacity=%zu too_big=%x xfer=%zu%n", &md5, &caps, &cap, &tb, &xfer, &n) != 5 ||
        s[n] != '\0')
        return -1;
    c->version = (uint8_t)v;
    c->allow_md5 = (uint8_t)md5;
    c->caps = (uint8_t)caps;
    c->capacity = cap;
    c->too_big = (uint8_t)tb;
    c->xfer = xfer;
    return 0;
}

/* Cut what the device sent into protocol replies: the version reply (00 VV)
 * first, FEATURE_FLAGS with its byte, a challenge with its nonce, otherwise
 * one byte each. A reply not complete yet waits for more bytes. */
static void emit_device_lines(golden_run *r)
{
    const fake_conn *c = &r->h->conn;
    while (r->out_seen < c->out_len) {
        const uint8_t *p = c->out + r->out_seen;
        size_t have = c->out_len - r->out_seen;
        size_t take = 1, ascii = 0;
        if (!r->version_seen && p[0] == EOTA_RESP_OK) {
            take = 2;
        } else if (p[0] == EOTA_RESP_FEATURE_FLAGS) {
            take = 2;
        } else if (p[0] == EOTA_RESP_REQUEST_SHA256_AUTH) {
            take = 1 + EOTA_SHA256_HEX_LEN;
            ascii = EOTA_SHA256_HEX_LEN;
        } else if (p[0] == EOTA_RESP_REQUEST_AUTH) {
            take = 1 + EOTA_MD5_HEX_LEN;
            ascii = EOTA_MD5_HEX_LEN;
        }
        if (have < take)
            return;
        r->version_seen = 1;
        gbuf_str(&r->text, "D: ");
        if (ascii) {
            gbuf_printf(&r->text, "%02X \"", p[0]);
            gbuf_put(&r->text, p + 1, ascii);
            gbuf_str(&r->text, "\"");
            memcpy(r->last_nonce, p + 1, ascii);
            r->last_nonce[ascii] = 0;
        } else {
            hex_spaced(&r->text, p, take);
        }
        gbuf_str(&r->text, "\n");
        r->out_seen += take;
    }
}

static void settle(golden_run *r)
{
    r->reboots += srvt_run_until_stall(r->h);
    emit_device_lines(r);
}

void golden_begin(golden_run *r, const golden_config *c, const char *comment)
{
    memset(r, 0, sizeof *r);
    r->cfg = *c;
    c = &r->cfg;
    r->h = calloc(1, sizeof *r->h);
    if (!r->h)
        abort();
    eota_harness *h = r->h;
    eota_harness_init(h);
    h->cfg.version = c->version;
    h->cfg.password = c->password;
    h->cfg.allow_md5_auth = c->allow_md5;
    eota_mem_backend_init(&h->mem, h->store, c->capacity < h->store_cap ? c->capacity : h->store_cap);
    h->mem.caps = c->caps;
    h->cfg.too_big_code = c->too_big;
    eota_harness_start(h, c->xfer);
    if (comment) {
        const char *s = comment;
        while (*s) {
            const char *e = strchr(s, '\n');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            gbuf_str(&r->text, "#");
            if (n)
                gbuf_str(&r->text, " ");
            gbuf_put(&r->text, s, n);
            gbuf_str(&r->text, "\n");
            s += n;
            if (*s == '\n')
                s++;
        }
    }
    config_line(&r->text, c);
    if (eota_harness_connect(h) != EOTA_OK)
        r->failed = 1;
    settle(r);
}

void golden_send(golden_run *r, const char *tokens)
{
    gbuf bytes = {0};
    while (*tokens == ' ')
        tokens++;
    if (golden_parse_tokens(tokens, &bytes) != 0 || bytes.len == 0)
        r->failed = 1;
    gbuf_printf(&r->text, "C: %s\n", tokens);
    if (bytes.len)
        fake_conn_push(&r->h->conn, bytes.p, bytes.len);
    gbuf_free(&bytes);
    settle(r);
}

void golden_send_data(golden_run *r, size_t n, size_t from)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    pattern_fill(p, n, from);
    gbuf_printf(&r->text, "C: <data %zu bytes from offset %zu>\n", n, from);
    fake_conn_push(&r->h->conn, p, n);
    free(p);
    settle(r);
}

void golden_close(golden_run *r)
{
    gbuf_str(&r->text, "C: <close>\n");
    r->h->conn.eof = 1;
    settle(r);
}

void golden_wait(golden_run *r, uint32_t ms)
{
    gbuf_printf(&r->text, "T: +%u ms\n", ms);
    r->h->clock.now += ms;
    settle(r);
    gbuf_printf(&r->text, "S: %s, reboot requested %d time(s)\n", eota_server_busy(&r->h->srv) ? "busy" : "idle",
                r->reboots);
}

const char *golden_nonce(const golden_run *r) { return r->last_nonce; }

static const char *auth_name(eota_auth_kind k)
{
    switch (k) {
    case EOTA_AUTH_NONE: return "none";
    case EOTA_AUTH_SHA256: return "sha256";
    case EOTA_AUTH_MD5: return "md5";
    }
    return "?";
}

char *golden_end(golden_run *r)
{
    eota_harness *h = r->h;
    settle(r);
    /* Bytes that do not form a whole reply (none expected). */
    if (r->out_seen < h->conn.out_len) {
        gbuf_str(&r->text, "D: ");
        hex_spaced(&r->text, h->conn.out + r->out_seen, h->conn.out_len - r->out_seen);
        gbuf_str(&r->text, " (incomplete)\n");
    }
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    const char *image = "none";
    if (h->mem.committed)
        image = pattern_check(h->store, h->mem.committed_len) ? "pattern" : "other";
    gbuf_printf(&r->text, "end: %s, connection closed %d time(s), reboot requested %d time(s)%s\n",
                eota_server_busy(&h->srv) ? "busy" : "idle", h->conn.closed, r->reboots,
                r->failed ? " (SCRIPT ERROR)" : "");
    gbuf_printf(&r->text,
                "result: begin=%u committed=%d committed_len=%zu image=%s aborted=%d begin_size=%u "
                "begin_type=%02X begin_gzip=%u\n",
                h->mem.begin_calls, h->mem.committed, h->mem.committed_len, image, h->mem.aborted,
                h->mem.begin_calls ? h->mem.info.size : 0, h->mem.begin_calls ? h->mem.info.ota_type : 0,
                h->mem.begin_calls ? h->mem.info.gzip_agreed : 0);
    gbuf_printf(&r->text, "info: client_features=%02X server_flags=%02X auth=%s version=%u ota_type=%02X size=%u "
                "received=%u error_code=%02X\n",
                info.client_features, info.server_flags, auth_name(info.auth), info.version, info.ota_type,
                info.size, info.received, info.error_code);
    gbuf_str(&r->text, "events:");
    if (h->events.n == 0)
        gbuf_str(&r->text, " none");
    for (size_t i = 0; i < h->events.n; i++) {
        const eota_event *ev = &h->events.ev[i];
        gbuf_printf(&r->text, "%s %s", i ? "," : "", eota_state_name(ev->state));
        if (ev->state == EOTA_STATE_ERROR)
            gbuf_printf(&r->text, " code=%02X", ev->code);
        gbuf_printf(&r->text, " %u/%u", ev->received, ev->total);
    }
    gbuf_str(&r->text, "\n");
    eota_harness_free(h);
    free(h);
    r->h = NULL;
    return gbuf_take(&r->text);
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

char *golden_replay(const char *text, char *err, size_t errlen)
{
    golden_run r;
    int begun = 0, lineno = 0;
    gbuf comments = {0};
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *line = malloc(n + 1);
        if (!line)
            abort();
        memcpy(line, s, n);
        line[n] = 0;
        s += n;
        if (*s == '\n')
            s++;
        lineno++;
        int bad = 0;
        if (line[0] == '#') {
            if (begun)
                bad = 1;
            else {
                const char *c = line + 1;
                if (*c == ' ')
                    c++;
                gbuf_printf(&comments, "%s\n", c);
            }
        } else if (starts(line, "config:")) {
            golden_config cfg;
            if (begun || parse_config(line, &cfg) != 0) {
                bad = 1;
            } else {
                /* the comment buffer ends with '\n'; drop the last one */
                if (comments.len)
                    comments.p[--comments.len] = 0;
                golden_begin(&r, &cfg, comments.len ? gbuf_cstr(&comments) : NULL);
                begun = 1;
            }
        } else if (!begun) {
            bad = 1;
        } else if (strcmp(line, "C: <close>") == 0) {
            golden_close(&r);
        } else if (starts(line, "C: <data ")) {
            size_t cnt, from;
            int m = 0;
            if (sscanf(line, "C: <data %zu bytes from offset %zu>%n", &cnt, &from, &m) != 2 || line[m] != 0)
                bad = 1;
            else
                golden_send_data(&r, cnt, from);
        } else if (starts(line, "C: ")) {
            golden_send(&r, line + 3);
        } else if (starts(line, "T: +")) {
            unsigned ms;
            int m = 0;
            if (sscanf(line, "T: +%u ms%n", &ms, &m) != 1 || line[m] != 0)
                bad = 1;
            else
                golden_wait(&r, ms);
        } else if (starts(line, "D: ") || starts(line, "S: ") || starts(line, "end: ") || starts(line, "result: ") ||
                   starts(line, "info: ") || starts(line, "events:")) {
            /* written by the engine run */
        } else {
            bad = 1;
        }
        if (bad) {
            snprintf(err, errlen, "line %d: cannot replay: %s", lineno, line);
            free(line);
            gbuf_free(&comments);
            if (begun)
                free(golden_end(&r));
            return NULL;
        }
        free(line);
    }
    gbuf_free(&comments);
    if (!begun) {
        snprintf(err, errlen, "no config line");
        return NULL;
    }
    if (r.failed) {
        snprintf(err, errlen, "a client line has a syntax error");
        free(golden_end(&r));
        return NULL;
    }
    return golden_end(&r);
}

int golden_device_bytes(const char *text, gbuf *out)
{
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 3 && strncmp(s, "D: ", 3) == 0) {
            char *line = malloc(n + 1);
            if (!line)
                abort();
            memcpy(line, s + 3, n - 3);
            line[n - 3] = 0;
            int rc = golden_parse_tokens(line, out);
            free(line);
            if (rc != 0)
                return -1;
        }
        s += n;
        if (*s == '\n')
            s++;
    }
    return 0;
}

char *golden_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    gbuf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        gbuf_put(&b, tmp, n);
    fclose(f);
    return gbuf_take(&b);
}

int golden_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}
