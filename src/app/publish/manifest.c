/*
 * manifest.c: the manifest.json of `eota publish` (publish.h), in the
 * ESP-Web-Tools shape ESPHome's `update: - platform: http_request` reads:
 *
 *   {"name": N, "version": V,
 *    "builds": [{"chipFamily": F,
 *                "ota": {"path": P, "md5": HEX, "summary": S, "release_url": U,
 *                        "size": BYTES, "sha256": HEX,
 *                        "signature": {"key_ids": [ID, ...], "version": V,
 *                                      "security_counter": N, "payload_size": BYTES}}}]}
 *
 * size, sha256 and signature (a signed image's trailer: the ids of the keys
 * that signed it, as eota verify shows them, its version, security counter
 * and payload length) are eota's; ESPHome ignores keys it does not know. A
 * manifest has one version for all its builds: publishing F at version V
 * replaces F's build (its other keys, such as esp-web-tools' parts, stay)
 * and keeps the other families' builds only when they are at V too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "publish.h"
#include "sign/sign.h"

/* The old manifest's object, or a new empty one; NULL with err. */
static cJSON *old_root(const char *old_text, char *err, size_t errlen)
{
    if (!old_text)
        return cJSON_CreateObject();
    cJSON *root = cJSON_Parse(old_text);
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen,
                 "the existing manifest.json is not a JSON object; fix or remove it before publishing");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static void set_item(cJSON *obj, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
    else
        cJSON_AddItemToObject(obj, key, value);
}

/* The signature data a device checks before it downloads the image. */
static cJSON *signature_object(const eota_sig_info *in)
{
    cJSON *sig = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(sig, "key_ids");
    char id[SIGN_KEY_ID_LEN + 1], version[EOTA_SIG_VERSION_MAX + 1];
    for (uint8_t i = 0; i < in->nsigs; i++) {
        sign_key_id(in->keyhash[i], id);
        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    snprintf(version, sizeof version, "%.*s", in->version_len, in->version);
    cJSON_AddStringToObject(sig, "version", version);
    cJSON_AddNumberToObject(sig, "security_counter", (double)in->counter);
    cJSON_AddNumberToObject(sig, "payload_size", (double)in->payload_len);
    return sig;
}

static cJSON *ota_object(const pub_opts *o, const pub_image *img)
{
    cJSON *ota = cJSON_CreateObject();
    cJSON_AddStringToObject(ota, "path", img->path);
    cJSON_AddStringToObject(ota, "md5", img->md5);
    cJSON_AddStringToObject(ota, "summary", o->summary ? o->summary : "");
    cJSON_AddStringToObject(ota, "release_url", o->release_url ? o->release_url : "");
    cJSON_AddNumberToObject(ota, "size", (double)img->size);
    cJSON_AddStringToObject(ota, "sha256", img->sha256);
    if (img->is_signed)
        cJSON_AddItemToObject(ota, "signature", signature_object(&img->sig));
    return ota;
}

/* The builds kept: F's own (to be updated), and the others when the
 * manifest's version is V. */
static cJSON *kept_builds(cJSON *root, const pub_opts *o, int same_version)
{
    cJSON *builds = cJSON_DetachItemFromObjectCaseSensitive(root, "builds");
    cJSON *out = cJSON_CreateArray();
    cJSON *b;
    while (cJSON_IsArray(builds) && (b = cJSON_DetachItemFromArray(builds, 0))) {
        const char *fam = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "chipFamily"));
        if (cJSON_IsObject(b) && fam && (same_version || !strcmp(fam, o->chip_family))) {
            cJSON_AddItemToArray(out, b);
            continue;
        }
        fprintf(stderr, "eota publish: dropping the build for %s: it is not at version %s (a manifest has one version)\n",
                fam ? fam : "(no chipFamily)", o->version);
        cJSON_Delete(b);
    }
    cJSON_Delete(builds);
    return out;
}

static void put_build(cJSON *builds, const pub_opts *o, const pub_image *img)
{
    cJSON *b;
    cJSON_ArrayForEach(b, builds)
    {
        const char *fam = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "chipFamily"));
        if (fam && !strcmp(fam, o->chip_family)) {
            set_item(b, "ota", ota_object(o, img));
            return;
        }
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "chipFamily", o->chip_family);
    cJSON_AddItemToObject(b, "ota", ota_object(o, img));
    cJSON_AddItemToArray(builds, b);
}

char *pub_manifest_update(const char *old_text, const pub_opts *o, const pub_image *img, char *err,
                          size_t errlen)
{
    cJSON *root = old_root(old_text, err, errlen);
    if (!root)
        return NULL;
    const char *old_version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "version"));
    int same = old_version && !strcmp(old_version, o->version);
    const char *old_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "name"));
    if (o->name || !old_name)
        set_item(root, "name", cJSON_CreateString(o->name ? o->name : img->base));
    cJSON *builds = kept_builds(root, o, same);
    put_build(builds, o, img);
    set_item(root, "version", cJSON_CreateString(o->version));
    cJSON_AddItemToObject(root, "builds", builds);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        snprintf(err, errlen, "out of memory");
    return text;
}
