/*
 * device.c: `eota device`, a real device for Linux boards and a faithful
 * simulator of ESPHome devices. It serves the native OTA protocol with the
 * engine over non-blocking sockets (IPv4 and IPv6, one poll loop), writes
 * uploads into the inactive A/B slot, and runs the application from the
 * active slot as a child process, restarting it on the new image after an
 * update ("reboot").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>

#include "automation.h"
#include "cli.h"
#include "config.h"
#include "eota/posix.h"
#include "eota/safemode.h"
#include "eota/server.h"
#include "log.h"
#include "net.h"
#include "slots.h"
#include "storage.h"
#include "web.h"

#define TAG "ota"
#define MAX_LISTEN 8
#define XFER_SIZE 65536

typedef struct device {
    eota_config cfg;
    const char *config_path;
    char state_dir[4096];
    eota_slots slots;
    eota_storage storage;
    eota_server srv;
    eota_posix_hash hash;
    uint8_t *xfer;
    /* Two connection slots: the engine may hand over from a failed session
     * that lingers for its error byte to a new client, so the new one needs
     * a slot of its own. A slot is free when its fd is -1 (the engine's
     * close sets that). */
    eota_posix_conn conns[2];
    int listen_fd[MAX_LISTEN];
    int nlisten;
    int sig_fd;
    pid_t app_pid;
    uint64_t app_started_ms;
    eota_children kids;
    int last_state;
    uint64_t upload_started_ms;
    int verbose;
    eota_web *web; /* web_server: (web.c); NULL without one */
    eota_safe_mode_config smcfg;
    eota_boot_decision dec; /* this boot's decision */
    eota_safe_mode sm;      /* this boot's confirmation and safe-mode timers */
    int reboot_wanted;      /* reboot once no upload runs */
    long web_port; /* --web-port, 0: the config's */
} device;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: eota device --config FILE.yaml [--state-dir DIR] [OPTIONS]\n"
            "\n"
            "Serve ESPHome's native OTA protocol as a device: uploads go to the inactive\n"
            "A/B slot in the state directory, are verified and committed atomically, and\n"
            "the application of the config's `app:` block is restarted on the new image.\n"
            "The platform block (host:, esp32:, esp8266:, rp2040:, bk72xx:, rtl87xx:,\n"
            "ln882x:) makes the device behave like that chip on the wire.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE     the ESPHome-style YAML config (required)\n"
            "  -s, --state-dir DIR   slots and boot state (default: /var/lib/eota/NAME as\n"
            "                        root, else ~/.local/state/eota/NAME)\n"
            "  -l, --listen ADDR     address to listen on; repeatable (default: 0.0.0.0 and ::)\n"
            "  -p, --port PORT       override the OTA port of the config\n"
            "      --web-port PORT   override the port of the config's web_server: block\n"
            "      --show-state      print the boot state of --state-dir (active slot,\n"
            "                        slot states, boot attempts) and exit; safe while a\n"
            "                        device runs on it\n"
            "  -v, --verbose         log at VERBOSE level\n"
            "  -q, --quiet           log warnings and errors only\n"
            "  -h, --help            this text\n"
            "\n"
            "Boot: every start and every reboot counts a boot attempt; a new image runs\n"
            "on trial and is confirmed after safe_mode: boot_is_good_after (1 min) of\n"
            "running; an application that exits before that makes the device reboot,\n"
            "which rolls a trial image back, and after num_attempts (10) failed boots\n"
            "the device enters safe mode (OTA only) for reboot_timeout (5 min).\n"
            "\n"
            "signals: SIGTERM/SIGINT stop cleanly (an upload in progress is discarded;\n"
            "the boot counts as good); SIGHUP rereads the config's password (effective\n"
            "from the next connection); SIGUSR1 requests safe mode and reboots into it\n"
            "(the stock safe-mode button).\n"
            "\n"
            "example:\n"
            "  eota device --config living-room.yaml --state-dir /tmp/lr\n");
}

static uint64_t now_ms(void) { return eota_posix_now_ms64(); }

/* ---------------- engine events -> logs and automations ---------------- */

static void run_trigger(device *d, const char *trigger, const eota_automation *a, const eota_event *ev, double x,
                        int x_is_int)
{
    if (!a->count)
        return;
    eota_auto_vars v = {trigger, x, x_is_int, (int)ev->state, ev->code, d->cfg.name};
    eota_automation_run(a, &v, &d->kids);
}

static void on_event(void *ctx, const eota_event *ev)
{
    device *d = ctx;
    const eota_ota_config *o = &d->cfg.ota;
    double pct = eota_event_percent(ev);
    switch (ev->state) {
    case EOTA_STATE_STARTED:
        d->upload_started_ms = now_ms();
        LOGI(TAG, "Starting update of %u bytes", ev->total);
        run_trigger(d, "on_begin", &o->on_begin, ev, 0, 0);
        break;
    case EOTA_STATE_IN_PROGRESS:
        LOGD(TAG, "Progress: %.1f%%", pct);
        run_trigger(d, "on_progress", &o->on_progress, ev, pct, 0);
        break;
    case EOTA_STATE_COMPLETED: {
        double secs = (double)(now_ms() - d->upload_started_ms) / 1000.0;
        LOGI(TAG, "Update complete: %u bytes in %.1f s", ev->total, secs);
        run_trigger(d, "on_end", &o->on_end, ev, 100, 0);
        break;
    }
    case EOTA_STATE_ABORT:
        LOGW(TAG, "Update aborted");
        run_trigger(d, "on_abort", &o->on_abort, ev, 0, 0);
        break;
    case EOTA_STATE_ERROR: {
        const char *name = eota_response_name(ev->code);
        LOGE(TAG, "Update failed: %s (0x%02X): %s%s%s", name ? name : "?", ev->code,
             eota_response_describe(ev->code), d->storage.why[0] ? "; " : "", d->storage.why);
        run_trigger(d, "on_error", &o->on_error, ev, ev->code, 1);
        break;
    }
    }
    if ((int)ev->state != d->last_state || ev->state != EOTA_STATE_IN_PROGRESS)
        run_trigger(d, "on_state_change", &o->on_state_change, ev, (double)ev->state, 1);
    d->last_state = (int)ev->state;
    eota_web_note_event(d->web, ev); /* the page's "last update" */
}

/* web.c: web uploads get 409 while a native upload holds the backend */
static int native_busy(void *ctx) { return eota_server_busy(&((device *)ctx)->srv); }

static void on_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg)
{
    (void)ctx;
    if (arg)
        eota_log((int)level, TAG, "%s (%u)", msg, arg);
    else
        eota_log((int)level, TAG, "%s", msg);
}

/* ---------------- the application ---------------- */

static char *replace_image(const char *arg, const char *image)
{
    const char *pat = "{image}";
    size_t count = 0;
    for (const char *p = strstr(arg, pat); p; p = strstr(p + 7, pat))
        count++;
    size_t len = strlen(arg) + count * strlen(image) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = arg; *p;) {
        if (!strncmp(p, pat, 7)) {
            o = stpcpy(o, image);
            p += 7;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void start_app(device *d)
{
    if (!d->cfg.app.present)
        return;
    if (!d->slots.active) {
        LOGW("app", "No image installed yet: waiting for an upload before starting the application");
        return;
    }
    char image[4096];
    eota_slots_path(&d->slots, d->slots.active, image, sizeof image);
    if (chmod(image, 0755) != 0)
        LOGW("app", "chmod %s: %s", image, strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        LOGE("app", "cannot start the application: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        setenv("EOTA_IMAGE", image, 1);
        setenv("EOTA_SLOT", d->slots.active == 'a' ? "a" : "b", 1);
        setenv("EOTA_DEVICE", d->cfg.name, 1);
        for (size_t i = 0; i < d->cfg.app.nenv; i++)
            putenv(d->cfg.app.env[i]);
        char **argv = calloc(d->cfg.app.argc + 1, sizeof *argv);
        if (!argv)
            _exit(127);
        for (size_t i = 0; i < d->cfg.app.argc; i++)
            if (!(argv[i] = replace_image(d->cfg.app.argv[i], image)))
                _exit(127);
        execvp(argv[0], argv);
        fprintf(stderr, "eota device: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    d->app_pid = pid;
    d->app_started_ms = now_ms();
    LOGI("app", "Started the application from slot %c (pid %d): %s", d->slots.active, (int)pid, image);
}

static void stop_app(device *d)
{
    if (d->app_pid <= 0)
        return;
    LOGI("app", "Stopping the application (pid %d)", (int)d->app_pid);
    kill(-d->app_pid, SIGTERM);
    kill(d->app_pid, SIGTERM);
    uint64_t deadline = now_ms() + d->cfg.app.stop_timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(d->app_pid, &status, WNOHANG);
        if (r == d->app_pid || (r < 0 && errno == ECHILD))
            break;
        if (now_ms() >= deadline) {
            LOGW("app", "The application did not stop within %u ms: killing it", d->cfg.app.stop_timeout_ms);
            kill(-d->app_pid, SIGKILL);
            kill(d->app_pid, SIGKILL);
            waitpid(d->app_pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    d->app_pid = 0;
}

/* ---------------- sockets ---------------- */

static void describe_peer(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(buf, len, "%s:%u", host, port);
}

/* Returns the number of connections handed to the engine (not turned away). */
static int accept_clients(device *d, int lfd)
{
    int taken = 0;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                LOGW(TAG, "accept: %s", strerror(errno));
            return taken;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[80];
        describe_peer(fd, peer, sizeof peer);
        if (eota_web_busy(d->web)) { /* one upload at a time: a web upload runs */
            LOGW(TAG, "Connection from %s turned away: a web upload is in progress", peer);
            close(fd);
            continue;
        }
        eota_posix_conn *slot = d->conns[0].fd < 0 ? &d->conns[0] : &d->conns[1];
        slot->fd = fd;
        if (eota_server_accept(&d->srv, slot) != EOTA_OK) { /* the engine closed it */
            LOGW(TAG, "Connection from %s turned away: an upload is in progress", peer);
            continue;
        }
        d->storage.why[0] = '\0';
        LOGD(TAG, "Connection from %s", peer);
        taken++;
    }
}

/* ---------------- configuration ---------------- */

/* The password in force: the ota: entry's, or the last one set by an
 * esphome: on_boot: ota.set_auth_password action for one of its ids. */
static const char *effective_password(const eota_config *c)
{
    const char *pw = c->ota.password;
    for (size_t i = 0; i < c->on_boot.count; i++) {
        const eota_action *a = &c->on_boot.actions[i];
        if (a->type != EOTA_ACTION_SET_AUTH_PASSWORD)
            continue;
        if (a->id && c->ota.id && !strcmp(a->id, c->ota.id))
            pw = a->password;
    }
    return pw;
}

static void reload(device *d)
{
    eota_config fresh;
    char err[1024];
    if (eota_config_load(d->config_path, &fresh, err, sizeof err) != 0) {
        LOGE("config", "Reload refused, keeping the running settings: %s", err);
        return;
    }
    const char *pw = effective_password(&fresh);
    if (eota_server_set_password(&d->srv, pw) != EOTA_OK) {
        LOGE("config", "Reload refused: the password is longer than %d bytes", EOTA_PASSWORD_MAX);
        eota_config_free(&fresh);
        return;
    }
    LOGI("config", "Reloaded %s: password %s (effective from the next connection)", d->config_path,
         pw && *pw ? "set" : "off");
    if (!d->verbose)
        eota_log_set_level((int)fresh.log_level);
    eota_config_free(&fresh);
}

static int default_state_dir(const char *name, char *buf, size_t len)
{
    if (geteuid() == 0)
        return snprintf(buf, len, "/var/lib/eota/%s", name) < (int)len ? 0 : -1;
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && *xdg)
        return snprintf(buf, len, "%s/eota/%s", xdg, name) < (int)len ? 0 : -1;
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/tmp";
    }
    return snprintf(buf, len, "%s/.local/state/eota/%s", home, name) < (int)len ? 0 : -1;
}

/* ---------------- the loop ---------------- */

static void handle_signals(device *d, int *stop)
{
    struct signalfd_siginfo si;
    while (read(d->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            LOGI("device", "Signal %s: shutting down", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            *stop = 1;
            break;
        case SIGHUP:
            reload(d);
            break;
        case SIGUSR1:
            if (d->smcfg.disabled) {
                LOGW("safe_mode", "SIGUSR1: safe mode is disabled in the config; ignored");
                break;
            }
            LOGW("safe_mode", "SIGUSR1: safe mode requested; rebooting into it");
            eota_safe_mode_request(&d->sm);
            d->reboot_wanted = 1;
            break;
        case SIGCHLD:
            for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                    break;
                if (pid == d->app_pid) {
                    d->app_pid = 0;
                    if (WIFEXITED(status))
                        LOGW("app", "The application exited with status %d: rebooting", WEXITSTATUS(status));
                    else if (WIFSIGNALED(status))
                        LOGW("app", "The application was killed by signal %d: rebooting", WTERMSIG(status));
                    d->reboot_wanted = 1;
                } else {
                    eota_children_reap(&d->kids, pid, status);
                }
            }
            break;
        default: break;
        }
    }
}

static uint32_t now32(void) { return (uint32_t)eota_posix_now_ms64(); }

/* A boot, as the bootloader and the start of the firmware would do it: the
 * boot state is read again, the attempt counted (first), the slot chosen
 * (a trial image that never got confirmed is rolled back), safe mode decided;
 * then the application starts, or only the OTA server runs. */
static void boot(device *d)
{
    char err[512];
    if (eota_slots_reload(&d->slots, err, sizeof err) != 0)
        LOGE("boot", "%s", err);
    eota_boot_decision *dec = &d->dec;
    int rc = eota_boot(&d->slots.bs, &d->smcfg, dec);
    if (rc != EOTA_OK)
        LOGE("boot", "Writing the boot state failed (status %d); booting anyway", rc);
    d->slots.active = eota_slot_letter(dec->slot);
    eota_safe_mode_begin(&d->sm, &d->slots.bs, &d->smcfg, dec, now32());
    if (dec->invalidated >= 0)
        LOGW("boot", "Slot %c marked invalid", eota_slot_letter(dec->invalidated));
    if (dec->rolled_back)
        LOGW("boot", "The image on trial was never confirmed: rolled back to slot %c", d->slots.active);
    if (dec->slot >= 0)
        LOGI("boot", "Boot attempt %u: slot %c%s", dec->attempts + 1, d->slots.active,
             dec->trial ? (dec->trial_started ? " (new image, on trial)" : " (on trial)") : "");
    else
        LOGI("boot", "Boot attempt %u: no image", dec->attempts + 1);
    if (dec->safe_mode) {
        LOGW("safe_mode", "Entering safe mode%s: only OTA runs, for %u s", dec->requested ? " (requested)" : " after failed boots",
             d->smcfg.reboot_timeout_ms / 1000);
        if (d->cfg.safe_mode.on_safe_mode.count) {
            eota_event ev = {EOTA_STATE_STARTED, 0, 0, 0};
            eota_auto_vars v = {"on_safe_mode", 0, 0, (int)ev.state, 0, d->cfg.name};
            eota_automation_run(&d->cfg.safe_mode.on_safe_mode, &v, &d->kids);
        }
        return;
    }
    if (dec->trial)
        LOGI("boot", "Slot %c runs on trial: confirmed after %u s of running, rolled back if it fails first",
             d->slots.active, d->smcfg.boot_is_good_after_ms / 1000);
    start_app(d);
}

static void reboot(device *d)
{
    LOGI("device", "Rebooting");
    stop_app(d);
    boot(d);
}

static int run(device *d)
{
    int stop = 0;
    while (!stop) {
        struct pollfd pfd[MAX_LISTEN + 2 + EOTA_WEB_MAX_FDS];
        int n = 0;
        pfd[n++] = (struct pollfd){d->sig_fd, POLLIN, 0};
        /* A session that only says goodbye ends within a second: a new
         * client waits in the backlog for it instead of being turned away
         * (often it is the same uploader, back for another image). */
        short lev = eota_server_finishing(&d->srv) ? 0 : POLLIN;
        for (int i = 0; i < d->nlisten; i++)
            pfd[n++] = (struct pollfd){d->listen_fd[i], lev, 0};
        int conn_idx = -1;
        const eota_posix_conn *cur = d->conns[0].fd >= 0 ? &d->conns[0] : &d->conns[1];
        if (eota_server_busy(&d->srv) && cur->fd >= 0) {
            unsigned w = eota_server_wants(&d->srv);
            short ev = (short)(((w & EOTA_WANT_READ) ? POLLIN : 0) | ((w & EOTA_WANT_WRITE) ? POLLOUT : 0));
            conn_idx = n;
            pfd[n++] = (struct pollfd){cur->fd, ev, 0};
        }
        n += eota_web_pollfds(d->web, pfd + n, EOTA_WEB_MAX_FDS);
        long timeout = eota_server_timeout_ms(&d->srv);
        long kt = eota_children_next_timeout(&d->kids);
        if (kt >= 0 && (timeout < 0 || kt < timeout))
            timeout = kt;
        long st = eota_safe_mode_timeout_ms(&d->sm, now32());
        if (st >= 0 && (timeout < 0 || st < timeout))
            timeout = st;
        if (d->reboot_wanted && timeout < 0)
            timeout = 100;
        long wt = eota_web_timeout_ms(d->web);
        if (wt >= 0 && (timeout < 0 || wt < timeout))
            timeout = wt;
        int r = poll(pfd, (nfds_t)n, timeout < 0 ? -1 : (int)(timeout > 60000 ? 60000 : timeout));
        if (r < 0 && errno != EINTR) {
            LOGE("device", "poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[0].revents & POLLIN)
            handle_signals(d, &stop);
        if (stop)
            break;
        (void)conn_idx;
        /* The running session first: a client that just sent its final
         * 00 and reconnected at once must find the device free, not be
         * turned away because that 00 was still unread. */
        if (eota_server_poll(&d->srv) == EOTA_SERVER_REBOOT)
            reboot(d);
        int accepted = 0;
        for (int i = 0; i < d->nlisten; i++)
            if (pfd[1 + i].revents & POLLIN)
                accepted += accept_clients(d, d->listen_fd[i]);
        /* a new client is served at once (its magic may be there already) */
        if (accepted && eota_server_poll(&d->srv) == EOTA_SERVER_REBOOT)
            reboot(d);
        eota_children_check_timeouts(&d->kids);
        if (eota_web_run(d->web)) /* 100 ms after a web upload's success reply */
            reboot(d);
        switch (eota_safe_mode_poll(&d->sm, now32())) {
        case EOTA_SAFE_MODE_CONFIRMED:
            LOGI("boot", "Boot is good: %s", d->dec.trial ? "the image on trial is confirmed" : "boot counter cleared");
            break;
        case EOTA_SAFE_MODE_REBOOT:
            if (!d->reboot_wanted)
                LOGI("safe_mode", "Safe mode is over: rebooting");
            d->reboot_wanted = 1;
            break;
        default: break;
        }
        /* A reboot waits for the upload in progress: that upload ends in a
         * reboot of its own when it succeeds. */
        if (d->reboot_wanted && !eota_server_busy(&d->srv) && !eota_web_busy(d->web)) {
            d->reboot_wanted = 0;
            reboot(d);
        }
    }
    if (eota_server_busy(&d->srv)) {
        LOGW(TAG, "Upload in progress discarded by the shutdown");
        eota_server_cancel(&d->srv);
    }
    stop_app(d);
    /* An orderly shutdown: the boot counts as good, as on a stock device. */
    eota_safe_mode_shutdown(&d->sm);
    return 0;
}

static int setup_listeners(device *d, char **addrs, int naddrs, uint16_t port)
{
    char err[512];
    static char *defaults[] = {"0.0.0.0", "::"};
    int use_default = naddrs == 0;
    if (use_default) {
        addrs = defaults;
        naddrs = 2;
    }
    for (int i = 0; i < naddrs && d->nlisten < MAX_LISTEN; i++) {
        /* A small backlog, as stock devices have: the engine turns away a
         * second client itself, at once. */
        int fd = eota_net_listen(addrs[i], port, 4, NULL, err, sizeof err);
        if (fd < 0) {
            if (use_default && i == 1 && d->nlisten > 0) {
                LOGW("device", "IPv6 not available (%s): IPv4 only", err);
                continue;
            }
            LOGE("device", "%s", err);
            return -1;
        }
        d->listen_fd[d->nlisten++] = fd;
        LOGI("device", "Listening for OTA on [%s]:%u", addrs[i], port);
    }
    return 0;
}

int eota_cmd_device(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"state-dir", required_argument, 0, 's'},
        {"listen", required_argument, 0, 'l'}, {"port", required_argument, 0, 'p'},
        {"verbose", no_argument, 0, 'v'},      {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {"web-port", required_argument, 0, 'W'},
        {"show-state", no_argument, 0, 'S'},
        {0, 0, 0, 0}};
    device *d = calloc(1, sizeof *d);
    if (!d) {
        fprintf(stderr, "eota device: out of memory\n");
        return 1;
    }
    const char *state_dir = NULL;
    char *listen_addrs[MAX_LISTEN];
    int nlisten_addrs = 0, quiet = 0, rc = 2, show_state = 0;
    long port_override = 0;
    d->conns[0].fd = d->conns[1].fd = -1;
    d->slots.ff.fd = -1;
    d->sig_fd = -1;
    d->last_state = -1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:s:l:p:vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': d->config_path = optarg; break;
        case 's': state_dir = optarg; break;
        case 'l':
            if (nlisten_addrs == MAX_LISTEN) {
                fprintf(stderr, "eota device: at most %d --listen addresses\n", MAX_LISTEN);
                goto out;
            }
            listen_addrs[nlisten_addrs++] = optarg;
            break;
        case 'p': {
            char *end;
            port_override = strtol(optarg, &end, 10);
            if (*end || port_override < 1 || port_override > 65535) {
                fprintf(stderr, "eota device: --port: expected 1 to 65535, got '%s'\n", optarg);
                goto out;
            }
            break;
        }
        case 'W': {
            char *end;
            d->web_port = strtol(optarg, &end, 10);
            if (*end || d->web_port < 1 || d->web_port > 65535) {
                fprintf(stderr, "eota device: --web-port: expected 1 to 65535, got '%s'\n", optarg);
                goto out;
            }
            break;
        }
        case 'S': show_state = 1; break;
        case 'v': d->verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "eota device: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    if (show_state) {
        char serr[1024];
        if (!state_dir) {
            fprintf(stderr, "eota device: --show-state needs --state-dir DIR\n");
            goto out;
        }
        if (eota_slots_show(state_dir, stdout, serr, sizeof serr) != 0) {
            fprintf(stderr, "eota device: %s\n", serr);
            rc = 1;
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (!d->config_path) {
        fprintf(stderr, "eota device: --config FILE.yaml is required (see --help)\n");
        goto out;
    }
    char err[1024];
    if (eota_config_load(d->config_path, &d->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "eota device: %s\n", err);
        goto out;
    }
    eota_log_set_level(d->verbose ? 5 : quiet ? 2 : (int)d->cfg.log_level);
    rc = 1;
    if (state_dir)
        snprintf(d->state_dir, sizeof d->state_dir, "%s", state_dir);
    else if (default_state_dir(d->cfg.name, d->state_dir, sizeof d->state_dir) != 0) {
        fprintf(stderr, "eota device: state directory path too long\n");
        goto out;
    }
    if (eota_slots_open(&d->slots, d->state_dir, err, sizeof err) != 0) {
        fprintf(stderr, "eota device: %s\n", err);
        goto out;
    }
    uint16_t port = port_override ? (uint16_t)port_override : d->cfg.ota.port;

    /* Signals arrive through a descriptor in the poll loop. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    d->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->sig_fd < 0) {
        fprintf(stderr, "eota device: signalfd: %s\n", strerror(errno));
        goto out;
    }

    LOGI("device", "eota device %s: '%s', platform %s, state in %s", EOTA_CLI_VERSION, d->cfg.name,
         d->cfg.profile->platform, d->state_dir);
    const char *pw = effective_password(&d->cfg);
    LOGI("device", "OTA: port %u, protocol version %u, password %s%s, gzip %s, slot size %u bytes", port,
         d->cfg.ota.version, pw && *pw ? "set" : "off", d->cfg.ota.allow_md5_auth ? " (MD5 allowed)" : "",
         d->cfg.profile->gzip ? "accepted" : "not accepted", d->cfg.slot_size);
    if (d->cfg.ota.allow_md5_auth)
        LOGW("device", "allow_md5_auth is on: uploaders without SHA-256 may authenticate with legacy MD5");
    if (d->cfg.simulate.present && (d->cfg.simulate.flash_write_speed || d->cfg.simulate.fail_at))
        LOGW("device", "simulate: flash speed %llu B/s, injected failure %d (code 0x%02X)",
             (unsigned long long)d->cfg.simulate.flash_write_speed, (int)d->cfg.simulate.fail_at,
             d->cfg.simulate.fail_code);

    if (eota_posix_hash_init(&d->hash) != EOTA_OK) {
        fprintf(stderr, "eota device: OpenSSL hash context unavailable\n");
        goto out;
    }
    eota_storage_stack(&d->storage, &d->slots, &d->cfg);

    d->xfer = malloc(XFER_SIZE);
    if (!d->xfer) {
        fprintf(stderr, "eota device: out of memory\n");
        goto out;
    }
    eota_server_config sc;
    memset(&sc, 0, sizeof sc);
    sc.transport = &eota_posix_transport;
    sc.clock = eota_posix_clock();
    sc.random = eota_posix_random();
    sc.hash = eota_posix_hash_seam(&d->hash);
    sc.backend = d->storage.backend;
    sc.events.on_event = on_event;
    sc.events.on_log = on_log;
    sc.events.ctx = d;
    sc.password = pw;
    sc.version = d->cfg.ota.version;
    sc.allow_md5_auth = d->cfg.ota.allow_md5_auth;
    sc.too_big_code = d->cfg.profile->too_big_code; /* the chip's "not enough space" */
    /* A simulated chip acknowledges a block once it is written, as stock
     * firmware does; the Linux device acknowledges on arrival, so that even
     * a stop-and-wait uploader overlaps the network with the disk. */
    sc.ack_after_write = d->cfg.profile->ack_after_write;
    if (eota_server_init(&d->srv, &sc, d->xfer, XFER_SIZE) != EOTA_OK) {
        fprintf(stderr, "eota device: the password is longer than %d bytes\n", EOTA_PASSWORD_MAX);
        goto out;
    }
    if (setup_listeners(d, listen_addrs, nlisten_addrs, port) != 0)
        goto out;
    {
        eota_web_opts wo = {&d->cfg, &d->slots, &d->storage, listen_addrs, nlisten_addrs, (uint16_t)d->web_port,
                            on_event, native_busy, d};
        if (eota_web_start(&d->web, &wo) != 0)
            goto out;
    }
    d->smcfg.num_attempts = d->cfg.safe_mode.num_attempts;
    d->smcfg.reboot_timeout_ms = d->cfg.safe_mode.reboot_timeout_ms;
    d->smcfg.boot_is_good_after_ms = d->cfg.safe_mode.boot_is_good_after_ms;
    d->smcfg.disabled = d->cfg.safe_mode.disabled;
    boot(d);
    rc = run(d);
    LOGI("device", "Stopped");

out:
    eota_web_stop(d->web); /* aborts a web upload in progress */
    d->web = NULL;
    for (int i = 0; i < d->nlisten; i++)
        close(d->listen_fd[i]);
    if (d->sig_fd >= 0)
        close(d->sig_fd);
    for (int i = 0; i < 2; i++)
        if (d->conns[i].fd >= 0)
            close(d->conns[i].fd);
    if (d->hash.md_ctx)
        eota_posix_hash_free(&d->hash);
    free(d->xfer);
    eota_slots_close(&d->slots);
    eota_config_free(&d->cfg);
    free(d);
    return rc;
}
