/*
 * transport.h: how one attempt of an upload reaches a device, behind one
 * interface so that the job (job.c) and the loop (loop.c) never ask which
 * one is in use. Two implement it:
 *
 *   up_transport_native  ESPHome's native OTA protocol: a non-blocking
 *                        socket and the uploader engine (src/core/client.c)
 *                        per job, waited on with poll();
 *   up_transport_web     the web server's POST /update through libcurl's
 *                        multi interface, waited on in curl_multi_poll().
 *
 * The run calls check_config and configure while it settles the options,
 * prepare once the image is loaded, release at the end. A job calls
 * job_init when it begins and start for every attempt; the transport
 * reports the end of an attempt by filling job->res and calling
 * up_job_attempt_ended (job.h). In between the loop asks each running job
 * what to wait for (want), waits for all of them at once (wait), and hands
 * the events back (ready: its descriptor; step: time passed).
 */
#ifndef EOTA_APP_UPLOAD_TRANSPORT_H
#define EOTA_APP_UPLOAD_TRANSPORT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct up_run;
struct up_job;

/* Where a running attempt is, for the progress display. */
typedef enum up_stage {
    UP_STAGE_IDLE,    /* not sending (connecting, between attempts) */
    UP_STAGE_SENDING, /* the image is going out: done of total */
    UP_STAGE_ANSWER   /* all of it went out; the device's answer is awaited */
} up_stage;

typedef struct up_transport {
    const char *name; /* --ota-platform, and "ota_platform" in --json */

    /* The config has what this transport needs (ota: entry): 0, or -1
     * with the error printed. */
    int (*check_config)(struct up_run *r);
    /* Check the options that concern it, settle its credentials and
     * r->default_port: -1 to go on, or the exit code. */
    int (*configure)(struct up_run *r);
    /* The image is loaded: 0, or -1 with a message in err. */
    int (*prepare)(struct up_run *r, char *err, size_t errlen);
    void (*release)(struct up_run *r);

    /* A job begins: its state, and j->res as it stands before any attempt.
     * -1 (j->res.err set) when the job cannot run. */
    int (*job_init)(struct up_run *r, struct up_job *j);
    void (*job_free)(struct up_run *r, struct up_job *j);

    /* Begin an attempt at j->addrs[j->addr_i] with password j->pw_i. */
    void (*start)(struct up_run *r, struct up_job *j);
    /* What a running job waits for: 1 with pfd filled when it has a
     * descriptor; *timeout_ms its deadline from now, or -1. */
    int (*want)(struct up_run *r, struct up_job *j, uint64_t now, struct pollfd *pfd, long *timeout_ms);
    /* Wait for the descriptors (poll()'s contract) and the transport's own
     * work; may end attempts. */
    int (*wait)(struct up_run *r, struct pollfd *fds, size_t n, long timeout_ms);
    void (*ready)(struct up_run *r, struct up_job *j, short revents);
    void (*step)(struct up_run *r, struct up_job *j);

    /* Bytes of the running attempt out of its total (the total is the last
     * one known when idle). */
    up_stage (*progress)(const struct up_run *r, const struct up_job *j, uint64_t *done, uint64_t *total);

    /* The sentence of a success, and of a failure (without the retry
     * story, which job.c adds). */
    void (*describe_ok)(const struct up_run *r, const struct up_job *j, char *out, size_t outlen);
    void (*describe_failure)(const struct up_run *r, const struct up_job *j, char *out, size_t outlen);
} up_transport;

extern const up_transport up_transport_native;
extern const up_transport up_transport_web;

#endif
