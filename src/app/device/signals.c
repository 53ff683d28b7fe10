/*
 * signals.c: the signals of `eota device`, read through a signalfd in the
 * poll loop (so that they are handled between two steps of the engine,
 * never in the middle of one): SIGTERM/SIGINT stop, SIGHUP reloads the
 * config, SIGUSR1 asks for safe mode, SIGCHLD reaps the children.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "device.h"
#include "log.h"

int dev_signals_open(dev_device *d)
{
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
        return -1;
    }
    return 0;
}

/* The application and the shell actions, each reaped into its own table. */
static void reap_children(dev_device *d)
{
    sup_table *tables[] = {&d->app.procs, &d->autos.shells};
    sup_reap_all(tables, 2);
    if (dev_app_ended(&d->app))
        d->reboot_wanted = 1;
}

static void handle_one(dev_device *d, uint32_t signo)
{
    switch (signo) {
    case SIGTERM:
    case SIGINT:
        LOGI("device", "Signal %s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        d->stop = 1;
        break;
    case SIGHUP: dev_reload(d); break;
    case SIGUSR1: dev_request_safe_mode(d); break;
    case SIGCHLD: reap_children(d); break;
    default: break;
    }
}

void dev_signals_handle(dev_device *d)
{
    struct signalfd_siginfo si;
    while (read(d->sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
        handle_one(d, si.ssi_signo);
}
