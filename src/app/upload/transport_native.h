/*
 * transport_native.h: what the files of the native transport share
 * (transport_native.c the engine, native_connect.c the connection,
 * native_words.c the sentences). Not for the rest of the command, which
 * sees up_transport_native only.
 */
#ifndef EOTA_APP_UPLOAD_TRANSPORT_NATIVE_H
#define EOTA_APP_UPLOAD_TRANSPORT_NATIVE_H

#include "eota/client.h"
#include "eota/noise_posix.h"
#include "eota/posix.h"
#include "upload/run.h"

/* The POSIX transport seam, keeping errno of a failure so that messages
 * can say "connection reset" rather than "I/O error"; with a cork, small
 * writes gather and leave together (native_conn.c). */
typedef struct up_nat_conn {
    eota_posix_conn pc;
    int err;
    uint8_t *cork;   /* NULL: each write goes out at once */
    size_t cork_len; /* bytes held */
    long cork_err;   /* a failed flush, for the engine's next write */
} up_nat_conn;

/* native_conn.c: the connection's seam for the engine */
extern const eota_transport_ops up_nat_conn_ops;
/* A new socket: nothing held, no error. */
void up_nat_conn_open(up_nat_conn *u, int fd);
/* Gather writes from now on (an encrypted run). */
void up_nat_conn_cork(up_nat_conn *u);
/* Send what is held: EOTA_OK, EOTA_AGAIN (some is left: wait to write), or
 * the failure (also given to the engine's next write). */
long up_nat_conn_flush(up_nat_conn *u);
void up_nat_conn_free(up_nat_conn *u);

typedef struct up_nat_run {
    int offer_gzip; /* the client feature bit: we can send gzip */
} up_nat_run;

typedef struct up_nat_job {
    up_nat_conn conn;
    int connecting;         /* connect() is under way */
    uint64_t deadline;      /* of the connect */
    eota_client cl;
    eota_posix_hash hash;
    int hash_ok;
    eota_posix_noise_crypto noise; /* zeroed unless the run has a key */
    int engine_ok;
    uint8_t *buf;
    int announced;          /* the "protocol 2, ..." line of this attempt */
    eota_client_phase phase; /* where the last attempt ended */
    uint8_t code;           /* and the byte that ended it */
} up_nat_job;

static inline up_nat_job *up_nat_of(const up_job *j) { return (up_nat_job *)j->tx; }

/* native_connect.c: open the connection of an attempt; it goes on in
 * up_nat_connect_ready (revents 0: only the deadline is checked) and ends in
 * up_nat_engine_start, or up_nat_connect_failed (which ends the attempt). */
void up_nat_connect(up_run *r, up_job *j);
void up_nat_connect_ready(up_run *r, up_job *j, short revents);
void up_nat_connect_failed(up_run *r, up_job *j, eota_client_error e, int sys_err);

/* transport_native.c: run the engine over the connection; end the attempt
 * (the job may be freed by then: nothing of it is touched after). */
void up_nat_engine_start(up_run *r, up_job *j);
void up_nat_attempt_ended(up_run *r, up_job *j, eota_client_error e, eota_client_phase phase, uint8_t code,
                          int sys_err, int connected);

/* native_words.c */
const char *up_nat_auth_name(eota_auth_kind a);  /* "sha256", "md5", "none" */
const char *up_nat_auth_words(eota_auth_kind a); /* "SHA-256 password", ... */
void up_nat_describe_ok(const up_run *r, const up_job *j, char *out, size_t outlen);
void up_nat_describe_failure(const up_run *r, const up_job *j, char *out, size_t outlen);

#endif
