/*
 * ota_progress.c: the eota extension keys of an `ota: - platform: esphome`
 * entry that bound a stranger's hold on the device: `progress_floor` (a
 * size, e.g. 4KB) and `progress_window` (a duration, e.g. 60s): an upload
 * that receives less than the floor in the window is ended with 0xFF
 * (eota_server_config's progress_floor_bytes / progress_window_ms).
 */
#include "blocks.h"

int cfg_read_progress_floor(schema_ctx *c, yaml_node_t *entry, const char *path, uint32_t *floor,
                            uint32_t *window_ms)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    uint64_t bytes;
    if ((v = schema_map_get(c, entry, "progress_floor"))) {
        if (schema_get_size(c, v, schema_path_key(p, path, "progress_floor"), false, 1, UINT32_MAX, &bytes))
            return -1;
        *floor = (uint32_t)bytes;
    }
    if ((v = schema_map_get(c, entry, "progress_window")) &&
        schema_get_duration(c, v, schema_path_key(p, path, "progress_window"), false, window_ms))
        return -1;
    return 0;
}
