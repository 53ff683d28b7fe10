/*
 * web_server.c: the web_server: block (blocks.h): the port (the
 * profile's default when not given, set by config.c), the version and
 * flags ESPHome has, and auth: with its user name and password.
 */
#include "blocks.h"

static const schema_key web_auth_keys[] = {KEY("username", K_CUSTOM),
                                           KEY("password", K_CUSTOM), KEY("type", K_CUSTOM),
                                           KEND};
static const schema_key web_server_keys[] = {
    KEY("port", K_CUSTOM),    KEY("auth", K_CUSTOM), KEY("version", K_CUSTOM),
    KEY("local", K_BOOL),     KEY("log", K_BOOL),    KEY("include_internal", K_BOOL),
    KEND};

static int read_auth(schema_ctx *c, yaml_node_t *a, eota_web_server_config *w)
{
    static const char *const types[] = {"basic", "digest", NULL};
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    int idx;
    if (schema_apply(c, a, "web_server.auth", web_auth_keys))
        return -1;
    if (schema_is_null(a))
        return FAIL(c, a, "web_server.auth",
                    "expected a mapping with 'username:' and 'password:', got nothing");
    w->has_auth = true;
    v = schema_require(c, a, "web_server.auth", "username", p);
    if (!v || schema_get_str(c, v, p, 0, &w->username))
        return -1;
    v = schema_require(c, a, "web_server.auth", "password", p);
    if (!v || schema_get_str(c, v, p, SCHEMA_SENSITIVE, &w->password))
        return -1;
    if ((v = schema_map_get(c, a, "type"))) {
        if (schema_get_choice(c, v, "web_server.auth.type", types, &idx))
            return -1;
        w->auth_type = (eota_web_auth_type)idx;
    }
    return 0;
}

int cfg_read_web_server(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_web_server_config *w = &r->cfg->web_server;
    yaml_node_t *v;
    if (cfg_open_block(r, n, "web_server", web_server_keys, &w->present))
        return -1;
    if ((v = schema_map_get(c, n, "port"))) {
        w->has_port = true;
        if (schema_get_port(c, v, "web_server.port", &w->port))
            return -1;
    }
    if ((v = schema_map_get(c, n, "version")) &&
        schema_get_int(c, v, "web_server.version", 1, 3, &(long long){0}))
        return -1;
    if ((v = schema_map_get(c, n, "auth")) && read_auth(c, v, w))
        return -1;
    return 0;
}
