/*
 * config.c: reads the ESPHome-shaped YAML configuration (config.h,
 * docs/config.md) with libyaml's document API.
 *
 * Shape of the reader: the whole file is loaded as a node tree (libyaml
 * resolves anchors and aliases by reference, so alias bombs cost nothing),
 * then each block is walked against a small table of accepted keys. The
 * first problem stops everything and is written to the caller's buffer as
 * FILE:LINE:COLUMN: key 'PATH': MESSAGE. Values are quoted in messages only
 * when they cannot be secret: passwords and anything read through !secret
 * show as <hidden>.
 */
#include "config.h"
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "eota/protocol.h"
#include "eota/status.h"

static const char *const level_names[] = {"NONE", "ERROR", "WARN", "INFO",
                                          "DEBUG", "VERBOSE", "VERY_VERBOSE"};

const char *eota_config_level_name(eota_config_level level)
{
    if ((unsigned)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "?";
}

/* ------------------------------------------------------------------ */
/* The reader                                                          */
/* ------------------------------------------------------------------ */

#define KSTR_TO(k, field) KSTR_AT((k), offsetof(eota_config, field))
#define KCHOICE_TO(k, choices, field) KCHOICE_AT((k), (choices), offsetof(eota_config, field))

typedef struct pending_id {
    const char *id;   /* the action's own copy (alive until the config is freed) */
    yaml_mark_t mark;
    char path[SCHEMA_PATH_LEN];
} pending_id;

typedef struct cfg_reader {
    schema_ctx s;
    eota_config *cfg;
    /* ota.set_auth_password ids, checked once the ota: list is known */
    pending_id *pending;
    size_t npending;
    /* the first ota: esphome entry, for merge messages */
    int ota_first_index;
    size_t ota_first_line;
    int ota_id_index;
    int ota_pw_index;
    size_t ota_pw_line;
} cfg_reader;

static int get_level(schema_ctx *c, yaml_node_t *n, const char *path, eota_config_level *dst)
{
    const char *t;
    bool hidden;
    char sh[SCHEMA_SHOW_LEN];
    const char *want = "a log level (NONE, ERROR, WARN, INFO, CONFIG, DEBUG, VERBOSE or "
                       "VERY_VERBOSE)";
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (t) {
        for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
            if (strcasecmp(t, level_names[i]) == 0) {
                *dst = (eota_config_level)i;
                return 0;
            }
        }
        if (strcasecmp(t, "CONFIG") == 0) {
            *dst = EOTA_CONFIG_LEVEL_INFO;
            return 0;
        }
    }
    return FAIL(c, n, path, "expected %s, got %s", want, t ? schema_show(sh, t, hidden) : "nothing");
}

/* ------------------------------------------------------------------ */
/* Automations                                                         */
/* ------------------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void free_action(eota_action *a)
{
    free(a->format);
    for (size_t i = 0; i < a->nargs; i++)
        free(a->args[i]);
    free(a->args);
    free(a->tag);
    free(a->command);
    free(a->id);
    wipe_free(a->password);
}

static void free_automation(eota_automation *au)
{
    for (size_t i = 0; i < au->count; i++)
        free_action(&au->actions[i]);
    free(au->actions);
    memset(au, 0, sizeof *au);
}

static eota_action *new_action(cfg_reader *r, eota_automation *au, yaml_node_t *n,
                               eota_action_type type)
{
    schema_ctx *c = &r->s;
    eota_action *na = realloc(au->actions, (au->count + 1) * sizeof *na);
    if (!na) {
        schema_oom(c);
        return NULL;
    }
    au->actions = na;
    eota_action *a = &na[au->count++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->line = (int)n->start_mark.line + 1;
    a->column = (int)n->start_mark.column + 1;
    return a;
}

static const schema_key log_spec[] = {KEY("format", K_CUSTOM), KEY("args", K_CUSTOM),
                                KEY("level", K_CUSTOM), KEY("tag", K_CUSTOM), KEND};

static int parse_log(cfg_reader *r, yaml_node_t *n, yaml_node_t *at, const char *path,
                     eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], p2[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    eota_action *a = new_action(r, au, at, EOTA_ACTION_LOGGER_LOG);
    if (!a)
        return -1;
    a->level = EOTA_CONFIG_LEVEL_DEBUG;
    if (!(a->tag = schema_strdup(c, "main")))
        return -1;
    if (n->type == YAML_SCALAR_NODE && !schema_is_null(n))
        return schema_get_str(c, n, path, SCHEMA_EMPTY_OK, &a->format);
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a text or a mapping with 'format:', got %s",
                    schema_describe(sh, n, false));
    if (schema_apply(c, n, path, log_spec))
        return -1;
    yaml_node_t *v = schema_map_get(c, n, "format");
    schema_path_key(p, path, "format");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (schema_get_str(c, v, p, SCHEMA_EMPTY_OK, &a->format))
        return -1;
    if ((v = schema_map_get(c, n, "level")) && get_level(c, v, schema_path_key(p, path, "level"), &a->level))
        return -1;
    if ((v = schema_map_get(c, n, "tag")) && schema_get_str(c, v, schema_path_key(p, path, "tag"), 0, &a->tag))
        return -1;
    if ((v = schema_map_get(c, n, "args"))) {
        schema_path_key(p, path, "args");
        if (schema_check_tag(c, v, p))
            return -1;
        if (v->type != YAML_SEQUENCE_NODE)
            return FAIL(c, v, p, "expected a list of expressions such as [x], got %s",
                        schema_describe(sh, v, false));
        size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (cnt) {
            a->args = calloc(cnt, sizeof *a->args);
            if (!a->args)
                return schema_oom(c);
        }
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *it = schema_node(c, v->data.sequence.items.start[i]);
            if (schema_get_str(c, it, schema_path_index(p2, p, i), 0, &a->args[i]))
                return -1;
            a->nargs++;
        }
    }
    return 0;
}

static const schema_key shell_spec[] = {KEY("command", K_CUSTOM), KEY("timeout", K_CUSTOM), KEND};

static int parse_shell(cfg_reader *r, yaml_node_t *n, yaml_node_t *at, const char *path,
                       eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    eota_action *a = new_action(r, au, at, EOTA_ACTION_SHELL);
    if (!a)
        return -1;
    a->timeout_ms = 60000;
    if (n->type == YAML_SCALAR_NODE && !schema_is_null(n))
        return schema_get_str(c, n, path, 0, &a->command);
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a command or a mapping with 'command:', got %s",
                    schema_describe(sh, n, false));
    if (schema_apply(c, n, path, shell_spec))
        return -1;
    yaml_node_t *v = schema_map_get(c, n, "command");
    schema_path_key(p, path, "command");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (schema_get_str(c, v, p, 0, &a->command))
        return -1;
    if ((v = schema_map_get(c, n, "timeout")) &&
        schema_get_duration(c, v, schema_path_key(p, path, "timeout"), false, &a->timeout_ms))
        return -1;
    return 0;
}

static const schema_key setpw_spec[] = {KEY("id", K_CUSTOM), KEY("password", K_CUSTOM), KEND};

static int parse_setpw(cfg_reader *r, yaml_node_t *n, yaml_node_t *at, const char *path,
                       eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a mapping with 'id:' and 'password:', got %s",
                    schema_describe(sh, n, false));
    eota_action *a = new_action(r, au, at, EOTA_ACTION_SET_AUTH_PASSWORD);
    if (!a)
        return -1;
    if (schema_apply(c, n, path, setpw_spec))
        return -1;
    yaml_node_t *v = schema_map_get(c, n, "id");
    schema_path_key(p, path, "id");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (schema_get_str(c, v, p, 0, &a->id))
        return -1;
    pending_id *np = realloc(r->pending, (r->npending + 1) * sizeof *np);
    if (!np)
        return schema_oom(c);
    r->pending = np;
    np[r->npending].id = a->id; /* the value, even when it came from !secret */
    np[r->npending].mark = v->start_mark;
    snprintf(np[r->npending].path, SCHEMA_PATH_LEN, "%s", p);
    r->npending++;
    v = schema_map_get(c, n, "password");
    schema_path_key(p, path, "password");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    return schema_get_str(c, v, schema_path_key(p, path, "password"), SCHEMA_SENSITIVE | SCHEMA_EMPTY_OK,
                   &a->password);
}

static int parse_action(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected an action (such as 'logger.log: \"text\"'), got %s",
                    schema_describe(sh, n, false));
    yaml_node_pair_t *pr = n->data.mapping.pairs.start;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - pr);
    if (cnt == 0)
        return FAIL(c, n, path, "expected an action, got an empty mapping");
    yaml_node_t *k = schema_node(c, pr[0].key), *v = schema_node(c, pr[0].value);
    if (k->type != YAML_SCALAR_NODE)
        return FAIL(c, k, path, "an action's name must be a plain name, got %s",
                    schema_describe(sh, k, false));
    const char *name = schema_text(k);
    schema_path_key(p, path, name);
    if (strcmp(name, "lambda") == 0)
        return FAIL(c, k, p, "%s", schema_lambda_msg);
    if (cnt > 1) {
        yaml_node_t *k2 = schema_node(c, pr[1].key);
        return FAIL(c, k2, schema_path_key(p, path, schema_key_text(k2)),
                    "an action is a mapping with one key ('%s' is already the action here); "
                    "start each action with '-'",
                    name);
    }
    if (strcmp(name, "logger.log") == 0)
        return parse_log(r, v, n, p, au);
    if (strcmp(name, "shell") == 0)
        return parse_shell(r, v, n, p, au);
    if (strcmp(name, "ota.set_auth_password") == 0)
        return parse_setpw(r, v, n, p, au);
    return FAIL(c, k, p, "unknown action; supported actions: logger.log, shell, "
                         "ota.set_auth_password");
}

static const schema_key trigger_spec[] = {KEY("then", K_CUSTOM), KEY("trigger_id", K_STR),
                                    KEY("automation_id", K_STR), KEND};
static const schema_key boot_trigger_spec[] = {KEY("then", K_CUSTOM), KEY("priority", K_CUSTOM),
                                         KEY("trigger_id", K_STR),
                                         KEY("automation_id", K_STR), KEND};

static int parse_actions(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au);

/* An automation written out: {then: ..., priority: ...} */
static int parse_trigger(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                         bool boot)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_apply(c, n, path, boot ? boot_trigger_spec : trigger_spec))
        return -1;
    yaml_node_t *v = schema_map_get(c, n, "priority");
    if (v) {
        const char *t;
        bool hidden;
        char *end = NULL;
        schema_path_key(p, path, "priority");
        if (schema_scalar(c, v, p, "a number", &t, &hidden))
            return -1;
        double d = t ? strtod(t, &end) : 0;
        if (!t || !*t || *end)
            return FAIL(c, v, p, "expected a number, got %s",
                        t ? schema_show(sh, t, hidden) : "nothing");
        if (!au->has_priority) {
            au->has_priority = true;
            au->priority = d;
        }
    }
    return parse_actions(r, schema_map_get(c, n, "then"), schema_path_key(p, path, "then"), au);
}

/* then: a list of actions or one action */
static int parse_actions(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (!n)
        return 0;
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++)
            if (parse_action(r, schema_node(c, *it),
                             schema_path_index(p, path, (size_t)(it - n->data.sequence.items.start)), au))
                return -1;
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE)
        return parse_action(r, n, path, au);
    return FAIL(c, n, path, "expected an action or a list of actions, got %s",
                schema_describe(sh, n, false));
}

/* A trigger's value, in any of ESPHome's forms: one action, a list of
 * actions, {then: ...}, or a list of {then: ...}. */
static int parse_automation(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                            bool boot)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            yaml_node_t *item = schema_node(c, *it);
            schema_path_index(p, path, (size_t)(it - n->data.sequence.items.start));
            int rc = schema_map_key(c, item, "then") ? parse_trigger(r, item, p, au, boot)
                                              : parse_action(r, item, p, au);
            if (rc)
                return -1;
        }
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE)
        return schema_map_key(c, n, "then") ? parse_trigger(r, n, path, au, boot)
                                     : parse_action(r, n, path, au);
    return FAIL(c, n, path, "expected an action or a list of actions, got %s",
                schema_describe(sh, n, false));
}

/* Move src's actions to the end of dst. */
static int append_automation(cfg_reader *r, eota_automation *dst, eota_automation *src)
{
    schema_ctx *c = &r->s;
    if (!src->count)
        return 0;
    eota_action *na = realloc(dst->actions, (dst->count + src->count) * sizeof *na);
    if (!na)
        return schema_oom(c);
    memcpy(na + dst->count, src->actions, src->count * sizeof *na);
    dst->actions = na;
    dst->count += src->count;
    free(src->actions);
    src->actions = NULL;
    src->count = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* esphome: and the platform blocks                                    */
/* ------------------------------------------------------------------ */

static const schema_key project_spec[] = {KEY("name", K_STR), KEY("version", K_STR), KEND};
static const schema_key esphome_spec[] = {
    KEY("name", K_CUSTOM),
    KSTR_TO("friendly_name", friendly_name),
    KSTR_TO("comment", comment),
    KEY("area", K_ANY),
    KEY("min_version", K_STR),
    KEY("name_add_mac_suffix", K_BOOL),
    KSUB("project", project_spec),
    KEY("build_path", K_STR),
    KEY("platformio_options", K_ANY_MAP),
    KEY("on_boot", K_CUSTOM),
    KEND};

static int parse_esphome(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_apply(c, n, "esphome", esphome_spec))
        return -1;
    if (schema_is_null(n))
        return FAIL(c, n, "esphome", "expected a mapping with 'name:', got nothing");
    yaml_node_t *v = schema_map_get(c, n, "name");
    if (!v)
        return FAIL(c, n, "esphome.name", "required key missing");
    if (schema_get_str(c, v, "esphome.name", 0, &r->cfg->name))
        return -1;
    /* ESPHome names become host names */
    size_t len = strlen(r->cfg->name);
    bool ok = len <= 63;
    for (const char *s = r->cfg->name; *s && ok; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_';
    if (!ok)
        return FAIL(c, v, "esphome.name",
                    "expected a name of at most 63 lowercase letters, digits, '-' and '_', "
                    "got %s",
                    schema_show(sh, r->cfg->name, false));
    if ((v = schema_map_get(c, n, "on_boot")) &&
        parse_automation(r, v, schema_path_key(p, "esphome", "on_boot"), &r->cfg->on_boot, true))
        return -1;
    return 0;
}

static const char *const esp32_fw_types[] = {"arduino", "esp-idf", "esp_idf", NULL};
static const char *const flash_modes[] = {"qio", "qout", "dio", "dout", NULL};

static const schema_key esp32_fw_spec[] = {
    KCHOICE_TO("type", esp32_fw_types, framework_type),
    KSTR_TO("version", framework_version),
    KEY("source", K_STR),
    KEY("platform_version", K_STR),
    KEY("release", K_STR),
    KEY("log_level", K_STR),
    KEY("sdkconfig_options", K_ANY_MAP),
    KEY("advanced", K_ANY_MAP),
    KEY("components", K_ANY_LIST),
    KEND};
static const schema_key fw_spec[] = {KSTR_TO("version", framework_version), KEY("source", K_STR),
                               KEY("platform_version", K_STR), KEND};
static const schema_key lt_fw_spec[] = {
    KSTR_TO("version", framework_version),
    KEY("source", K_STR),
    KEY("loglevel", K_STR),
    KEY("debug", K_ANY),
    KEY("sdk_silent", K_ANY),
    KEY("uart_port", K_INT),
    KEY("gpio_recover", K_BOOL),
    KEY("auto_download_reboot", K_BOOL),
    KEY("options", K_ANY_MAP),
    KEND};

static const schema_key esp32_spec[] = {
    KSTR_TO("board", board),
    KSTR_TO("variant", variant),
    KSTR_TO("flash_size", flash_size),
    KEY("cpu_frequency", K_STR),
    KEY("partitions", K_STR),
    KSUB("framework", esp32_fw_spec),
    KEND};
static const schema_key esp8266_spec[] = {
    KSTR_TO("board", board),
    KSUB("framework", fw_spec),
    KEY("restore_from_flash", K_BOOL),
    KEY("early_pin_init", K_BOOL),
    KCHOICE("board_flash_mode", flash_modes),
    KEY("enable_serial", K_BOOL),
    KEY("enable_serial1", K_BOOL),
    KEND};
static const schema_key rp2040_spec[] = {
    KSTR_TO("board", board),
    KSTR_TO("flash_size", flash_size),
    KSUB("framework", fw_spec),
    KEY("watchdog_timeout", K_DURATION),
    KEND};
static const schema_key libretiny_spec[] = {
    KSTR_TO("board", board),
    KEY("family", K_STR),
    KSUB("framework", lt_fw_spec),
    KEND};
static const schema_key host_spec[] = {KEY("mac_address", K_STR), KEND};

static const schema_key *platform_spec(const char *name)
{
    if (!strcmp(name, "esp32"))
        return esp32_spec;
    if (!strcmp(name, "esp8266"))
        return esp8266_spec;
    if (!strcmp(name, "rp2040"))
        return rp2040_spec;
    if (!strcmp(name, "host"))
        return host_spec;
    return libretiny_spec;
}

/* ------------------------------------------------------------------ */
/* ota:                                                                */
/* ------------------------------------------------------------------ */

/* Keys that moved out of ota: entries in ESPHome's history. */
#define SAFE_MODE_MOVED " (moved to the 'safe_mode:' block in ESPHome 2024.6)"
#define OTA_MOVED_KEYS                                                               \
    KMOVED("safe_mode", SAFE_MODE_MOVED), KMOVED("num_attempts", SAFE_MODE_MOVED), \
        KMOVED("reboot_timeout", SAFE_MODE_MOVED)

static const schema_key ota_esphome_spec[] = {
    KEY("platform", K_CUSTOM),       KEY("password", K_CUSTOM),
    KEY("port", K_CUSTOM),           KEY("id", K_CUSTOM),
    KEY("version", K_CUSTOM),        KEY("allow_md5_auth", K_CUSTOM),
    KEY("on_begin", K_CUSTOM),       KEY("on_progress", K_CUSTOM),
    KEY("on_end", K_CUSTOM),         KEY("on_abort", K_CUSTOM),
    KEY("on_error", K_CUSTOM),       KEY("on_state_change", K_CUSTOM),
    OTA_MOVED_KEYS,
    KEND};
static const schema_key ota_web_spec[] = {KEY("platform", K_CUSTOM), OTA_MOVED_KEYS, KEND};

static const char *const ota_triggers[] = {"on_begin", "on_progress", "on_end",
                                           "on_abort", "on_error",    "on_state_change"};

static eota_automation *ota_trigger(eota_ota_config *o, size_t i)
{
    eota_automation *t[] = {&o->on_begin, &o->on_progress, &o->on_end,
                            &o->on_abort, &o->on_error,    &o->on_state_change};
    return t[i];
}

static void free_ota(eota_ota_config *o)
{
    free(o->id);
    wipe_free(o->password);
    for (size_t i = 0; i < 6; i++)
        free_automation(ota_trigger(o, i));
    memset(o, 0, sizeof *o);
}

static int parse_ota_esphome(cfg_reader *r, yaml_node_t *n, size_t index, const char *path)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN];
    eota_config *cfg = r->cfg;
    eota_ota_config e;
    memset(&e, 0, sizeof e);
    e.port = cfg->profile->port;
    e.version = 2;
    e.line = (int)n->start_mark.line + 1;
    e.column = (int)n->start_mark.column + 1;
    int rc = -1;
    long long ll;
    yaml_node_t *v, *port_n = NULL, *ver_n = NULL, *md5_n = NULL, *pw_n = NULL, *id_n = NULL;

    if (schema_apply(c, n, path, ota_esphome_spec))
        goto out;
    if ((pw_n = schema_map_get(c, n, "password"))) {
        if (schema_get_str(c, pw_n, schema_path_key(p, path, "password"), SCHEMA_SENSITIVE | SCHEMA_EMPTY_OK,
                    &e.password))
            goto out;
        e.has_password = true;
    }
    if ((port_n = schema_map_get(c, n, "port")) && schema_get_port(c, port_n, schema_path_key(p, path, "port"), &e.port))
        goto out;
    if ((id_n = schema_map_get(c, n, "id")) && schema_get_str(c, id_n, schema_path_key(p, path, "id"), 0, &e.id))
        goto out;
    if ((ver_n = schema_map_get(c, n, "version"))) {
        if (schema_get_int(c, ver_n, schema_path_key(p, path, "version"), 1, 2, &ll))
            goto out;
        e.version = (uint8_t)ll;
    }
    if ((md5_n = schema_map_get(c, n, "allow_md5_auth")) &&
        schema_get_bool(c, md5_n, schema_path_key(p, path, "allow_md5_auth"), &e.allow_md5_auth))
        goto out;
    for (size_t i = 0; i < 6; i++)
        if ((v = schema_map_get(c, n, ota_triggers[i])) &&
            parse_automation(r, v, schema_path_key(p, path, ota_triggers[i]), ota_trigger(&e, i), false))
            goto out;

    eota_ota_config *m = &cfg->ota;
    if (!m->present) {
        *m = e;
        m->present = true;
        memset(&e, 0, sizeof e);
        r->ota_first_index = (int)index;
        r->ota_first_line = n->start_mark.line + 1;
        r->ota_id_index = (int)index;
        r->ota_pw_index = (int)index;
        r->ota_pw_line = pw_n ? pw_n->start_mark.line + 1 : 0;
        rc = 0;
        goto out;
    }
    /* Merge, as ESPHome merges entries on one port. ESPHome would run a
     * second server on another port; eota serves one. */
    if (e.port != m->port) {
        FAIL(c, port_n ? port_n : n, schema_path_key(p, path, "port"),
             "port %u differs from port %u of ota[%d] at line %zu: every 'platform: esphome' "
             "entry must use the same port",
             e.port, m->port, r->ota_first_index, r->ota_first_line);
        goto out;
    }
    if (e.version != m->version) {
        FAIL(c, ver_n ? ver_n : n, schema_path_key(p, path, "version"),
             "version %u differs from version %u of ota[%d] at line %zu: merged entries must "
             "agree",
             e.version, m->version, r->ota_first_index, r->ota_first_line);
        goto out;
    }
    if (e.allow_md5_auth != m->allow_md5_auth) {
        FAIL(c, md5_n ? md5_n : n, schema_path_key(p, path, "allow_md5_auth"),
             "differs from ota[%d] at line %zu: merged entries must agree",
             r->ota_first_index, r->ota_first_line);
        goto out;
    }
    if (e.id) {
        if (m->id) {
            FAIL(c, id_n, schema_path_key(p, path, "id"),
                 "ota[%d] on the same port already has the id '%s': merged entries may "
                 "have one id",
                 r->ota_id_index, m->id);
            goto out;
        }
        m->id = e.id;
        e.id = NULL;
        r->ota_id_index = (int)index;
    }
    if (e.has_password) {
        if (m->has_password && strcmp(m->password, e.password) != 0) {
            FAIL(c, pw_n, schema_path_key(p, path, "password"),
                 "differs from the password of ota[%d] at line %zu: merged entries must "
                 "agree",
                 r->ota_pw_index, r->ota_pw_line);
            goto out;
        }
        if (!m->has_password) {
            m->password = e.password;
            e.password = NULL;
            m->has_password = true;
            r->ota_pw_index = (int)index;
            r->ota_pw_line = pw_n->start_mark.line + 1;
        }
    }
    for (size_t i = 0; i < 6; i++)
        if (append_automation(r, ota_trigger(m, i), ota_trigger(&e, i)))
            goto out;
    rc = 0;
out:
    free_ota(&e);
    return rc;
}

static int parse_ota(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], p2[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    static const char *const platforms[] = {"esphome", "web_server", NULL};
    if (schema_check_tag(c, n, "ota"))
        return -1;
    if (n->type == YAML_MAPPING_NODE)
        return FAIL(c, n, "ota",
                    "expected a list of entries such as '- platform: esphome' (the form "
                    "without a list was removed in ESPHome 2024.6)");
    if (n->type != YAML_SEQUENCE_NODE)
        return FAIL(c, n, "ota", "expected a list of entries such as '- platform: esphome', "
                                 "got %s",
                    schema_describe(sh, n, false));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        size_t i = (size_t)(it - n->data.sequence.items.start);
        yaml_node_t *e = schema_node(c, *it);
        schema_path_index(p, "ota", i);
        if (schema_check_tag(c, e, p))
            return -1;
        if (e->type != YAML_MAPPING_NODE)
            return FAIL(c, e, p, "expected a mapping with 'platform:', got %s",
                        schema_describe(sh, e, false));
        yaml_node_t *pl = schema_map_get(c, e, "platform");
        if (!pl)
            return FAIL(c, e, schema_path_key(p2, p, "platform"), "required key missing");
        int which;
        if (schema_get_choice(c, pl, schema_path_key(p2, p, "platform"), platforms, &which))
            return -1;
        if (which == 0) {
            if (parse_ota_esphome(r, e, i, p))
                return -1;
        } else {
            if (schema_apply(c, e, p, ota_web_spec))
                return -1;
            if (!r->cfg->ota_web_server) {
                r->cfg->ota_web_server = true;
                r->cfg->ota_web_server_line = (int)e->start_mark.line + 1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* safe_mode:, app:, simulate:, logger:, web_server:                   */
/* ------------------------------------------------------------------ */

static const schema_key safe_mode_spec[] = {
    KEY("num_attempts", K_CUSTOM),       KEY("reboot_timeout", K_CUSTOM),
    KEY("boot_is_good_after", K_CUSTOM), KEY("disabled", K_CUSTOM),
    KEY("id", K_CUSTOM),                 KEY("on_safe_mode", K_CUSTOM),
    KEND};

static int parse_safe_mode(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_config_safe_mode *s = &r->cfg->safe_mode;
    yaml_node_t *v;
    long long ll;
    s->present = true;
    if (schema_apply(c, n, "safe_mode", safe_mode_spec))
        return -1;
    if ((v = schema_map_get(c, n, "num_attempts"))) {
        /* ESPHome keeps the count in a uint8_t */
        if (schema_get_int(c, v, "safe_mode.num_attempts", 1, 255, &ll))
            return -1;
        s->num_attempts = (uint32_t)ll;
    }
    if ((v = schema_map_get(c, n, "reboot_timeout")) &&
        schema_get_duration(c, v, "safe_mode.reboot_timeout", true, &s->reboot_timeout_ms))
        return -1;
    if ((v = schema_map_get(c, n, "boot_is_good_after")) &&
        schema_get_duration(c, v, "safe_mode.boot_is_good_after", true, &s->boot_is_good_after_ms))
        return -1;
    if ((v = schema_map_get(c, n, "disabled")) && schema_get_bool(c, v, "safe_mode.disabled", &s->disabled))
        return -1;
    if ((v = schema_map_get(c, n, "id")) && schema_get_str(c, v, "safe_mode.id", 0, &s->id))
        return -1;
    if ((v = schema_map_get(c, n, "on_safe_mode")) &&
        parse_automation(r, v, "safe_mode.on_safe_mode", &s->on_safe_mode, false))
        return -1;
    return 0;
}

static const schema_key app_spec[] = {KEY("command", K_CUSTOM), KEY("stop_timeout", K_CUSTOM),
                                KEY("env", K_CUSTOM), KEND};

static int parse_app(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_app_config *a = &r->cfg->app;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    yaml_node_t *v;
    a->present = true;
    if (schema_apply(c, n, "app", app_spec))
        return -1;
    v = schema_map_get(c, n, "command");
    if (!v)
        return FAIL(c, n, "app.command", "required key missing");
    if (schema_check_tag(c, v, "app.command"))
        return -1;
    if (v->type != YAML_SEQUENCE_NODE ||
        v->data.sequence.items.top == v->data.sequence.items.start)
        return FAIL(c, v, "app.command",
                    "expected a non-empty list of strings such as [\"/usr/bin/myapp\", "
                    "\"{image}\"] (one string is not split: give each argument as a list "
                    "item), got %s",
                    v->type == YAML_SEQUENCE_NODE ? "an empty list" : schema_describe(sh, v, false));
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    a->argv = calloc(cnt + 1, sizeof *a->argv);
    if (!a->argv)
        return schema_oom(c);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = schema_node(c, v->data.sequence.items.start[i]);
        /* arguments may be empty, the program may not */
        if (schema_get_str(c, it, schema_path_index(p, "app.command", i), i ? SCHEMA_EMPTY_OK : 0, &a->argv[i]))
            return -1;
        a->argc++;
    }
    if ((v = schema_map_get(c, n, "stop_timeout")) &&
        schema_get_duration(c, v, "app.stop_timeout", true, &a->stop_timeout_ms))
        return -1;
    if ((v = schema_map_get(c, n, "env"))) {
        if (schema_check_tag(c, v, "app.env"))
            return -1;
        if (schema_is_null(v))
            return 0;
        if (v->type != YAML_MAPPING_NODE)
            return FAIL(c, v, "app.env", "expected a mapping of NAME: value, got %s",
                        schema_describe(sh, v, false));
        /* keys checked by hand: any valid variable name is accepted */
        cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        a->env = calloc(cnt + 1, sizeof *a->env);
        if (!a->env)
            return schema_oom(c);
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
            yaml_node_t *k = schema_node(c, pr->key), *val = schema_node(c, pr->value);
            const char *name = schema_key_text(k);
            bool ok = k->type == YAML_SCALAR_NODE && !schema_tag_is(k, "!secret") && *name &&
                      !(*name >= '0' && *name <= '9');
            for (const char *s = name; ok && *s; s++)
                ok = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (*s >= '0' && *s <= '9') || *s == '_';
            if (!ok)
                return FAIL(c, k, "app.env",
                            "expected an environment variable name (letters, digits, '_'), "
                            "got %s",
                            schema_describe(sh, k, false));
            schema_path_key(p, "app.env", name);
            for (size_t j = 0; j < i; j++) {
                yaml_node_t *k2 = schema_node(c, v->data.mapping.pairs.start[j].key);
                if (strcmp(schema_key_text(k2), name) == 0)
                    return FAIL(c, k, p, "duplicate key (first given at line %zu)",
                                k2->start_mark.line + 1);
            }
            char *value = NULL;
            if (schema_get_str(c, val, p, SCHEMA_EMPTY_OK, &value))
                return -1;
            size_t len = strlen(name) + 1 + strlen(value) + 1;
            a->env[i] = malloc(len);
            if (!a->env[i]) {
                free(value);
                return schema_oom(c);
            }
            snprintf(a->env[i], len, "%s=%s", name, value);
            free(value);
            a->nenv++;
        }
    }
    return 0;
}

static const schema_key simulate_spec[] = {
    KEY("flash_write_speed", K_CUSTOM), KEY("fail_at", K_CUSTOM),
    KEY("fail_code", K_CUSTOM),         KEY("fail_after_bytes", K_CUSTOM),
    KEY("slot_size", K_CUSTOM),         KEND};

static int parse_simulate(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    static const char *const stages[] = {"prepare", "write", "end", NULL};
    static const uint8_t default_codes[] = {0, EOTA_RESP_ERROR_UPDATE_PREPARE,
                                            EOTA_RESP_ERROR_WRITING_FLASH,
                                            EOTA_RESP_ERROR_UPDATE_END};
    eota_simulate_config *s = &r->cfg->simulate;
    yaml_node_t *v;
    uint64_t u;
    long long ll;
    int idx;
    s->present = true;
    if (schema_apply(c, n, "simulate", simulate_spec))
        return -1;
    if ((v = schema_map_get(c, n, "flash_write_speed"))) {
        if (schema_get_size(c, v, "simulate.flash_write_speed", true, 0, UINT64_MAX / 1000, &u))
            return -1;
        s->flash_write_speed = u;
    }
    if ((v = schema_map_get(c, n, "slot_size"))) {
        if (schema_get_size(c, v, "simulate.slot_size", false, 1, UINT32_MAX, &u))
            return -1;
        s->slot_size = (uint32_t)u;
    }
    if ((v = schema_map_get(c, n, "fail_at"))) {
        if (schema_get_choice(c, v, "simulate.fail_at", stages, &idx))
            return -1;
        s->fail_at = (eota_sim_fail_at)(idx + 1);
        s->fail_code = default_codes[idx + 1];
    }
    if ((v = schema_map_get(c, n, "fail_code"))) {
        if (schema_get_int(c, v, "simulate.fail_code", 0x80, 0xFF, &ll))
            return -1;
        if (s->fail_at == EOTA_SIM_FAIL_NONE)
            return FAIL(c, v, "simulate.fail_code",
                        "needs 'fail_at:' (prepare, write or end) in the same block");
        s->fail_code = (uint8_t)ll;
    }
    if ((v = schema_map_get(c, n, "fail_after_bytes"))) {
        if (schema_get_int(c, v, "simulate.fail_after_bytes", 0, UINT32_MAX, &ll))
            return -1;
        if (s->fail_at != EOTA_SIM_FAIL_WRITE)
            return FAIL(c, v, "simulate.fail_after_bytes", "needs 'fail_at: write'");
        s->fail_after_bytes = (uint32_t)ll;
        s->has_fail_after_bytes = true;
    }
    return 0;
}

static const schema_key logger_spec[] = {KEY("level", K_CUSTOM), KEY("baud_rate", K_INT),
                                   KEY("logs", K_CUSTOM), KEY("hardware_uart", K_STR), KEND};

static int parse_logger(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    yaml_node_t *v;
    eota_config_level lv;
    if (schema_apply(c, n, "logger", logger_spec))
        return -1;
    if ((v = schema_map_get(c, n, "level")) && get_level(c, v, "logger.level", &r->cfg->log_level))
        return -1;
    if ((v = schema_map_get(c, n, "logs"))) {
        /* per-tag levels: checked, not used (eota's tags differ) */
        if (schema_check_tag(c, v, "logger.logs"))
            return -1;
        if (schema_is_null(v))
            return 0;
        if (v->type != YAML_MAPPING_NODE)
            return FAIL(c, v, "logger.logs", "expected a mapping of tag: level, got %s",
                        schema_describe(sh, v, false));
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
             pr < v->data.mapping.pairs.top; pr++)
            if (get_level(c, schema_node(c, pr->value),
                          schema_path_key(p, "logger.logs", schema_key_text(schema_node(c, pr->key))), &lv))
                return -1;
    }
    return 0;
}

static const schema_key web_auth_spec[] = {KEY("username", K_CUSTOM), KEY("password", K_CUSTOM),
                                     KEY("type", K_CUSTOM), KEND};
static const schema_key web_server_spec[] = {KEY("port", K_CUSTOM),    KEY("auth", K_CUSTOM),
                                       KEY("version", K_CUSTOM), KEY("local", K_BOOL),
                                       KEY("log", K_BOOL),       KEY("include_internal", K_BOOL),
                                       KEND};

static int parse_web_server(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    static const char *const types[] = {"basic", "digest", NULL};
    eota_web_server_config *w = &r->cfg->web_server;
    yaml_node_t *v, *a;
    long long ll;
    int idx;
    w->present = true;
    if (schema_apply(c, n, "web_server", web_server_spec))
        return -1;
    if ((v = schema_map_get(c, n, "port")))
        w->has_port = true;
    if (v && schema_get_port(c, v, "web_server.port", &w->port))
        return -1;
    if ((v = schema_map_get(c, n, "version")) && schema_get_int(c, v, "web_server.version", 1, 3, &ll))
        return -1;
    if ((a = schema_map_get(c, n, "auth"))) {
        if (schema_apply(c, a, "web_server.auth", web_auth_spec))
            return -1;
        if (schema_is_null(a))
            return FAIL(c, a, "web_server.auth",
                        "expected a mapping with 'username:' and 'password:', got nothing");
        w->has_auth = true;
        if (!(v = schema_map_get(c, a, "username")))
            return FAIL(c, a, "web_server.auth.username", "required key missing");
        if (schema_get_str(c, v, "web_server.auth.username", 0, &w->username))
            return -1;
        if (!(v = schema_map_get(c, a, "password")))
            return FAIL(c, a, "web_server.auth.password", "required key missing");
        if (schema_get_str(c, v, "web_server.auth.password", SCHEMA_SENSITIVE, &w->password))
            return -1;
        if ((v = schema_map_get(c, a, "type"))) {
            if (schema_get_choice(c, v, "web_server.auth.type", types, &idx))
                return -1;
            w->auth_type = (eota_web_auth_type)idx;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */
/* ------------------------------------------------------------------ */

/* wifi:, api:, captive_portal: and network: appear in nearly every real
 * ESPHome config; they mean nothing to eota (the host's network is used),
 * so they are accepted and not looked into. Other ESPHome blocks are
 * errors: silently ignoring, say, a `sensor:` would hide a mistake. */
static const schema_key top_spec[] = {
    KEY("esphome", K_CUSTOM),    KEY("host", K_CUSTOM),     KEY("esp32", K_CUSTOM),
    KEY("esp8266", K_CUSTOM),    KEY("rp2040", K_CUSTOM),   KEY("bk72xx", K_CUSTOM),
    KEY("rtl87xx", K_CUSTOM),    KEY("ln882x", K_CUSTOM),   KEY("ota", K_CUSTOM),
    KEY("safe_mode", K_CUSTOM),  KEY("app", K_CUSTOM),      KEY("simulate", K_CUSTOM),
    KEY("logger", K_CUSTOM),     KEY("web_server", K_CUSTOM), KEY("wifi", K_ANY),
    KEY("api", K_ANY),           KEY("captive_portal", K_ANY), KEY("network", K_ANY),
    KEND};

static int parse_root(cfg_reader *r, yaml_node_t *root)
{
    schema_ctx *c = &r->s;
    eota_config *cfg = r->cfg;
    char sh[SCHEMA_SHOW_LEN];
    yaml_node_t *v, *pk = NULL;
    if (root->type != YAML_MAPPING_NODE)
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "the top level must be a mapping of blocks (esphome:, ota:, ...), got %s",
                     schema_describe(sh, root, false));
    if (schema_apply(c, root, "", top_spec))
        return -1;

    /* the platform block first: it gives the default port */
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = schema_node(c, pr->key);
        const eota_profile *prof = eota_profile_find(schema_text(k));
        if (!prof)
            continue;
        if (cfg->profile)
            return FAIL(c, k, schema_text(k),
                        "only one platform block is allowed; '%s' is already given at line "
                        "%zu",
                        cfg->profile->platform, pk->start_mark.line + 1);
        cfg->profile = prof;
        pk = k;
        cfg->platform_line = (int)k->start_mark.line + 1;
        if (schema_apply(c, schema_node(c, pr->value), prof->platform, platform_spec(prof->platform)))
            return -1;
    }
    if (!cfg->profile)
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "no platform block: add one of host:, esp32:, esp8266:, rp2040:, "
                     "bk72xx:, rtl87xx:, ln882x:");
    cfg->ota.port = cfg->profile->port;

    if (!(v = schema_map_get(c, root, "esphome")))
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "the 'esphome:' block (with 'name:') is missing");
    if (parse_esphome(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "ota")) && parse_ota(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "safe_mode")) && parse_safe_mode(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "app")) && parse_app(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "simulate")) && parse_simulate(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "logger")) && parse_logger(r, v))
        return -1;
    if ((v = schema_map_get(c, root, "web_server")) && parse_web_server(r, v))
        return -1;

    for (size_t i = 0; i < r->npending; i++) {
        pending_id *pi = &r->pending[i];
        if (!cfg->ota.id || strcmp(cfg->ota.id, pi->id) != 0)
            return schema_failx(c, EOTA_EINVAL, c->file, &pi->mark, pi->path,
                         "no 'ota:' entry with 'platform: esphome' has the id %s",
                         schema_show(sh, pi->id, false));
    }
    cfg->slot_size = cfg->simulate.slot_size ? cfg->simulate.slot_size : cfg->profile->slot_size;
    if (!cfg->web_server.has_port)
        cfg->web_server.port = cfg->profile->default_web_port;
    return 0;
}

static void set_defaults(eota_config *cfg)
{
    cfg->ota.version = 2;
    cfg->safe_mode.num_attempts = 10;
    cfg->safe_mode.reboot_timeout_ms = 5u * 60u * 1000u;
    cfg->safe_mode.boot_is_good_after_ms = 60u * 1000u;
    cfg->app.stop_timeout_ms = 5000;
    cfg->log_level = EOTA_CONFIG_LEVEL_DEBUG;
    cfg->web_server.port = 80;
}

int eota_config_load(const char *path, eota_config *out, char *err, size_t errlen)
{
    cfg_reader r;
    yaml_document_t doc;
    memset(&r, 0, sizeof r);
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return EOTA_EINVAL;
    memset(out, 0, sizeof *out);
    r.s.file = path ? path : "(null)";
    r.s.err = err;
    r.s.errlen = errlen;
    r.s.target = out;
    r.s.doc = &doc;
    r.cfg = out;
    if (!path || !*path) {
        schema_failx(&r.s, EOTA_EINVAL, "eota", NULL, NULL, "no configuration file given");
        return r.s.status;
    }
    set_defaults(out);
    if (!(out->path = schema_strdup(&r.s, path)))
        return r.s.status;
    if (schema_load(&r.s, path, &doc, "configuration file") == 0) {
        parse_root(&r, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
    }
    schema_release(&r.s);
    free(r.pending);
    if (r.s.status) {
        eota_config_free(out);
        return r.s.status;
    }
    return EOTA_OK;
}

void eota_config_free(eota_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->name);
    free(cfg->friendly_name);
    free(cfg->comment);
    free_automation(&cfg->on_boot);
    free(cfg->board);
    free(cfg->variant);
    free(cfg->flash_size);
    free(cfg->framework_type);
    free(cfg->framework_version);
    free_ota(&cfg->ota);
    free(cfg->safe_mode.id);
    free_automation(&cfg->safe_mode.on_safe_mode);
    for (size_t i = 0; i < cfg->app.argc; i++)
        free(cfg->app.argv[i]);
    free(cfg->app.argv);
    for (size_t i = 0; i < cfg->app.nenv; i++)
        wipe_free(cfg->app.env[i]); /* may hold tokens */
    free(cfg->app.env);
    free(cfg->web_server.username);
    wipe_free(cfg->web_server.password);
    memset(cfg, 0, sizeof *cfg);
}

int eota_config_reload_password(const char *path, const char *ota_id, char **password_out,
                                char *err, size_t errlen)
{
    eota_config cfg;
    if (!password_out)
        return EOTA_EINVAL;
    *password_out = NULL;
    int rc = eota_config_load(path, &cfg, err, errlen);
    if (rc != EOTA_OK)
        return rc;
    if (ota_id && (!cfg.ota.present || !cfg.ota.id || strcmp(cfg.ota.id, ota_id) != 0)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no 'ota:' entry with 'platform: esphome' has the id '%s'",
                     path, ota_id);
        eota_config_free(&cfg);
        return EOTA_EINVAL;
    }
    if (cfg.ota.has_password) {
        *password_out = cfg.ota.password; /* handed over, wiped by the caller */
        cfg.ota.password = NULL;
    }
    eota_config_free(&cfg);
    return EOTA_OK;
}

void eota_config_secret_free(char *secret)
{
    wipe_free(secret);
}
