/*
 * rollout.h: a staged rollout of `eota upload` to a fleet. The same engine,
 * jobs and transports as any upload (so every option, password and
 * address form works the same), with a policy on top:
 *
 *   waves     --canary N devices first, then waves of --wave N (or P%);
 *             a wave begins only when every device of the one before has
 *             been verified or has failed;
 *   verify    after a device's 45, within --verify-timeout: an eota
 *             device (it publishes _eota._tcp, devstate.h) must show the
 *             new image in its TXT (with --wait-confirmed: confirmed), and
 *             one that shows its old image back is "rolled back", with the
 *             reason it gives; a stock device must answer an OTA handshake
 *             again (the protocol's probe, closed before the type);
 *   skip      devices recorded as installed in the journal, and eota
 *             devices whose _eota._tcp already shows the image (the
 *             rollout listens RO_LISTEN_MS first), unless --force;
 *   halt      once more than --max-failures N (or P%) devices failed, no
 *             new device is begun; those in flight finish; the rest are
 *             reported as not attempted;
 *   journal   --journal FILE records every device's outcome with the
 *             image's SHA-256 (journal.h); a device recorded as installed
 *             with this image is skipped (--force sends anyway); one
 *             recorded as sent is only verified (an eota device showing
 *             that it rolled back is named so at once);
 *   offline   with --wait-online D, a device that cannot be reached, or
 *             whose name does not resolve yet (mDNS, DNS), is tried again
 *             every few seconds (2 s, doubling up to 8 s), and at once
 *             when it announces itself on mDNS, until D has passed,
 *             instead of failing;
 *   signals   the first SIGINT or SIGTERM stops beginning devices, the
 *             second cuts those in flight (they keep their old image).
 *
 * With --json, every change of a device's state is one JSON line with an
 * "event" key, beside the usual per-device result objects.
 */
#ifndef EOTA_APP_UPLOAD_ROLLOUT_H
#define EOTA_APP_UPLOAD_ROLLOUT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct up_run;
struct up_job;

/* Exit codes of a rollout, beside 0 (all installed or skipped), 1 (some
 * failed) and 2 (usage). */
#define UP_EXIT_HALTED 3      /* the failure threshold was crossed */
#define UP_EXIT_INTERRUPTED 4 /* stopped by SIGINT or SIGTERM */

/* What the gate says of a job that has not begun. */
typedef enum up_gate { UP_GATE_GO, UP_GATE_LATER, UP_GATE_NEVER } up_gate;

/* Whether the options ask for a rollout (any of its options given). */
int up_rollout_wanted(const struct up_run *r);

/* Set up the rollout once the jobs and the image are there: the journal
 * read, its finished devices skipped, the waves planned. -1 to go on, or
 * an exit code (the error printed). */
int up_rollout_setup(struct up_run *r);
void up_rollout_free(struct up_run *r);

/* May job i begin now? */
up_gate up_rollout_gate(struct up_run *r, size_t i);

/* A job that will never begin (halted, interrupted). */
void up_rollout_not_attempted(struct up_run *r, struct up_job *j);

/* The upload of j succeeded: 1 when the rollout verifies it now (the job
 * waits, then probes), 0 when it is done. */
int up_rollout_verify_begin(struct up_run *r, struct up_job *j);

/* A probe of j ended (j->res): 1 when it is to be tried again (the job was
 * set to wait), 0 when the job is to finish with j->res. */
int up_rollout_probe_ended(struct up_run *r, struct up_job *j);

/* A network failure of j before anything was sent, or a name of it that
 * did not resolve (EOTA_CLIENT_ERR_RESOLVE: not online yet): 1 when
 * --wait-online keeps it waiting (the job was set to wait; after a name
 * that did not resolve, the wait ends in a new lookup). */
int up_rollout_offline(struct up_run *r, struct up_job *j);

/* j is done (ok or not): the counts, the halt, the journal, the event. */
void up_rollout_finished(struct up_run *r, struct up_job *j);

/* Once a loop turn: waves that ended, signals that came. */
void up_rollout_tick(struct up_run *r);

/* The descriptors of its mDNS watch (devstate.h) into pfd (at most max),
 * how many; in *timeout the ms until it needs a turn (-1: none). */
int up_rollout_pollfds(struct up_run *r, struct pollfd *pfd, int max, long *timeout);
/* Its turn after poll (pfd/n as up_rollout_pollfds filled them). */
void up_rollout_run(struct up_run *r, const struct pollfd *pfd, int n);

/* The summary on stderr; the exit code. */
int up_rollout_summary(struct up_run *r);

/* The SIGINT/SIGTERM handlers of a rollout (installed by setup). */
void up_rollout_signals(void);

#endif
