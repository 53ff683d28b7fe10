/*
 * cmd.c: `eota discover` (discover.h): the options, then the querier's
 * loop for --timeout seconds (or for ever with --watch), then the table or
 * the JSON.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "discover.h"

typedef struct disc_opts {
    double timeout_s;
    int json, watch;
} disc_opts;

/* In the order of disc_kind. */
static const char *const types[] = {"_esphomelib._tcp.local.", "_eota._tcp.local."};

typedef struct disc_state {
    eota_mdns_query *q;
    eota_mdns_browse *b;
    char shown[DISC_MAX][2048]; /* what --watch printed last of each slot */
} disc_state;

static void usage(FILE *f)
{
    fprintf(f, "usage: eota discover [--timeout SECONDS] [--json] [--watch]\n"
               "\n"
               "List the ESPHome devices (_esphomelib._tcp: version, platform, board, mac,\n"
               "api_encryption) and eota devices (_eota._tcp: image, slot, trial or\n"
               "confirmed, safe mode, last update) that answer mDNS on this network.\n"
               "Each line is a SPEC for `eota upload --devices-from` (NAME.local:PORT), then\n"
               "'#' and what the device's TXT records say.\n"
               "\n"
               "options:\n"
               "  -t, --timeout SECONDS  how long to listen (default 3)\n"
               "      --json             one JSON array of the devices (with --watch: one\n"
               "                         JSON object a line per change, with \"event\")\n"
               "  -w, --watch            keep listening; print devices as they come,\n"
               "                         change (\"changed\") and go (\"removed\")\n"
               "  -h, --help             this text\n"
               "\n"
               "example:\n"
               "  eota discover | grep '# eota' | eota upload fw.bin --devices-from -\n");
}

/* -1 to go on, else the exit code. */
static int parse(disc_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {{"timeout", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
                                         {"watch", no_argument, 0, 'w'},         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *o = (disc_opts){3.0, 0, 0};
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "t:wh", opts, NULL)) != -1) {
        if (c == 't' && ((o->timeout_s = strtod(optarg, &end)) <= 0 || *end || o->timeout_s > 86400)) {
            fprintf(stderr, "eota discover: --timeout: expected seconds (0 to 86400), got '%s'\n", optarg);
            return 2;
        }
        o->json |= c == 'j';
        o->watch |= c == 'w';
        if (c == 'h' || c == '?')
            return usage(c == 'h' ? stdout : stderr), c == 'h' ? 0 : 2;
    }
    if (optind < argc) {
        fprintf(stderr, "eota discover: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What --watch says of a device now shown as line, last shown as shown:
 * NULL for nothing new. */
static const char *event_of(const disc_dev *d, const char *line, const char *shown)
{
    if (d->gone)
        return "removed";
    if (!shown[0])
        return "added";
    return strcmp(line, shown) ? "changed" : NULL;
}

/* --watch: what changed since the last turn. */
static void print_changes(disc_state *s, int json)
{
    for (size_t i = 0; i < DISC_MAX; i++) {
        const disc_dev *d = eota_mdns_browse_get(s->b, i);
        char line[sizeof s->shown[i]];
        if (!d || !eota_mdns_service_complete(d))
            continue;
        disc_line(d, line, sizeof line);
        const char *ev = event_of(d, line, s->shown[i]);
        if (!ev)
            continue;
        if (json) {
            char *j = disc_json(d, ev);
            printf("%s\n", j);
            free(j);
        } else
            printf("%-7s %s\n", ev, line);
        fflush(stdout);
        snprintf(s->shown[i], sizeof s->shown[i], "%s", line);
        if (d->gone) {
            eota_mdns_browse_forget(s->b, i);
            s->shown[i][0] = '\0';
        }
    }
}

static int by_instance(const void *a, const void *b)
{
    return strcmp((*(const disc_dev *const *)a)->instance, (*(const disc_dev *const *)b)->instance);
}

static void print_all(disc_state *s, int json)
{
    const disc_dev *found[DISC_MAX];
    size_t n = 0;
    for (size_t i = 0; i < DISC_MAX; i++) {
        const disc_dev *d = eota_mdns_browse_get(s->b, i);
        if (d && eota_mdns_service_complete(d) && !d->gone)
            found[n++] = d;
    }
    qsort(found, n, sizeof found[0], by_instance);
    if (json)
        printf("[");
    else
        disc_header();
    for (size_t i = 0; i < n; i++) {
        char line[sizeof s->shown[0]];
        if (json) {
            char *j = disc_json(found[i], NULL);
            printf("%s%s", i ? ",\n" : "", j);
            free(j);
        } else {
            disc_line(found[i], line, sizeof line);
            printf("%s\n", line);
        }
    }
    if (json)
        printf("]\n");
}

static void listen_loop(disc_state *s, const disc_opts *o)
{
    double end = now_s() + o->timeout_s;
    while (o->watch || now_s() < end) {
        struct pollfd pfd[EOTA_MDNS_MAX_FDS];
        int n = eota_mdns_query_pollfds(s->q, pfd, EOTA_MDNS_MAX_FDS);
        long t = eota_mdns_query_timeout_ms(s->q);
        long left = o->watch ? 250 : (long)((end - now_s()) * 1000) + 1;
        poll(pfd, (nfds_t)n, (int)(t >= 0 && t < left ? t : left));
        eota_mdns_query_run(s->q, pfd, n);
        if (o->watch)
            print_changes(s, o->json);
    }
}

int eota_cmd_discover(int argc, char **argv)
{
    disc_opts o;
    int rc = parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    disc_state *s = calloc(1, sizeof *s);
    if (s)
        s->b = eota_mdns_browse_new(types, 2, DISC_MAX, NULL, NULL);
    if (!s || !s->b || !(s->q = eota_mdns_query_new(eota_mdns_browse_answer, s->b))) {
        fprintf(stderr, "eota discover: cannot listen for mDNS (see above)\n");
        if (s)
            eota_mdns_browse_free(s->b);
        free(s);
        return 1;
    }
    eota_mdns_browse_start(s->b, s->q);
    listen_loop(s, &o);
    print_all(s, o.json);
    eota_mdns_query_free(s->q);
    eota_mdns_browse_free(s->b);
    free(s);
    return 0;
}
