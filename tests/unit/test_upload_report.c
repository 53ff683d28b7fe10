/*
 * test_upload_report.c: what `eota upload` writes on stdout
 * (src/app/upload/report.c): the --json object of a native and of a web
 * upload, field for field and in order (the keys, null where a field has
 * no meaning, http_status and reply only over HTTP, seconds with three
 * decimals), and the summary table of a fleet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "upload/report.h"

static char out[8192];
static up_run run;
static up_addr addr;
static up_target target = {(char *)"kitchen.local", 3232};

/* A job of the run that tried 127.0.0.1:3232 for 1.5 s. */
static void make_job(up_job *j, char *spec, const up_transport *tp)
{
    memset(&run, 0, sizeof run);
    run.tp = tp;
    run.img.size = 100000;
    run.img.compress_seconds = 0.25;
    memset(j, 0, sizeof *j);
    memset(&addr, 0, sizeof addr);
    snprintf(addr.ip, sizeof addr.ip, "127.0.0.1");
    snprintf(addr.show, sizeof addr.show, "127.0.0.1:3232");
    addr.port = 3232;
    j->spec = spec;
    j->addrs = &addr;
    j->naddrs = 1;
    j->targets = &target;
    j->ntargets = 1;
    j->attempts = 1;
    j->t_begin = 1000;
    j->t_end = 2500;
    j->st = UP_JOB_DONE;
    up_result_blank(&j->res);
}

static void json_of(const up_job *j)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    up_report_json(&run, j, f);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_native_success(void **state)
{
    (void)state;
    up_job j;
    make_job(&j, (char *)"kitchen.local", &up_transport_native);
    j.ok = 1;
    j.pw_i = 2;
    snprintf(j.msg, sizeof j.msg, "installed");
    j.res = (up_result){.sent = 4000, .size = 4000, .gzip = 1, .version = 2, .auth = "sha256", .server_flags = 1,
                        .authenticated = 1, .received = 1, .phase = "end", .code = -1};
    json_of(&j);
    assert_string_equal(out, "{\"device\":\"kitchen.local\",\"address\":\"127.0.0.1\",\"port\":3232,\"result\":\"ok\","
                             "\"error\":null,\"error_code\":null,\"error_name\":null,\"phase\":null,"
                             "\"message\":\"installed\",\"bytes_sent\":4000,\"wire_size\":4000,"
                             "\"image_size\":100000,\"compressed\":true,\"compress_seconds\":0.250,"
                             "\"seconds\":1.500,\"protocol_version\":2,\"auth\":\"sha256\",\"server_flags\":1,"
                             "\"attempts\":1,\"password\":\"previous-2\",\"encrypted\":false,\"key\":null,"
                             "\"received_whole_image\":true,"
                             "\"ota_platform\":\"esphome\"}\n");
}

static void test_native_failure(void **state)
{
    (void)state;
    up_job j;
    make_job(&j, (char *)"a \"quoted\"\tname", &up_transport_native);
    j.attempts = 0; /* never got as far as an address */
    j.naddrs = 0;
    snprintf(j.msg, sizeof j.msg, "the device answered 0xFE");
    j.res.err = EOTA_CLIENT_ERR_DEVICE;
    j.res.code = 0xFE;
    snprintf(j.res.code_name, sizeof j.res.code_name, "UNKNOWN_0xFE");
    j.res.phase = "prepare";
    j.res.authenticated = 1; /* the current password: not said on failure */
    json_of(&j);
    assert_non_null(strstr(out, "{\"device\":\"a \\\"quoted\\\"\\tname\",\"address\":null,\"port\":3232,"));
    assert_non_null(strstr(out, "\"result\":\"failed\",\"error\":\"device_error\",\"error_code\":254,"
                                "\"error_name\":\"UNKNOWN_0xFE\",\"phase\":\"prepare\","));
    assert_non_null(strstr(out, "\"compressed\":false,\"compress_seconds\":0.000,"));
    assert_non_null(strstr(out, "\"protocol_version\":null,\"auth\":null,\"server_flags\":null,"
                                "\"attempts\":0,\"password\":null,\"encrypted\":false,\"key\":null,"
                                "\"received_whole_image\":false,"
                                "\"ota_platform\":\"esphome\"}\n"));
}

static void test_web_answer(void **state)
{
    (void)state;
    up_job j;
    make_job(&j, (char *)"web.local", &up_transport_web);
    snprintf(j.msg, sizeof j.msg, "refused");
    j.res.err = EOTA_CLIENT_ERR_DEVICE;
    j.res.error = "http_status";
    j.res.phase = "reply";
    j.res.sent = j.res.size = 5000000000ull; /* beyond 32 bits */
    j.res.auth = "digest";
    j.res.http = 1;
    j.res.http_status = 401;
    snprintf(j.res.reply, sizeof j.res.reply, "Update Failed! wrong credentials");
    json_of(&j);
    assert_non_null(strstr(out, "\"error\":\"http_status\",\"error_code\":null,\"error_name\":null,"
                                "\"phase\":\"reply\""));
    assert_non_null(strstr(out, "\"bytes_sent\":5000000000,\"wire_size\":5000000000,"));
    assert_non_null(strstr(out, "\"protocol_version\":null,\"auth\":\"digest\",\"server_flags\":null,"));
    assert_non_null(strstr(out, "\"ota_platform\":\"web_server\",\"http_status\":401,"
                                "\"reply\":\"Update Failed! wrong credentials\"}\n"));
    /* before any answer both are null, and still there */
    j.res.http_status = 0;
    json_of(&j);
    assert_non_null(strstr(out, "\"ota_platform\":\"web_server\",\"http_status\":null,\"reply\":null}\n"));
}

static void test_table(void **state)
{
    (void)state;
    up_job jobs[2];
    make_job(&jobs[1], (char *)"garage.local:8266", &up_transport_native);
    snprintf(jobs[1].msg, sizeof jobs[1].msg, "connection refused by 127.0.0.1:3232");
    make_job(&jobs[0], (char *)"kitchen", &up_transport_native);
    jobs[0].ok = 1;
    jobs[0].res.sent = 2048;
    jobs[0].res.gzip = 1;
    jobs[0].res.auth = "sha256";
    snprintf(jobs[0].res.label, sizeof jobs[0].res.label, "v2");
    run.jobs = jobs;
    run.njobs = 2;
    FILE *f = tmpfile();
    up_report_table(&run, f);
    rewind(f);
    out[fread(out, 1, sizeof out - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(out,
                        "DEVICE             ADDRESS                 RESULT        SENT     TIME  DETAIL\n"
                        "kitchen            127.0.0.1:3232          ok         2.0 KiB     1.5s  v2, sha256, gzip\n"
                        "garage.local:8266  127.0.0.1:3232          FAILED         0 B     1.5s  "
                        "connection refused by 127.0.0.1:3232\n"
                        "1 of 2 devices failed.\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_success), cmocka_unit_test(test_native_failure),
        cmocka_unit_test(test_web_answer), cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
