/*
 * units.h: the unit parsers of the whole program: time periods (one
 * grammar, ESPHome's, for the config and the command line), sizes and
 * speeds in bytes, and integers as YAML writes them.
 */
#ifndef EOTA_APP_CONFIG_UNITS_H
#define EOTA_APP_CONFIG_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse an ESPHome time period ("5min", "30s", "100ms", "1.5s", "1h",
 * "2d", "01:30:00") into milliseconds. A bare number is refused, as
 * ESPHome does. Returns 0, or -1 with a reason in why (may be NULL). */
int eota_config_parse_duration(const char *text, uint32_t *ms, const char **why);

/* The same grammar, where a bare number is taken in bare_unit (one of the
 * grammar's units, such as "s": "2.5" is then "2.5s"); a NULL bare_unit
 * refuses bare numbers, as eota_config_parse_duration does. */
int eota_units_duration(const char *text, const char *bare_unit, uint32_t *ms,
                        const char **why);

/* Bytes (or bytes per second): an integer (decimal or 0x hex), or a number
 * with a unit: B, kB/KB/K = 1000, KiB = 1024, MB/M, MiB, GB/G, GiB. A speed
 * (per_second) may end in "/s". Fractions are truncated to whole bytes.
 * Returns 0, or -1 when text is not one. */
int eota_units_size(const char *text, bool per_second, uint64_t *out);

/* An integer: decimal or 0x hex, with an optional sign, no other
 * character. Returns 0, or -1 when text is not one or overflows. */
int eota_units_integer(const char *text, long long *out);

#endif
