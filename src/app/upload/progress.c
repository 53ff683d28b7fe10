/*
 * progress.c: the progress display (progress.h).
 */
#include "upload/progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "upload/util.h"

/* What the display shows, summed over the jobs. */
typedef struct tally {
    size_t ok, failed, running, waiting;
    double frac;     /* done, 0..1, averaged over the jobs */
    uint64_t bytes;  /* sent (version 2: acknowledged) */
    uint64_t total;  /* the wire size of the (one) job */
    up_stage stage;  /* of the (one) job */
    char rate[32];   /* "1.2 MiB" a second */
} tally;

static double job_fraction(const up_run *r, const up_job *j, uint64_t *bytes, uint64_t *total, up_stage *stage)
{
    uint64_t done = 0;
    *stage = UP_STAGE_IDLE;
    *bytes = 0;
    *total = j->res.size;
    if (j->st == UP_JOB_DONE) {
        *bytes = j->res.sent;
        return 1.0;
    }
    if (j->st != UP_JOB_RUNNING)
        return 0.0;
    *stage = r->tp->progress(r, j, &done, total);
    if (*stage == UP_STAGE_IDLE)
        return 0.0;
    *bytes = done;
    return *total ? (double)done / (double)*total : 0.0;
}

static void count(const up_run *r, uint64_t now, tally *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < r->njobs; i++) {
        const up_job *j = &r->jobs[i];
        uint64_t b = 0;
        t->frac += job_fraction(r, j, &b, &t->total, &t->stage);
        t->bytes += b;
        if (j->st == UP_JOB_DONE && j->ok)
            t->ok++;
        else if (j->st == UP_JOB_DONE)
            t->failed++;
        else if (j->st == UP_JOB_PENDING)
            t->waiting++;
        else
            t->running++;
    }
    t->frac /= (double)r->njobs;
    double secs = (double)(now - r->t0) / 1000.0;
    up_human_bytes(t->rate, sizeof t->rate, secs > 0.05 ? (uint64_t)((double)t->bytes / secs) : 0);
}

static void draw_bar(up_run *r, const tally *t)
{
    struct winsize ws;
    int width = 80;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        width = ws.ws_col;
    char tail[160], a[32], b[32];
    up_human_bytes(a, sizeof a, t->bytes);
    up_human_bytes(b, sizeof b, t->total);
    if (r->njobs != 1)
        snprintf(tail, sizeof tail, " %3.0f%% %zu ok, %zu failed, %zu running, %zu waiting, %s/s", t->frac * 100.0,
                 t->ok, t->failed, t->running, t->waiting, t->rate);
    else if (t->stage == UP_STAGE_ANSWER)
        snprintf(tail, sizeof tail, " %3.0f%% %s sent, waiting for the device's answer", t->frac * 100.0, b);
    else
        snprintf(tail, sizeof tail, " %3.0f%% %s/%s %s/s", t->frac * 100.0, a, b, t->rate);
    int barw = width - (int)strlen(tail) - 4;
    barw = barw > 50 ? 50 : barw < 10 ? 10 : barw;
    int fill = (int)(t->frac * barw + 0.5);
    char line[256];
    line[0] = '[';
    for (int i = 0; i < barw; i++)
        line[1 + i] = i < fill ? '#' : '-';
    snprintf(line + 1 + barw, sizeof line - 1 - (size_t)barw, "]%s", tail);
    up_console_bar(&r->con, line);
}

static void plain_line(const up_run *r, const tally *t)
{
    if (r->njobs != 1) {
        fprintf(stderr, "progress: %.0f%%: %zu ok, %zu failed, %zu running, %zu waiting (%s/s)\n", t->frac * 100.0,
                t->ok, t->failed, t->running, t->waiting, t->rate);
        return;
    }
    const up_job *j = &r->jobs[0];
    if (j->st != UP_JOB_RUNNING || t->stage == UP_STAGE_IDLE || !t->total)
        return;
    char a[32], b[32];
    up_human_bytes(a, sizeof a, t->bytes);
    up_human_bytes(b, sizeof b, t->total);
    if (t->stage == UP_STAGE_ANSWER)
        fprintf(stderr, "%s: %s sent, waiting for the device's answer\n", j->spec, b);
    else
        fprintf(stderr, "%s: %.0f%% (%s of %s, %s/s)\n", j->spec, t->frac * 100.0, a, b, t->rate);
}

void up_progress(up_run *r, int force)
{
    if (r->opt.quiet)
        return;
    uint64_t now = up_now_ms();
    uint32_t every = r->con.tty ? UP_BAR_REFRESH_MS : UP_PLAIN_PROGRESS_MS;
    if (!force && now - r->last_draw < every)
        return;
    r->last_draw = now;
    tally t;
    count(r, now, &t);
    if (r->con.tty)
        draw_bar(r, &t);
    else if (!force)
        plain_line(r, &t);
}
