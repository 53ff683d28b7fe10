/*
 * config.h: the ESPHome-shaped YAML configuration shared by `eota device`
 * and the uploader (docs/config.md lists every key).
 *
 * The reader uses libyaml's document API, checks every key against a fixed
 * schema and stops at the first problem. Errors are never printed: they are
 * written into a caller's buffer in the form
 *
 *     FILE:LINE:COLUMN: key 'ota[0].port': expected an integer from 1 to 65535, got 'abc'
 *
 * with 1-based line and column. A password (or any value that came from
 * `!secret`) is never copied into a message; `<hidden>` stands in for it.
 *
 * Everything in an eota_config is heap memory owned by the struct; free it
 * with eota_config_free (which also wipes the passwords).
 *
 * The reader's parts, in this folder: profile.h (the platform profiles),
 * units.h (durations, sizes, integers), schema.h (the YAML schema engine:
 * loading, !secret, key tables, typed values, messages), blocks.h (one
 * file per ESPHome block) and config.c (these entry points).
 */
#ifndef EOTA_APP_CONFIG_H
#define EOTA_APP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "signature.h" /* eota_signature_config */
#include "units.h" /* eota_config_parse_duration */

/* ------------------------------------------------------------------ */
/* Automations                                                         */
/* ------------------------------------------------------------------ */

/* Log levels of `logger: level:` and `logger.log: level:`. 1 to 5 have the
 * values of eota_log_level (include/eota/events.h). ESPHome's CONFIG level
 * is accepted and stored as INFO. */
typedef enum eota_config_level {
    EOTA_CONFIG_LEVEL_NONE = 0,
    EOTA_CONFIG_LEVEL_ERROR = 1,
    EOTA_CONFIG_LEVEL_WARN = 2,
    EOTA_CONFIG_LEVEL_INFO = 3,
    EOTA_CONFIG_LEVEL_DEBUG = 4,
    EOTA_CONFIG_LEVEL_VERBOSE = 5,
    EOTA_CONFIG_LEVEL_VERY_VERBOSE = 6
} eota_config_level;

/* The level's name as written in YAML ("DEBUG"). */
const char *eota_config_level_name(eota_config_level level);

typedef enum eota_action_type {
    EOTA_ACTION_LOGGER_LOG = 1,      /* logger.log */
    EOTA_ACTION_SHELL = 2,           /* shell */
    EOTA_ACTION_SET_AUTH_PASSWORD = 3, /* ota.set_auth_password */
    EOTA_ACTION_HTTP_FLASH = 4       /* ota.http_request.flash (src/app/pull) */
} eota_action_type;

typedef struct eota_action {
    eota_action_type type;
    int line;   /* 1-based position of the action in the config */
    int column;
    /* logger.log: printf-style format; args are the ESPHome lambda
     * expressions as written (`x`, `state`, ...), kept as strings. */
    char *format;
    char **args;
    size_t nargs;
    eota_config_level level; /* default DEBUG, like ESPHome */
    char *tag;               /* default "main", like ESPHome */
    /* shell: run with /bin/sh -c in the background */
    char *command;
    uint32_t timeout_ms; /* default 60 s; then the command is killed */
    /* ota.set_auth_password: id of an `ota:` entry and the new password
     * ("" turns auth off) */
    char *id;
    char *password;
    /* ota.http_request.flash: the image's URL, its MD5 (md5: hex, or
     * md5_url: a file whose first 32 characters are it) and eota's sha256 */
    char *url;
    char *md5;
    char *md5_url;
    char *sha256;
} eota_action;

typedef struct eota_automation {
    eota_action *actions;
    size_t count;
    /* esphome: on_boot: priority: (ESPHome's float), when given */
    bool has_priority;
    double priority;
} eota_automation;

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

/* A Noise key (`encryption: key:`, base64 of 32 bytes, never all zero):
 * PROTOCOL.md section 10. Wiped by eota_config_free. */
typedef struct eota_config_key {
    bool present;
    int line;            /* 1-based line of the key's value (or of the bare
                            `encryption:` that reuses the API key) */
    uint8_t key[32];
} eota_config_key;

/* The `ota:` entries with `platform: esphome`, merged (they must share one
 * port). When there is none, present is false and port/version still hold
 * the defaults. */
typedef struct eota_ota_config {
    bool present;
    int line, column;   /* of the first entry */
    char *id;           /* `id:` (at most one among merged entries, as in
                           ESPHome); NULL when none */
    bool has_password;  /* `password:` given (possibly empty) */
    char *password;     /* NULL when not given; "" means no auth */
    uint16_t port;      /* resolved: given, or the profile's default */
    uint8_t version;    /* 1 or 2, default 2 */
    bool allow_md5_auth; /* eota extension, default false */
    bool encryption;    /* an `encryption:` block: the device requires Noise */
    eota_config_key encryption_key; /* its key, or the API key it reuses */
    uint32_t progress_floor_bytes; /* eota extension: fewer bytes than this */
    uint32_t progress_window_ms;   /* in this window end an upload (0: defaults) */
    eota_automation on_begin;
    eota_automation on_progress;
    eota_automation on_end;
    eota_automation on_abort;
    eota_automation on_error;
    eota_automation on_state_change;
} eota_ota_config;

typedef struct eota_config_safe_mode {
    bool present;                   /* the block was given */
    uint32_t num_attempts;          /* default 10, >= 1 */
    uint32_t reboot_timeout_ms;     /* default 300000 */
    uint32_t boot_is_good_after_ms; /* default 60000 */
    bool disabled;                  /* default false */
    char *id;
    eota_automation on_safe_mode;
} eota_config_safe_mode;

typedef struct eota_app_config {
    bool present;
    char **argv;    /* NULL-terminated, argc >= 1 entries */
    size_t argc;
    uint32_t stop_timeout_ms; /* default 5000: SIGTERM, then SIGKILL */
    char **env;     /* "KEY=VALUE" strings, NULL-terminated (or NULL) */
    size_t nenv;
} eota_app_config;

typedef enum eota_sim_fail_at {
    EOTA_SIM_FAIL_NONE = 0,
    EOTA_SIM_FAIL_PREPARE = 1,
    EOTA_SIM_FAIL_WRITE = 2,
    EOTA_SIM_FAIL_END = 3
} eota_sim_fail_at;

typedef struct eota_simulate_config {
    bool present;
    uint64_t flash_write_speed;  /* bytes per second; 0 = unlimited */
    eota_sim_fail_at fail_at;
    uint8_t fail_code;           /* default 81 / 83 / 84 for prepare / write / end */
    bool has_fail_after_bytes;   /* write only: fail once this many bytes came */
    uint32_t fail_after_bytes;
    uint32_t slot_size;          /* 0 = the profile's (eota extension) */
} eota_simulate_config;

typedef enum eota_web_auth_type {
    EOTA_WEB_AUTH_BASIC = 0,
    EOTA_WEB_AUTH_DIGEST = 1
} eota_web_auth_type;

typedef struct eota_web_server_config {
    bool present;
    uint16_t port;             /* resolved: given, or the profile's default_web_port */
    bool has_port;             /* web_server: port: given */
    bool has_auth;
    char *username;
    char *password;
    eota_web_auth_type auth_type; /* default basic */
} eota_web_server_config;

/* mdns: (ESPHome's key; eota publishes NAME.local unless disabled) */
typedef struct eota_mdns_block {
    bool present;
    bool disabled;
} eota_mdns_block;
/* http_request: (ESPHome's keys; the client of pull updates). */
typedef struct eota_http_request_config {
    bool present;
    uint32_t timeout_ms;       /* default 4500, ESPHome's: connect, and no byte
                                  for this long = a stalled server */
    bool verify_ssl;           /* default true */
    char *useragent;           /* NULL: "eota/VERSION" */
    bool follow_redirects;     /* default true */
    uint32_t redirect_limit;   /* default 3 */
    char *ca_file;             /* eota: CA bundle for HTTPS (NULL: the system's) */
} eota_http_request_config;

typedef enum eota_update_compare {
    EOTA_UPDATE_SEMVER = 0,    /* newer by semantic version (default) */
    EOTA_UPDATE_STRING = 1     /* ESPHome's: any other version string */
} eota_update_compare;

/* update: - platform: http_request (one entry). */
typedef struct eota_update_config {
    bool present;
    char *source;              /* the manifest's URL */
    uint32_t update_interval_ms; /* default 6 h, as ESPHome */
    eota_update_compare compare;
    char *chip_family;         /* eota: NULL = from the platform block */
    char *id;
    char *name;
    eota_automation on_update_available; /* a newer version is seen */
} eota_update_config;

typedef struct eota_config {
    char *path;              /* the file as given to eota_config_load */
    /* esphome: */
    char *name;
    char *friendly_name;     /* NULL when not given */
    char *comment;           /* NULL when not given */
    eota_automation on_boot;
    /* the platform block */
    const eota_profile *profile;
    int platform_line;
    char *board;             /* the block's usual keys, NULL when not given */
    char *variant;
    char *flash_size;
    char *framework_type;
    char *framework_version;
    bool gzip;               /* the device offers gzip and inflates gzip
                                images: the profile's, or host: gzip: */
    uint32_t slot_size;      /* resolved: simulate.slot_size or the profile's */
    /* api: (only `encryption: key:` is read; the rest is ESPHome's) */
    eota_config_key api_key;
    /* ota: */
    eota_ota_config ota;
    eota_signature_config signature; /* ota[].signature: (signature.h) */
    bool ota_web_server;     /* an entry `platform: web_server` */
    int ota_web_server_line;
    eota_config_safe_mode safe_mode;
    eota_app_config app;
    eota_simulate_config simulate;
    eota_config_level log_level; /* logger: level:, default DEBUG */
    eota_web_server_config web_server;
    eota_mdns_block mdns;
    bool ota_http_request;   /* an entry `platform: http_request` */
    eota_http_request_config http_request;
    eota_update_config update;
    char *project_version;   /* esphome: project: version: (NULL when none) */
} eota_config;

/* ------------------------------------------------------------------ */
/* Functions                                                           */
/* ------------------------------------------------------------------ */

/* Read and check the configuration at path. Returns 0 (EOTA_OK) with *out
 * filled, or a negative eota_status with *out zeroed and a one-line message
 * in err (always NUL-terminated when errlen > 0): EOTA_EIO when a file could
 * not be read (or memory ran out), EOTA_EINVAL when the content is wrong. */
int eota_config_load(const char *path, eota_config *out, char *err, size_t errlen);

/* The Noise key a device uses and an uploader tries: the ota: entry's
 * encryption key (*required = true: Noise only), else the API key
 * (*required = false: offered; an uploader may fall back to plaintext),
 * else NULL. */
const uint8_t *eota_config_noise_key(const eota_config *cfg, bool *required);

/* Free what eota_config_load filled in (wiping the passwords first) and zero
 * the struct. Safe on a zeroed struct and twice in a row. */
void eota_config_free(eota_config *cfg);

#endif
