/*
 * job.h: one device's upload and its retry machine, as the stock uploader
 * retries: every address once (no delay between them), then --retries more
 * attempts --retry-delay apart to the address that last took a connection;
 * only for network errors (refused, unreachable, timeout, closed without
 * answer) and never once the whole image went out. A wrong password
 * (82, or a challenge with none given) reconnects at once with the next
 * --previous-password, a rejected encryption key with the next
 * --previous-key. The transport (transport.h) makes the attempts.
 */
#ifndef EOTA_APP_UPLOAD_JOB_H
#define EOTA_APP_UPLOAD_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "eota/client.h"
#include "upload/devices.h"
#include "upload/resolve.h"

struct up_run;

typedef enum up_job_state {
    UP_JOB_PENDING, /* not begun (beyond --jobs) */
    UP_JOB_RESOLVING, /* its names are being resolved (resolve.h) */
    UP_JOB_RUNNING, /* an attempt is under way */
    UP_JOB_WAIT,    /* the delay before the next attempt */
    UP_JOB_DONE
} up_job_state;

/* How an attempt ended, in the words of the report; the transport fills it
 * in. NULL strings and negative numbers are null in --json. */
typedef struct up_result {
    eota_client_error err;  /* the class the retry machine goes by; OK: success */
    int sys_err;            /* errno of a network failure, or 0 */
    int connected;          /* a connection was made: the address to come back to */
    int all_sent;           /* the whole image went out: never retried */
    const char *error;      /* the error's name; NULL: eota_client_error_name(err) */
    const char *phase;      /* the step it ended in */
    int code;               /* the byte the device sent (error_code), or -1 */
    char code_name[48];     /* its name (error_name), or "" */
    uint64_t sent, size;    /* bytes_sent, wire_size */
    int gzip;               /* the bytes sent were the gzip version */
    int version;            /* protocol version; 0: null */
    const char *auth;       /* the authentication used, or NULL */
    int server_flags;       /* -1: null */
    int authenticated;      /* a password answered the device's challenge */
    int received;           /* the device said it had the whole image */
    int encrypted;          /* the exchange ran inside a Noise session */
    int http;               /* the answer was HTTP: http_status and reply exist */
    long http_status;       /* 0: null */
    char reply[384];        /* the body of the answer, one line */
    char label[8];          /* the summary's word for the way: "v2", "web" */
} up_result;

typedef struct up_job {
    char *spec;             /* as given: "kitchen.local", "[::1]:8266,10.0.0.5" */
    up_target *targets;
    size_t ntargets;
    up_addr *addrs;
    size_t naddrs;
    up_job_state st;
    size_t attempts;        /* network attempts made */
    size_t max_attempts;
    size_t addr_i;          /* address of the current attempt */
    long good_addr;         /* last address that took a connection, or -1 */
    size_t pw_i;            /* password in use (0 current, k: previous #k) */
    size_t key_i;           /* encryption key in use, the same way */
    uint64_t t_begin, t_end, next_try;
    void *tx;               /* the transport's state for this job */
    int ok;
    up_result res;          /* of the last attempt, and of the job once done */
    char msg[768];          /* what happened, in one sentence */
    char resolve_msg[320];
    int say_resolve;        /* a name that fails is said at once */
    /* a rollout's (rollout.h) */
    int probing;            /* the attempts are probes: did it come back? */
    uint64_t probe_deadline;
    char note[512];         /* the failure's sentence when the rollout has one */
} up_job;

/* A network error (closed, timeout, I/O, refused, unreachable): the device
 * may not have heard us at all, so the attempt may be made again. */
int up_job_network_error(eota_client_error e);

/* A result with nothing known: every number null, nothing sent. */
void up_result_blank(up_result *res);

/* Resolve the names (on the loop, resolve.h), then make the first
 * attempt. */
void up_job_begin(struct up_run *r, up_job *j);

/* The transport filled j->res: success, or retry, fall back, give up. */
void up_job_attempt_ended(struct up_run *r, up_job *j);

/* A waiting job whose delay is over makes its next attempt. */
void up_job_tick(struct up_run *r, up_job *j, uint64_t now);

/* The address of the current (or last) attempt; NULL before resolving. */
const up_addr *up_job_addr(const up_job *j);

/* Seconds since the job began (until it ended). */
double up_job_seconds(const up_job *j);

void up_job_free(struct up_run *r, up_job *j);

/* The job is done (ok or not): its message, the report, the rollout's
 * part (a rollout may first verify a success: the job then waits). */
void up_job_finish(struct up_run *r, up_job *j, int ok);

/* End a running or waiting job now, as failed for the reason given (its
 * transport state freed: the connection closes). */
void up_job_abort(struct up_run *r, up_job *j, const char *why);

#endif
