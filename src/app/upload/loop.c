/*
 * loop.c: the fleet's loop (loop.h). Each turn: begin jobs up to --jobs,
 * ask the running ones what they wait for, wait for all of them at once,
 * hand each its events, start the retries whose delay is over, refresh
 * the progress display.
 */
#include "upload/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "mdns/mdns.h"
#include "upload/progress.h"
#include "upload/rollout.h"
#include "upload/util.h"

typedef struct waitset {
    struct pollfd *pfd;
    size_t *job;  /* the job of each descriptor */
    size_t n;     /* the jobs' descriptors; the resolver's follow them */
    int nres;
    int nro;      /* the rollout's (its mDNS watch), after the resolver's */
} waitset;

#define RES_FDS (UP_RESOLVE_MAX_FDS + 2 * EOTA_MDNS_MAX_FDS)

/* Begin jobs while fewer than --jobs run; returns how many have begun, and
 * in *unfinished how many are not done. */
static size_t begin_jobs(up_run *r, size_t begun, size_t *unfinished)
{
    size_t active = 0;
    for (size_t i = 0; i < begun; i++)
        active += r->jobs[i].st != UP_JOB_DONE;
    while (active < (size_t)r->opt.jobs && begun < r->njobs) {
        up_gate g = r->ro ? up_rollout_gate(r, begun) : UP_GATE_GO;
        if (g == UP_GATE_LATER)
            break; /* the wave before is not over */
        up_job *j = &r->jobs[begun++];
        if (g == UP_GATE_NEVER) {
            up_rollout_not_attempted(r, j);
            continue;
        }
        up_job_begin(r, j);
        active += j->st != UP_JOB_DONE;
    }
    *unfinished = active + (r->njobs - begun);
    return begun;
}

/* The descriptors to wait for, and for how long at most. */
static long gather(up_run *r, size_t begun, waitset *w)
{
    uint64_t now = up_now_ms();
    long timeout = r->opt.quiet ? 1000 : (long)(r->con.tty ? UP_BAR_REFRESH_MS : 500);
    w->n = 0;
    for (size_t i = 0; i < begun; i++) {
        up_job *j = &r->jobs[i];
        long tj = -1;
        if (j->st == UP_JOB_RUNNING && r->tp->want(r, j, now, &w->pfd[w->n], &tj))
            w->job[w->n++] = i;
        else if (j->st == UP_JOB_WAIT)
            tj = j->next_try > now ? (long)(j->next_try - now) : 0;
        if (tj >= 0 && tj < timeout)
            timeout = tj;
    }
    w->nres = r->resolver ? up_resolver_pollfds(r->resolver, w->pfd + w->n, RES_FDS) : 0;
    long tr = r->resolver ? up_resolver_timeout_ms(r->resolver) : -1;
    if (tr >= 0 && tr < timeout)
        timeout = tr;
    w->nro = r->ro ? up_rollout_pollfds(r, w->pfd + w->n + w->nres, EOTA_MDNS_MAX_FDS, &tr) : 0;
    return r->ro && tr >= 0 && tr < timeout ? tr : timeout;
}

static void dispatch(up_run *r, size_t begun, const waitset *w, int ready)
{
    if (r->resolver) /* may begin attempts: before the jobs' turn */
        up_resolver_run(r->resolver, r, w->pfd + w->n, ready > 0 ? w->nres : 0);
    if (r->ro)
        up_rollout_run(r, w->pfd + w->n + w->nres, ready > 0 ? w->nro : 0);
    for (size_t k = 0; k < w->n; k++) {
        up_job *j = &r->jobs[w->job[k]];
        if (j->st == UP_JOB_RUNNING)
            r->tp->ready(r, j, ready > 0 ? w->pfd[k].revents : 0);
    }
    for (size_t i = 0; i < begun; i++) {
        up_job *j = &r->jobs[i];
        if (j->st == UP_JOB_RUNNING)
            r->tp->step(r, j);
        else if (j->st == UP_JOB_WAIT)
            up_job_tick(r, j, up_now_ms());
    }
}

void up_loop_run(up_run *r)
{
    waitset w = {up_xcalloc(r->njobs + RES_FDS, sizeof *w.pfd), up_xcalloc(r->njobs, sizeof *w.job), 0, 0, 0};
    size_t begun = 0, unfinished;
    for (;;) {
        begun = begin_jobs(r, begun, &unfinished);
        if (unfinished == 0)
            break;
        long timeout = gather(r, begun, &w);
        int ready = r->tp->wait(r, w.pfd, w.n + (size_t)w.nres + (size_t)w.nro, timeout);
        if (ready < 0 && errno != EINTR) {
            up_shout(&r->con, "eota upload: poll: %s", strerror(errno));
            break;
        }
        dispatch(r, begun, &w, ready);
        if (r->ro)
            up_rollout_tick(r);
        up_progress(r, 0);
    }
    if (r->con.tty && !r->opt.quiet) {
        up_progress(r, 1);
        up_console_clear(&r->con);
    }
    free(w.pfd);
    free(w.job);
}
