/*
 * report.h: what `eota upload` says on stdout about each device: one JSON
 * object per device as it ends (--json), or a summary table at the end of
 * a fleet. Both come from one table of fields (report.c).
 */
#ifndef EOTA_APP_UPLOAD_REPORT_H
#define EOTA_APP_UPLOAD_REPORT_H

#include <stdio.h>

#include "upload/run.h"

/* One line: the JSON object of a finished job. */
void up_report_json(const up_run *r, const up_job *j, FILE *f);

/* The table of every job, and a line that counts the failures. */
void up_report_table(const up_run *r, FILE *f);

#endif
