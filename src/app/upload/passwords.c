/*
 * passwords.c: the OTA passwords of a run (setup.h): the current one
 * first, then each --previous-password, tried in turn when a device
 * refuses one. They are wiped before they are freed.
 *
 * The documented ways to give a password are --password-file and the
 * environment (EOTA_PASSWORD): on the command line, any user of the
 * machine can read it (ps, /proc/PID/cmdline). Given there anyway, the
 * user is told so (unless --quiet), and --password's argument is
 * overwritten once copied so that it no longer shows (--previous-password
 * is copied by the option parser: its argument stays).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/server.h"
#include "upload/setup.h"
#include "upload/util.h"

/* The first line of the file, without its line end. */
static int read_password_file(up_run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eota upload: cannot open --password-file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n < 0) {
        free(line);
        line = up_xstrdup("");
    }
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
        line[--l] = '\0';
    r->password_file_buf = line;
    return 0;
}

static void add_password(up_run *r, const char *pw)
{
    if (r->npasswords < UP_MAX_PASSWORDS)
        r->passwords[r->npasswords++] = up_xstrdup(pw ? pw : "");
}

/* A secret on the command line: the user is told (unless --quiet). */
static void warn_argument(const up_run *r, const char *opt)
{
    if (!r->opt.quiet)
        fprintf(stderr,
                "eota upload: warning: %s on the command line can be read by other users of this machine "
                "(ps); use --password-file FILE or the EOTA_PASSWORD environment variable\n",
                opt);
}

int up_setup_passwords(up_run *r)
{
    const up_opts *o = &r->opt;
    const char *pw = NULL;
    if (o->password)
        pw = o->password;
    else if (o->password_file) {
        if (read_password_file(r, o->password_file) != 0)
            return -1;
        pw = r->password_file_buf;
    } else if (getenv("EOTA_PASSWORD"))
        pw = getenv("EOTA_PASSWORD");
    else if (r->have_cfg && r->cfg.ota.has_password)
        pw = r->cfg.ota.password;
    add_password(r, pw);
    for (size_t i = 0; i < o->previous.n; i++)
        add_password(r, o->previous.v[i]);
    if (o->password) { /* copied above: its argument is overwritten */
        warn_argument(r, "--password");
        memset((char *)(uintptr_t)o->password, 0, strlen(o->password));
    }
    if (o->previous.n)
        warn_argument(r, "--previous-password");
    for (size_t i = 0; i < r->npasswords; i++) {
        if (strlen(r->passwords[i]) > EOTA_PASSWORD_MAX) {
            fprintf(stderr, "eota upload: a password is longer than %d bytes\n", EOTA_PASSWORD_MAX);
            return -1;
        }
    }
    return 0;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    memset(s, 0, strlen(s));
    free(s);
}

void up_passwords_free(up_run *r)
{
    for (size_t i = 0; i < r->npasswords; i++)
        wipe_free(r->passwords[i]);
    r->npasswords = 0;
    wipe_free(r->password_file_buf);
    r->password_file_buf = NULL;
}
