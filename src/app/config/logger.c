/*
 * logger.c: the logger: block (blocks.h) and the log level names it and
 * logger.log share (ESPHome's, with CONFIG taken as INFO).
 */
#include "blocks.h"

static const schema_key logger_keys[] = {KEY("level", K_CUSTOM), KEY("baud_rate", K_INT),
                                         KEY("logs", K_CUSTOM), KEY("hardware_uart", K_STR),
                                         KEND};

/* The names by value (eota_config_level), then ESPHome's CONFIG. */
#define NLEVELS 7
static const char *const level_names[] = {"NONE",  "ERROR",   "WARN",         "INFO",
                                          "DEBUG", "VERBOSE", "VERY_VERBOSE", "CONFIG",
                                          NULL};

const char *eota_config_level_name(eota_config_level level)
{
    if ((unsigned)level < NLEVELS)
        return level_names[level];
    return "?";
}

int cfg_get_level(schema_ctx *c, yaml_node_t *n, const char *path, eota_config_level *dst)
{
    int i;
    if (schema_get_name(c, n, path,
                        "a log level (NONE, ERROR, WARN, INFO, CONFIG, DEBUG, VERBOSE or "
                        "VERY_VERBOSE)",
                        level_names, true, &i))
        return -1;
    *dst = i < NLEVELS ? (eota_config_level)i : EOTA_CONFIG_LEVEL_INFO;
    return 0;
}

/* logs: per-tag levels: checked, not used (eota's tags differ) */
static int read_logs(schema_ctx *c, yaml_node_t *v)
{
    char p[SCHEMA_PATH_LEN];
    eota_config_level lv;
    if (schema_expect(c, v, "logger.logs", YAML_MAPPING_NODE, true, "a mapping of tag: level"))
        return -1;
    if (schema_is_null(v))
        return 0;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
         pr++)
        if (cfg_get_level(c, schema_node(c, pr->value),
                          schema_path_key(p, "logger.logs", schema_key_text(schema_node(c, pr->key))),
                          &lv))
            return -1;
    return 0;
}

int cfg_read_logger(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    yaml_node_t *v;
    if (schema_apply(c, n, "logger", logger_keys))
        return -1;
    if ((v = schema_map_get(c, n, "level")) &&
        cfg_get_level(c, v, "logger.level", &r->cfg->log_level))
        return -1;
    if ((v = schema_map_get(c, n, "logs")) && read_logs(c, v))
        return -1;
    return 0;
}
