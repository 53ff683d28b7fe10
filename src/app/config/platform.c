/*
 * platform.c: the platform blocks (blocks.h): host:, esp32:, esp8266:,
 * rp2040: and LibreTiny's bk72xx:, rtl87xx:, ln882x:. Exactly one is
 * given; it picks the profile (profile.h) and its usual keys are checked,
 * the few that eota reports kept.
 */
#include <string.h>

#include "blocks.h"

static const char *const esp32_fw_types[] = {"arduino", "esp-idf", "esp_idf", NULL};
static const char *const flash_modes[] = {"qio", "qout", "dio", "dout", NULL};

static const schema_key esp32_fw_keys[] = {
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
static const schema_key fw_keys[] = {KSTR_TO("version", framework_version),
                                     KEY("source", K_STR), KEY("platform_version", K_STR),
                                     KEND};
static const schema_key lt_fw_keys[] = {
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

static const schema_key esp32_keys[] = {
    KSTR_TO("board", board),
    KSTR_TO("variant", variant),
    KSTR_TO("flash_size", flash_size),
    KEY("cpu_frequency", K_STR),
    KEY("partitions", K_STR),
    KSUB("framework", esp32_fw_keys),
    KEND};
static const schema_key esp8266_keys[] = {
    KSTR_TO("board", board),
    KSUB("framework", fw_keys),
    KEY("restore_from_flash", K_BOOL),
    KEY("early_pin_init", K_BOOL),
    KCHOICE("board_flash_mode", flash_modes),
    KEY("enable_serial", K_BOOL),
    KEY("enable_serial1", K_BOOL),
    KEND};
static const schema_key rp2040_keys[] = {
    KSTR_TO("board", board),
    KSTR_TO("flash_size", flash_size),
    KSUB("framework", fw_keys),
    KEY("watchdog_timeout", K_DURATION),
    KEND};
static const schema_key libretiny_keys[] = {
    KSTR_TO("board", board),
    KEY("family", K_STR),
    KSUB("framework", lt_fw_keys),
    KEND};
/* gzip: eota's own key, host only (a chip profile's gzip is the chip's) */
static const schema_key host_keys[] = {KEY("mac_address", K_STR), KEY("gzip", K_BOOL), KEND};

/* Every profile's block, with its keys. */
static const struct {
    const char *platform;
    const schema_key *keys;
} platform_keys[] = {
    {"host", host_keys},           {"esp32", esp32_keys},       {"esp8266", esp8266_keys},
    {"rp2040", rp2040_keys},       {"bk72xx", libretiny_keys},  {"rtl87xx", libretiny_keys},
    {"ln882x", libretiny_keys},
};

static const schema_key *keys_of(const char *platform)
{
    for (size_t i = 0; i < sizeof platform_keys / sizeof platform_keys[0]; i++)
        if (strcmp(platform_keys[i].platform, platform) == 0)
            return platform_keys[i].keys;
    return host_keys; /* not reached: every profile has a row */
}

int cfg_read_platform(cfg_reader *r, yaml_node_t *root)
{
    schema_ctx *c = &r->s;
    eota_config *cfg = r->cfg;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = schema_node(c, pr->key);
        const eota_profile *prof = eota_profile_find(schema_text(k));
        if (!prof)
            continue;
        if (cfg->profile)
            return FAIL(c, k, schema_text(k),
                        "only one platform block is allowed; '%s' is already given at line "
                        "%d",
                        cfg->profile->platform, cfg->platform_line);
        cfg->profile = prof;
        cfg->platform_line = (int)k->start_mark.line + 1;
        cfg->gzip = prof->gzip;
        yaml_node_t *block = schema_node(c, pr->value), *gz;
        if (schema_apply(c, block, prof->platform, keys_of(prof->platform)))
            return -1;
        if ((gz = schema_map_get(c, block, "gzip")) && schema_get_bool(c, gz, "host.gzip", &cfg->gzip))
            return -1;
    }
    if (!cfg->profile)
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                            "no platform block: add one of host:, esp32:, esp8266:, rp2040:, "
                            "bk72xx:, rtl87xx:, ln882x:");
    return 0;
}
