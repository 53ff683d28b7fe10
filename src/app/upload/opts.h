/*
 * opts.h: the options of `eota upload` as given on the command line, their
 * defaults, and the parser (opts.c). What the options mean together (a
 * config, the platform, the passwords) is settled later, in setup.c.
 */
#ifndef EOTA_APP_UPLOAD_OPTS_H
#define EOTA_APP_UPLOAD_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define UP_DEFAULT_PORT 3232          /* the ESP32 default */
#define UP_DEFAULT_WEB_PORT 80        /* a chip's web server */
#define UP_DEFAULT_WEB_PORT_HOST 8080 /* `host:` configs */
#define UP_DEFAULT_WINDOW 32          /* bench/run.py row 8: covers a 5 MB/s link at 50 ms RTT */
#define UP_DEFAULT_JOBS 16

typedef enum up_compress { UP_COMPRESS_AUTO, UP_COMPRESS_ALWAYS, UP_COMPRESS_NEVER } up_compress;
typedef enum up_platform { UP_PLATFORM_AUTO, UP_PLATFORM_ESPHOME, UP_PLATFORM_WEB } up_platform;

/* Strings given with a repeatable option, each a heap copy. */
typedef struct up_list {
    char **v;
    size_t n;
} up_list;

/* Append a heap copy of s. */
void up_list_add(up_list *l, const char *s);

/* A count or a share of the fleet: "5" or "10%". Not given: both -1. */
typedef struct up_amount {
    int n;
    int percent;
} up_amount;

#define UP_DEFAULT_VERIFY_MS 120000u /* --verify-timeout: 2 min */

/* Not given: -1 for numbers that have no default of their own, NULL for
 * strings. Enums are ints so that the option table can set them. */
typedef struct up_opts {
    const char *positional;   /* FIRMWARE or CONFIG.yaml */
    const char *file;         /* --file */
    up_list devices;          /* --device */
    const char *devices_from;
    int port;
    const char *password;
    const char *password_file;
    up_list previous;         /* --previous-password */
    char *key;                /* --key: a heap copy (the argv text is overwritten) */
    const char *key_file;
    up_list previous_keys;    /* --previous-key, the same way */
    int allow_plaintext;
    int window;
    int compress;             /* up_compress */
    int jobs;
    int retries;
    uint32_t retry_delay_ms;
    uint32_t handshake_ms;
    uint32_t data_ms;
    int ota_type;             /* EOTA_OTA_TYPE_*, or -1 */
    int platform;             /* up_platform */
    int web_port;
    const char *web_username;
    const char *web_password;
    int web_auth;             /* up_web_auth, or -1 */
    int quiet, json, verbose;
    /* a staged rollout (rollout.h) */
    int canary;               /* devices of the first wave, or -1 */
    up_amount wave;           /* devices per later wave */
    up_amount max_failures;   /* the halt */
    uint32_t verify_ms;       /* --verify-timeout */
    uint32_t wait_online_ms;  /* --wait-online, 0: off */
    const char *journal;
    int force;
    int wait_confirmed;       /* --wait-confirmed */
} up_opts;

/* The defaults. */
void up_opts_init(up_opts *o);

/* Parse argv (argv[0] is "upload"). Returns -1 to go on, or the exit code:
 * 0 after --help, 2 after a usage error (already printed). */
int up_opts_parse(up_opts *o, int argc, char **argv);

void up_opts_free(up_opts *o);

/* A duration of the command line: the program's one duration grammar
 * (eota_config_parse_duration: "500ms", "2s", "1min", "1h", "01:30"), and
 * a bare number is seconds ("5", "0.5"). 0, or -1. */
int up_parse_seconds(const char *text, uint32_t *ms);

/* "eota upload: <message>" and the pointer to --help on stderr; returns 2. */
int up_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
