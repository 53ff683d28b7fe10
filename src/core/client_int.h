/*
 * client_int.h (core internal): what the files of the uploader engine
 * share: the states of the exchange and the steps one file calls in
 * another. The engine is one state machine (include/eota/client.h) in five
 * files, one job each:
 *
 *   client.c        setup, the shared steps (queue, expect, the endings),
 *                   the report
 *   client_poll.c   driving: eota_client_poll, _wants, _timeout_ms
 *   client_hs.c     the handshake up to the data phase: hello, features,
 *                   authentication, size and MD5
 *   client_data.c   the data phase and its window of 8 KiB blocks
 *   client_noise.c  the Noise initiator (EOTA_WITH_NOISE); without it the
 *                   inline stubs below stand in
 *   client_words.c  the names and words of phases and errors
 */
#ifndef EOTA_CORE_CLIENT_INT_H
#define EOTA_CORE_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "eota/client.h"
#include "wire.h"

enum eota_cl_state {
    ST_IDLE = 0,
    ST_HELLO_CODE,    /* need 1: 00 (or an error byte) */
    ST_HELLO_VERSION, /* need 1: the version */
    ST_FEATURE_REPLY, /* need 1: 40 / 46 / 48 */
    ST_FLAGS,         /* need 1: server flags after 48 */
    ST_NOISE,         /* the Noise handshake (eota_noise_handshake) */
    ST_AUTH_CODE,     /* need 1: 41, 01 or 02 */
    ST_NONCE,         /* need 32 or 64 hex */
    ST_AUTH_RESULT,   /* need 1: 41 */
    ST_WAIT_IMAGE,    /* authenticated; the caller has not given the image */
    ST_PREPARE,       /* need 1: 42 */
    ST_MD5,           /* need 1: 43 */
    ST_DATA,          /* sending; 47s and then 44 arrive */
    ST_VERIFY,        /* need 45 */
    ST_FINAL,         /* flushing the final 00 */
    ST_END
};

static inline uint32_t eota_cl_now(const eota_client *c) { return c->cfg.clock.now_ms(c->cfg.clock.ctx); }

/* --- client.c: the steps every part uses --- */

/* End the upload: the error (and the device's code), or success. */
void eota_cl_fail(eota_client *c, eota_client_error err, uint8_t code);
void eota_cl_succeed(eota_client *c);
/* One control field out (one frame of its own inside Noise). */
void eota_cl_queue(eota_client *c, const void *data, size_t n);
/* Wait for `need` bytes in `state` (nothing when the upload ended). */
void eota_cl_expect(eota_client *c, int state, size_t need);
/* A byte the step does not expect: the device's error, or a violation. */
void eota_cl_unexpected(eota_client *c, uint8_t b);
/* A write failed: the device's last error byte if it sent one, else the
 * network. */
void eota_cl_transport_failed(eota_client *c, long rc);
/* A read failed: the network, or a frame that did not decrypt. */
void eota_cl_read_failed(eota_client *c, long rc);
/* Our bytes not yet taken by the connection (the wire's and the session's). */
size_t eota_cl_out_pending(const eota_client *c);

/* --- client_hs.c: the handshake --- */

/* One field of the handshake read and, once whole, acted on: 1 on progress. */
int eota_cl_read_field(eota_client *c);
/* The image is known and we are authenticated: its type and size. */
void eota_cl_send_size(eota_client *c);

/* --- client_data.c: the data phase --- */

int eota_cl_can_send(const eota_client *c);
/* The device's bytes (47, 44, 45 or an error) consumed: 1 on progress. */
int eota_cl_data_read(eota_client *c);
/* Image bytes written as far as the window allows: 1 on progress. */
int eota_cl_data_write(eota_client *c);
/* Image bytes in the buffer to send: 1, 0 for none now (or a failed read). */
int eota_cl_refill(eota_client *c);
/* n bytes of the buffer were sent. */
void eota_cl_advance(eota_client *c, size_t n);

/* --- client_noise.c: the Noise initiator --- */

#if EOTA_WITH_NOISE
/* A usable key (not all zeros). */
int eota_cl_noise_key_usable(const uint8_t *key);
/* Start the handshake (state ST_NOISE), or fail the upload. */
void eota_cl_noise_start(eota_client *c);
/* Drive the handshake: 1 once the session is up (the wire then reads and
 * writes through it). */
int eota_cl_noise_step(eota_client *c);
/* One control field as one frame of the session. */
void eota_cl_noise_queue(eota_client *c, const void *data, size_t n);
/* Frames of the session not yet taken by the connection. */
size_t eota_cl_noise_pending(const eota_client *c);
/* Send the session's frames: what moved, *err set on a failure. */
int eota_cl_noise_flush(eota_client *c, long *err);
/* 1 when a failed read was a frame that did not decrypt. */
int eota_cl_noise_undecryptable(const eota_client *c, long rc);
/* Decrypted bytes wait: the socket will not wake the integrator. */
int eota_cl_noise_rx_waiting(const eota_client *c);
/* The data phase inside the session. */
int eota_cl_noise_data_write(eota_client *c);
/* Wipe the session (the connection is released). */
void eota_cl_noise_end(eota_client *c);
#else
static inline int eota_cl_noise_key_usable(const uint8_t *key) { return (void)key, 0; }
static inline void eota_cl_noise_start(eota_client *c) { (void)c; }
static inline int eota_cl_noise_step(eota_client *c) { return (void)c, 0; }
static inline void eota_cl_noise_queue(eota_client *c, const void *data, size_t n) { (void)c, (void)data, (void)n; }
static inline size_t eota_cl_noise_pending(const eota_client *c) { return (void)c, 0; }
static inline int eota_cl_noise_flush(eota_client *c, long *err) { return (void)c, (void)err, 0; }
static inline int eota_cl_noise_undecryptable(const eota_client *c, long rc) { return (void)c, (void)rc, 0; }
static inline int eota_cl_noise_rx_waiting(const eota_client *c) { return (void)c, 0; }
static inline int eota_cl_noise_data_write(eota_client *c) { return (void)c, 0; }
static inline void eota_cl_noise_end(eota_client *c) { (void)c; }
#endif

#endif
