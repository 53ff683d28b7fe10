/*
 * eota/ingest.h: the data phase of an upload, one path for every way an
 * image arrives (the native OTA engine, the web upload). The caller owns
 * the wire (acknowledgements, replies, timeouts); the ingest owns the rest:
 *
 *   begin    STARTED, then what the backend can take (OTA type, size 0),
 *            then the backend's begin
 *   feed     bytes that arrived: counted, hashed for the MD5 check, and a
 *            throttled IN_PROGRESS (EOTA_PROGRESS_INTERVAL_MS); they stay
 *            the caller's until the backend took them all
 *   push     hand what is pending to the backend, which may take part
 *   check    the MD5 of what arrived (optional), once it all arrived
 *   finish   the rest pushed, then the backend's end, which may be pending
 *            (call again)
 *   abort    the upload is dropped: the backend aborted, ABORT
 *
 * Every failure on the way aborts the backend and emits ERROR once, with
 * the PROTOCOL.md response byte the engine maps from the backend's status
 * (eota_ingest_wire_code) and the backend's detail. COMPLETED is the
 * caller's to announce (eota_ingest_completed), once the session is over.
 *
 * No allocation, no OS: the caller owns the struct.
 */
#ifndef EOTA_INGEST_H
#define EOTA_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "eota/backend.h"
#include "eota/clock.h"
#include "eota/crypto.h"
#include "eota/events.h"
#include "eota/private_access.h"
#include "eota/protocol.h"
#include "eota/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_ingest_config {
    eota_backend backend;
    eota_clock clock;
    eota_events events;    /* STARTED, IN_PROGRESS, ERROR, ABORT, COMPLETED;
                              on_log gets the failures, in words */
    eota_hash hash;        /* for the MD5 check; ops NULL: no check */
    uint8_t too_big_code;  /* the byte for EOTA_ETOOBIG; 0 = 0x89 */
} eota_ingest_config;

/* The backend call that failed. */
typedef enum eota_ingest_step {
    EOTA_INGEST_BEGIN = 0,
    EOTA_INGEST_WRITE = 1,
    EOTA_INGEST_END = 2
} eota_ingest_step;

/* Private state: fields may change between versions; use the functions. */
typedef struct eota_ingest {
    /* The small fields first, the arrays last (see eota_server). */
    uint8_t EOTA_PRIVATE(state);
    uint8_t EOTA_PRIVATE(check_md5);
    uint8_t EOTA_PRIVATE(error_code);
    const uint8_t *EOTA_PRIVATE(pend);     /* the caller's bytes not yet taken */
    size_t EOTA_PRIVATE(pend_len);
    uint32_t EOTA_PRIVATE(total);          /* announced to the events */
    uint32_t EOTA_PRIVATE(received);       /* fed */
    uint32_t EOTA_PRIVATE(written);        /* taken by the backend */
    uint32_t EOTA_PRIVATE(last_progress_ms);
    uint32_t EOTA_PRIVATE(window_ms);      /* the progress floor's window: start */
    uint32_t EOTA_PRIVATE(window_received); /* and what had arrived then */
    const char *EOTA_PRIVATE(why);         /* the backend's detail of it, or NULL */
    eota_ingest_config EOTA_PRIVATE(cfg);
    char EOTA_PRIVATE(md5_expected)[EOTA_MD5_HEX_LEN];
} eota_ingest;

/* EOTA_OK, or EOTA_EINVAL when the backend misses a call. */
int eota_ingest_init(eota_ingest *in, const eota_ingest_config *cfg);

/* Forget the last upload (figures back to 0). One still running is
 * aborted, without an event. */
void eota_ingest_reset(eota_ingest *in);

/* Start an upload: STARTED, then the checks and the backend's begin.
 * total is what the events announce (info->size, or an upper bound; 0 when
 * unknown). EOTA_OK, or a negative status: the upload failed (ERROR sent,
 * eota_ingest_error_code says the byte). */
int eota_ingest_begin(eota_ingest *in, const eota_begin_info *info, uint32_t total);

/* Expect this MD5 (32 hex digits, either case) of the fed bytes; checked by
 * eota_ingest_check_md5. EOTA_OK, or EOTA_ECRYPTO when the hash seam
 * failed (the upload failed, ERROR_UNKNOWN). */
int eota_ingest_expect_md5(eota_ingest *in, const char *hex);

/* Bytes arrived. They must stay unchanged, at the same place, until
 * eota_ingest_pending is 0; nothing may be pending when this is called.
 * EOTA_OK, or EOTA_EINVAL (not running, or bytes still pending). */
int eota_ingest_feed(eota_ingest *in, const uint8_t *data, size_t len);

/* The progress floor: 1 when, over the window that just ended, fewer than
 * floor bytes arrived (0 for either: the defaults of eota/opt.h); 0 while
 * the window runs. Each ended window starts the next; a backend that takes
 * nothing (busy) restarts it, as the client is not the slow one then. */
int eota_ingest_too_slow(eota_ingest *in, uint32_t floor, uint32_t window_ms);

/* Offer the pending bytes to the backend once. EOTA_OK with *taken (0 when
 * the backend is busy: try again later), or the failure. */
int eota_ingest_push(eota_ingest *in, size_t *taken);

/* The MD5 of every fed byte against eota_ingest_expect_md5's. EOTA_OK, or
 * EOTA_EVERIFY (ERROR_MD5_MISMATCH) / EOTA_ECRYPTO: the upload failed. */
int eota_ingest_check_md5(eota_ingest *in);

/* Commit: the pending bytes first (EOTA_AGAIN while the backend takes
 * them), then the backend's end. EOTA_OK when committed, EOTA_AGAIN when
 * it is not done yet (call again later), or the failure. */
int eota_ingest_finish(eota_ingest *in);

/* The upload failed for a reason of the caller's (a timeout, a lost peer,
 * a malformed body): the backend is aborted and ERROR sent with code and
 * detail (may be NULL), unless it has failed already or never started. */
void eota_ingest_fail(eota_ingest *in, uint8_t code, const char *detail);

/* Drop a running upload (a cancel, a client gone): the backend is aborted
 * and ABORT sent. Nothing after a failure or a commit. */
void eota_ingest_abort(eota_ingest *in);

/* Announce the committed upload: COMPLETED. */
void eota_ingest_completed(eota_ingest *in);

/* Send an event with this upload's figures (a refused password, which the
 * caller reports before any upload began). */
void eota_ingest_emit(eota_ingest *in, eota_state state, uint8_t code, const char *detail);

/* Bytes fed and not yet taken by the backend. */
size_t eota_ingest_pending(const eota_ingest *in);
/* True while the backend has work in hand: bytes pending, or an end that
 * said EOTA_AGAIN (retry after a short wait). */
int eota_ingest_busy(const eota_ingest *in);
/* Bytes the backend took. */
uint32_t eota_ingest_written(const eota_ingest *in);
/* The response byte of the failure, or 0. */
uint8_t eota_ingest_error_code(const eota_ingest *in);
/* The backend's detail of the failure, or NULL. */
const char *eota_ingest_why(const eota_ingest *in);

/* The PROTOCOL.md response byte for a backend failure: detail_code when
 * non-zero; else by status (EOTA_ETOOBIG: too_big_code, 0 meaning
 * EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE; EOTA_ENOSLOT 8A; EOTA_EUNSUPPORTED
 * 8E; EOTA_EPREPARE 81; EOTA_EWRITE, EOTA_EFORMAT 83; EOTA_EVERIFY,
 * EOTA_ECOMMIT 84; EOTA_ESIGNATURE 8D; EOTA_EDOWNGRADE 93); any other
 * status by the step (begin 81, write 83, end 84). */
uint8_t eota_ingest_wire_code(int status, uint8_t detail_code, eota_ingest_step step, uint8_t too_big_code);

#ifdef __cplusplus
}
#endif

#endif
