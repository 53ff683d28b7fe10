/*
 * rollout.c: the staged rollout of `eota upload` (rollout.h): waves, the
 * probe after each install, the halt, the journal, devices offline, the
 * signals, the events and the summary.
 */
#include "upload/rollout.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eota/posix.h"
#include "upload/rollout_int.h"
#include "upload/util.h"

#define REBOOT_GRACE_MS 1000u /* before the first probe */
#define PROBE_EVERY_MS 1000u
#define OFFLINE_FIRST_MS 2000u /* then doubled, up to: */
#define OFFLINE_MAX_MS 8000u

static volatile sig_atomic_t interrupts;

static void on_signal(int sig)
{
    (void)sig;
    interrupts++;
}

void up_rollout_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int up_rollout_wanted(const up_run *r)
{
    const up_opts *o = &r->opt;
    return o->canary > 0 || o->wave.n > 0 || o->wave.percent > 0 || o->max_failures.n >= 0 ||
           o->max_failures.percent >= 0 || o->journal || o->wait_online_ms > 0 || o->wait_confirmed;
}

static size_t amount_of(up_amount a, size_t total, size_t dflt)
{
    if (a.n >= 0)
        return (size_t)a.n;
    if (a.percent >= 0)
        return (total * (size_t)a.percent + 99) / 100;
    return dflt;
}

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

const char *const ro_state_names[RO_NSTATES] = {"waiting",   "uploading", "offline",       "verifying",  "installed",
                                                "failed",    "skipped",   "not_attempted", "rolled_back"};

void ro_emit(up_run *r, size_t i, ro_state s, const char *reason)
{
    up_rollout *ro = r->ro;
    ro->state[i] = s;
    if (!r->opt.json)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "state");
    cJSON_AddStringToObject(o, "device", r->jobs[i].spec);
    cJSON_AddStringToObject(o, "state", ro_state_names[s]);
    cJSON_AddNumberToObject(o, "wave", (double)ro->wave_of[i] + 1);
    if (reason && *reason)
        cJSON_AddStringToObject(o, "reason", reason);
    else
        cJSON_AddNullToObject(o, "reason");
    cJSON_AddNumberToObject(o, "seconds", (double)(up_now_ms() - ro->t0) / 1000.0);
    char *text = cJSON_PrintUnformatted(o);
    if (text)
        printf("%s\n", text);
    fflush(stdout);
    cJSON_free(text);
    cJSON_Delete(o);
}

void ro_journal_write(up_run *r, const up_job *j, const char *outcome, const char *reason)
{
    up_rollout *ro = r->ro;
    char err[512];
    if (ro->have_journal && up_journal_record(&ro->jr, j->spec, ro->sha256, outcome, reason, err, sizeof err) != 0)
        up_shout(&r->con, "eota upload: %s", err);
}

/* ------------------------------------------------------------------ */
/* setup                                                               */
/* ------------------------------------------------------------------ */

/* The image's SHA-256 (the journal's key; its first 12 digits are what
 * _eota._tcp shows), then the journal if one is asked for. */
static int open_journal(up_run *r)
{
    up_rollout *ro = r->ro;
    char err[600];
    uint8_t d[32];
    if (eota_posix_digest(EOTA_HASH_SHA256, r->img.data, r->img.size, d) != EOTA_OK) {
        up_shout(&r->con, "eota upload: SHA-256 of the firmware failed (OpenSSL)");
        return -1;
    }
    for (int k = 0; k < 32; k++)
        snprintf(ro->sha256 + 2 * k, 3, "%02x", d[k]);
    memcpy(ro->sha12, ro->sha256, 12);
    if (!r->opt.journal)
        return 0;
    if (up_journal_open(&ro->jr, r->opt.journal, err, sizeof err) != 0) {
        up_shout(&r->con, "eota upload: %s", err);
        return -1;
    }
    ro->have_journal = 1;
    return 0;
}

/* Canary first, then waves, over the devices not skipped. */
static void plan_waves(up_run *r)
{
    up_rollout *ro = r->ro;
    size_t canary = r->opt.canary > 0 ? (size_t)r->opt.canary : 0;
    size_t wave = amount_of(r->opt.wave, ro->planned, ro->planned);
    size_t k = 0, wave_no = 0, in_wave = 0, limit = canary ? canary : wave;
    for (size_t i = 0; i < r->njobs; i++) {
        if (ro->state[i] == RO_SKIPPED) {
            ro->wave_of[i] = wave_no;
            continue;
        }
        if (in_wave == limit && limit) {
            wave_no++;
            in_wave = 0;
            limit = wave ? wave : ro->planned;
        }
        ro->wave_of[i] = wave_no;
        in_wave++;
        k++;
    }
    ro->nwaves = k ? wave_no + 1 : 0;
}

int up_rollout_setup(up_run *r)
{
    up_rollout *ro = up_xcalloc(1, sizeof *ro);
    r->ro = ro;
    ro->t0 = up_now_ms();
    ro->wave_of = up_xcalloc(r->njobs, sizeof *ro->wave_of);
    ro->state = up_xcalloc(r->njobs, sizeof *ro->state);
    ro->upload = up_xcalloc(r->njobs, sizeof *ro->upload);
    ro->jx = up_xcalloc(r->njobs, sizeof *ro->jx);
    if (open_journal(r) != 0)
        return 2;
    for (size_t i = 0; i < r->njobs; i++) {
        const char *done = ro->have_journal ? up_journal_outcome(&ro->jr, r->jobs[i].spec, ro->sha256) : NULL;
        int skip = done && !strcmp(done, "installed") && !r->opt.force;
        ro->state[i] = skip ? RO_SKIPPED : RO_WAITING;
        ro->jx[i].verify_only = done && !strcmp(done, "sent") && !r->opt.force;
        ro->planned += !skip;
    }
    ro->watch = up_devstate_new();
    ro->plan_at = up_now_ms() + (ro->watch ? RO_LISTEN_MS : 0);
    up_rollout_signals();
    return -1;
}

/* Once mDNS was heard: the devices already running the image skipped, the
 * waves planned over the rest. */
static void plan(up_run *r)
{
    up_rollout *ro = r->ro;
    ro_mdns_skips(r);
    ro->max_failures = amount_of(r->opt.max_failures, ro->planned, 1);
    plan_waves(r);
    ro->planned_ready = 1;
    up_say(&r->con, "rollout: %zu device(s) in %zu wave(s)%s, %zu skipped (installed per the journal, or running "
                    "this image per mDNS); halt at %zu failure(s)",
           ro->planned, ro->nwaves, r->opt.canary > 0 ? " (the first is the canary)" : "",
           r->njobs - ro->planned, ro->max_failures);
}

void up_rollout_free(up_run *r)
{
    up_rollout *ro = r->ro;
    if (!ro)
        return;
    if (ro->have_journal)
        up_journal_free(&ro->jr);
    free(ro->wave_of);
    free(ro->state);
    free(ro->upload);
    free(ro->jx);
    up_devstate_free(ro->watch);
    free(ro);
    r->ro = NULL;
}

/* ------------------------------------------------------------------ */
/* the jobs' life                                                      */
/* ------------------------------------------------------------------ */

up_gate up_rollout_gate(up_run *r, size_t i)
{
    up_rollout *ro = r->ro;
    if (!ro->planned_ready && !ro->halted && !ro->stopping) {
        if (up_now_ms() < ro->plan_at)
            return UP_GATE_LATER; /* still listening to mDNS */
        plan(r);
    }
    if (ro->state[i] == RO_SKIPPED || ro->halted || ro->stopping)
        return UP_GATE_NEVER;
    if (ro->wave_of[i] > ro->wave)
        return UP_GATE_LATER;
    up_job *j = &r->jobs[i];
    if (ro_mdns_resumed_rolled_back(r, j))
        return UP_GATE_NEVER; /* finished: it is done with this image */
    if (ro->jx[i].verify_only && r->tp == &up_transport_native) {
        /* an earlier run saw its 45 but not its return: probe only */
        j->probing = 1;
        j->probe_deadline = up_now_ms() + r->opt.verify_ms;
        up_result_blank(&ro->upload[i]);
        snprintf(j->msg, sizeof j->msg, "installed by an earlier run (the journal says so)");
        ro_emit(r, i, RO_VERIFYING, "sent by an earlier run; checking that it came back");
        return UP_GATE_GO;
    }
    ro_emit(r, i, RO_UPLOADING, NULL);
    return UP_GATE_GO;
}

void up_rollout_not_attempted(up_run *r, up_job *j)
{
    size_t i = ro_index(r, j);
    up_rollout *ro = r->ro;
    int skipped = ro->state[i] == RO_SKIPPED;
    if (j->st == UP_JOB_DONE)
        return; /* the gate finished it (ro_mdns_resumed_rolled_back) */
    j->st = UP_JOB_DONE;
    j->ok = skipped;
    snprintf(j->msg, sizeof j->msg, "%s",
             skipped ? ro->jx[i].mdns_skip ? "skipped (already running this image: its _eota._tcp says so)"
                                           : "skipped: the journal records it installed with this image"
                     : ro->halted ? "not attempted: the rollout halted" : "not attempted: the rollout was interrupted");
    up_say(&r->con, "%s: %s", j->spec, j->msg);
    ro_emit(r, i, skipped ? RO_SKIPPED : RO_NOT_ATTEMPTED, j->msg);
    if (ro->jx[i].mdns_skip)
        ro_journal_write(r, j, "installed", j->msg);
}

int up_rollout_verify_begin(up_run *r, up_job *j)
{
    size_t i = ro_index(r, j);
    if (j->probing || r->tp != &up_transport_native)
        return 0;
    r->ro->upload[i] = j->res;
    r->tp->describe_ok(r, j, j->msg, sizeof j->msg);
    j->probing = 1;
    r->tp->job_free(r, j); /* a fresh engine, without the image */
    if (ro_mdns_verify_begin(r, j))
        return 1;
    if (r->tp->job_init(r, j) != 0) {
        j->probing = 0;
        j->res = r->ro->upload[i];
        return 0;
    }
    j->probe_deadline = up_now_ms() + r->opt.verify_ms;
    j->st = UP_JOB_WAIT;
    j->next_try = up_now_ms() + REBOOT_GRACE_MS;
    up_say(&r->con, "%s: installed; waiting for it to come back (up to %.0f s)", j->spec, r->opt.verify_ms / 1000.0);
    ro_journal_write(r, j, "sent", "the device said it installed the image; not yet seen back");
    ro_emit(r, i, RO_VERIFYING, NULL);
    return 1;
}

int up_rollout_probe_ended(up_run *r, up_job *j)
{
    size_t i = ro_index(r, j);
    int network = up_job_network_error(j->res.err);
    if (network && up_now_ms() + PROBE_EVERY_MS < j->probe_deadline) {
        j->st = UP_JOB_WAIT;
        j->next_try = up_now_ms() + PROBE_EVERY_MS;
        return 1;
    }
    eota_client_error probe = j->res.err;
    j->res = r->ro->upload[i];
    if (probe == EOTA_CLIENT_OK) {
        size_t k = strlen(j->msg);
        snprintf(j->msg + k, sizeof j->msg - k, "; it came back %.1f s later",
                 (double)(up_now_ms() - (j->probe_deadline - r->opt.verify_ms)) / 1000.0);
    } else {
        j->res.err = EOTA_CLIENT_ERR_TIMEOUT;
        snprintf(j->note, sizeof j->note, "installed, but %s within --verify-timeout (%.0f s): it may not have "
                 "booted the new image", network ? "it did not answer again" : "it refused the handshake since",
                 r->opt.verify_ms / 1000.0);
    }
    return 0;
}

int up_rollout_offline(up_run *r, up_job *j)
{
    up_rollout *ro = r->ro;
    size_t i = ro_index(r, j);
    uint64_t now = up_now_ms(), end = ro->t0 + r->opt.wait_online_ms;
    if (!r->opt.wait_online_ms || j->res.all_sent || j->probing || ro->stopping || now + OFFLINE_FIRST_MS >= end)
        return 0;
    ro_job *x = &ro->jx[i];
    if (ro->state[i] != RO_OFFLINE) {
        int unresolved = j->res.err == EOTA_CLIENT_ERR_RESOLVE;
        up_say(&r->con, "%s: offline%s%s%s; trying again in %u s, then less often (every %u s at most), and at once "
                        "when it announces itself on mDNS, until --wait-online ends",
               j->spec, unresolved ? " (" : "", unresolved ? j->resolve_msg : "", unresolved ? ")" : "",
               OFFLINE_FIRST_MS / 1000, OFFLINE_MAX_MS / 1000);
        ro_emit(r, i, RO_OFFLINE, NULL);
        x->every = OFFLINE_FIRST_MS;
    }
    const up_devinfo *d = up_devstate_find(ro->watch, j);
    x->seen = d ? d->seen_ms : 0;
    j->st = UP_JOB_WAIT;
    j->next_try = now + x->every < end ? now + x->every : end - 1;
    x->every = x->every * 2 < OFFLINE_MAX_MS ? x->every * 2 : OFFLINE_MAX_MS;
    return 1;
}

void up_rollout_finished(up_run *r, up_job *j)
{
    up_rollout *ro = r->ro;
    size_t i = ro_index(r, j);
    if (j->ok) {
        ro_emit(r, i, RO_INSTALLED, NULL);
        ro_journal_write(r, j, "installed", NULL);
        return;
    }
    int was_offline = ro->state[i] == RO_OFFLINE, back = ro->jx[i].rolled_back;
    ro->jx[i].still_offline = was_offline && !ro->cut;
    ro_emit(r, i, back ? RO_ROLLED_BACK : RO_FAILED, j->msg);
    ro_journal_write(r, j, ro->cut ? "interrupted" : back ? "rolled_back" : was_offline ? "offline" : "failed",
                     j->msg);
    if (ro->cut)
        return;
    ro->failures++;
    if (!ro->halted && ro->failures >= ro->max_failures) {
        ro->halted = 1;
        up_shout(&r->con, "rollout: HALTED after %zu failure(s) (the limit is %zu): no new device is begun; those in "
                          "flight finish",
                 ro->failures, ro->max_failures);
    }
}

/* ------------------------------------------------------------------ */
/* the loop's turn, and the end                                        */
/* ------------------------------------------------------------------ */

static void next_wave(up_run *r)
{
    up_rollout *ro = r->ro;
    size_t done = 0, ok = 0, total = 0;
    for (size_t i = 0; i < r->njobs; i++) {
        if (ro->wave_of[i] != ro->wave || ro->state[i] == RO_SKIPPED)
            continue;
        total++;
        done += r->jobs[i].st == UP_JOB_DONE;
        ok += ro->state[i] == RO_INSTALLED;
    }
    if (done < total || ro->wave + 1 > ro->nwaves)
        return;
    up_say(&r->con, "rollout: wave %zu of %zu%s done: %zu of %zu installed and verified", ro->wave + 1, ro->nwaves,
           ro->wave == 0 && r->opt.canary > 0 ? " (canary)" : "", ok, total);
    ro->wave++;
}

void up_rollout_tick(up_run *r)
{
    up_rollout *ro = r->ro;
    if (interrupts >= 1 && !ro->stopping) {
        ro->stopping = 1;
        up_shout(&r->con, "rollout: interrupted: no new device is begun; those in flight finish (interrupt again to "
                          "cut them: they keep their old image)");
    }
    if (interrupts >= 2 && !ro->cut) {
        ro->cut = 1;
        for (size_t i = 0; i < r->njobs; i++)
            if (r->jobs[i].st == UP_JOB_RUNNING || r->jobs[i].st == UP_JOB_WAIT)
                up_job_abort(r, &r->jobs[i], "cut by a second interrupt; the device keeps its old image");
    }
    ro_mdns_tick(r);
    if (ro->planned_ready && ro->wave < ro->nwaves)
        next_wave(r);
}

int up_rollout_summary(up_run *r)
{
    up_rollout *ro = r->ro;
    size_t n[RO_NSTATES] = {0}, offline = 0;
    char still[48] = "";
    for (size_t i = 0; i < r->njobs; i++) {
        n[ro->state[i]]++;
        offline += ro->jx[i].still_offline;
    }
    if (offline) /* failed: they never answered before --wait-online ended */
        snprintf(still, sizeof still, " (%zu of them still offline)", offline);
    up_shout(&r->con, "rollout: %zu installed, %zu skipped, %zu failed%s, %zu rolled back, %zu not attempted%s%s",
             n[RO_INSTALLED], n[RO_SKIPPED], n[RO_FAILED], still, n[RO_ROLLED_BACK], n[RO_NOT_ATTEMPTED],
             ro->halted ? "; halted" : "", ro->stopping ? "; interrupted" : "");
    for (size_t i = 0; i < r->njobs; i++)
        if (ro->state[i] == RO_FAILED || ro->state[i] == RO_ROLLED_BACK)
            up_shout(&r->con, "  %s: %s: %s", ro->state[i] == RO_FAILED ? "failed" : "rolled back", r->jobs[i].spec,
                     r->jobs[i].msg);
    if (ro->stopping)
        return UP_EXIT_INTERRUPTED;
    if (ro->halted)
        return UP_EXIT_HALTED;
    return n[RO_FAILED] || n[RO_ROLLED_BACK] ? 1 : 0;
}

int up_rollout_pollfds(up_run *r, struct pollfd *pfd, int max, long *timeout)
{
    up_rollout *ro = r->ro;
    uint64_t now = up_now_ms();
    long t = ro->watch ? up_devstate_timeout_ms(ro->watch) : -1;
    if (!ro->planned_ready) {
        long until = ro->plan_at > now ? (long)(ro->plan_at - now) : 0;
        t = t >= 0 && t < until ? t : until;
    }
    *timeout = t;
    return ro->watch ? up_devstate_pollfds(ro->watch, pfd, max) : 0;
}

void up_rollout_run(up_run *r, const struct pollfd *pfd, int n)
{
    if (r->ro->watch)
        up_devstate_run(r->ro->watch, pfd, n);
}
