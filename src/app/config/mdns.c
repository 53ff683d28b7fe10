/*
 * mdns.c: the mdns: block (blocks.h): ESPHome's `disabled:` turns the
 * device's mDNS off; `services:` (extra services of a stock firmware) is
 * accepted and not published.
 */
#include "blocks.h"

static const schema_key mdns_keys[] = {KEY("disabled", K_CUSTOM), KEY("services", K_ANY_LIST), KEND};

int cfg_read_mdns(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    yaml_node_t *v;
    if (cfg_open_block(r, n, "mdns", mdns_keys, &r->cfg->mdns.present))
        return -1;
    if ((v = schema_map_get(c, n, "disabled")) && schema_get_bool(c, v, "mdns.disabled", &r->cfg->mdns.disabled))
        return -1;
    return 0;
}
