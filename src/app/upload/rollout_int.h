/*
 * rollout_int.h: what rollout.c and rollout_mdns.c share (internal): the
 * rollout's state, per run and per job.
 */
#ifndef EOTA_APP_UPLOAD_ROLLOUT_INT_H
#define EOTA_APP_UPLOAD_ROLLOUT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "upload/devstate.h"
#include "upload/journal.h"
#include "upload/rollout.h"
#include "upload/run.h"

/* Before the waves are planned, the rollout listens this long for the
 * devices' _eota._tcp (to skip those already running the image). */
#define RO_LISTEN_MS 1500u

typedef struct ro_job {
    uint8_t verify_only; /* the journal says an earlier run sent it (45) */
    uint8_t watched;     /* verified by its _eota._tcp, not by the probe */
    uint8_t saw_new;     /* its TXT showed the new image since the 45 */
    uint8_t rolled_back; /* it went back to its old image */
    uint8_t back0;       /* its TXT said rolled_back already at the 45 */
    uint8_t mdns_skip;   /* its TXT showed the image before we began */
    uint8_t still_offline; /* it failed unreachable after --wait-online */
    unsigned gen0;       /* its TXT's generation at the 45 */
    uint64_t seen;       /* offline: the last announcement acted on */
    uint32_t every;      /* offline: ms until the next periodic try */
} ro_job;

typedef enum ro_state {
    RO_WAITING,
    RO_UPLOADING,
    RO_OFFLINE,
    RO_VERIFYING,
    RO_INSTALLED,
    RO_FAILED,
    RO_SKIPPED,
    RO_NOT_ATTEMPTED,
    RO_ROLLED_BACK,
    RO_NSTATES
} ro_state;


struct up_rollout {
    size_t *wave_of;     /* per job */
    ro_job *jx;          /* per job */
    ro_state *state;     /* per job */
    up_result *upload;   /* per job: the upload's result, kept while probing */
    size_t nwaves, wave; /* the wave under way */
    size_t failures, max_failures, planned;
    int halted, stopping, cut;
    int have_journal;
    up_journal jr;
    char sha256[65];
    char sha12[13];      /* its first 12 hex digits, as _eota._tcp shows them */
    up_devstate *watch;  /* eota devices on mDNS (devstate.h), or NULL */
    uint64_t plan_at;    /* the waves are planned once mDNS was heard a while */
    int planned_ready;
    uint64_t t0;
};

extern const char *const ro_state_names[RO_NSTATES];

static inline size_t ro_index(const up_run *r, const up_job *j) { return (size_t)(j - r->jobs); }
/* Set job i's state; with --json, say so. */
void ro_emit(up_run *r, size_t i, ro_state s, const char *reason);
void ro_journal_write(up_run *r, const up_job *j, const char *outcome, const char *reason);

/* rollout_mdns.c */
void ro_mdns_skips(up_run *r);
int ro_mdns_verify_begin(up_run *r, up_job *j);
void ro_mdns_tick(up_run *r);
/* A job the journal has as sent whose device shows that it rolled back
 * (its old image, last_update=rolled_back): finished as rolled back, 1. */
int ro_mdns_resumed_rolled_back(up_run *r, up_job *j);

#endif
