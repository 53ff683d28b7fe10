/*
 * console.c: stderr lines and the progress bar (console.h).
 */
#include "upload/console.h"

#include <stdarg.h>
#include <stdio.h>

void up_console_clear(up_console *c)
{
    if (c->bar_shown) {
        fputs("\r\033[K", stderr);
        c->bar_shown = 0;
    }
}

void up_console_bar(up_console *c, const char *line)
{
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    c->bar_shown = 1;
}

static void line(up_console *c, const char *fmt, va_list ap)
{
    up_console_clear(c);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void up_say(up_console *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    line(c, fmt, ap);
    va_end(ap);
}

void up_shout(up_console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line(c, fmt, ap);
    va_end(ap);
}
