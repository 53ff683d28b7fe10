/*
 * run.h: one run of `eota upload`: the options, what they settled to (the
 * config, the firmware, the passwords, the transport), the image, the
 * jobs, and the console. Made by cmd.c, read by every part.
 */
#ifndef EOTA_APP_UPLOAD_RUN_H
#define EOTA_APP_UPLOAD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "upload/console.h"
#include "upload/image.h"
#include "upload/job.h"
#include "upload/opts.h"
#include "upload/transport.h"

#define UP_MAX_PASSWORDS 64
#define UP_MAX_KEYS 16 /* the current encryption key and --previous-key */
#define UP_KEY_LEN 32

typedef struct up_rollout up_rollout; /* rollout.h */

typedef struct up_run {
    up_opts opt;
    eota_config cfg;
    int have_cfg;
    const char *config_path;
    const char *firmware;         /* the image to send */
    char *firmware_owned;
    char *passwords[UP_MAX_PASSWORDS]; /* the current one, then --previous-password */
    size_t npasswords;
    char *password_file_buf;
    uint8_t keys[UP_MAX_KEYS][UP_KEY_LEN]; /* the current one, then --previous-key */
    size_t nkeys;                 /* 0: no key, plaintext as before */
    char key_from[320];           /* where the current key came from, for messages */
    int key_strict;               /* never plaintext to a device that does not
                                     offer Noise (a key not only from api:) */
    uint16_t default_port;        /* for devices given without one */
    up_image img;
    const up_transport *tp;
    void *tp_state;               /* the transport's state for the run */
    up_job *jobs;
    size_t njobs;
    struct up_resolver *resolver; /* the names (resolve.h), made by the first job */
    up_console con;
    uint64_t t0, last_draw;       /* the progress display's clock */
    up_rollout *ro;               /* a staged rollout, or NULL */
} up_run;

void up_run_free(up_run *r);

#endif
