/*
 * log.c: the ESPHome-style logger of the eota command.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int current_level = 4; /* DEBUG, ESPHome's default */

void eota_log_set_level(int level) { current_level = level; }
int eota_log_get_level(void) { return current_level; }

void eota_log(int level, const char *tag, const char *fmt, ...)
{
    static const char letters[] = "?EWIDVV";
    static const char *colors[] = {"", "\033[1;31m", "\033[0;33m", "\033[0;32m", "\033[0;36m", "\033[0;37m", "\033[0;37m"};
    if (level > current_level || level < 1 || level > 6)
        return;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    int color = isatty(STDERR_FILENO);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s[%02d:%02d:%02d][%c][%s]: %s%s\n", color ? colors[level] : "", tm.tm_hour, tm.tm_min,
            tm.tm_sec, letters[level], tag, msg, color ? "\033[0m" : "");
}
