/*
 * options.h: the command line of `eota device`: its options and --help.
 */
#ifndef EOTA_APP_DEVICE_OPTIONS_H
#define EOTA_APP_DEVICE_OPTIONS_H

#define DEV_MAX_LISTEN 8

typedef struct dev_opts {
    const char *config_path;       /* --config */
    const char *state_dir;         /* --state-dir; NULL: the default */
    char *listen[DEV_MAX_LISTEN];  /* --listen addresses; none: 0.0.0.0 and :: */
    int nlisten;
    long port;                     /* --port; 0: the config's */
    long web_port;                 /* --web-port; 0: the config's */
    int show_state;                /* --show-state */
    int mdns;                      /* --mdns: index in dev_mdns_ways (eota_mdns_backend, 3: off) */
    int verbose, quiet;
} dev_opts;

extern const char *const dev_mdns_ways[4];

/* Parse the command line (argv[0] is "device"). Returns -1 when the device
 * is to run (or --show-state to be done), else the exit code: 0 after
 * --help, 2 after a usage error (said on stderr). */
int dev_options_parse(dev_opts *o, int argc, char **argv);

#endif
