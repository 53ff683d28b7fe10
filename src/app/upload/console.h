/*
 * console.h: the lines `eota upload` writes on stderr, and the progress
 * bar they share the terminal with: a line first clears the bar, which
 * the next refresh draws again.
 */
#ifndef EOTA_APP_UPLOAD_CONSOLE_H
#define EOTA_APP_UPLOAD_CONSOLE_H

typedef struct up_console {
    int quiet;     /* --quiet: only up_shout lines */
    int tty;       /* stderr is a terminal: a bar, not plain lines */
    int bar_shown; /* the bar is on the last line */
} up_console;

/* An event line (not with --quiet). */
void up_say(up_console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line printed even with --quiet (failures). */
void up_shout(up_console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Draw the bar line (the whole of it) in place of the last one. */
void up_console_bar(up_console *c, const char *line);

/* Clear the bar from the terminal. */
void up_console_clear(up_console *c);

#endif
