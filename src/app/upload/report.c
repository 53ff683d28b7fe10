/*
 * report.c: the per-device report (report.h). One table lists the fields:
 * each has its --json key and how to get its value (null where it has no
 * meaning: an HTTP upload has no protocol version), and, for the fields
 * the summary table shows, its column and how it reads there. The JSON is
 * written by cJSON; its keys, their order and the number formats are a
 * contract (tests/integration/test_upload*.py, scripts).
 */
#include "upload/report.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "upload/util.h"

typedef enum vkind {
    V_ABSENT,  /* not in this object (http_status of a native upload) */
    V_NULL,
    V_STRING,
    V_INT,
    V_BOOL,
    V_SECONDS  /* a number with three decimals, always written with them */
} vkind;

typedef struct value {
    vkind kind;
    const char *s;
    long long i;
    double d;
    char buf[32];
} value;

typedef void (*getter)(const up_run *r, const up_job *j, value *v);
typedef void (*texter)(const up_run *r, const up_job *j, char *out, size_t outlen);

typedef struct field {
    const char *key;    /* --json; NULL: the table only */
    getter get;
    const char *column; /* the table's title; NULL: --json only */
    int width;          /* printf's: negative to the left; COLUMN_FIT: the longest device */
    texter text;
} field;

#define COLUMN_FIT 1000
#define FIT_MIN 6
#define FIT_MAX 40

static void str(value *v, const char *s)
{
    v->kind = s ? V_STRING : V_NULL;
    v->s = s;
}

static void num(value *v, long long i)
{
    v->kind = V_INT;
    v->i = i;
}

static void num_or_null(value *v, int known, long long i)
{
    v->kind = known ? V_INT : V_NULL;
    v->i = i;
}

/* ------------------------------------------------------------------ */
/* the values                                                          */
/* ------------------------------------------------------------------ */

static void get_device(const up_run *r, const up_job *j, value *v) { (void)r, str(v, j->spec); }

static void get_address(const up_run *r, const up_job *j, value *v)
{
    const up_addr *a = up_job_addr(j);
    (void)r;
    str(v, a && j->attempts ? a->ip : NULL);
}

static void get_port(const up_run *r, const up_job *j, value *v)
{
    const up_addr *a = up_job_addr(j);
    (void)r;
    num_or_null(v, a || j->ntargets, a ? a->port : j->ntargets ? j->targets[0].port : 0);
}

static void get_result(const up_run *r, const up_job *j, value *v) { (void)r, str(v, j->ok ? "ok" : "failed"); }

static void get_error(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    str(v, j->ok ? NULL : j->res.error ? j->res.error : eota_client_error_name(j->res.err));
}

static void get_error_code(const up_run *r, const up_job *j, value *v)
{
    (void)r, num_or_null(v, !j->ok && j->res.code >= 0, j->res.code);
}

static void get_error_name(const up_run *r, const up_job *j, value *v)
{
    (void)r, str(v, !j->ok && j->res.code_name[0] ? j->res.code_name : NULL);
}

static void get_phase(const up_run *r, const up_job *j, value *v) { (void)r, str(v, j->ok ? NULL : j->res.phase); }

static void get_message(const up_run *r, const up_job *j, value *v) { (void)r, str(v, j->msg); }

static void get_sent(const up_run *r, const up_job *j, value *v) { (void)r, num(v, (long long)j->res.sent); }

static void get_wire_size(const up_run *r, const up_job *j, value *v) { (void)r, num(v, (long long)j->res.size); }

static void get_image_size(const up_run *r, const up_job *j, value *v) { (void)j, num(v, (long long)r->img.size); }

static void get_compressed(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    v->kind = V_BOOL;
    v->i = j->res.gzip;
}

static void get_compress_seconds(const up_run *r, const up_job *j, value *v)
{
    v->kind = V_SECONDS;
    v->d = j->res.gzip ? r->img.compress_seconds : 0.0;
}

static void get_seconds(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    v->kind = V_SECONDS;
    v->d = up_job_seconds(j);
}

static void get_version(const up_run *r, const up_job *j, value *v)
{
    (void)r, num_or_null(v, j->res.version != 0, j->res.version);
}

static void get_auth(const up_run *r, const up_job *j, value *v) { (void)r, str(v, j->res.auth); }

static void get_server_flags(const up_run *r, const up_job *j, value *v)
{
    (void)r, num_or_null(v, j->res.server_flags >= 0, j->res.server_flags);
}

static void get_attempts(const up_run *r, const up_job *j, value *v) { (void)r, num(v, (long long)j->attempts); }

/* "current", "previous-N" (the --previous-... option that worked), or
 * null when not known. */
static void which_secret(value *v, int known, size_t idx)
{
    str(v, NULL);
    if (!known)
        return;
    if (idx == 0)
        snprintf(v->buf, sizeof v->buf, "current");
    else
        snprintf(v->buf, sizeof v->buf, "previous-%zu", idx);
    str(v, v->buf);
}

/* Which password worked (or, on failure, was the last tried). */
static void get_password(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    which_secret(v, j->res.authenticated && (j->ok || j->pw_i != 0), j->pw_i);
}

static void get_encrypted(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    v->kind = V_BOOL;
    v->i = j->res.encrypted;
}

/* Which encryption key worked: null unless the exchange was encrypted. */
static void get_key(const up_run *r, const up_job *j, value *v)
{
    (void)r, which_secret(v, j->res.encrypted, j->key_i);
}

static void get_received(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    v->kind = V_BOOL;
    v->i = j->res.received;
}

static void get_platform(const up_run *r, const up_job *j, value *v) { (void)j, str(v, r->tp->name); }

static void get_http_status(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    num_or_null(v, j->res.http_status != 0, j->res.http_status);
    if (!j->res.http)
        v->kind = V_ABSENT;
}

static void get_reply(const up_run *r, const up_job *j, value *v)
{
    (void)r;
    str(v, j->res.http_status ? j->res.reply : NULL);
    if (!j->res.http)
        v->kind = V_ABSENT;
}

/* ------------------------------------------------------------------ */
/* the summary table's words                                           */
/* ------------------------------------------------------------------ */

static void text_device(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    (void)r;
    snprintf(out, outlen, "%s", j->spec);
}

static void text_address(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_addr *a = j->attempts ? up_job_addr(j) : NULL;
    (void)r;
    snprintf(out, outlen, "%s", a ? a->show : "-");
}

static void text_result(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    (void)r;
    snprintf(out, outlen, "%s", j->ok ? "ok" : "FAILED");
}

static void text_sent(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    (void)r;
    up_human_bytes(out, outlen, j->res.sent);
}

static void text_time(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    (void)r;
    snprintf(out, outlen, "%6.1fs", up_job_seconds(j));
}

/* How it went: "v2, sha256, gzip", "web, digest", or the failure. */
static void text_detail(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_result *res = &j->res;
    (void)r;
    if (j->ok)
        snprintf(out, outlen, "%s, %s%s%s%s", res->label, res->auth ? res->auth : "none", res->gzip ? ", gzip" : "",
                 j->pw_i ? ", previous password" : "", res->encrypted && j->key_i ? ", previous key" : "");
    else
        snprintf(out, outlen, "%s", j->msg);
}

/* ------------------------------------------------------------------ */
/* the table of fields                                                 */
/* ------------------------------------------------------------------ */

static const field fields[] = {
    /* key                   value                  column     width       words */
    {"device",               get_device,            "DEVICE",  COLUMN_FIT, text_device},
    {"address",              get_address,           "ADDRESS", -22,        text_address},
    {"port",                 get_port,              NULL,      0,          NULL},
    {"result",               get_result,            "RESULT",  -6,         text_result},
    {"error",                get_error,             NULL,      0,          NULL},
    {"error_code",           get_error_code,        NULL,      0,          NULL},
    {"error_name",           get_error_name,        NULL,      0,          NULL},
    {"phase",                get_phase,             NULL,      0,          NULL},
    {"message",              get_message,           NULL,      0,          NULL},
    {"bytes_sent",           get_sent,              "SENT",    10,         text_sent},
    {"wire_size",            get_wire_size,         NULL,      0,          NULL},
    {"image_size",           get_image_size,        NULL,      0,          NULL},
    {"compressed",           get_compressed,        NULL,      0,          NULL},
    {"compress_seconds",     get_compress_seconds,  NULL,      0,          NULL},
    {"seconds",              get_seconds,           "TIME",    7,          text_time},
    {NULL,                   NULL,                  "DETAIL",  0,          text_detail},
    {"protocol_version",     get_version,           NULL,      0,          NULL},
    {"auth",                 get_auth,              NULL,      0,          NULL},
    {"server_flags",         get_server_flags,      NULL,      0,          NULL},
    {"attempts",             get_attempts,          NULL,      0,          NULL},
    {"password",             get_password,          NULL,      0,          NULL},
    {"encrypted",            get_encrypted,         NULL,      0,          NULL},
    {"key",                  get_key,               NULL,      0,          NULL},
    {"received_whole_image", get_received,          NULL,      0,          NULL},
    {"ota_platform",         get_platform,          NULL,      0,          NULL},
    {"http_status",          get_http_status,       NULL,      0,          NULL},
    {"reply",                get_reply,             NULL,      0,          NULL},
};

#define NFIELDS (sizeof fields / sizeof fields[0])

/* ------------------------------------------------------------------ */
/* writers                                                             */
/* ------------------------------------------------------------------ */

static void add_value(cJSON *o, const char *key, const value *v)
{
    char fixed[32];
    switch (v->kind) {
    case V_ABSENT: break;
    case V_NULL: cJSON_AddNullToObject(o, key); break;
    case V_STRING: cJSON_AddStringToObject(o, key, v->s); break;
    case V_INT: cJSON_AddNumberToObject(o, key, (double)v->i); break;
    case V_BOOL: cJSON_AddBoolToObject(o, key, v->i != 0); break;
    case V_SECONDS:
        snprintf(fixed, sizeof fixed, "%.3f", v->d);
        cJSON_AddRawToObject(o, key, fixed);
        break;
    }
}

void up_report_json(const up_run *r, const up_job *j, FILE *f)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < NFIELDS; i++) {
        if (!fields[i].key)
            continue;
        value v;
        memset(&v, 0, sizeof v);
        fields[i].get(r, j, &v);
        add_value(o, fields[i].key, &v);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    if (text)
        fprintf(f, "%s\n", text);
    else
        fprintf(stderr, "eota upload: out of memory writing the JSON of %s\n", j->spec);
    fflush(f);
    cJSON_free(text);
    cJSON_Delete(o);
}

/* The width of the device column: its longest value, within bounds. */
static int fit_width(const up_run *r)
{
    size_t w = FIT_MIN;
    for (size_t i = 0; i < r->njobs; i++)
        if (strlen(r->jobs[i].spec) > w)
            w = strlen(r->jobs[i].spec);
    return (int)(w > FIT_MAX ? FIT_MAX : w);
}

/* One line: the titles (j NULL) or a job's words. */
static void table_line(const up_run *r, const up_job *j, int fit, FILE *f)
{
    const char *sep = "";
    for (size_t i = 0; i < NFIELDS; i++) {
        const field *c = &fields[i];
        if (!c->column)
            continue;
        char words[800];
        if (j)
            c->text(r, j, words, sizeof words);
        int width = c->width == COLUMN_FIT ? -fit : c->width;
        fprintf(f, "%s%*s", sep, width, j ? words : c->column);
        sep = "  ";
    }
    fputc('\n', f);
}

void up_report_table(const up_run *r, FILE *f)
{
    int fit = fit_width(r);
    size_t failed = 0;
    table_line(r, NULL, fit, f);
    for (size_t i = 0; i < r->njobs; i++) {
        table_line(r, &r->jobs[i], fit, f);
        failed += !r->jobs[i].ok;
    }
    if (failed)
        fprintf(f, "%zu of %zu devices failed.\n", failed, r->njobs);
    else
        fprintf(f, "all %zu devices updated.\n", r->njobs);
    fflush(f);
}
