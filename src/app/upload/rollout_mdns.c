/*
 * rollout_mdns.c: the rollout's use of what eota devices publish in
 * _eota._tcp (devstate.h): the devices already running the image are
 * skipped; after a 45 an eota device is verified by its TXT (the new
 * image, confirmed with --wait-confirmed, or its old image back: rolled
 * back, with the reason it gives); a device waiting to come online is
 * tried at once when it announces itself.
 */
#include <stdio.h>
#include <string.h>

#include "upload/rollout_int.h"
#include "upload/util.h"

#define NEVER_MS (UINT64_MAX / 4) /* a watched job's next_try: never by the clock */

void ro_mdns_skips(up_run *r)
{
    up_rollout *ro = r->ro;
    for (size_t i = 0; ro->watch && !r->opt.force && i < r->njobs; i++) {
        const up_devinfo *d = up_devstate_find(ro->watch, &r->jobs[i]);
        if (ro->state[i] != RO_WAITING || !d || strcmp(d->sha256, ro->sha12))
            continue;
        ro->state[i] = RO_SKIPPED;
        ro->jx[i].mdns_skip = 1;
        ro->planned--;
    }
}

int ro_mdns_verify_begin(up_run *r, up_job *j)
{
    up_rollout *ro = r->ro;
    size_t i = ro_index(r, j);
    const up_devinfo *d = up_devstate_find(ro->watch, j);
    if (!d)
        return 0; /* a stock device: the probe */
    ro->jx[i].watched = 1;
    ro->jx[i].gen0 = d->gen;
    ro->jx[i].back0 = !strcmp(d->last_update, "rolled_back"); /* from an earlier update */
    j->probe_deadline = up_now_ms() + r->opt.verify_ms;
    j->st = UP_JOB_WAIT;
    j->next_try = NEVER_MS;
    up_say(&r->con, "%s: installed; waiting for its _eota._tcp to show the new image (sha256 %s)%s (up to %.0f s)",
           j->spec, ro->sha12, r->opt.wait_confirmed ? " confirmed" : "", r->opt.verify_ms / 1000.0);
    ro_journal_write(r, j, "sent", "the device said it installed the image; not yet seen back");
    ro_emit(r, i, RO_VERIFYING, NULL);
    return 1;
}

typedef enum { W_WAIT, W_OK, W_ROLLED_BACK, W_TIMEOUT } watch_end;

static watch_end judge(up_run *r, size_t i, const up_devinfo *d)
{
    up_rollout *ro = r->ro;
    ro_job *x = &ro->jx[i];
    if (d) {
        int is_new = !strcmp(d->sha256, ro->sha12), fresh = d->gen != x->gen0;
        int back = !strcmp(d->last_update, "rolled_back");
        if (!is_new && ((fresh && back && !x->back0) || x->saw_new))
            return W_ROLLED_BACK;
        x->saw_new |= is_new && fresh;
        int booted = !strcmp(d->state, "trial") || !strcmp(d->state, "confirmed");
        if (is_new && booted && (!r->opt.wait_confirmed || !strcmp(d->state, "confirmed")))
            return W_OK;
    }
    return up_now_ms() >= r->jobs[i].probe_deadline ? W_TIMEOUT : W_WAIT;
}

/* Job i's device went back to its old image (d says so): the failure's
 * sentence; the rollout names it rolled back (rollout_int.h). */
static void rolled_back(up_run *r, size_t i, const up_devinfo *d, const char *earlier)
{
    up_job *j = &r->jobs[i];
    r->ro->jx[i].rolled_back = 1;
    j->res.err = EOTA_CLIENT_ERR_TIMEOUT;
    j->res.error = "rolled_back";
    snprintf(j->note, sizeof j->note, "rolled back: %sit runs its previous image again (sha256 %s); the device says: %s",
             earlier, d->sha256, d->why[0] ? d->why : "no reason given");
}

int ro_mdns_resumed_rolled_back(up_run *r, up_job *j)
{
    up_rollout *ro = r->ro;
    size_t i = ro_index(r, j);
    const up_devinfo *d = up_devstate_find(ro->watch, j);
    if (!ro->jx[i].verify_only || !d || strcmp(d->last_update, "rolled_back") || !strcmp(d->sha256, ro->sha12))
        return 0;
    j->t_begin = up_now_ms();
    up_result_blank(&j->res);
    rolled_back(r, i, d, "an earlier run sent it this image (the journal says so) and ");
    up_job_finish(r, j, 0);
    return 1;
}

static void end_watch(up_run *r, size_t i, watch_end how, const up_devinfo *d)
{
    up_rollout *ro = r->ro;
    up_job *j = &r->jobs[i];
    double took = (double)(up_now_ms() - (j->probe_deadline - r->opt.verify_ms)) / 1000.0;
    j->res = ro->upload[i];
    if (how == W_OK) {
        size_t k = strlen(j->msg);
        snprintf(j->msg + k, sizeof j->msg - k, "; its _eota._tcp showed the new image%s %.1f s later",
                 r->opt.wait_confirmed ? " confirmed" : "", took);
        up_job_finish(r, j, 1);
        return;
    }
    j->res.err = EOTA_CLIENT_ERR_TIMEOUT;
    if (how == W_ROLLED_BACK) {
        rolled_back(r, i, d, "");
    } else {
        snprintf(j->note, sizeof j->note, "installed, but its _eota._tcp did not show the new image (sha256 %s)%s "
                 "within --verify-timeout (%.0f s)", ro->sha12, r->opt.wait_confirmed ? " confirmed" : "",
                 r->opt.verify_ms / 1000.0);
    }
    up_job_finish(r, j, 0);
}

/* An offline job whose device announced itself since: try it now. */
static void announced(up_run *r, size_t i, const up_devinfo *d)
{
    up_job *j = &r->jobs[i];
    if (!d || d->seen_ms <= r->ro->jx[i].seen || j->next_try <= up_now_ms())
        return;
    r->ro->jx[i].seen = d->seen_ms;
    up_say(&r->con, "%s: it announced itself on mDNS; trying it now", j->spec);
    j->next_try = up_now_ms();
}

void ro_mdns_tick(up_run *r)
{
    up_rollout *ro = r->ro;
    for (size_t i = 0; ro->watch && i < r->njobs; i++) {
        if (r->jobs[i].st != UP_JOB_WAIT)
            continue;
        const up_devinfo *d = up_devstate_find(ro->watch, &r->jobs[i]);
        if (ro->jx[i].watched) {
            watch_end how = judge(r, i, d);
            if (how != W_WAIT)
                end_watch(r, i, how, d);
        } else if (ro->state[i] == RO_OFFLINE) {
            announced(r, i, d);
        }
    }
}
