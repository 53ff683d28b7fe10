/*
 * golden.h: helpers for the device-engine tests (tests/unit/test_server*.c):
 * a growable byte buffer, the test image pattern, drivers that poll an
 * eota_harness until it stalls or goes idle, and the golden transcript
 * runner: it plays a transcript's client lines against the engine and writes
 * down what the device sent, so that a transcript checked in under
 * tests/golden/ can be replayed and compared byte for byte.
 *
 * Transcript format (one line each, in order; see tests/golden/README.md):
 *   # text                      comment, only before the config line
 *   config: version=2 password="" allow_md5=0 caps=00 capacity=1048576
 *           too_big=89 xfer=4096  (one line)
 *   C: 6C 26 F7 5C 45           client bytes: hex bytes and "ascii" strings
 *   C: <data 8192 bytes from offset 0>   image bytes, byte[i] = i*7 mod 256
 *   C: <close>                  the client closes its side
 *   T: +1000 ms                 time passes (fake clock)
 *   S: busy, reboot requested 0 time(s)   the engine's state after a T line
 *   D: 48 00                    device bytes, one protocol reply per line
 *   end: / result: / events: / info:   the outcome, written by the runner
 */
#ifndef EOTA_TEST_GOLDEN_H
#define EOTA_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "fake.h"

/* ---- growable byte buffer (always NUL-terminated past len) ---- */
typedef struct gbuf {
    uint8_t *p;
    size_t len, cap;
} gbuf;

void gbuf_put(gbuf *b, const void *data, size_t n);
void gbuf_byte(gbuf *b, uint8_t v);
void gbuf_str(gbuf *b, const char *s);
void gbuf_printf(gbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" when empty). */
const char *gbuf_cstr(gbuf *b);
/* Hand over the contents as a malloc'd C string; b is empty afterwards. */
char *gbuf_take(gbuf *b);
void gbuf_free(gbuf *b);

/* ---- the test image: byte i is (i * 7) mod 256 ---- */
uint8_t pattern_byte(size_t i);
void pattern_fill(uint8_t *dst, size_t n, size_t from);
/* MD5 (lowercase hex) of the first n pattern bytes. */
void pattern_md5_hex(char out[33], size_t n);
/* 1 when p[0..n) is the pattern from offset 0. */
int pattern_check(const uint8_t *p, size_t n);

/* The nonce the fake random source gives for nbytes random bytes starting
 * at `start` (it counts up), as lowercase hex. */
void fake_nonce_hex(char *out, uint8_t start, size_t nbytes);

/* "00 02 48" (uppercase, space separated) appended to b. */
void hex_spaced(gbuf *b, const uint8_t *p, size_t n);

/* Parse transcript tokens (hex bytes, "ascii" strings) into bytes appended
 * to out. 0 on success, -1 on a syntax error. */
int golden_parse_tokens(const char *s, gbuf *out);

/* ---- drivers ---- */
/* Poll until a poll changes nothing observable (bytes in or out, backend,
 * events, connection). The clock does not move. Returns the REBOOT count. */
int srvt_run_until_stall(eota_harness *h);
/* Poll until idle; whenever the engine stalls, the clock moves step_ms.
 * Returns the REBOOT count; gives up after max_stalls stalls. */
int srvt_drive_idle(eota_harness *h, uint32_t step_ms, long max_stalls);

/* ---- golden transcripts ---- */
typedef struct golden_config {
    uint8_t version;
    char password[EOTA_PASSWORD_MAX + 1];
    uint8_t allow_md5;
    uint8_t caps;
    size_t capacity;
    uint8_t too_big;
    size_t xfer;
} golden_config;

void golden_config_default(golden_config *c);

typedef struct golden_run {
    eota_harness *h;
    golden_config cfg;   /* the engine refers to its password (not copied) */
    gbuf text;
    size_t out_seen;     /* device bytes already written as D lines */
    int version_seen;    /* the first reply (00 VV) was tokenized */
    int reboots;
    char last_nonce[EOTA_SHA256_HEX_LEN + 1];
    int failed;          /* a bad step (syntax) was met */
} golden_run;

/* Start: harness set up from the config, the connection accepted. The
 * comment lines (may be NULL; '\n' separated, without '#') open the text. */
void golden_begin(golden_run *r, const golden_config *c, const char *comment);
/* A client line of tokens; the engine runs until it stalls. */
void golden_send(golden_run *r, const char *tokens);
void golden_send_data(golden_run *r, size_t n, size_t from);
void golden_close(golden_run *r);
void golden_wait(golden_run *r, uint32_t ms);
/* The last nonce the device sent (ASCII hex), "" when none. */
const char *golden_nonce(const golden_run *r);
/* Finish: outcome lines; returns the whole transcript (malloc'd) and frees
 * the harness. */
char *golden_end(golden_run *r);

/* Replay a transcript's client side; returns the transcript the engine
 * produces (malloc'd), or NULL with a message in err. */
char *golden_replay(const char *text, char *err, size_t errlen);
/* All bytes of the D: lines, in order. 0 or -1 (syntax). */
int golden_device_bytes(const char *text, gbuf *out);

char *golden_read_file(const char *path);
int golden_write_file(const char *path, const char *text);

#endif
