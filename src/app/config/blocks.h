/*
 * blocks.h: what the readers of the ESPHome blocks share (internal to
 * src/app/config/). Each block's reader checks its keys against a table
 * (schema.h) and fills its part of the eota_config; config.c calls them in
 * order. One file per block or group of blocks:
 *   esphome.c      esphome: (name, on_boot)
 *   platform.c     host:, esp32:, esp8266:, rp2040:, bk72xx:, rtl87xx:, ln882x:
 *   ota.c          ota: (platform: esphome entries merged, web_server)
 *   encryption.c   api: encryption: key: and ota: encryption: (Noise keys)
 *   safe_mode.c    safe_mode:
 *   app.c          app:
 *   simulate.c     simulate:
 *   logger.c       logger: and the log levels
 *   web_server.c   web_server:
 *   mdns.c         mdns: (disabled)
 *   http_request.c http_request:, and ota: entries `platform: http_request`
 *   update.c       update: (platform: http_request)
 *   automations.c  a trigger's value in ESPHome's forms (then:, priority:)
 *   actions.c      the actions: logger.log, shell, ota.set_auth_password
 */
#ifndef EOTA_APP_CONFIG_BLOCKS_H
#define EOTA_APP_CONFIG_BLOCKS_H

#include <stddef.h>

#include "config.h"
#include "schema.h"

/* Table rows that store a string into an eota_config field. */
#define KSTR_TO(k, field) KSTR_AT((k), offsetof(eota_config, field))
#define KCHOICE_TO(k, choices, field) KCHOICE_AT((k), (choices), offsetof(eota_config, field))

/* An ota.set_auth_password id, checked once the ota: list is known. */
typedef struct pending_id {
    const char *id;   /* the action's own copy (alive until the config is freed) */
    yaml_mark_t mark;
    char path[SCHEMA_PATH_LEN];
} pending_id;

typedef struct cfg_reader {
    schema_ctx s;       /* s.target is cfg */
    eota_config *cfg;
    pending_id *pending;
    size_t npending;
    size_t nflash;      /* ota.http_request.flash actions; the first at: */
    pending_id flash;   /* (they need ota: - platform: http_request) */
} cfg_reader;

/* The blocks; n is the block's value. Each returns 0 or -1 (the message is
 * in r->s). */
int cfg_read_esphome(cfg_reader *r, yaml_node_t *n);
/* Finds the one platform block among the root's keys and sets the profile. */
int cfg_read_platform(cfg_reader *r, yaml_node_t *root);
int cfg_read_ota(cfg_reader *r, yaml_node_t *n);
/* api: (encryption.c): only its `encryption: key:`. */
int cfg_read_api(cfg_reader *r, yaml_node_t *n);
/* An ota: entry's `encryption:` block (encryption.c), after api:. */
int cfg_read_ota_encryption(cfg_reader *r, yaml_node_t *n, const char *path, eota_ota_config *e);
/* ota_progress.c: an ota entry's progress_floor and progress_window. */
int cfg_read_progress_floor(schema_ctx *c, yaml_node_t *entry, const char *path, uint32_t *floor,
                            uint32_t *window_ms);
int cfg_read_safe_mode(cfg_reader *r, yaml_node_t *n);
int cfg_read_app(cfg_reader *r, yaml_node_t *n);
int cfg_read_simulate(cfg_reader *r, yaml_node_t *n);
int cfg_read_logger(cfg_reader *r, yaml_node_t *n);
int cfg_read_web_server(cfg_reader *r, yaml_node_t *n);
int cfg_read_mdns(cfg_reader *r, yaml_node_t *n);
/* pull updates (http_request.c, update.c) */
int cfg_read_http_request(cfg_reader *r, yaml_node_t *n);
int cfg_read_update(cfg_reader *r, yaml_node_t *n);
int cfg_read_ota_http_request(cfg_reader *r, yaml_node_t *n, const char *path);
void cfg_free_pull(eota_config *cfg);

/* Mark a block given (*present) and check its keys against a table,
 * reading the simple ones. */
int cfg_open_block(cfg_reader *r, yaml_node_t *n, const char *name, const schema_key *keys,
                   bool *present);

/* A log level name (or ESPHome's CONFIG, taken as INFO). */
int cfg_get_level(schema_ctx *c, yaml_node_t *n, const char *path, eota_config_level *dst);

/* A trigger's value, in any of ESPHome's forms, appended to au; boot: the
 * form of esphome: on_boot:, which takes priority:. */
int cfg_read_automation(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                        bool boot);
/* One action (a mapping with one key), appended to au. */
int cfg_read_action(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au);
/* Every ota.set_auth_password id must be the id of the ota: entry. */
int cfg_check_pending_ids(cfg_reader *r);

/* Move src's actions to the end of dst. */
int cfg_append_automation(schema_ctx *c, eota_automation *dst, eota_automation *src);
void cfg_free_automation(eota_automation *au);
void cfg_free_ota(eota_ota_config *o);
/* Wipe a string that may hold a secret, then free it (NULL is fine). */
void cfg_wipe_free(char *s);

#endif
