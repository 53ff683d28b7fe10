/*
 * cmd.c: `eota upload`, the uploader command (cli.h). It reads the
 * options (opts.c), settles what they mean (setup.c, the transport's
 * configure), loads the image (image.c), runs every device's job in one
 * loop (loop.c, job.c, transport_native.c or transport_web.c) and reports
 * (progress.c on stderr, report.c on stdout).
 *
 * Exit status: 0 every device installed the image, 1 at least one failed,
 * 2 a usage or configuration error (nothing was uploaded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eota/protocol.h"
#include "upload/loop.h"
#include "upload/report.h"
#include "upload/rollout.h"
#include "upload/run.h"
#include "upload/setup.h"
#include "upload/util.h"

void up_run_free(up_run *r)
{
    for (size_t i = 0; i < r->njobs; i++)
        up_job_free(r, &r->jobs[i]);
    free(r->jobs);
    up_resolver_free(r->resolver); /* writes the last good addresses */
    if (r->tp)
        r->tp->release(r);
    up_passwords_free(r);
    up_keys_free(r);
    up_opts_free(&r->opt);
    free(r->firmware_owned);
    up_image_free(&r->img);
    up_rollout_free(r);
    if (r->have_cfg)
        eota_config_free(&r->cfg);
}

/* Everything before the first byte goes out: -1 to go on, or the exit code. */
static int settle(up_run *r)
{
    char err[1024];
    r->con.quiet = r->opt.quiet;
    if (up_setup_source(r) != 0)
        return 2;
    int rc = r->tp->configure(r);
    if (rc >= 0)
        return rc;
    if (up_setup_passwords(r) != 0 || (r->tp == &up_transport_native && up_setup_keys(r) != 0))
        return 2;
    rc = up_setup_jobs(r);
    if (rc >= 0)
        return rc;
    if (up_image_load(&r->img, r->firmware, err, sizeof err) != 0 || r->tp->prepare(r, err, sizeof err) != 0) {
        fprintf(stderr, "eota upload: %s\n", err);
        return 2;
    }
    if (!r->opt.quiet && !r->opt.json && up_image_signature(&r->img, err, sizeof err)) /* issue 14 */
        fprintf(stderr, "eota upload: sending %s\n", err);
    return up_rollout_wanted(r) ? up_rollout_setup(r) : -1;
}

static int upload(up_run *r)
{
    int rc = settle(r);
    if (rc >= 0)
        return rc;
    r->con.tty = isatty(2);
    r->t0 = up_now_ms();
    r->last_draw = r->t0;
    up_loop_run(r);
    size_t failed = 0;
    for (size_t i = 0; i < r->njobs; i++) {
        failed += !r->jobs[i].ok;
        if (r->jobs[i].res.code == EOTA_RESP_ERROR_MD5_MISMATCH)
            up_image_md5_refused(&r->img);
    }
    if (r->njobs > 1 && !r->opt.json && !r->opt.quiet)
        up_report_table(r, stdout);
    if (r->ro)
        return up_rollout_summary(r);
    return failed ? 1 : 0;
}

int eota_cmd_upload(int argc, char **argv)
{
    up_run run;
    memset(&run, 0, sizeof run);
    up_opts_init(&run.opt);
    int rc = up_opts_parse(&run.opt, argc, argv);
    if (rc < 0)
        rc = upload(&run);
    up_run_free(&run);
    return rc;
}
