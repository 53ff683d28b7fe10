/*
 * opts.c: the command line of `eota upload` (opts.h). One table says every
 * option: its names, what it sets and how the value is read; getopt_long's
 * arrays are made from it, so an option exists in one place.
 */
#include "upload/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "eota/client.h"
#include "upload/help.h"
#include "upload/util.h"
#include "upload/web_post.h"

typedef struct optdef optdef;

/* Read one option's value into its field: -1 to go on, else the exit code. */
typedef int (*setter)(up_opts *o, const optdef *d, const char *arg);

struct optdef {
    const char *name;         /* --name */
    int key;                  /* -k, or a number above 255 for long-only options */
    int arg;                  /* takes a value */
    setter set;
    size_t field;             /* offsetof(up_opts, ...) */
    long lo, hi;              /* numbers: the range */
    const char *want;         /* what the error says was expected; NULL: made up */
    const char *const *words; /* choices, NULL-terminated, and their values */
    const int *values;
};

void up_opts_init(up_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = -1;
    o->window = UP_DEFAULT_WINDOW;
    o->compress = UP_COMPRESS_AUTO;
    o->jobs = UP_DEFAULT_JOBS;
    o->retries = (int)EOTA_CLIENT_EXTRA_RETRIES;
    o->retry_delay_ms = EOTA_CLIENT_RETRY_DELAY_MS;
    o->handshake_ms = EOTA_CLIENT_HANDSHAKE_TIMEOUT_MS;
    o->data_ms = EOTA_CLIENT_DATA_TIMEOUT_MS;
    o->ota_type = -1;
    o->web_auth = -1;
    o->web_port = -1;
    o->canary = -1;
    o->wave = o->max_failures = (up_amount){-1, -1};
    o->verify_ms = UP_DEFAULT_VERIFY_MS;
}

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

static void list_free(up_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        wipe_free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

void up_opts_free(up_opts *o)
{
    list_free(&o->devices);
    list_free(&o->previous);
    list_free(&o->previous_keys);
    wipe_free(o->key);
    o->key = NULL;
}

int up_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("eota upload: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(eota upload --help tells more)\n", stderr);
    return 2;
}

/* Longest duration text an option takes. */
#define DURATION_TEXT_MAX 62

int up_parse_seconds(const char *text, uint32_t *ms)
{
    /* the config's grammar, where a bare number is seconds */
    if (strlen(text) > DURATION_TEXT_MAX)
        return -1;
    return eota_units_duration(text, "s", ms, NULL) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* setters                                                             */
/* ------------------------------------------------------------------ */

#define FIELD(o, d, type) ((type *)(void *)((char *)(o) + (d)->field))

static int set_string(up_opts *o, const optdef *d, const char *arg)
{
    *FIELD(o, d, const char *) = arg;
    return -1;
}

void up_list_add(up_list *l, const char *s)
{
    l->v = up_xrealloc(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = up_xstrdup(s);
}

static int set_list(up_opts *o, const optdef *d, const char *arg)
{
    up_list_add(FIELD(o, d, up_list), arg);
    return -1;
}

/* A key on the command line: kept in a heap copy, and the argv text is
 * overwritten, so that ps and /proc/PID/cmdline show only x's from now on
 * (they showed it until here: hence the warning in keys.c). */
static void hide_arg(const char *arg) { memset((char *)(uintptr_t)arg, 'x', strlen(arg)); }

static int set_secret(up_opts *o, const optdef *d, const char *arg)
{
    char **f = FIELD(o, d, char *);
    wipe_free(*f);
    *f = up_xstrdup(arg);
    hide_arg(arg);
    return -1;
}

static int set_secret_list(up_opts *o, const optdef *d, const char *arg)
{
    up_list_add(FIELD(o, d, up_list), arg);
    hide_arg(arg);
    return -1;
}

static int set_int(up_opts *o, const optdef *d, const char *arg)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < d->lo || v > d->hi) {
        if (d->want)
            return up_usage_error("--%s: expected %s, got '%s'", d->name, d->want, arg);
        return up_usage_error("--%s: expected %ld to %ld, got '%s'", d->name, d->lo, d->hi, arg);
    }
    *FIELD(o, d, int) = (int)v;
    return -1;
}

/* lo: the least number of milliseconds */
static int set_seconds(up_opts *o, const optdef *d, const char *arg)
{
    uint32_t ms;
    if (up_parse_seconds(arg, &ms) != 0 || ms < (uint32_t)d->lo)
        return up_usage_error("--%s: expected %s, got '%s'", d->name, d->want, arg);
    *FIELD(o, d, uint32_t) = ms;
    return -1;
}

/* "expected a, b or c" */
static int bad_choice(const optdef *d, const char *arg)
{
    char list[160] = "";
    size_t n = 0;
    while (d->words[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", d->words[i]);
    }
    return up_usage_error("--%s: expected %s, got '%s'", d->name, list, arg);
}

static int set_choice(up_opts *o, const optdef *d, const char *arg)
{
    for (size_t i = 0; d->words[i]; i++) {
        if (!strcmp(arg, d->words[i])) {
            *FIELD(o, d, int) = d->values[i];
            return -1;
        }
    }
    return bad_choice(d, arg);
}

static int set_flag(up_opts *o, const optdef *d, const char *arg)
{
    (void)arg;
    *FIELD(o, d, int) = 1;
    return -1;
}

static int set_count(up_opts *o, const optdef *d, const char *arg)
{
    (void)arg;
    (*FIELD(o, d, int))++;
    return -1;
}

/* "N" or "P%" (1 to 100) */
static int set_amount(up_opts *o, const optdef *d, const char *arg)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    int percent = *end == '%' && end[1] == '\0';
    if (errno || end == arg || (*end && !percent) || v < d->lo || v > (percent ? 100 : d->hi))
        return up_usage_error("--%s: expected a number from %ld or a percentage (e.g. 10%%), got '%s'", d->name,
                              d->lo, arg);
    up_amount *a = FIELD(o, d, up_amount);
    *a = percent ? (up_amount){-1, (int)v} : (up_amount){(int)v, -1};
    return -1;
}

static int show_help(up_opts *o, const optdef *d, const char *arg)
{
    (void)o, (void)d, (void)arg;
    up_help(stdout);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the table                                                           */
/* ------------------------------------------------------------------ */

static const char *const compress_words[] = {"auto", "always", "never", NULL};
static const int compress_values[] = {UP_COMPRESS_AUTO, UP_COMPRESS_ALWAYS, UP_COMPRESS_NEVER};
static const char *const platform_words[] = {"esphome", "web_server", NULL};
static const int platform_values[] = {UP_PLATFORM_ESPHOME, UP_PLATFORM_WEB};
static const char *const web_auth_words[] = {"basic", "digest", "any", NULL};
static const int web_auth_values[] = {UP_WEB_AUTH_BASIC, UP_WEB_AUTH_DIGEST, UP_WEB_AUTH_ANY};
static const char *const ota_type_words[] = {"app", "partition-table", "bootloader", NULL};
static const int ota_type_values[] = {EOTA_OTA_TYPE_APP, EOTA_OTA_TYPE_PARTITION_TABLE, EOTA_OTA_TYPE_BOOTLOADER};

#define AT(f) .field = offsetof(up_opts, f)
#define CHOICE(w) .set = set_choice, .words = w##_words, .values = w##_values
#define OPT(n, k, a) .name = n, .key = k, .arg = a
#define LONG_ONLY 256

static const optdef defs[] = {
    {OPT("device", 'd', 1), .set = set_list, AT(devices)},
    {OPT("devices-from", 'D', 1), .set = set_string, AT(devices_from)},
    {OPT("file", 'f', 1), .set = set_string, AT(file)},
    {OPT("port", 'p', 1), .set = set_int, AT(port), .lo = 1, .hi = 65535},
    {OPT("password", 'P', 1), .set = set_string, AT(password)},
    {OPT("password-file", LONG_ONLY + 0, 1), .set = set_string, AT(password_file)},
    {OPT("previous-password", LONG_ONLY + 1, 1), .set = set_list, AT(previous)},
    {OPT("window", 'w', 1), .set = set_int, AT(window), .lo = 1, .hi = EOTA_CLIENT_MAX_WINDOW},
    {OPT("compress", 'z', 1), CHOICE(compress), AT(compress)},
    {OPT("jobs", 'j', 1), .set = set_int, AT(jobs), .lo = 1, .hi = 100000, .want = "a number from 1"},
    {OPT("retries", LONG_ONLY + 2, 1), .set = set_int, AT(retries), .lo = 0, .hi = 1000},
    {OPT("retry-delay", LONG_ONLY + 3, 1), .set = set_seconds, AT(retry_delay_ms), .lo = 0,
     .want = "seconds (e.g. 5, 0.5, 500ms)"},
    {OPT("handshake-timeout", LONG_ONLY + 4, 1), .set = set_seconds, AT(handshake_ms), .lo = 1,
     .want = "seconds above 0"},
    {OPT("data-timeout", LONG_ONLY + 5, 1), .set = set_seconds, AT(data_ms), .lo = 1, .want = "seconds above 0"},
    {OPT("ota-type", LONG_ONLY + 6, 1), CHOICE(ota_type), AT(ota_type)},
    {OPT("ota-platform", LONG_ONLY + 7, 1), CHOICE(platform), AT(platform)},
    {OPT("web-port", LONG_ONLY + 8, 1), .set = set_int, AT(web_port), .lo = 1, .hi = 65535},
    {OPT("web-username", LONG_ONLY + 9, 1), .set = set_string, AT(web_username)},
    {OPT("web-password", LONG_ONLY + 10, 1), .set = set_string, AT(web_password)},
    {OPT("web-auth", LONG_ONLY + 11, 1), CHOICE(web_auth), AT(web_auth)},
    {OPT("key", LONG_ONLY + 13, 1), .set = set_secret, AT(key)},
    {OPT("key-file", LONG_ONLY + 14, 1), .set = set_string, AT(key_file)},
    {OPT("previous-key", LONG_ONLY + 15, 1), .set = set_secret_list, AT(previous_keys)},
    {OPT("allow-plaintext", LONG_ONLY + 16, 0), .set = set_flag, AT(allow_plaintext)},
    {OPT("quiet", 'q', 0), .set = set_flag, AT(quiet)},
    {OPT("json", LONG_ONLY + 12, 0), .set = set_flag, AT(json)},
    {OPT("verbose", 'v', 0), .set = set_count, AT(verbose)},
    {OPT("help", 'h', 0), .set = show_help},
    {OPT("canary", LONG_ONLY + 40, 1), .set = set_int, AT(canary), .lo = 1, .hi = 1000000,
     .want = "a number from 1"},
    {OPT("wave", LONG_ONLY + 41, 1), .set = set_amount, AT(wave), .lo = 1, .hi = 1000000},
    {OPT("max-failures", LONG_ONLY + 42, 1), .set = set_amount, AT(max_failures), .lo = 1, .hi = 1000000},
    {OPT("verify-timeout", LONG_ONLY + 43, 1), .set = set_seconds, AT(verify_ms), .lo = 1,
     .want = "seconds above 0"},
    {OPT("wait-online", LONG_ONLY + 44, 1), .set = set_seconds, AT(wait_online_ms), .lo = 1,
     .want = "seconds above 0"},
    {OPT("journal", LONG_ONLY + 45, 1), .set = set_string, AT(journal)},
    {OPT("force", LONG_ONLY + 46, 0), .set = set_flag, AT(force)},
    {OPT("wait-confirmed", LONG_ONLY + 47, 0), .set = set_flag, AT(wait_confirmed)},
};

#define NDEFS (sizeof defs / sizeof defs[0])

/* getopt_long's arrays, made from the table. */
static void getopt_arrays(struct option *lopts, char *shorts)
{
    size_t s = 0;
    shorts[s++] = ':'; /* a missing value is ':', not '?' */
    for (size_t i = 0; i < NDEFS; i++) {
        lopts[i] = (struct option){defs[i].name, defs[i].arg ? required_argument : no_argument, NULL, defs[i].key};
        if (defs[i].key < LONG_ONLY) {
            shorts[s++] = (char)defs[i].key;
            if (defs[i].arg)
                shorts[s++] = ':';
        }
    }
    shorts[s] = '\0';
    memset(&lopts[NDEFS], 0, sizeof lopts[NDEFS]);
}

static const optdef *find_def(int key)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (defs[i].key == key)
            return &defs[i];
    return NULL;
}

int up_opts_parse(up_opts *o, int argc, char **argv)
{
    struct option lopts[NDEFS + 1];
    char shorts[2 * NDEFS + 2];
    getopt_arrays(lopts, shorts);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        if (c == ':')
            return up_usage_error("option '%s' needs a value", argv[optind - 1]);
        const optdef *d = find_def(c);
        if (!d)
            return up_usage_error("unknown option '%s'", argv[optind - 1]);
        int rc = d->set(o, d, optarg);
        if (rc >= 0)
            return rc;
    }
    if (optind >= argc)
        return up_usage_error("no firmware or config given");
    if (optind + 1 < argc)
        return up_usage_error("one firmware or config only; unexpected '%s'", argv[optind + 1]);
    o->positional = argv[optind];
    return -1; /* go on */
}
