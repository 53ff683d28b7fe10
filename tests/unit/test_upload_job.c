/*
 * test_upload_job.c: the retry machine of `eota upload`
 * (src/app/upload/job.c), driven through a scripted transport: every
 * address is tried once, then --retries more after the delay to the
 * address that last took a connection; only network errors are retried,
 * never once the whole image went out; a refused password moves to the
 * next --previous-password on the same address without counting as an
 * attempt. The same interface serves the native and the web transport,
 * so this is the behaviour of both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include <cmocka.h>

#include "upload/run.h"
#include "upload/util.h"

/* What each attempt ends with, in order; and what the attempts were. */
typedef struct step {
    eota_client_error err;
    uint8_t code;
    int connected, all_sent;
} step;

static const step *script;
static size_t nscript, at;
static size_t tried_addr[16], tried_pw[16];

static int fake_job_init(up_run *r, up_job *j)
{
    (void)r;
    j->tx = &at;
    return 0;
}

static void fake_job_free(up_run *r, up_job *j) { (void)r, j->tx = NULL; }

static void fake_start(up_run *r, up_job *j)
{
    assert_true(at < nscript);
    tried_addr[at] = j->addr_i;
    tried_pw[at] = j->pw_i;
    const step *s = &script[at++];
    up_result_blank(&j->res);
    j->res.err = s->err;
    j->res.code = s->code;
    j->res.connected = s->connected;
    j->res.all_sent = s->all_sent;
    up_job_attempt_ended(r, j);
}

static void fake_describe(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    (void)r;
    snprintf(out, outlen, "%s", eota_client_error_name(j->res.err));
}

static const up_transport fake = {
    .name = "fake", .job_init = fake_job_init, .job_free = fake_job_free, .start = fake_start,
    .describe_ok = fake_describe, .describe_failure = fake_describe,
};

static up_run run;
static char pw0[] = "new", pw1[] = "old", pw2[] = "older";

/* A run of one job whose SPEC names the given addresses. */
static up_job *one_job(const char *spec, const step *s, size_t n, int retries)
{
    memset(&run, 0, sizeof run);
    up_opts_init(&run.opt);
    run.opt.retries = retries;
    run.opt.retry_delay_ms = 5000;
    run.con.quiet = 1;
    run.tp = &fake;
    run.passwords[0] = pw0;
    run.npasswords = 1;
    run.jobs = up_xcalloc(1, sizeof *run.jobs);
    run.njobs = 1;
    up_job *j = &run.jobs[0];
    j->spec = up_xstrdup(spec);
    char err[256];
    assert_int_equal(up_spec_parse(spec, 3232, &j->targets, &j->ntargets, err, sizeof err), 0);
    script = s;
    nscript = n;
    at = 0;
    return j;
}

static void end_run(void)
{
    up_resolver_free(run.resolver);
    up_job_free(&run, &run.jobs[0]);
    free(run.jobs);
}

#define REFUSED {EOTA_CLIENT_ERR_REFUSED, 0, 0, 0}
#define OK {EOTA_CLIENT_OK, 0, 1, 1}

static void test_next_address_then_success(void **state)
{
    (void)state;
    const step s[] = {REFUSED, OK};
    up_job *j = one_job("127.0.0.1:1,127.0.0.2:2", s, 2, 2);
    up_job_begin(&run, j);
    assert_int_equal(j->st, UP_JOB_DONE);
    assert_true(j->ok);
    assert_int_equal(j->attempts, 2);
    assert_int_equal(tried_addr[0], 0);
    assert_int_equal(tried_addr[1], 1);
    assert_string_equal(up_job_addr(j)->show, "127.0.0.2:2");
    end_run();
}

static void test_retries_after_the_delay(void **state)
{
    (void)state;
    const step s[] = {REFUSED, REFUSED, REFUSED};
    up_job *j = one_job("127.0.0.1:1", s, 3, 2);
    up_job_begin(&run, j);
    assert_int_equal(j->st, UP_JOB_WAIT);
    up_job_tick(&run, j, j->next_try - 1); /* not yet */
    assert_int_equal(at, 1);
    up_job_tick(&run, j, j->next_try);
    assert_int_equal(at, 2);
    assert_int_equal(j->st, UP_JOB_WAIT);
    up_job_tick(&run, j, j->next_try);
    assert_int_equal(j->st, UP_JOB_DONE);
    assert_false(j->ok);
    assert_int_equal(j->attempts, 3);
    assert_string_equal(j->msg, "refused (after 3 attempts)");
    end_run();
}

static void test_retry_goes_where_the_device_answered(void **state)
{
    (void)state;
    const step s[] = {REFUSED, {EOTA_CLIENT_ERR_CLOSED, 0, 1, 0}, OK};
    up_job *j = one_job("127.0.0.1:1,127.0.0.2:2", s, 3, 1);
    up_job_begin(&run, j);
    assert_int_equal(j->st, UP_JOB_WAIT);
    up_job_tick(&run, j, j->next_try);
    assert_true(j->ok);
    assert_int_equal(tried_addr[2], 1); /* the address that took a connection, not the next in turn */
    end_run();
}

static void test_never_after_the_whole_image(void **state)
{
    (void)state;
    const step s[] = {{EOTA_CLIENT_ERR_CLOSED, 0, 1, 1}};
    up_job *j = one_job("127.0.0.1:1,127.0.0.2:2", s, 1, 2);
    up_job_begin(&run, j);
    assert_int_equal(j->st, UP_JOB_DONE);
    assert_int_equal(j->attempts, 1);
    assert_non_null(strstr(j->msg, "closed; the whole image had been sent, so it was not retried"));
    end_run();
}

/* A device's answer is final, and so is an 82 with no password left. */
static void test_answers_are_final(void **state)
{
    (void)state;
    const step answers[] = {{EOTA_CLIENT_ERR_DEVICE, EOTA_RESP_ERROR_WRITING_FLASH, 1, 0},
                            {EOTA_CLIENT_ERR_DEVICE, EOTA_RESP_ERROR_AUTH_INVALID, 1, 0},
                            {EOTA_CLIENT_ERR_PROTOCOL, 0x99, 1, 0}};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        up_job *j = one_job("127.0.0.1:1,127.0.0.2:2", &answers[i], 1, 2);
        up_job_begin(&run, j);
        assert_int_equal(j->st, UP_JOB_DONE);
        assert_false(j->ok);
        assert_int_equal(j->attempts, 1);
        assert_string_equal(j->msg, eota_client_error_name(answers[i].err));
        end_run();
    }
}

static void test_previous_passwords(void **state)
{
    (void)state;
    const step s[] = {{EOTA_CLIENT_ERR_DEVICE, EOTA_RESP_ERROR_AUTH_INVALID, 1, 0},
                      {EOTA_CLIENT_ERR_PASSWORD_REQUIRED, 0, 1, 0}, OK};
    up_job *j = one_job("127.0.0.1:1,127.0.0.2:2", s, 3, 0);
    run.passwords[1] = pw1;
    run.passwords[2] = pw2;
    run.npasswords = 3;
    up_job_begin(&run, j);
    assert_true(j->ok);
    assert_int_equal(j->attempts, 1); /* a password fallback is no network attempt */
    assert_int_equal(j->pw_i, 2);
    assert_int_equal(tried_pw[1], 1);
    assert_int_equal(tried_addr[2], 0); /* the same address each time */
    end_run();
}

static void test_resolve_failure(void **state)
{
    (void)state;
    up_job *j = one_job("name.invalid", NULL, 0, 2);
    up_job_begin(&run, j);
    /* names resolve on the loop (c-ares): its turns until the job ends */
    for (int turns = 0; j->st == UP_JOB_RESOLVING && turns < 1000; turns++) {
        struct pollfd pfd[UP_RESOLVE_MAX_FDS];
        int n = up_resolver_pollfds(run.resolver, pfd, UP_RESOLVE_MAX_FDS);
        long t = up_resolver_timeout_ms(run.resolver);
        poll(pfd, (nfds_t)n, t < 0 || t > 100 ? 100 : (int)t);
        up_resolver_run(run.resolver, &run, pfd, n);
    }
    assert_int_equal(j->st, UP_JOB_DONE);
    assert_int_equal(j->res.err, EOTA_CLIENT_ERR_RESOLVE);
    assert_int_equal(j->attempts, 0);
    assert_non_null(strstr(j->msg, "cannot resolve 'name.invalid'"));
    end_run();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_address_then_success), cmocka_unit_test(test_retries_after_the_delay),
        cmocka_unit_test(test_retry_goes_where_the_device_answered), cmocka_unit_test(test_never_after_the_whole_image),
        cmocka_unit_test(test_answers_are_final), cmocka_unit_test(test_previous_passwords),
        cmocka_unit_test(test_resolve_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
