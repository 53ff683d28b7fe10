/*
 * golden_mcu.h: the golden transcripts (tests/golden/) as C data, and the
 * freestanding replayer that plays them against the device engine on a
 * microcontroller (an emulated Cortex-M: scripts/qemu_golden.sh).
 *
 * tests/mcu/golden_to_c.py converts each transcript at build time: its
 * config, its client steps with the device bytes expected after each, the
 * outcome lines as values, and the hash sessions (input bytes and their
 * OpenSSL digest). The replayer gives the engine a scripted connection, a
 * clock that moves only on T lines, a counting random source, a hash seam
 * that answers only for the recorded input bytes, and an event log; after
 * each step it polls the engine until it settles and compares what the
 * device sent, then the outcome. It is the host replay of
 * tests/unit/test_server_golden.c without files, malloc or stdio.
 */
#ifndef EOTA_GOLDEN_MCU_H
#define EOTA_GOLDEN_MCU_H

#include <stddef.h>
#include <stdint.h>

#include "eota/server.h"
#include "golden_data.h"

/* ---- the transcripts, as generated ---- */

typedef struct golden_bytes {
    const uint8_t *p;
    uint32_t len;
} golden_bytes;

enum golden_op_kind { GOLDEN_ACCEPT, GOLDEN_SEND, GOLDEN_DATA, GOLDEN_CLOSE, GOLDEN_WAIT };

typedef struct golden_op {
    uint8_t kind;          /* golden_op_kind */
    uint16_t line;         /* line of the transcript (0: the accept) */
    golden_bytes send;     /* SEND: the client bytes */
    uint32_t arg;          /* DATA: byte count; WAIT: milliseconds */
    uint32_t start;        /* DATA: pattern offset (byte i = i*7 mod 256) */
    golden_bytes expect;   /* device bytes that follow the step */
    int8_t busy;           /* WAIT: the S line (1 busy, 0 idle); else -1 */
    int8_t reboots;        /* WAIT: reboots requested so far; else -1 */
} golden_op;

enum { GOLDEN_HASH_MD5 = EOTA_HASH_MD5, GOLDEN_HASH_SHA256 = EOTA_HASH_SHA256 };

typedef struct golden_hash_entry {
    uint8_t alg;           /* eota_hash_alg */
    golden_bytes input;    /* every byte the engine must feed, in order */
    uint8_t digest[32];    /* OpenSSL's digest of them */
} golden_hash_entry;

typedef struct golden_config {
    uint8_t version;
    const char *password;
    uint8_t allow_md5;
    uint8_t caps;
    uint32_t capacity;
    uint8_t too_big;
    uint32_t xfer;
} golden_config;

typedef struct golden_event {
    const char *state;     /* eota_state_name() */
    uint8_t code;
    uint32_t received, total;
} golden_event;

typedef struct golden_outcome {
    /* end: */
    uint8_t busy;
    uint32_t closed, reboots;
    /* result: (the in-memory backend) */
    uint32_t begin, committed, committed_len;
    const char *image;     /* "none", "pattern" or "other" */
    uint32_t aborted, begin_size;
    uint8_t begin_type, begin_gzip;
    /* info: */
    uint8_t client_features, server_flags;
    const char *auth;      /* "none", "sha256", "md5" */
    uint8_t version, ota_type;
    uint32_t size, received;
    uint8_t error_code;
    /* events: */
    const golden_event *events;
    uint32_t n_events;
} golden_outcome;

typedef struct golden_transcript {
    const char *name;
    golden_config config;
    const golden_op *ops;
    uint32_t n_ops;
    const golden_hash_entry *hashes;
    uint32_t n_hashes;
    golden_outcome out;
} golden_transcript;

extern const golden_transcript golden_transcripts[];
extern const uint32_t golden_transcript_count;

/* ---- a short text, for failure reasons ---- */

typedef struct golden_text {
    char s[200];
    size_t len;
} golden_text;

void golden_put(golden_text *t, const char *s);
void golden_put_u32(golden_text *t, uint32_t v);
/* "48 01" (uppercase hex, space separated; "nothing" when n is 0). */
void golden_put_hex(golden_text *t, const uint8_t *p, size_t n);
int golden_streq(const char *a, const char *b);
/* The index of name in names[0..n), or 0xFF. */
uint32_t golden_index(const char *const *names, uint32_t n, const char *name);

/* A value and the one the transcript expects. */
typedef struct golden_field {
    const char *name;
    uint32_t got, want;
} golden_field;

/* 1 when every field has its expected value; else 0 with the first
 * difference appended to why ("info size is 3, expected 4"). */
int golden_check_fields(const golden_field *f, size_t n, golden_text *why);

/* ---- the hash seam: answers only for recorded input (golden_hash.c) ---- */

typedef struct golden_hash {
    const golden_hash_entry *entries;
    uint32_t n;
    uint32_t live;         /* bit i: entry i still matches what was fed */
    uint32_t fed;          /* bytes fed since begin */
    uint8_t alg;
    uint32_t misses;       /* finishes whose input was not recorded */
    uint32_t miss_len;     /* ... the last one's length */
} golden_hash;

void golden_hash_init(golden_hash *h, const golden_hash_entry *entries, uint32_t n);
eota_hash golden_hash_seam(golden_hash *h);

/* ---- the world the engine runs in, and the replay ---- */

typedef struct golden_conn {
    uint8_t in[GOLDEN_INPUT_MAX];
    uint32_t in_len, in_pos;
    uint8_t eof;
    uint8_t out[GOLDEN_OUTPUT_MAX + 256];
    uint32_t out_len;
    uint8_t overflow;      /* the device sent more than out can hold */
    uint32_t closed;       /* close() calls */
} golden_conn;

typedef struct golden_world {
    golden_conn conn;
    uint32_t now_ms;
    uint8_t random_next;
    golden_hash hash;
    eota_event events[GOLDEN_EVENTS_MAX + 4];
    uint32_t n_events;     /* events received (may exceed the array) */
} golden_world;

/* Set the world up for t: empty connection, clock at 1000 ms, random from
 * 00, the hash seam over t's sessions. */
void golden_world_init(golden_world *w, const golden_transcript *t);
/* The seams of w, for an eota_server_config (backend and version left to
 * the caller, password and allow_md5 from t). */
void golden_world_seams(golden_world *w, const golden_transcript *t, eota_server_config *cfg);
/* The connection the engine is to accept. */
void *golden_world_conn(golden_world *w);

/* What runs the engine: the bare engine over the in-memory backend
 * (golden_main.c), or a whole chip application (chip_main.c). */
typedef struct golden_target {
    /* Set up over w for t and accept the connection. EOTA_OK or a status. */
    int (*start)(void *ctx, golden_world *w, const golden_transcript *t);
    /* One turn of the main loop: the engine's eota_server_result. */
    int (*poll)(void *ctx);
    const eota_server *(*server)(void *ctx);
    /* Check the backend's side of the outcome (the result: line); append
     * the reason and return 0 when it does not hold. */
    int (*check_result)(void *ctx, const golden_outcome *o, golden_text *why);
    void *ctx;
} golden_target;

/* Replay t on the target: 1 when everything matches, else 0 with the
 * first difference in why. */
int golden_play(const golden_transcript *t, const golden_target *target, golden_world *w, golden_text *why);

/* 1 when p[0..n) is the image pattern from offset 0. */
int golden_is_pattern(const uint8_t *p, uint32_t n, uint32_t from);

#endif
