/*
 * safe_mode.c: the safe_mode: block (blocks.h): how many failed boots
 * make safe mode, its timeouts, and on_safe_mode: automations.
 */
#include "blocks.h"

static const schema_key safe_mode_keys[] = {
    KEY("num_attempts", K_CUSTOM),       KEY("reboot_timeout", K_CUSTOM),
    KEY("boot_is_good_after", K_CUSTOM), KEY("disabled", K_CUSTOM),
    KEY("id", K_CUSTOM),                 KEY("on_safe_mode", K_CUSTOM),
    KEND};

int cfg_read_safe_mode(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_config_safe_mode *s = &r->cfg->safe_mode;
    yaml_node_t *v;
    long long ll;
    if (cfg_open_block(r, n, "safe_mode", safe_mode_keys, &s->present))
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
        schema_get_duration(c, v, "safe_mode.boot_is_good_after", true,
                            &s->boot_is_good_after_ms))
        return -1;
    if ((v = schema_map_get(c, n, "disabled")) &&
        schema_get_bool(c, v, "safe_mode.disabled", &s->disabled))
        return -1;
    if ((v = schema_map_get(c, n, "id")) && schema_get_str(c, v, "safe_mode.id", 0, &s->id))
        return -1;
    if ((v = schema_map_get(c, n, "on_safe_mode")) &&
        cfg_read_automation(r, v, "safe_mode.on_safe_mode", &s->on_safe_mode, false))
        return -1;
    return 0;
}
