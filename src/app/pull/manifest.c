/*
 * manifest.c: reading a manifest.json (internal.h) by ESPHome's rules:
 * "version" and "builds" are required, the build whose "chipFamily" is the
 * device's must have "ota" with "path" and "md5"; "path" is a full URL, an
 * absolute path on the manifest's host, or relative to the manifest.
 * eota's "size" and "sha256" are checked when present, and its "signature"
 * (key_ids, version, security_counter, payload_size) read for trust.c. Every way a
 * manifest can be wrong has its own message.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"

static const char *str_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 127)
            return 0;
    return 1;
}

/* The build of family, or NULL with the families there are in err. */
static const cJSON *find_build(const cJSON *builds, const char *family, char *err, size_t errlen)
{
    char have[200] = "";
    const cJSON *b;
    cJSON_ArrayForEach(b, builds)
    {
        const char *fam = str_of(b, "chipFamily");
        if (fam && !strcmp(fam, family))
            return b;
        if (fam && strlen(have) + strlen(fam) + 3 < sizeof have)
            strcat(strcat(have, *have ? ", " : ""), fam);
    }
    snprintf(err, errlen, "no build for chip family %s in the manifest (it has: %s)", family,
             *have ? have : "none");
    return NULL;
}

/* path against the manifest's URL (curl's URL API resolves it). */
static int resolve(const char *base, const char *path, char *out, size_t len, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *full = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
             curl_url_set(u, CURLUPART_URL, path, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < len;
    if (ok)
        snprintf(out, len, "%s", full);
    else
        snprintf(err, errlen, "the build's ota.path '%.200s' makes no URL with %.200s", path, base);
    curl_free(full);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

/* A number from 0 (or 1) to 2^32-1 at key of o, into *out. */
static int read_u32(const cJSON *o, const char *key, double min, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > 4294967295.0 ||
        v->valuedouble != (double)(uint32_t)v->valuedouble)
        return -1;
    *out = (uint32_t)v->valuedouble;
    return 0;
}

/* ota.signature, when there is one (eota publish of a signed image). */
static int read_signature(const cJSON *ota, pull_signature *s, char *err, size_t errlen)
{
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(ota, "signature"), *id;
    if (!sig)
        return 0;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(sig, "key_ids");
    const char *version = str_of(sig, "version");
    int n = cJSON_GetArraySize(ids);
    const char *bad = !cJSON_IsObject(sig)                                  ? "is not an object"
                      : !cJSON_IsArray(ids) || n < 1 || n > (int)EOTA_SIG_MAX_SIGS ? "lacks key_ids (1 to 3 key ids)"
                      : !version || !*version || strlen(version) > EOTA_SIG_VERSION_MAX || !printable(version)
                          ? "lacks version (1 to 32 printable characters)"
                      : read_u32(sig, "security_counter", 0, &s->counter) ? "lacks security_counter (a number)"
                      : read_u32(sig, "payload_size", 1, &s->payload_size) ? "lacks payload_size (a number)"
                                                                            : NULL;
    const cJSON *list = bad ? NULL : ids;
    cJSON_ArrayForEach(id, list)
    {
        const char *v = cJSON_GetStringValue(id);
        if (!v || !is_hex(v, PULL_KEY_ID_LEN)) {
            bad = "has a key id that is not 16 hex digits";
            break;
        }
        snprintf(s->key_ids[s->nkeys++], sizeof s->key_ids[0], "%s", v);
    }
    if (bad) {
        snprintf(err, errlen, "the build's ota.signature %s", bad);
        return -1;
    }
    snprintf(s->version, sizeof s->version, "%s", version);
    s->present = 1;
    return 0;
}

static int read_ota(const cJSON *ota, const char *base, pull_release *rel, char *err, size_t errlen)
{
    const char *path = str_of(ota, "path"), *md5 = str_of(ota, "md5"), *sha = str_of(ota, "sha256");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(ota, "size");
    if (!path || !*path || !md5) {
        snprintf(err, errlen, "the build's 'ota' lacks '%s' (a string)", !path || !*path ? "path" : "md5");
        return -1;
    }
    if (!is_hex(md5, 32) || (sha && !is_hex(sha, 64))) {
        snprintf(err, errlen, "the build's ota.%s is not %s hex digits", is_hex(md5, 32) ? "sha256" : "md5",
                 is_hex(md5, 32) ? "64" : "32");
        return -1;
    }
    if (size && (!cJSON_IsNumber(size) || size->valuedouble < 1 || size->valuedouble > 4294967295.0)) {
        snprintf(err, errlen, "the build's ota.size is not a number of bytes");
        return -1;
    }
    snprintf(rel->md5, sizeof rel->md5, "%s", md5);
    snprintf(rel->sha256, sizeof rel->sha256, "%s", sha ? sha : "");
    rel->size = size ? (int64_t)size->valuedouble : -1;
    if (read_signature(ota, &rel->sig, err, errlen) != 0)
        return -1;
    return resolve(base, path, rel->url, sizeof rel->url, err, errlen);
}

static int read_root(const cJSON *root, const char *base, const char *family, pull_release *rel, char *err,
                     size_t errlen)
{
    const char *version = str_of(root, "version");
    const cJSON *builds = cJSON_GetObjectItemCaseSensitive(root, "builds");
    if (!cJSON_IsObject(root) || !version || !cJSON_IsArray(builds)) {
        snprintf(err, errlen, "the manifest lacks %s", !cJSON_IsObject(root) ? "an object at its top"
                                                       : !version            ? "'version' (a string)"
                                                                             : "'builds' (a list)");
        return -1;
    }
    if (!*version || strlen(version) >= sizeof rel->version || !printable(version)) {
        snprintf(err, errlen, "the manifest's version is empty, too long or has spaces or control characters");
        return -1;
    }
    snprintf(rel->version, sizeof rel->version, "%s", version);
    const cJSON *b = find_build(builds, family, err, errlen);
    if (!b)
        return -1;
    const cJSON *ota = cJSON_GetObjectItemCaseSensitive(b, "ota");
    if (!cJSON_IsObject(ota)) {
        snprintf(err, errlen, "the build for %s lacks 'ota' (an object with path and md5)", family);
        return -1;
    }
    return read_ota(ota, base, rel, err, errlen);
}

int pull_manifest_parse(const char *text, size_t len, const char *base_url, const char *family,
                        pull_release *rel, char *err, size_t errlen)
{
    const char *end = NULL;
    memset(rel, 0, sizeof *rel);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        snprintf(err, errlen, "the manifest is not JSON (at byte %zu of %zu)", end ? (size_t)(end - text) : 0,
                 len);
        return -1;
    }
    int rc = read_root(root, base_url, family, rel, err, errlen);
    cJSON_Delete(root);
    return rc;
}
