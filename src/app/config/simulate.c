/*
 * simulate.c: the simulate: block (blocks.h), eota's extension for tests
 * and demos: a flash write speed, an error injected at one stage of the
 * update (with the chip's response code), and the slot size.
 */
#include "blocks.h"
#include "eota/protocol.h"

static const schema_key simulate_keys[] = {
    KEY("flash_write_speed", K_CUSTOM), KEY("fail_at", K_CUSTOM),
    KEY("fail_code", K_CUSTOM),         KEY("fail_after_bytes", K_CUSTOM),
    KEY("slot_size", K_CUSTOM),         KEND};

/* fail_at:, with the stage's default code, then fail_code: for it */
static int read_failure(schema_ctx *c, yaml_node_t *n, eota_simulate_config *s)
{
    static const char *const stages[] = {"prepare", "write", "end", NULL};
    static const uint8_t default_codes[] = {0, EOTA_RESP_ERROR_UPDATE_PREPARE,
                                            EOTA_RESP_ERROR_WRITING_FLASH,
                                            EOTA_RESP_ERROR_UPDATE_END};
    yaml_node_t *v;
    long long ll;
    int idx;
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

int cfg_read_simulate(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_simulate_config *s = &r->cfg->simulate;
    yaml_node_t *v;
    uint64_t u;
    if (cfg_open_block(r, n, "simulate", simulate_keys, &s->present))
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
    return read_failure(c, n, s);
}
