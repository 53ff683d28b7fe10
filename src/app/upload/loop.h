/*
 * loop.h: the one loop of `eota upload`: every device of a fleet is a job,
 * at most --jobs of them run at once, all waited on together through the
 * transport (poll() for native OTA, curl_multi_poll() for the web upload).
 */
#ifndef EOTA_APP_UPLOAD_LOOP_H
#define EOTA_APP_UPLOAD_LOOP_H

#include "upload/run.h"

/* Run every job to its end. */
void up_loop_run(up_run *r);

#endif
