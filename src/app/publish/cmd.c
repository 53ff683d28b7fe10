/*
 * cmd.c: `eota publish FIRMWARE --version V --dir DIR [...]` (publish.h):
 * the command line and its help, then the steps in the order that keeps a
 * polling device safe: the image first (atomically, under its own name),
 * the manifest last (atomically), so that a manifest never names an image
 * that is missing or half-written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "publish.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: eota publish FIRMWARE --version V --dir DIR [OPTIONS]\n"
            "\n"
            "Put FIRMWARE and an ESPHome-compatible manifest.json into DIR, for devices\n"
            "that poll it (update: - platform: http_request, source: URL/manifest.json).\n"
            "Serve DIR with any web server or CDN (docs/pull-updates.md).\n"
            "\n"
            "  --version V        the release's version (semantic versions compare best)\n"
            "  --dir DIR          the directory served (created when missing)\n"
            "  --name N           the manifest's name (default: kept, or FIRMWARE's name)\n"
            "  --chip-family F    the build's chipFamily: ESP32, ESP32-C3, ESP8266, RP2040,\n"
            "                     BK72XX, HOST (eota device with host:), ... (default HOST)\n"
            "  --summary S        ota.summary, shown by Home Assistant\n"
            "  --release-url U    ota.release_url\n"
            "  --image-name FILE  the image's file name in DIR (default NAME-V-F.bin from\n"
            "                     the firmware's name, so releases never overwrite each other)\n"
            "\n"
            "A manifest has one version: publishing another chip family at the same\n"
            "version adds its build; a new version drops the builds of other versions.\n"
            "The image is written first and the manifest last, each by rename.\n"
            "A signed image (eota sign) gets ota.signature in the manifest (key ids,\n"
            "version, security counter), which devices with ota signature: check\n"
            "before they download it.\n");
}

/* The firmware's file name without .bin, into img->base. */
static void base_name(const pub_opts *o, pub_image *img)
{
    const char *base = strrchr(o->firmware, '/');
    base = base ? base + 1 : o->firmware;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".bin"))
        n -= 4;
    snprintf(img->base, sizeof img->base, "%.*s", (int)n, base);
}

/* NAME-V-F.bin from the firmware's base name. */
static int derive_image_name(const pub_opts *o, const pub_image *img, char *buf, size_t len)
{
    int w = snprintf(buf, len, "%s-%s-%s.bin", img->base, o->version, o->chip_family);
    if (w < 0 || (size_t)w >= len)
        return -1;
    for (char *p = buf; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
    return 0;
}

static int parse(int argc, char **argv, pub_opts *o)
{
    static const struct option longs[] = {
        {"version", 1, 0, 'v'}, {"dir", 1, 0, 'd'},     {"name", 1, 0, 'n'},
        {"chip-family", 1, 0, 'c'}, {"summary", 1, 0, 's'}, {"release-url", 1, 0, 'u'},
        {"image-name", 1, 0, 'i'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char **dst[128] = {0};
    dst['v'] = &o->version, dst['d'] = &o->dir, dst['n'] = &o->name, dst['c'] = &o->chip_family;
    dst['s'] = &o->summary, dst['u'] = &o->release_url, dst['i'] = &o->image_name;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return 0;
        }
        if (c == '?' || c < 0 || c >= 128 || !dst[c])
            return 2;
        *dst[c] = optarg;
    }
    if (optind != argc - 1 || !o->version || !o->dir || !*o->version) {
        fprintf(stderr, "eota publish: %s\n",
                optind != argc - 1 ? "give exactly one FIRMWARE file" : "--version and --dir are required");
        return 2;
    }
    o->firmware = argv[optind];
    if (!o->chip_family)
        o->chip_family = "HOST";
    if (o->image_name && (strchr(o->image_name, '/') || !*o->image_name || o->image_name[0] == '.')) {
        fprintf(stderr, "eota publish: --image-name must be a plain file name, got '%s'\n", o->image_name);
        return 2;
    }
    return -1;
}

/* Image, then manifest. 0 or 1 (said why). */
static int publish(const pub_opts *o, pub_image *img)
{
    char err[1024], mpath[4200];
    if (pub_read_image(o->firmware, img, err, sizeof err) != 0)
        goto fail;
    base_name(o, img);
    if (o->image_name)
        snprintf(img->path, sizeof img->path, "%s", o->image_name);
    else if (derive_image_name(o, img, img->path, sizeof img->path) != 0) {
        snprintf(err, sizeof err, "the image's file name would be too long; give --image-name");
        goto fail;
    }
    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, sizeof err, "%s: %s", o->dir, strerror(errno));
        goto fail;
    }
    if (pub_write_atomic(o->dir, img->path, img->data, img->size, err, sizeof err) != 0)
        goto fail;
    snprintf(mpath, sizeof mpath, "%s/manifest.json", o->dir);
    char *old = NULL, *text;
    size_t len;
    struct stat st;
    time_t old_mtime = stat(mpath, &st) == 0 ? st.st_mtime : 0;
    if (pub_read_file(mpath, &old, &len, err, sizeof err) < 0)
        goto fail;
    text = pub_manifest_update(old, o, img, err, sizeof err);
    free(old);
    if (!text || pub_write_atomic(o->dir, "manifest.json", text, strlen(text), err, sizeof err) != 0) {
        free(text);
        goto fail;
    }
    free(text);
    pub_mtime_after(mpath, old_mtime);
    printf("published %s %s for %s: %s (%zu bytes, md5 %s) and %s\n", o->name ? o->name : img->base, o->version,
           o->chip_family, img->path, img->size, img->md5, mpath);
    if (img->is_signed)
        printf("signed: version %.*s, security counter %u, %u signature(s): in the manifest's ota.signature\n",
               img->sig.version_len, img->sig.version, img->sig.counter, img->sig.nsigs);
    else
        printf("unsigned: devices with ota signature: required refuse it (eota sign, docs/signed-images.md)\n");
    return 0;
fail:
    fprintf(stderr, "eota publish: %s\n", err);
    return 1;
}

int eota_cmd_publish(int argc, char **argv)
{
    pub_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    if (rc >= 0) {
        if (rc == 2)
            fprintf(stderr, "see 'eota publish --help'\n");
        return rc;
    }
    pub_image img;
    memset(&img, 0, sizeof img);
    rc = publish(&o, &img);
    free(img.data);
    return rc;
}
