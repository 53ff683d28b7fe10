/*
 * progress.h: the progress display of `eota upload` on stderr: a bar on a
 * terminal (redrawn every 100 ms), otherwise a plain line every 2 s; for
 * one device its bytes, for a fleet how many are done, failed, running and
 * waiting. Nothing with --quiet.
 */
#ifndef EOTA_APP_UPLOAD_PROGRESS_H
#define EOTA_APP_UPLOAD_PROGRESS_H

#include "upload/run.h"

#define UP_BAR_REFRESH_MS 100u
#define UP_PLAIN_PROGRESS_MS 2000u

/* Draw when it is time (force: now, as the last bar of a run). */
void up_progress(up_run *r, int force);

#endif
