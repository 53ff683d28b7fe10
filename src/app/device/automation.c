/*
 * automation.c: the OTA automations of `eota device` (automation.h): which
 * trigger an engine event fires, logger.log lines formatted with `x` and
 * `state`, and shell actions started in the background with the EOTA_*
 * environment.
 */
#include "automation.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "eota/protocol.h"
#include "log.h"

void dev_automations_init(dev_automations *a, const char *device)
{
    sup_init(&a->shells, SUP_MAX_CHILDREN);
    a->device = device;
    a->last_state = -1;
}

/* The trigger an event fires, with its `x`. */
static const eota_automation *event_trigger(const eota_ota_config *o, const eota_event *ev, dev_auto_vars *v)
{
    switch (ev->state) {
    case EOTA_STATE_STARTED: v->trigger = "on_begin"; return &o->on_begin;
    case EOTA_STATE_IN_PROGRESS:
        v->trigger = "on_progress";
        v->x = eota_event_percent(ev);
        return &o->on_progress;
    case EOTA_STATE_COMPLETED:
        v->trigger = "on_end";
        v->x = 100;
        return &o->on_end;
    case EOTA_STATE_ABORT: v->trigger = "on_abort"; return &o->on_abort;
    case EOTA_STATE_ERROR:
        v->trigger = "on_error";
        v->x = ev->code;
        v->x_is_int = 1;
        return &o->on_error;
    }
    return NULL;
}

void dev_automations_event(dev_automations *a, const eota_ota_config *ota, const eota_event *ev)
{
    dev_auto_vars v = {NULL, 0, 0, (int)ev->state, ev->code, a->device};
    const eota_automation *au = event_trigger(ota, ev, &v);
    if (au)
        dev_automation_run(a, au, &v);
    if ((int)ev->state != a->last_state || ev->state != EOTA_STATE_IN_PROGRESS) {
        dev_auto_vars sc = {"on_state_change", (double)ev->state, 1, (int)ev->state, ev->code, a->device};
        dev_automation_run(a, &ota->on_state_change, &sc);
    }
    a->last_state = (int)ev->state;
}

/* ---------------- shell actions ---------------- */

/* Append entry n of e, printf-style, after the `*used` bytes of e->buf. */
__attribute__((format(printf, 4, 5))) static int add_env(dev_shell_env *e, size_t *used, int n, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(e->buf + *used, sizeof e->buf - *used, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof e->buf - *used)
        return -1;
    e->entry[n] = e->buf + *used;
    *used += (size_t)w + 1;
    return 0;
}

int dev_shell_env_build(dev_shell_env *e, const dev_auto_vars *v)
{
    const char *name = eota_response_name(v->code);
    char xs[32];
    if (v->x_is_int)
        snprintf(xs, sizeof xs, "%d", (int)v->x);
    else
        snprintf(xs, sizeof xs, "%.1f", v->x);
    size_t used = 0;
    int bad = add_env(e, &used, 0, "EOTA_TRIGGER=%s", v->trigger);
    bad |= add_env(e, &used, 1, "EOTA_X=%s", xs);
    bad |= add_env(e, &used, 2, "EOTA_STATE=%s", eota_state_name((eota_state)v->state));
    bad |= add_env(e, &used, 3, "EOTA_STATE_CODE=%d", v->state);
    bad |= add_env(e, &used, 4, "EOTA_ERROR_CODE=0x%02x", v->code);
    bad |= add_env(e, &used, 5, "EOTA_ERROR_NAME=%s", v->code ? (name ? name : "UNKNOWN") : "");
    bad |= add_env(e, &used, 6, "EOTA_DEVICE=%s", v->device ? v->device : "");
    return bad ? -1 : 0;
}

static void shell_exited(void *ctx, pid_t pid, int status)
{
    (void)ctx;
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        LOGW("automation", "shell action (pid %d) exited with status %d", (int)pid, WEXITSTATUS(status));
}

static void shell_timed_out(void *ctx, pid_t pid)
{
    (void)ctx;
    LOGW("automation", "shell action (pid %d) ran past its timeout: killed", (int)pid);
}

static void run_shell(dev_automations *a, const eota_action *act, const dev_auto_vars *v)
{
    dev_shell_env env;
    if (dev_shell_env_build(&env, v) != 0) {
        LOGE("automation", "cannot start '%s': its environment is too long", act->command);
        return;
    }
    char *argv[] = {"sh", "-c", act->command, NULL};
    sup_spec spec = {"/bin/sh", argv, env.entry, DEV_SHELL_ENV_COUNT, act->timeout_ms, NULL,
                     {shell_exited, shell_timed_out, a}};
    pid_t pid = sup_spawn(&a->shells, &spec);
    if (pid == 0)
        LOGW("automation", "too many shell actions still running; '%s' not started", act->command);
    else if (pid < 0)
        LOGE("automation", "cannot start '%s': %s", act->command, strerror(errno));
    else
        LOGV("automation", "%s: started shell action (pid %d)", v->trigger, (int)pid);
}

/* ota.set_auth_password: the config reader checked that the id names the
 * ota: entry (ids are required when the entry has one). */
static void set_auth_password(dev_automations *a, const eota_action *act, const dev_auto_vars *v)
{
    if (act->id && a->ota_id && strcmp(act->id, a->ota_id) != 0)
        return;
    if (!a->set_password || a->set_password(a->set_password_ctx, act->password) != 0) {
        LOGE("automation", "%s: ota.set_auth_password could not set the password", v->trigger);
        return;
    }
    LOGI("automation", "%s: OTA password %s (effective from the next connection; a handshake in progress is refused)",
         v->trigger, act->password && *act->password ? "changed" : "turned off");
}

void dev_automation_run(dev_automations *a, const eota_automation *au, const dev_auto_vars *v)
{
    for (size_t i = 0; i < au->count; i++) {
        const eota_action *act = &au->actions[i];
        if (act->type == EOTA_ACTION_LOGGER_LOG) {
            char line[512];
            dev_automation_format(line, sizeof line, act->format ? act->format : "", act->args, act->nargs, v);
            eota_log((int)act->level, act->tag ? act->tag : "main", "%s", line);
        } else if (act->type == EOTA_ACTION_SHELL) {
            run_shell(a, act, v);
        } else if (act->type == EOTA_ACTION_SET_AUTH_PASSWORD) {
            set_auth_password(a, act, v);
        } else if (act->type == EOTA_ACTION_HTTP_FLASH) {
            if (!a->flash || a->flash(a->flash_ctx, act) != 0)
                LOGE("automation", "%s: ota.http_request.flash did not start", v->trigger);
        }
    }
}

/* ---------------- logger.log formatting ---------------- */

/* Resolve an argument expression: `x`, `state`, optionally with a C cast
 * such as `(int) x` or `(float)x`, as people write them in ESPHome. */
static int resolve(const char *expr, const dev_auto_vars *v, double *num, const char **str)
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

/* Copy a conversion spec that starts at p ('%') into spec, keeping flags,
 * width and precision and dropping length modifiers (the value's type is
 * ours). Returns the conversion character's position. */
static const char *scan_spec(const char *p, char spec[32])
{
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
    while (*q && strchr("hlzjtL", *q))
        q++;
    spec[sl++] = *q;
    spec[sl] = '\0';
    return q;
}

/* One value through a spec scan_spec checked. */
static void format_value(char *piece, size_t len, const char *spec, char conv, double num, const char *str)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    /* spec was rebuilt from a fixed set of characters, with the value
     * passed in the type its conversion expects. */
    if (strchr("di", conv) || conv == 'c')
        snprintf(piece, len, spec, (int)num);
    else if (strchr("uxXo", conv))
        snprintf(piece, len, spec, (unsigned)(long)num);
    else if (conv == 's')
        snprintf(piece, len, spec, str ? str : "");
    else
        snprintf(piece, len, spec, num);
#pragma GCC diagnostic pop
}

/* Format the conversion at *p ('%', not "%%") into piece, consuming one
 * argument; *p moves to its last character. -1 with out explained. */
static int format_one(const char **p, char *piece, size_t plen, char *out, size_t outlen, const char *fmt,
                      char *const *args, size_t nargs, size_t *ai, const dev_auto_vars *v)
{
    char spec[32];
    const char *q = scan_spec(*p, spec);
    char conv = *q;
    if (!conv || !strchr("diuxXofFeEgGcs", conv)) {
        snprintf(out, outlen, "<bad format '%s': unsupported conversion>", fmt);
        return -1;
    }
    if (*ai >= nargs) {
        snprintf(out, outlen, "<bad format '%s': more conversions than args>", fmt);
        return -1;
    }
    double num;
    const char *str;
    if (resolve(args[*ai], v, &num, &str) != 0) {
        snprintf(out, outlen, "<bad arg '%s': only x and state are known>", args[*ai]);
        return -1;
    }
    (*ai)++;
    format_value(piece, plen, spec, conv, num, str);
    *p = q;
    return 0;
}

int dev_automation_format(char *out, size_t outlen, const char *fmt, char *const *args, size_t nargs,
                          const dev_auto_vars *v)
{
    size_t o = 0, ai = 0;
    out[0] = '\0';
    for (const char *p = fmt; *p && o + 1 < outlen; p++) {
        if (*p != '%' || p[1] == '%') {
            out[o++] = *p;
            p += *p == '%';
            continue;
        }
        char piece[128];
        if (format_one(&p, piece, sizeof piece, out, outlen, fmt, args, nargs, &ai, v) != 0)
            return -1;
        for (const char *c = piece; *c && o + 1 < outlen; c++)
            out[o++] = *c;
    }
    out[o] = '\0';
    return 0;
}
