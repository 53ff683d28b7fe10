/*
 * automation.c: the OTA automations (on_begin, on_progress, ... with
 * logger.log and shell actions) of `eota device`.
 */
#include "automation.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eota/posix.h"
#include "eota/protocol.h"
#include "log.h"

/* Resolve an argument expression: `x`, `state`, optionally with a C cast
 * such as `(int) x` or `(float)x`, as people write them in ESPHome. */
static int resolve(const char *expr, const eota_auto_vars *v, double *num, const char **str)
{
    const char *p = expr;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '(') {
        const char *close = strchr(p, ')');
        if (!close)
            return -1;
        p = close + 1;
        while (isspace((unsigned char)*p))
            p++;
    }
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    if (n == 1 && p[0] == 'x') {
        *num = v->x;
        *str = NULL;
        return 0;
    }
    if (n == 5 && !strncmp(p, "state", 5)) {
        *num = v->state;
        *str = eota_state_name((eota_state)v->state);
        return 0;
    }
    return -1;
}

int eota_automation_format(char *out, size_t outlen, const char *fmt, char *const *args, size_t nargs,
                           const eota_auto_vars *v)
{
    size_t o = 0, ai = 0;
    out[0] = '\0';
    for (const char *p = fmt; *p && o + 1 < outlen; p++) {
        if (*p != '%') {
            out[o++] = *p;
            continue;
        }
        if (p[1] == '%') {
            out[o++] = '%';
            p++;
            continue;
        }
        /* Copy a validated conversion spec: flags, width, precision. */
        char spec[32];
        size_t sl = 0;
        spec[sl++] = '%';
        const char *q = p + 1;
        while (*q && strchr("-+ 0#", *q) && sl < 8)
            spec[sl++] = *q++;
        while (isdigit((unsigned char)*q) && sl < 12)
            spec[sl++] = *q++;
        if (*q == '.') {
            spec[sl++] = *q++;
            while (isdigit((unsigned char)*q) && sl < 16)
                spec[sl++] = *q++;
        }
        while (*q && strchr("hlzjtL", *q)) /* length modifiers: the value's type is ours */
            q++;
        char conv = *q;
        if (!conv || !strchr("diuxXofFeEgGcs", conv)) {
            snprintf(out, outlen, "<bad format '%s': unsupported conversion>", fmt);
            return -1;
        }
        if (ai >= nargs) {
            snprintf(out, outlen, "<bad format '%s': more conversions than args>", fmt);
            return -1;
        }
        double num;
        const char *str;
        if (resolve(args[ai++], v, &num, &str) != 0) {
            snprintf(out, outlen, "<bad arg '%s': only x and state are known>", args[ai - 1]);
            return -1;
        }
        char piece[128];
        spec[sl++] = conv;
        spec[sl] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        /* spec was rebuilt above from a fixed set of characters, with the
         * value passed in the type its conversion expects. */
        if (strchr("di", conv) || conv == 'c')
            snprintf(piece, sizeof piece, spec, (int)num);
        else if (strchr("uxXo", conv))
            snprintf(piece, sizeof piece, spec, (unsigned)(long)num);
        else if (conv == 's')
            snprintf(piece, sizeof piece, spec, str ? str : "");
        else
            snprintf(piece, sizeof piece, spec, num);
#pragma GCC diagnostic pop
        for (const char *c = piece; *c && o + 1 < outlen; c++)
            out[o++] = *c;
        p = q;
    }
    out[o] = '\0';
    return 0;
}

static void run_shell(const eota_action *act, const eota_auto_vars *v, eota_children *kids)
{
    size_t slot = EOTA_MAX_CHILDREN;
    for (size_t i = 0; i < EOTA_MAX_CHILDREN; i++)
        if (kids->pid[i] == 0) {
            slot = i;
            break;
        }
    if (slot == EOTA_MAX_CHILDREN) {
        kids->dropped++;
        LOGW("automation", "too many shell actions still running; '%s' not started", act->command);
        return;
    }
    char xs[32], st[16], code[8];
    if (v->x_is_int)
        snprintf(xs, sizeof xs, "%d", (int)v->x);
    else
        snprintf(xs, sizeof xs, "%.1f", v->x);
    snprintf(st, sizeof st, "%d", v->state);
    snprintf(code, sizeof code, "0x%02x", v->code);
    pid_t pid = fork();
    if (pid < 0) {
        LOGE("automation", "cannot start '%s': %s", act->command, strerror(errno));
        return;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        setenv("EOTA_TRIGGER", v->trigger, 1);
        setenv("EOTA_X", xs, 1);
        setenv("EOTA_STATE", eota_state_name((eota_state)v->state), 1);
        setenv("EOTA_STATE_CODE", st, 1);
        setenv("EOTA_ERROR_CODE", code, 1);
        const char *name = eota_response_name(v->code);
        setenv("EOTA_ERROR_NAME", v->code ? (name ? name : "UNKNOWN") : "", 1);
        setenv("EOTA_DEVICE", v->device ? v->device : "", 1);
        execl("/bin/sh", "sh", "-c", act->command, (char *)NULL);
        _exit(127);
    }
    kids->pid[slot] = pid;
    kids->deadline_ms[slot] = act->timeout_ms ? eota_posix_now_ms64() + act->timeout_ms : 0;
    LOGV("automation", "%s: started shell action (pid %d)", v->trigger, (int)pid);
}

void eota_automation_run(const eota_automation *a, const eota_auto_vars *v, eota_children *kids)
{
    for (size_t i = 0; i < a->count; i++) {
        const eota_action *act = &a->actions[i];
        if (act->type == EOTA_ACTION_LOGGER_LOG) {
            char line[512];
            eota_automation_format(line, sizeof line, act->format ? act->format : "", act->args, act->nargs, v);
            eota_log((int)act->level, act->tag ? act->tag : "main", "%s", line);
        } else if (act->type == EOTA_ACTION_SHELL) {
            run_shell(act, v, kids);
        }
    }
}

int eota_children_reap(eota_children *kids, pid_t pid, int status)
{
    for (size_t i = 0; i < EOTA_MAX_CHILDREN; i++)
        if (kids->pid[i] == pid && pid > 0) {
            kids->pid[i] = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                LOGW("automation", "shell action (pid %d) exited with status %d", (int)pid, WEXITSTATUS(status));
            return 1;
        }
    return 0;
}

void eota_children_check_timeouts(eota_children *kids)
{
    uint64_t t = eota_posix_now_ms64();
    for (size_t i = 0; i < EOTA_MAX_CHILDREN; i++)
        if (kids->pid[i] > 0 && kids->deadline_ms[i] && t >= kids->deadline_ms[i]) {
            LOGW("automation", "shell action (pid %d) ran past its timeout: killed", (int)kids->pid[i]);
            kill(-kids->pid[i], SIGKILL);
            kids->deadline_ms[i] = 0;
        }
}

long eota_children_next_timeout(const eota_children *kids)
{
    uint64_t t = eota_posix_now_ms64();
    long best = -1;
    for (size_t i = 0; i < EOTA_MAX_CHILDREN; i++)
        if (kids->pid[i] > 0 && kids->deadline_ms[i]) {
            long d = kids->deadline_ms[i] > t ? (long)(kids->deadline_ms[i] - t) : 0;
            if (best < 0 || d < best)
                best = d;
        }
    return best;
}
