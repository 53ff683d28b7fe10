/*
 * fake.h: test doubles for the seams: a scripted connection (input fed in
 * chosen fragments, writes that can say "would block", output captured), a
 * clock the test moves, a deterministic random source, and an event log.
 * Plus `eota_harness`, an engine wired to all of them and the mem backend.
 */
#ifndef EOTA_TEST_FAKE_H
#define EOTA_TEST_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/posix.h"
#include "eota/server.h"
#include "mem_backend.h"

#define FAKE_IO_MAX (1u << 24)

typedef struct fake_conn {
    uint8_t *in;          /* bytes the client will send (owned, grows) */
    size_t in_len, in_pos;
    size_t in_avail;      /* bytes of `in` the client has sent so far */
    int eof;              /* after in_avail == in_len: reads give EOTA_CLOSED */
    int read_error;       /* reads give EOTA_EIO */
    size_t max_read;      /* 0: no limit; else at most this many per read */
    unsigned seed;        /* nonzero: random fragment sizes from this seed */

    uint8_t *out;         /* what the engine wrote */
    size_t out_len, out_cap;
    size_t max_write;     /* 0: no limit */
    int write_again_every;/* n>0: every n-th write call returns EOTA_AGAIN */
    int write_closed;     /* writes give EOTA_CLOSED */
    unsigned write_calls;
    int closed;           /* close() calls */
} fake_conn;

void fake_conn_init(fake_conn *c);
void fake_conn_free(fake_conn *c);
/* Append bytes the client sends (made available at once unless held). */
void fake_conn_push(fake_conn *c, const void *data, size_t n);
void fake_conn_push_hex(fake_conn *c, const char *hex);
extern const eota_transport_ops fake_transport;

typedef struct fake_clock {
    uint32_t now;
} fake_clock;
eota_clock fake_clock_seam(fake_clock *c);

typedef struct fake_random {
    uint8_t next;
    int fail;
} fake_random;
eota_random fake_random_seam(fake_random *r);

#define FAKE_MAX_EVENTS 4096
typedef struct fake_events {
    eota_event ev[FAKE_MAX_EVENTS];
    size_t n;
    int verbose; /* print log lines to stderr */
} fake_events;
eota_events fake_events_seam(fake_events *e);
/* Number of events of that state. */
size_t fake_events_count(const fake_events *e, eota_state st);

/* An engine with every seam faked, the mem backend and the POSIX hash. */
typedef struct eota_harness {
    eota_server srv;
    eota_server_config cfg;
    uint8_t xfer[4096];
    fake_conn conn;
    fake_clock clock;
    fake_random random;
    fake_events events;
    eota_posix_hash hash;
    eota_mem_backend mem;
    uint8_t *store;
    size_t store_cap;
} eota_harness;

/* Set up with defaults: version 2, no password, 1 MiB mem backend. Change
 * h->cfg / h->mem and call eota_harness_start() to (re)initialise. */
void eota_harness_init(eota_harness *h);
void eota_harness_start(eota_harness *h, size_t xfer_size);
void eota_harness_free(eota_harness *h);
/* Accept the fake connection. */
int eota_harness_connect(eota_harness *h);
/* Poll until the engine is idle or no progress for `rounds` polls; the
 * clock advances `step_ms` per poll. Returns the count of REBOOT results. */
int eota_harness_run(eota_harness *h, int rounds, uint32_t step_ms);

/* Helpers to build client bytes. */
void hex_of(char *dst, const uint8_t *src, size_t n);
void md5_hex(char out[33], const void *data, size_t n);
/* response = hex(H(password || nonce || cnonce)) */
void auth_response(char *out, eota_hash_alg alg, const char *password, const char *nonce,
                   const char *cnonce);

#endif
