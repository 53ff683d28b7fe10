/*
 * ingest.c: the data phase of an upload (eota/ingest.h), the one path from
 * "bytes arrived" to "image committed" for every engine that receives an
 * image. A small state machine over the storage backend:
 *
 *   IDLE --begin--> STARTED --backend begin ok--> OPEN --finish--> ENDING
 *   ENDING --end ok--> COMMITTED --completed--> IDLE
 *   any running state --failure--> FAILED;  --abort--> IDLE
 *
 * The backend is begun (owes an abort) exactly in OPEN and ENDING.
 */
#include "eota/ingest.h"

#include <string.h>

#include "text.h"
#include "wire.h"

enum ingest_state { ST_IDLE = 0, ST_STARTED, ST_OPEN, ST_ENDING, ST_COMMITTED, ST_FAILED };

static uint32_t now(const eota_ingest *in) { return in->cfg.clock.now_ms(in->cfg.clock.ctx); }

/* msg is EOTA_LOG_TEXT's (text.h): NULL in a build without log text, which
 * on_log gets as "". */
static void logmsg(const eota_ingest *in, eota_log_level lvl, const char *msg, uint32_t arg)
{
    if (in->cfg.events.on_log)
        in->cfg.events.on_log(in->cfg.events.ctx, lvl, EOTA_WITH_LOG_TEXT ? msg : "", arg);
}

static int running(const eota_ingest *in) { return in->state >= ST_STARTED && in->state <= ST_ENDING; }
static int begun(const eota_ingest *in) { return in->state == ST_OPEN || in->state == ST_ENDING; }

void eota_ingest_emit(eota_ingest *in, eota_state state, uint8_t code, const char *detail)
{
    if (!in->cfg.events.on_event)
        return;
    eota_event ev;
    ev.state = state;
    ev.code = code;
    ev.received = in->received;
    ev.total = state == EOTA_STATE_COMPLETED ? in->received : in->total;
    ev.detail = detail;
    in->cfg.events.on_event(in->cfg.events.ctx, &ev);
}

static void abort_backend(eota_ingest *in)
{
    if (begun(in))
        in->cfg.backend.ops->abort(in->cfg.backend.ctx);
    in->pend_len = 0;
}

/* A failure: the backend's upload dropped, ERROR once. */
static int drop(eota_ingest *in, int status, uint8_t code, const char *detail)
{
    abort_backend(in);
    in->state = ST_FAILED;
    in->error_code = code;
    in->why = detail;
    eota_ingest_emit(in, EOTA_STATE_ERROR, code, detail);
    return status;
}

/* A failure found here: said in the log, then dropped. */
static int failed(eota_ingest *in, int status, uint8_t code, const char *log, const char *detail)
{
    logmsg(in, EOTA_LOG_ERROR, log, code);
    return drop(in, status, code, detail);
}

/* The backend refused: the engine's response byte for its status. */
static int backend_failed(eota_ingest *in, int status, eota_ingest_step step, const char *log)
{
    eota_backend_detail d = {NULL, 0};
    if (in->cfg.backend.ops->detail)
        in->cfg.backend.ops->detail(in->cfg.backend.ctx, &d);
    uint8_t code = eota_ingest_wire_code(status, d.code, step, in->cfg.too_big_code);
    return failed(in, status, code, log, d.why);
}

uint8_t eota_ingest_wire_code(int status, uint8_t detail_code, eota_ingest_step step, uint8_t too_big_code)
{
    static const uint8_t by_step[] = {EOTA_RESP_ERROR_UPDATE_PREPARE, EOTA_RESP_ERROR_WRITING_FLASH,
                                      EOTA_RESP_ERROR_UPDATE_END};
    if (detail_code != 0)
        return detail_code;
    switch (status) {
    case EOTA_ETOOBIG: return too_big_code ? too_big_code : (uint8_t)EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE;
    case EOTA_ENOSLOT: return EOTA_RESP_ERROR_NO_UPDATE_PARTITION;
    case EOTA_EUNSUPPORTED: return EOTA_RESP_ERROR_UNSUPPORTED_OTA_TYPE;
    case EOTA_EPREPARE: return EOTA_RESP_ERROR_UPDATE_PREPARE;
    case EOTA_EWRITE:
    case EOTA_EFORMAT: return EOTA_RESP_ERROR_WRITING_FLASH;
    case EOTA_EVERIFY:
    case EOTA_ECOMMIT: return EOTA_RESP_ERROR_UPDATE_END;
    case EOTA_ESIGNATURE: return EOTA_RESP_ERROR_SIGNATURE_INVALID;
    case EOTA_EDOWNGRADE: return EOTA_RESP_ERROR_VERSION_DOWNGRADE;
    default: return by_step[step];
    }
}

int eota_ingest_init(eota_ingest *in, const eota_ingest_config *cfg)
{
    const eota_backend_ops *ops = cfg ? cfg->backend.ops : NULL;
    if (!in || !ops || !ops->begin || !ops->write || !ops->end || !ops->abort || !cfg->clock.now_ms)
        return EOTA_EINVAL;
    memset(in, 0, sizeof *in);
    in->cfg = *cfg;
    return EOTA_OK;
}

void eota_ingest_reset(eota_ingest *in)
{
    abort_backend(in);
    in->state = ST_IDLE;
    in->total = in->received = in->written = 0;
    in->check_md5 = 0;
    in->error_code = 0;
    in->why = NULL;
}

static int type_supported(uint8_t caps, uint8_t ota_type)
{
    switch (ota_type) {
    case EOTA_OTA_TYPE_APP: return 1;
    case EOTA_OTA_TYPE_PARTITION_TABLE: return (caps & EOTA_BACKEND_CAP_PARTITION_TABLE) != 0;
    case EOTA_OTA_TYPE_BOOTLOADER: return (caps & EOTA_BACKEND_CAP_BOOTLOADER) != 0;
    default: return 0;
    }
}

int eota_ingest_begin(eota_ingest *in, const eota_begin_info *info, uint32_t total)
{
    if (running(in))
        return EOTA_EBUSY;
    eota_ingest_reset(in);
    in->total = total;
    in->state = ST_STARTED;
    in->last_progress_ms = in->window_ms = now(in);
    in->window_received = 0;
    eota_ingest_emit(in, EOTA_STATE_STARTED, 0, NULL);
    if (!type_supported(in->cfg.backend.caps, info->ota_type))
        return failed(in, EOTA_EUNSUPPORTED, EOTA_RESP_ERROR_UNSUPPORTED_OTA_TYPE,
                      EOTA_LOG_TEXT("unsupported OTA type"), NULL);
    if (info->size == 0)
        return failed(in, EOTA_EINVAL, EOTA_RESP_ERROR_UPDATE_PREPARE, EOTA_LOG_TEXT("announced size is 0"),
                      NULL);
    int st = in->cfg.backend.ops->begin(in->cfg.backend.ctx, info);
    if (st != EOTA_OK)
        return backend_failed(in, st, EOTA_INGEST_BEGIN, EOTA_LOG_TEXT("backend refused to prepare"));
    in->state = ST_OPEN;
    return EOTA_OK;
}

int eota_ingest_expect_md5(eota_ingest *in, const char *hex)
{
    const eota_hash *h = &in->cfg.hash;
    if (!begun(in))
        return EOTA_EINVAL;
    for (size_t i = 0; i < EOTA_MD5_HEX_LEN; i++)
        in->md5_expected[i] = (char)eota_wire_hex_lower((uint8_t)hex[i]);
    if (!h->ops || h->ops->begin(h->ctx, EOTA_HASH_MD5) != EOTA_OK)
        return failed(in, EOTA_ECRYPTO, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("hash seam failed"), NULL);
    in->check_md5 = 1;
    return EOTA_OK;
}

int eota_ingest_too_slow(eota_ingest *in, uint32_t floor, uint32_t window_ms)
{
    uint32_t t = now(in);
    if (!floor)
        floor = EOTA_DEVICE_PROGRESS_FLOOR_BYTES;
    if (!window_ms)
        window_ms = EOTA_DEVICE_PROGRESS_WINDOW_MS;
    if (t - in->window_ms < window_ms)
        return 0;
    int slow = in->received - in->window_received < floor;
    in->window_ms = t;
    in->window_received = in->received;
    return slow;
}

int eota_ingest_feed(eota_ingest *in, const uint8_t *data, size_t len)
{
    if (in->state != ST_OPEN || in->pend_len)
        return EOTA_EINVAL;
    if (in->check_md5)
        in->cfg.hash.ops->update(in->cfg.hash.ctx, data, len);
    in->received = len > UINT32_MAX - in->received ? UINT32_MAX : in->received + (uint32_t)len;
    in->pend = data;
    in->pend_len = len;
    uint32_t t = now(in);
    if (t - in->last_progress_ms >= EOTA_PROGRESS_INTERVAL_MS) {
        in->last_progress_ms = t;
        logmsg(in, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("progress, bytes"), in->received);
        eota_ingest_emit(in, EOTA_STATE_IN_PROGRESS, 0, NULL);
    }
    return EOTA_OK;
}

int eota_ingest_push(eota_ingest *in, size_t *taken)
{
    *taken = 0;
    if (in->state != ST_OPEN)
        return EOTA_EINVAL;
    if (in->pend_len == 0)
        return EOTA_OK;
    size_t n = 0;
    int st = in->cfg.backend.ops->write(in->cfg.backend.ctx, in->pend, in->pend_len, &n);
    if (st != EOTA_OK)
        return backend_failed(in, st, EOTA_INGEST_WRITE, EOTA_LOG_TEXT("backend write failed"));
    if (n > in->pend_len)
        n = in->pend_len; /* a misbehaving backend cannot make us over-read */
    in->pend += n;
    in->pend_len -= n;
    in->written += (uint32_t)n;
    *taken = n;
    if (n == 0) { /* the backend is the slow one: the progress floor's window restarts */
        in->window_ms = now(in);
        in->window_received = in->received;
    }
    return EOTA_OK;
}

int eota_ingest_check_md5(eota_ingest *in)
{
    uint8_t digest[EOTA_MD5_DIGEST_LEN];
    char got[EOTA_MD5_HEX_LEN + 1];
    if (!in->check_md5)
        return begun(in) ? EOTA_OK : EOTA_EINVAL;
    in->check_md5 = 0;
    if (in->cfg.hash.ops->finish(in->cfg.hash.ctx, digest) != EOTA_OK)
        return failed(in, EOTA_ECRYPTO, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("hash seam failed"), NULL);
    eota_hex_encode(got, digest, EOTA_MD5_DIGEST_LEN);
    if (memcmp(got, in->md5_expected, EOTA_MD5_HEX_LEN) != 0)
        return failed(in, EOTA_EVERIFY, EOTA_RESP_ERROR_MD5_MISMATCH,
                      EOTA_LOG_TEXT("MD5 of the received image does not match"), NULL);
    logmsg(in, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("image received, MD5 verified"), in->received);
    return EOTA_OK;
}

int eota_ingest_finish(eota_ingest *in)
{
    if (!begun(in))
        return EOTA_EINVAL;
    if (in->pend_len) {
        size_t n;
        int st = eota_ingest_push(in, &n);
        return st != EOTA_OK ? st : EOTA_AGAIN;
    }
    in->state = ST_ENDING;
    int st = in->cfg.backend.ops->end(in->cfg.backend.ctx);
    if (st == EOTA_AGAIN)
        return EOTA_AGAIN;
    if (st != EOTA_OK)
        return backend_failed(in, st, EOTA_INGEST_END, EOTA_LOG_TEXT("backend could not finish the update"));
    in->state = ST_COMMITTED;
    return EOTA_OK;
}

void eota_ingest_fail(eota_ingest *in, uint8_t code, const char *detail)
{
    if (running(in))
        (void)drop(in, EOTA_EIO, code, detail);
}

void eota_ingest_abort(eota_ingest *in)
{
    if (!running(in))
        return;
    abort_backend(in);
    in->state = ST_IDLE;
    eota_ingest_emit(in, EOTA_STATE_ABORT, 0, NULL);
}

void eota_ingest_completed(eota_ingest *in)
{
    if (in->state != ST_COMMITTED)
        return;
    in->state = ST_IDLE;
    eota_ingest_emit(in, EOTA_STATE_COMPLETED, 0, NULL);
}

size_t eota_ingest_pending(const eota_ingest *in) { return in->pend_len; }

int eota_ingest_busy(const eota_ingest *in) { return in->pend_len > 0 || in->state == ST_ENDING; }

uint32_t eota_ingest_written(const eota_ingest *in) { return in->written; }

uint8_t eota_ingest_error_code(const eota_ingest *in) { return in->error_code; }

const char *eota_ingest_why(const eota_ingest *in) { return in->why; }
