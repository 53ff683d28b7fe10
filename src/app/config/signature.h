/*
 * signature.h: the `signature:` key of an `ota: - platform: esphome` entry
 * (docs/signed-images.md): the trusted public keys and what the device
 * refuses. Read by signature.c; the storage stack (storage.c) puts the
 * check in when it is present.
 */
#ifndef EOTA_APP_CONFIG_SIGNATURE_H
#define EOTA_APP_CONFIG_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#define EOTA_SIG_KEYS_MAX 8

typedef struct eota_signature_config {
    bool present;
    bool required;          /* default true */
    bool allow_downgrade;   /* default false */
    size_t nkeys;           /* 1..EOTA_SIG_KEYS_MAX */
    uint8_t keys[EOTA_SIG_KEYS_MAX][32];  /* raw Ed25519 public keys */
    int line;
} eota_signature_config;

struct cfg_reader;
/* The value n of ota[i].signature (path), into r->cfg->signature. 0 or -1. */
int cfg_read_signature(struct cfg_reader *r, yaml_node_t *n, const char *path);

#endif
