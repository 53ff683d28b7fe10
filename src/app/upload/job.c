/*
 * job.c: one device's upload and its retry machine (job.h).
 */
#include "upload/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload/report.h"
#include "upload/rollout.h"
#include "upload/run.h"
#include "upload/util.h"

void up_result_blank(up_result *res)
{
    memset(res, 0, sizeof *res);
    res->code = -1;
    res->server_flags = -1;
}

const up_addr *up_job_addr(const up_job *j) { return j->naddrs ? &j->addrs[j->addr_i] : NULL; }

double up_job_seconds(const up_job *j)
{
    uint64_t end = j->t_end ? j->t_end : up_now_ms();
    return (double)(end - j->t_begin) / 1000.0;
}

int up_job_network_error(eota_client_error e)
{
    switch (e) {
    case EOTA_CLIENT_ERR_CLOSED:
    case EOTA_CLIENT_ERR_TIMEOUT:
    case EOTA_CLIENT_ERR_IO:
    case EOTA_CLIENT_ERR_REFUSED:
    case EOTA_CLIENT_ERR_UNREACHABLE: return 1;
    default: return 0;
    }
}

/* The failure in one sentence, with what became of the retries. */
static void describe_failure(up_run *r, up_job *j, char *out, size_t outlen)
{
    if (j->res.err == EOTA_CLIENT_ERR_RESOLVE) {
        snprintf(out, outlen, "%s", j->resolve_msg);
        return;
    }
    r->tp->describe_failure(r, j, out, outlen);
    size_t n = strlen(out);
    eota_client_error e = j->res.err;
    if (n + 1 >= outlen)
        return;
    if (j->res.all_sent && e != EOTA_CLIENT_ERR_DEVICE && e != EOTA_CLIENT_ERR_CANCELLED)
        snprintf(out + n, outlen - n,
                 "; the whole image had been sent, so it was not retried (the device may have installed it: "
                 "check before uploading again)");
    else if (up_job_network_error(e) && j->attempts > 1)
        snprintf(out + n, outlen - n, " (after %zu attempts)", j->attempts);
}

void up_job_finish(up_run *r, up_job *j, int ok)
{
    if (ok && r->ro && up_rollout_verify_begin(r, j))
        return; /* the rollout probes it first */
    j->st = UP_JOB_DONE;
    j->ok = ok;
    j->t_end = up_now_ms();
    if (ok) {
        if (!j->probing) /* else described when the upload ended (rollout.c) */
            r->tp->describe_ok(r, j, j->msg, sizeof j->msg);
        up_say(&r->con, "%s: OK, %s", j->spec, j->msg);
    } else {
        if (j->note[0])
            snprintf(j->msg, sizeof j->msg, "%s", j->note);
        else
            describe_failure(r, j, j->msg, sizeof j->msg);
        up_shout(&r->con, "%s: FAILED: %s", j->spec, j->msg);
    }
    if (ok && j->ntargets == 1) /* a name's last good address */
        up_resolver_good(r->resolver, j->targets[0].host, up_job_addr(j));
    if (r->opt.json)
        up_report_json(r, j, stdout);
    if (j->tx)
        r->tp->job_free(r, j); /* a fleet keeps no buffer for a finished job */
    if (r->ro)
        up_rollout_finished(r, j);
}

void up_job_abort(up_run *r, up_job *j, const char *why)
{
    if (j->tx)
        r->tp->job_free(r, j);
    j->res.err = EOTA_CLIENT_ERR_CANCELLED;
    snprintf(j->note, sizeof j->note, "%s", why);
    up_job_finish(r, j, 0);
}

/* An attempt at address addr_i; counts: it is a network attempt (a
 * password fallback is not). */
static void attempt(up_run *r, up_job *j, size_t addr_i, int counts)
{
    j->addr_i = addr_i;
    if (counts && !j->probing) /* a rollout's probes are not upload attempts */
        j->attempts++;
    j->st = UP_JOB_RUNNING;
    r->tp->start(r, j);
}

/* The device refused a secret (why): the next of its list (*idx of
 * count), at once, to the same address. 0 when there is none left. */
static int next_secret(up_run *r, up_job *j, const char *why, size_t *idx, size_t count, const char *what,
                       const char *option)
{
    if (!why || *idx + 1 >= count)
        return 0;
    (*idx)++;
    up_say(&r->con, "%s: %s with the %s %s; trying %s #%zu", j->spec, why, *idx == 1 ? "current" : "previous",
           what, option, *idx);
    attempt(r, j, j->addr_i, 0);
    return 1;
}

/* A wrong password (82, or a challenge with none given): the next
 * --previous-password; a rejected key: the next --previous-key. */
static int next_password(up_run *r, up_job *j)
{
    const up_result *res = &j->res;
    const char *why = res->err == EOTA_CLIENT_ERR_PASSWORD_REQUIRED ? "a password is required"
                      : res->err == EOTA_CLIENT_ERR_DEVICE && res->code == EOTA_RESP_ERROR_AUTH_INVALID
                          ? "authentication failed"
                          : NULL;
    if (res->err == EOTA_CLIENT_ERR_NOISE_KEY)
        return next_secret(r, j, "the device rejected the handshake (Handshake MAC failure)", &j->key_i, r->nkeys,
                           "encryption key", "--previous-key");
    return next_secret(r, j, why, &j->pw_i, r->npasswords, "password", "--previous-password");
}

/* A network error: the next address, or a retry after the delay. 0 when
 * it is not to be retried. */
static int retry(up_run *r, up_job *j)
{
    if (!up_job_network_error(j->res.err) || j->res.all_sent)
        return 0;
    if (j->attempts >= j->max_attempts)
        return r->ro && up_rollout_offline(r, j);
    char why[512];
    describe_failure(r, j, why, sizeof why);
    if (j->attempts < j->naddrs) {
        up_say(&r->con, "%s: %s; trying the next address", j->spec, why);
        attempt(r, j, j->attempts % j->naddrs, 1);
        return 1;
    }
    up_say(&r->con, "%s: %s; retrying in %.1f s (attempt %zu of %zu)", j->spec, why, r->opt.retry_delay_ms / 1000.0,
           j->attempts + 1, j->max_attempts);
    j->st = UP_JOB_WAIT;
    j->next_try = up_now_ms() + r->opt.retry_delay_ms;
    return 1;
}

void up_job_attempt_ended(up_run *r, up_job *j)
{
    if (j->res.connected)
        j->good_addr = (long)j->addr_i;
    if (j->probing) {
        if (!up_rollout_probe_ended(r, j))
            up_job_finish(r, j, j->res.err == EOTA_CLIENT_OK);
        return;
    }
    if (j->res.err == EOTA_CLIENT_OK)
        up_job_finish(r, j, 1);
    else if (!next_password(r, j) && !retry(r, j))
        up_job_finish(r, j, 0);
}

void up_job_tick(up_run *r, up_job *j, uint64_t now)
{
    if (j->st != UP_JOB_WAIT || now < j->next_try)
        return;
    if (j->naddrs == 0) { /* its names did not resolve (--wait-online): again */
        j->st = UP_JOB_RESOLVING;
        up_resolver_begin(r->resolver, r, j);
        return;
    }
    /* After every address was tried once: the one that last took a
     * connection (the device lives there; it may have been busy), else
     * round the list. */
    attempt(r, j, j->good_addr >= 0 ? (size_t)j->good_addr : j->attempts % j->naddrs, 1);
}

/* The names are settled: the first attempt, or the failure (with
 * --wait-online, a name that does not resolve yet is a device not online
 * yet: the rollout has the job wait and resolve again). */
static void resolved(up_run *r, up_job *j)
{
    if (j->st != UP_JOB_RESOLVING)
        return;
    if (j->naddrs == 0) {
        j->res.err = EOTA_CLIENT_ERR_RESOLVE;
        if (!r->ro || !up_rollout_offline(r, j))
            up_job_finish(r, j, 0);
        return;
    }
    j->max_attempts = j->naddrs + (size_t)r->opt.retries;
    attempt(r, j, 0, 1);
}

void up_job_begin(up_run *r, up_job *j)
{
    j->t_begin = up_now_ms();
    j->good_addr = -1;
    up_result_blank(&j->res);
    if (r->tp->job_init(r, j) != 0) {
        up_job_finish(r, j, 0);
        return;
    }
    j->say_resolve = r->opt.verbose || j->ntargets > 1;
    j->st = UP_JOB_RESOLVING;
    if (!r->resolver)
        r->resolver = up_resolver_new(&r->con, resolved);
    up_resolver_begin(r->resolver, r, j);
}

void up_job_free(up_run *r, up_job *j)
{
    if (j->tx)
        r->tp->job_free(r, j);
    up_targets_free(j->targets, j->ntargets);
    free(j->addrs);
    free(j->spec);
}
