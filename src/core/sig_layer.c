/*
 * sig_layer.c: the signature check as a storage layer (eota/sig_layer.h).
 * The image streams through: hashed, forwarded, the last
 * EOTA_SIG_TRAILER_MAX bytes held back. At end the held bytes say where the
 * payload ends; the check runs before the layer below installs anything.
 *
 *   IDLE --begin--> OPEN --end: trailer found--> FLUSH --payload out,
 *   checked--> ENDING --inner end ok--> IDLE;  any refusal --> FAILED
 */
#include "eota/sig_layer.h"

#include <string.h>

#include "text.h"

#if EOTA_WITH_SIGNATURE

enum { ST_IDLE = 0, ST_OPEN, ST_FLUSH, ST_ENDING, ST_FAILED };

static int inner_write(eota_sig_layer *l, const uint8_t *p, size_t n, size_t *taken)
{
    *taken = 0;
    int st = l->cfg.inner.ops->write(l->cfg.inner.ctx, p, n, taken);
    if (st != EOTA_OK)
        return st;
    if (*taken > n)
        *taken = n;
    l->cfg.hash.ops->update(l->cfg.hash.ctx, p, *taken);
    l->forwarded += (uint32_t)*taken;
    return EOTA_OK;
}

/* A refusal of the layer's own: the layer below aborted, nothing installed. */
static int refuse(eota_sig_layer *l, int status, const char *why)
{
    l->cfg.inner.ops->abort(l->cfg.inner.ctx);
    l->state = ST_FAILED;
    l->own_failure = 1;
    l->why = why;
    return status;
}

static int sl_begin(void *ctx, const eota_begin_info *info)
{
    eota_sig_layer *l = ctx;
    l->state = ST_IDLE;
    l->hold_len = l->flushed = l->tail_payload = 0;
    l->forwarded = 0;
    l->is_signed = l->own_failure = 0;
    l->why = NULL;
    memset(&l->info, 0, sizeof l->info);
    if (l->cfg.hash.ops->begin(l->cfg.hash.ctx, EOTA_HASH_SHA256) != EOTA_OK) {
        l->own_failure = 1;
        l->why = EOTA_LOG_TEXT("the SHA-256 seam failed");
        return EOTA_ECRYPTO;
    }
    int st = l->cfg.inner.ops->begin(l->cfg.inner.ctx, info);
    if (st == EOTA_OK)
        l->state = ST_OPEN;
    return st;
}

/* Forward the oldest held bytes, up to excess of them (the ones a write of
 * that many more bytes pushes out of the hold); *left: how many of excess
 * are still to go (from the new data). EOTA_AGAIN when the layer below took
 * part only. */
static int make_room(eota_sig_layer *l, size_t excess, size_t *left)
{
    size_t n = excess < l->hold_len ? excess : l->hold_len, k;
    int st = inner_write(l, l->hold, n, &k);
    if (st != EOTA_OK)
        return st;
    memmove(l->hold, l->hold + k, l->hold_len - k);
    l->hold_len -= k;
    *left = excess - k;
    return k < n ? EOTA_AGAIN : EOTA_OK;
}

static int sl_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_sig_layer *l = ctx;
    *taken = 0;
    if (l->state != ST_OPEN)
        return EOTA_EINVAL;
    size_t excess = l->hold_len + len > EOTA_SIG_TRAILER_MAX ? l->hold_len + len - EOTA_SIG_TRAILER_MAX : 0;
    if (excess && l->hold_len) {
        int st = make_room(l, excess, &excess);
        if (st != EOTA_OK)
            return st == EOTA_AGAIN ? EOTA_OK : st; /* busy below: nothing taken */
    }
    if (excess) { /* the hold is empty: the front of data is payload */
        size_t k;
        int st = inner_write(l, data, excess, &k);
        if (st != EOTA_OK || k < excess) {
            *taken = k;
            return st;
        }
        data += excess;
        len -= excess;
        *taken = excess;
    }
    memcpy(l->hold + l->hold_len, data, len);
    l->hold_len += len;
    *taken += len;
    return EOTA_OK;
}

/* At end: where the payload ends in what is held. */
static int find_trailer(eota_sig_layer *l)
{
    const char *why = NULL;
    if (!eota_sig_present(l->hold, l->hold_len)) {
        if (l->cfg.required)
            return refuse(l, EOTA_ESIGNATURE, EOTA_LOG_TEXT("the image is not signed"));
        l->tail_payload = l->hold_len;
        return EOTA_OK;
    }
    if (eota_sig_parse(l->hold, l->hold_len, &l->info, &why) != EOTA_OK)
        return refuse(l, EOTA_ESIGNATURE, why);
    l->is_signed = 1;
    l->tail_payload = l->hold_len - l->info.trailer_len;
    return EOTA_OK;
}

/* The running image's counter, then its version, against the new one's. */
static int check_downgrade(eota_sig_layer *l)
{
    eota_sig_running run;
    memset(&run, 0, sizeof run);
    if (l->cfg.running)
        l->cfg.running(l->cfg.ctx, &run);
    if (!run.known)
        return EOTA_OK;
    if (l->info.counter < run.counter)
        return refuse(l, EOTA_EDOWNGRADE, EOTA_LOG_TEXT("security counter lower than the running image's"));
    if (!l->cfg.allow_downgrade &&
        eota_sig_version_cmp(l->info.version, l->info.version_len, run.version, run.version_len) < 0)
        return refuse(l, EOTA_EDOWNGRADE, EOTA_LOG_TEXT("version lower than the running image's"));
    return EOTA_OK;
}

static int check_signed(eota_sig_layer *l)
{
    uint8_t digest[EOTA_SHA256_LEN];
    if (l->forwarded != l->info.payload_len)
        return refuse(l, EOTA_ESIGNATURE, EOTA_LOG_TEXT("the payload length differs from the signed one"));
    l->cfg.hash.ops->update(l->cfg.hash.ctx, l->info.protected_area, l->info.protected_len);
    if (l->cfg.hash.ops->finish(l->cfg.hash.ctx, digest) != EOTA_OK)
        return refuse(l, EOTA_ECRYPTO, EOTA_LOG_TEXT("the SHA-256 seam failed"));
    if (memcmp(digest, l->info.sha256, EOTA_SHA256_LEN) != 0)
        return refuse(l, EOTA_ESIGNATURE, EOTA_LOG_TEXT("the image's SHA-256 differs from its trailer's"));
    int st = eota_sig_check(&l->info, digest, l->cfg.keys, l->cfg.nkeys, &l->cfg.verify);
    if (st != EOTA_OK)
        return refuse(l, st, EOTA_LOG_TEXT("no valid signature by a trusted key"));
    return check_downgrade(l);
}

/* The held payload out, then the checks. EOTA_AGAIN while below is busy. */
static int flush_and_check(eota_sig_layer *l)
{
    while (l->flushed < l->tail_payload) {
        size_t k;
        int st = inner_write(l, l->hold + l->flushed, l->tail_payload - l->flushed, &k);
        if (st != EOTA_OK) {
            l->state = ST_FAILED;
            return st;
        }
        if (k == 0)
            return EOTA_AGAIN;
        l->flushed += k;
    }
    int st = l->is_signed ? check_signed(l) : EOTA_OK;
    if (st == EOTA_OK && l->cfg.accepted) {
        st = l->cfg.accepted(l->cfg.ctx, l->is_signed ? &l->info : NULL);
        if (st != EOTA_OK)
            return refuse(l, st, EOTA_LOG_TEXT("the image's fields could not be recorded"));
    }
    return st;
}

static int sl_end(void *ctx)
{
    eota_sig_layer *l = ctx;
    int st = EOTA_OK;
    if (l->state == ST_OPEN) {
        st = find_trailer(l);
        if (st != EOTA_OK)
            return st;
        l->state = ST_FLUSH;
    }
    if (l->state == ST_FLUSH) {
        st = flush_and_check(l);
        if (st != EOTA_OK)
            return st;
        l->state = ST_ENDING;
    }
    if (l->state != ST_ENDING)
        return EOTA_EINVAL;
    st = l->cfg.inner.ops->end(l->cfg.inner.ctx);
    if (st != EOTA_AGAIN)
        l->state = st == EOTA_OK ? ST_IDLE : ST_FAILED;
    return st;
}

static void sl_abort(void *ctx)
{
    eota_sig_layer *l = ctx;
    if (l->state != ST_FAILED || !l->own_failure)
        l->cfg.inner.ops->abort(l->cfg.inner.ctx);
    l->state = ST_IDLE;
}

static void sl_detail(void *ctx, eota_backend_detail *out)
{
    eota_sig_layer *l = ctx;
    out->why = NULL;
    out->code = 0;
    if (l->own_failure)
        out->why = l->why;
    else if (l->cfg.inner.ops->detail)
        l->cfg.inner.ops->detail(l->cfg.inner.ctx, out);
}

static const eota_backend_ops sig_ops = {sl_begin, sl_write, sl_end, sl_abort, sl_detail};

int eota_sig_layer_init(eota_sig_layer *l, const eota_sig_layer_config *cfg)
{
    if (!l || !cfg || !cfg->inner.ops || !cfg->hash.ops || !cfg->verify.ops || !cfg->verify.ops->ed25519 ||
        !cfg->keys || cfg->nkeys == 0)
        return EOTA_EINVAL;
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    return EOTA_OK;
}

eota_backend eota_sig_layer_seam(eota_sig_layer *l)
{
    eota_backend b = {&sig_ops, l, l->cfg.inner.caps};
    return b;
}

const eota_sig_info *eota_sig_layer_info(const eota_sig_layer *l)
{
    return l->is_signed && l->state == ST_IDLE ? &l->info : NULL;
}

#endif /* EOTA_WITH_SIGNATURE */
