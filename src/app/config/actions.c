/*
 * actions.c: the actions an automation may hold (blocks.h): logger.log,
 * shell and ota.set_auth_password, each written short (a text) or long (a
 * mapping), as ESPHome accepts them, and ota.http_request.flash (url:,
 * md5: or md5_url:, and eota's sha256:). Lambdas are refused with a pointer to
 * ota.set_auth_password, the one thing they were mostly used for here.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

static const schema_key log_keys[] = {KEY("format", K_CUSTOM), KEY("args", K_CUSTOM),
                                      KEY("level", K_CUSTOM), KEY("tag", K_CUSTOM), KEND};
static const schema_key shell_keys[] = {KEY("command", K_CUSTOM), KEY("timeout", K_CUSTOM),
                                        KEND};
static const schema_key setpw_keys[] = {KEY("id", K_CUSTOM), KEY("password", K_CUSTOM), KEND};
static const schema_key flash_keys[] = {KEY("url", K_CUSTOM), KEY("md5", K_CUSTOM), KEY("md5_url", K_CUSTOM),
                                        KEY("sha256", K_CUSTOM), KEND};

/* A new action of type appended to au, for the action's value n (whose
 * tag is checked) written at at, with its defaults; NULL after an
 * error. */
static eota_action *new_action(schema_ctx *c, eota_automation *au, yaml_node_t *n,
                               yaml_node_t *at, const char *path, eota_action_type type)
{
    if (schema_check_tag(c, n, path))
        return NULL;
    eota_action *na = realloc(au->actions, (au->count + 1) * sizeof *na);
    if (!na) {
        schema_oom(c);
        return NULL;
    }
    au->actions = na;
    eota_action *a = &na[au->count++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->line = (int)at->start_mark.line + 1;
    a->column = (int)at->start_mark.column + 1;
    if (type == EOTA_ACTION_SHELL)
        a->timeout_ms = 60000;
    if (type == EOTA_ACTION_LOGGER_LOG) {
        a->level = EOTA_CONFIG_LEVEL_DEBUG; /* ESPHome's defaults */
        if (!(a->tag = schema_strdup(c, "main")))
            return NULL;
    }
    return a;
}

static int read_log_args(schema_ctx *c, yaml_node_t *v, const char *path, eota_action *a)
{
    if (schema_expect(c, v, path, YAML_SEQUENCE_NODE, false,
                      "a list of expressions such as [x]"))
        return -1;
    return schema_get_strings(c, v, path, 0, 0, &a->args, &a->nargs);
}

/* The keys of logger.log beside format: */
static int read_log_rest(schema_ctx *c, yaml_node_t *n, const char *path, eota_action *a)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    if ((v = schema_map_get(c, n, "level")) &&
        cfg_get_level(c, v, schema_path_key(p, path, "level"), &a->level))
        return -1;
    if ((v = schema_map_get(c, n, "tag")) &&
        schema_get_str(c, v, schema_path_key(p, path, "tag"), 0, &a->tag))
        return -1;
    if ((v = schema_map_get(c, n, "args")) &&
        read_log_args(c, v, schema_path_key(p, path, "args"), a))
        return -1;
    return 0;
}

/* The keys of shell beside command: */
static int read_shell_rest(schema_ctx *c, yaml_node_t *n, const char *path, eota_action *a)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v = schema_map_get(c, n, "timeout");
    if (!v)
        return 0;
    return schema_get_duration(c, v, schema_path_key(p, path, "timeout"), false,
                               &a->timeout_ms);
}

/* An action written short (a text: its main key's value) or long (a
 * mapping checked against keys, the main key required, the others read by
 * rest). */
typedef struct action_form {
    eota_action_type type;
    const schema_key *keys;
    const char *main_key;
    size_t main_field;  /* offsetof(eota_action, the main key's string) */
    unsigned flags;     /* of the main key's string */
    const char *want;   /* both forms, for a type error */
    int (*rest)(schema_ctx *c, yaml_node_t *n, const char *path, eota_action *a);
} action_form;

static const action_form log_form = {EOTA_ACTION_LOGGER_LOG, log_keys, "format",
                                     offsetof(eota_action, format), SCHEMA_EMPTY_OK,
                                     "a text or a mapping with 'format:'", read_log_rest};
static const action_form shell_form = {EOTA_ACTION_SHELL, shell_keys, "command",
                                       offsetof(eota_action, command), 0,
                                       "a command or a mapping with 'command:'",
                                       read_shell_rest};

/* A new action of a form from its value n, written at at. */
static int read_form(schema_ctx *c, eota_automation *au, yaml_node_t *n, yaml_node_t *at,
                     const char *path, const action_form *f)
{
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    eota_action *a = new_action(c, au, n, at, path, f->type);
    if (!a)
        return -1;
    char **dst = (char **)((char *)a + f->main_field);
    if (n->type == YAML_SCALAR_NODE && !schema_is_null(n))
        return schema_get_str(c, n, path, f->flags, dst);
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected %s, got %s", f->want, schema_describe(sh, n, false));
    if (schema_apply(c, n, path, f->keys))
        return -1;
    yaml_node_t *v = schema_require(c, n, path, f->main_key, p);
    if (!v || schema_get_str(c, v, p, f->flags, dst))
        return -1;
    return f->rest(c, n, path, a);
}

/* Remember an id to check once the ota: entries are known. */
static int add_pending(cfg_reader *r, const char *id, yaml_node_t *at, const char *path)
{
    pending_id *np = realloc(r->pending, (r->npending + 1) * sizeof *np);
    if (!np)
        return schema_oom(&r->s);
    r->pending = np;
    np[r->npending].id = id; /* the value, even when it came from !secret */
    np[r->npending].mark = at->start_mark;
    snprintf(np[r->npending].path, SCHEMA_PATH_LEN, "%s", path);
    r->npending++;
    return 0;
}

static int read_setpw(cfg_reader *r, yaml_node_t *n, yaml_node_t *at, const char *path,
                      eota_automation *au)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN];
    if (schema_expect(c, n, path, YAML_MAPPING_NODE, false,
                      "a mapping with 'id:' and 'password:'"))
        return -1;
    eota_action *a = new_action(c, au, n, at, path, EOTA_ACTION_SET_AUTH_PASSWORD);
    if (!a)
        return -1;
    if (schema_apply(c, n, path, setpw_keys))
        return -1;
    yaml_node_t *v = schema_require(c, n, path, "id", p);
    if (!v || schema_get_str(c, v, p, 0, &a->id) || add_pending(r, a->id, v, p))
        return -1;
    if (!(v = schema_require(c, n, path, "password", p)))
        return -1;
    return schema_get_str(c, v, p, SCHEMA_SENSITIVE | SCHEMA_EMPTY_OK, &a->password);
}

static int is_hex_len(const char *s, size_t n)
{
    size_t i = 0;
    while (s[i] && strchr("0123456789abcdefABCDEF", s[i]))
        i++;
    return i == n && !s[i];
}

/* A URL key of ota.http_request.flash, when given (required: must be). */
static int read_url(schema_ctx *c, yaml_node_t *n, const char *path, const char *key, bool required, char **dst)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v = required ? schema_require(c, n, path, key, p) : schema_map_get(c, n, key);
    if (!v)
        return required ? -1 : 0;
    schema_path_key(p, path, key);
    if (schema_get_str(c, v, p, 0, dst))
        return -1;
    if (strncmp(*dst, "http://", 7) && strncmp(*dst, "https://", 8))
        return FAIL(c, v, p, "expected an http:// or https:// URL");
    return 0;
}

/* md5: or sha256: (hex of len digits), when given. */
static int read_hex(schema_ctx *c, yaml_node_t *n, const char *path, const char *key, size_t len, char **dst)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v = schema_map_get(c, n, key);
    if (!v)
        return 0;
    schema_path_key(p, path, key);
    if (schema_get_str(c, v, p, 0, dst))
        return -1;
    return is_hex_len(*dst, len) ? 0 : FAIL(c, v, p, "expected %zu hex digits", len);
}

static int read_flash(cfg_reader *r, yaml_node_t *n, yaml_node_t *at, const char *path, eota_automation *au)
{
    schema_ctx *c = &r->s;
    if (schema_expect(c, n, path, YAML_MAPPING_NODE, false, "a mapping with 'url:' and 'md5:' or 'md5_url:'"))
        return -1;
    eota_action *a = new_action(c, au, n, at, path, EOTA_ACTION_HTTP_FLASH);
    if (!a || schema_apply(c, n, path, flash_keys) || read_url(c, n, path, "url", true, &a->url) ||
        read_url(c, n, path, "md5_url", false, &a->md5_url) || read_hex(c, n, path, "md5", 32, &a->md5) ||
        read_hex(c, n, path, "sha256", 64, &a->sha256))
        return -1;
    if (!a->md5 == !a->md5_url)
        return FAIL(c, n, path, "give one of 'md5:' and 'md5_url:' (as in ESPHome)");
    if (r->nflash++ == 0) {
        r->flash.mark = at->start_mark;
        snprintf(r->flash.path, SCHEMA_PATH_LEN, "%s", path);
    }
    return 0;
}

/* The action's name (its one key) into *key, with its path in p. */
static int action_name(schema_ctx *c, yaml_node_t *n, const char *path, char *p,
                       yaml_node_t **key)
{
    char sh[SCHEMA_SHOW_LEN];
    if (schema_expect(c, n, path, YAML_MAPPING_NODE, false,
                      "an action (such as 'logger.log: \"text\"')"))
        return -1;
    yaml_node_pair_t *pr = n->data.mapping.pairs.start;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - pr);
    if (cnt == 0)
        return FAIL(c, n, path, "expected an action, got an empty mapping");
    yaml_node_t *k = schema_node(c, pr[0].key);
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
    *key = k;
    return 0;
}

int cfg_read_action(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *k = NULL;
    if (action_name(&r->s, n, path, p, &k))
        return -1;
    const char *name = schema_text(k);
    yaml_node_t *v = schema_node(&r->s, n->data.mapping.pairs.start[0].value);
    if (strcmp(name, "logger.log") == 0)
        return read_form(&r->s, au, v, n, p, &log_form);
    if (strcmp(name, "shell") == 0)
        return read_form(&r->s, au, v, n, p, &shell_form);
    if (strcmp(name, "ota.set_auth_password") == 0)
        return read_setpw(r, v, n, p, au);
    if (strcmp(name, "ota.http_request.flash") == 0)
        return read_flash(r, v, n, p, au);
    return FAIL(&r->s, k, p, "unknown action; supported actions: logger.log, shell, "
                             "ota.set_auth_password, ota.http_request.flash");
}

int cfg_check_pending_ids(cfg_reader *r)
{
    char sh[SCHEMA_SHOW_LEN];
    const char *ota_id = r->cfg->ota.id;
    if (r->nflash && !r->cfg->ota_http_request)
        return schema_failx(&r->s, EOTA_EINVAL, r->s.file, &r->flash.mark, r->flash.path,
                            "ota.http_request.flash needs 'ota: - platform: http_request' (as in ESPHome)");
    for (size_t i = 0; i < r->npending; i++) {
        pending_id *pi = &r->pending[i];
        if (!ota_id || strcmp(ota_id, pi->id) != 0)
            return schema_failx(&r->s, EOTA_EINVAL, r->s.file, &pi->mark, pi->path,
                                "no 'ota:' entry with 'platform: esphome' has the id %s",
                                schema_show(sh, pi->id, false));
    }
    return 0;
}
