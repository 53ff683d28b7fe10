/*
 * gzip_layer.c: gzip inflation over an inner storage backend, with zlib
 * (eota/gzip_layer.h).
 */
#include "eota/gzip_layer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static int own(eota_gzip_layer *g, int status, const char *why)
{
    g->why = why;
    return status;
}

static void stop_inflating(eota_gzip_layer *g)
{
    if (g->zs) {
        inflateEnd(g->zs);
        free(g->zs);
        g->zs = NULL;
    }
}

static int start_inflating(eota_gzip_layer *g)
{
    z_stream *zs = calloc(1, sizeof *zs);
    if (!zs || inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) {
        free(zs);
        return own(g, EOTA_EPREPARE, "zlib could not start");
    }
    g->zs = zs;
    return EOTA_OK;
}

/* Hand the held output to the inner backend: EOTA_OK when none is left,
 * EOTA_AGAIN when the inner backend is busy, or its error. */
static int drain(eota_gzip_layer *g)
{
    while (g->out_len > 0) {
        size_t t = 0;
        int st = g->inner.ops->write(g->inner.ctx, g->out + g->out_off, g->out_len, &t);
        if (st != EOTA_OK)
            return st;
        if (t == 0)
            return EOTA_AGAIN;
        if (t > g->out_len)
            t = g->out_len;
        g->out_off += t;
        g->out_len -= t;
    }
    return EOTA_OK;
}

/* One inflate call into the (empty) output buffer. */
static int inflate_step(eota_gzip_layer *g)
{
    z_stream *zs = g->zs;
    zs->next_out = g->out;
    zs->avail_out = sizeof g->out;
    int r = inflate(zs, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
        return own(g, EOTA_EFORMAT, "the gzip image is corrupt");
    g->out_off = 0;
    g->out_len = sizeof g->out - zs->avail_out;
    g->more = zs->avail_out == 0;
    g->done = r == Z_STREAM_END;
    return r == Z_BUF_ERROR && g->out_len == 0 ? EOTA_AGAIN : EOTA_OK;
}

/* Inflate data on to the inner backend until the input is used up (or
 * zlib holds no more output), the inner backend is busy, or the stream
 * ends. *used: the input consumed. */
static int inflate_some(eota_gzip_layer *g, const uint8_t *data, size_t len, size_t *used)
{
    z_stream *zs = g->zs;
    uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
    zs->next_in = (Bytef *)(uintptr_t)data;
    zs->avail_in = n;
    int st = drain(g);
    while (st == EOTA_OK && !g->done && (zs->avail_in > 0 || g->more)) {
        st = inflate_step(g);
        if (st == EOTA_OK)
            st = drain(g);
    }
    *used = n - zs->avail_in;
    if (g->done && *used < len)
        return own(g, EOTA_EFORMAT, "data after the end of the gzip stream");
    return st == EOTA_AGAIN ? EOTA_OK : st;
}

/* Gather the first two bytes; on the second, decide raw or gzip and pass
 * them on. *used: the bytes of data gathered. */
static int sniff(eota_gzip_layer *g, const uint8_t *data, size_t len, size_t *used)
{
    *used = 0;
    while (g->head_len < 2 && *used < len)
        g->head[g->head_len++] = data[(*used)++];
    if (g->head_len < 2)
        return EOTA_OK;
    g->sniffed = 1;
    if (g->agreed && g->head[0] == 0x1f && g->head[1] == 0x8b) {
        size_t u;
        int st = start_inflating(g);
        return st != EOTA_OK ? st : inflate_some(g, g->head, 2, &u);
    }
    memcpy(g->out, g->head, 2);
    g->out_off = 0;
    g->out_len = 2;
    return EOTA_OK;
}

static int gz_begin(void *ctx, const eota_begin_info *info)
{
    eota_gzip_layer *g = ctx;
    stop_inflating(g);
    g->begun = g->sniffed = g->done = g->more = 0;
    g->head_len = g->out_off = g->out_len = 0;
    g->why = NULL;
    g->agreed = info && info->gzip_agreed;
    int st = g->inner.ops->begin(g->inner.ctx, info);
    g->begun = st == EOTA_OK;
    return st;
}

/* The bytes after the first two: through zlib, or straight on. */
static int pass_on(eota_gzip_layer *g, const uint8_t *data, size_t len, size_t *used)
{
    if (g->zs)
        return inflate_some(g, data, len, used);
    *used = 0;
    int st = drain(g);
    if (st != EOTA_OK || len == 0)
        return st == EOTA_AGAIN ? EOTA_OK : st;
    return g->inner.ops->write(g->inner.ctx, data, len, used);
}

static int gz_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_gzip_layer *g = ctx;
    size_t head = 0, rest = 0;
    *taken = 0;
    if (!g->begun)
        return own(g, EOTA_EINVAL, NULL);
    if (!g->sniffed) {
        int st = sniff(g, data, len, &head);
        if (st != EOTA_OK || !g->sniffed) {
            *taken = st == EOTA_OK ? head : 0;
            return st;
        }
    }
    int st = pass_on(g, data + head, len - head, &rest);
    *taken = st == EOTA_OK ? head + rest : 0;
    return st;
}

static int gz_end(void *ctx)
{
    eota_gzip_layer *g = ctx;
    size_t u;
    if (!g->begun)
        return own(g, EOTA_EINVAL, NULL);
    if (!g->sniffed && g->head_len) { /* a one-byte image */
        g->sniffed = 1;
        memcpy(g->out, g->head, g->head_len);
        g->out_off = 0;
        g->out_len = g->head_len;
    }
    int st = g->zs ? inflate_some(g, NULL, 0, &u) : EOTA_OK;
    if (st == EOTA_OK)
        st = drain(g);
    if (st != EOTA_OK)
        return st;
    if (g->zs && !g->done)
        return own(g, EOTA_EVERIFY, "the gzip image is truncated");
    st = g->inner.ops->end(g->inner.ctx);
    if (st == EOTA_OK) {
        stop_inflating(g);
        g->begun = 0;
    }
    return st;
}

static void gz_abort(void *ctx)
{
    eota_gzip_layer *g = ctx;
    stop_inflating(g);
    g->begun = 0;
    g->inner.ops->abort(g->inner.ctx);
}

static void gz_detail(void *ctx, eota_backend_detail *out)
{
    eota_gzip_layer *g = ctx;
    out->why = g->why;
    out->code = 0;
    if (!g->why && g->inner.ops->detail)
        g->inner.ops->detail(g->inner.ctx, out);
}

static const eota_backend_ops gzip_layer_ops = {gz_begin, gz_write, gz_end, gz_abort, gz_detail};

void eota_gzip_layer_init(eota_gzip_layer *g, eota_backend inner)
{
    memset(g, 0, sizeof *g);
    g->inner = inner;
}

eota_backend eota_gzip_layer_seam(eota_gzip_layer *g)
{
    eota_backend b = {&gzip_layer_ops, g, (uint8_t)(g->inner.caps | EOTA_BACKEND_CAP_GZIP)};
    return b;
}
