/*
 * mem_backend.h: a storage backend (eota/backend.h) that receives into a
 * caller buffer, with failure injection and call counters, for the tests,
 * the fuzzer and the embedding example. A test double: never installed.
 *
 * The image counts as committed only after end(); abort() or a failed end
 * leaves committed/committed_len untouched.
 */
#ifndef EOTA_TEST_MEM_BACKEND_H
#define EOTA_TEST_MEM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "eota/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_mem_backend {
    uint8_t *buf;          /* storage for the image being received */
    size_t capacity;       /* bytes buf can take: a larger image is EOTA_ETOOBIG */
    uint8_t caps;          /* EOTA_BACKEND_CAP_* to announce */
    size_t max_take;       /* 0: take everything; else at most this much per write call */
    /* injections: a negative eota_status makes that step fail with it */
    int fail_begin;
    int fail_write;
    size_t fail_write_after; /* bytes taken before fail_write applies */
    int fail_end;
    uint8_t fail_code;     /* detail.code of an injected failure: 0 lets the
                              engine map the status, else the exact byte */
    unsigned end_pending_rounds; /* end() reports EOTA_AGAIN this many times */

    /* state, read by tests */
    int begun;
    size_t len;            /* bytes taken in the current upload */
    eota_begin_info info;
    int committed;         /* number of successful end() calls */
    size_t committed_len;
    int aborted;           /* number of abort() calls */
    unsigned begin_calls, write_calls, end_calls;
    eota_backend_detail last; /* detail of the last failure */
} eota_mem_backend;

/* Zero the struct's state and set buf/capacity; caps default to 0. */
void eota_mem_backend_init(eota_mem_backend *mb, uint8_t *buf, size_t capacity);
eota_backend eota_mem_backend_seam(eota_mem_backend *mb);

#ifdef __cplusplus
}
#endif

#endif
