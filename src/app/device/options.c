/*
 * options.c: the command line of `eota device` (options.h): getopt_long
 * over the options, and the --help text.
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: eota device --config FILE.yaml [--state-dir DIR] [OPTIONS]\n"
            "\n"
            "Serve ESPHome's native OTA protocol as a device: uploads go to the inactive\n"
            "A/B slot in the state directory, are verified and committed atomically, and\n"
            "the application of the config's `app:` block is restarted on the new image.\n"
            "The platform block (host:, esp32:, esp8266:, rp2040:, bk72xx:, rtl87xx:,\n"
            "ln882x:) makes the device behave like that chip on the wire.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE     the ESPHome-style YAML config (required)\n"
            "  -s, --state-dir DIR   slots and boot state (default: /var/lib/eota/NAME as\n"
            "                        root, else ~/.local/state/eota/NAME); one device\n"
            "                        per directory; a read-only one runs the installed\n"
            "                        image with updates off\n"
            "  -l, --listen ADDR     address to listen on; repeatable (default: 0.0.0.0 and ::)\n"
            "  -p, --port PORT       override the OTA port of the config\n"
            "      --web-port PORT   override the port of the config's web_server: block\n"
            "      --mdns WAY        how NAME.local and _eota._tcp are published: auto\n"
            "                        (avahi-daemon when it runs, else embedded; the\n"
            "                        default), avahi, embedded, or off (as the config's\n"
            "                        mdns: disabled: true)\n"
            "      --show-state      print the boot state of --state-dir (active slot,\n"
            "                        slot states, boot attempts) and exit; safe while a\n"
            "                        device runs on it\n"
            "  -v, --verbose         log at VERBOSE level\n"
            "  -q, --quiet           log warnings and errors only\n"
            "  -h, --help            this text\n"
            "\n"
            "Boot: every start and every reboot counts a boot attempt; a new image runs\n"
            "on trial and is confirmed after safe_mode: boot_is_good_after (1 min) of\n"
            "running; an application that exits before that makes the device reboot,\n"
            "which rolls a trial image back, and after num_attempts (10) failed boots\n"
            "the device enters safe mode (OTA only) for reboot_timeout (5 min).\n"
            "\n"
            "signals: SIGTERM/SIGINT stop cleanly (an upload in progress is discarded;\n"
            "the boot counts as good); SIGHUP rereads the config's password (effective\n"
            "from the next connection); SIGUSR1 requests safe mode and reboots into it\n"
            "(the stock safe-mode button).\n"
            "\n"
            "example:\n"
            "  eota device --config living-room.yaml --state-dir /tmp/lr\n");
}

const char *const dev_mdns_ways[4] = {"auto", "avahi", "embedded", "off"};

/* A port number of an option, 1 to 65535; 0 after saying what is wrong. */
static long parse_port(const char *opt, const char *arg)
{
    char *end;
    long port = strtol(arg, &end, 10);
    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "eota device: %s: expected 1 to 65535, got '%s'\n", opt, arg);
        return 0;
    }
    return port;
}

/* One option; -1 to go on, else the exit code. */
static int take_option(dev_opts *o, int c, char *arg)
{
    switch (c) {
    case 'c': o->config_path = arg; break;
    case 's': o->state_dir = arg; break;
    case 'l':
        if (o->nlisten == DEV_MAX_LISTEN) {
            fprintf(stderr, "eota device: at most %d --listen addresses\n", DEV_MAX_LISTEN);
            return 2;
        }
        o->listen[o->nlisten++] = arg;
        break;
    case 'p': return (o->port = parse_port("--port", arg)) ? -1 : 2;
    case 'W': return (o->web_port = parse_port("--web-port", arg)) ? -1 : 2;
    case 'S': o->show_state = 1; break;
    case 'M':
        for (o->mdns = 0; o->mdns < 4 && strcmp(arg, dev_mdns_ways[o->mdns]); o->mdns++)
            ;
        if (o->mdns < 4)
            break;
        fprintf(stderr, "eota device: --mdns: expected auto, avahi, embedded or off, got '%s'\n", arg);
        return 2;
    case 'v': o->verbose = 1; break;
    case 'q': o->quiet = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
    return -1;
}

int dev_options_parse(dev_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"state-dir", required_argument, 0, 's'},
        {"listen", required_argument, 0, 'l'}, {"port", required_argument, 0, 'p'},
        {"verbose", no_argument, 0, 'v'},      {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {"web-port", required_argument, 0, 'W'},
        {"show-state", no_argument, 0, 'S'},   {"mdns", required_argument, 0, 'M'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:s:l:p:vqh", opts, NULL)) != -1) {
        int rc = take_option(o, c, optarg);
        if (rc >= 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "eota device: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}
