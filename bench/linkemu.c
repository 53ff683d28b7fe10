/*
 * linkemu.c: a user-space link emulator for the benchmarks (tc netem is not
 * available here). A TCP proxy that holds every byte for a one-way delay in
 * each direction (RTT = 2 x delay) and optionally limits the rate, so that an
 * uploader on loopback sees a Wi-Fi-like link to the device.
 *
 *   linkemu --listen PORT --to HOST:PORT --delay-ms D [--rate BYTES_PER_S]
 *           [--buffer BYTES] [--max-conns N]
 *
 * Each accepted connection gets its own upstream connection. Bytes read from
 * one side are stamped with (now + delay) and written to the other side when
 * due; at most --buffer bytes (default 4 MiB) are held per direction, after
 * which reading stops (the sender's TCP window closes, as on a real link).
 * An end of stream is passed on (shutdown) once the bytes before it are out.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct chunk {
    struct chunk *next;
    uint64_t due_us;
    size_t len, off;
    uint8_t data[];
} chunk;

typedef struct dir {
    int from, to;
    chunk *head, *tail;
    size_t held;
    int eof_in;   /* source ended */
    int eof_out;  /* shutdown passed on */
    double tokens;
    uint64_t last_us;
} dir;

typedef struct link_ {
    int used;
    int a, b; /* a = client side, b = upstream */
    dir d[2]; /* 0: a->b, 1: b->a */
} link_;

static uint64_t delay_us, rate, buffer_max = 4u << 20;
static int max_conns = 256;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void drop_link(link_ *l)
{
    for (int i = 0; i < 2; i++) {
        chunk *c = l->d[i].head;
        while (c) {
            chunk *n = c->next;
            free(c);
            c = n;
        }
    }
    close(l->a);
    close(l->b);
    memset(l, 0, sizeof *l);
}

static int connect_upstream(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Read what is there into a stamped chunk. Returns -1 on error. */
static int pump_in(dir *d)
{
    if (d->eof_in || d->held >= buffer_max)
        return 0;
    size_t room = buffer_max - d->held;
    if (room > 65536)
        room = 65536;
    chunk *c = malloc(sizeof *c + room);
    if (!c)
        return -1;
    ssize_t n = read(d->from, c->data, room);
    if (n <= 0) {
        free(c);
        if (n == 0) {
            d->eof_in = 1;
            return 0;
        }
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    c->next = NULL;
    c->len = (size_t)n;
    c->off = 0;
    c->due_us = now_us() + delay_us;
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->held += (size_t)n;
    return 0;
}

/* Write the due bytes, within the rate. Returns -1 on error. */
static int pump_out(dir *d)
{
    uint64_t t = now_us();
    if (rate) {
        d->tokens += (double)(t - d->last_us) * (double)rate / 1e6;
        if (d->tokens > (double)rate / 20 + 16384)
            d->tokens = (double)rate / 20 + 16384;
    }
    d->last_us = t;
    while (d->head && d->head->due_us <= t) {
        chunk *c = d->head;
        size_t want = c->len - c->off;
        if (rate) {
            if (d->tokens < 1)
                return 0;
            if ((double)want > d->tokens)
                want = (size_t)d->tokens;
        }
        ssize_t n = write(d->to, c->data + c->off, want);
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        c->off += (size_t)n;
        d->held -= (size_t)n;
        if (rate)
            d->tokens -= (double)n;
        if (c->off < c->len)
            return 0;
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free(c);
    }
    if (!d->head && d->eof_in && !d->eof_out) {
        shutdown(d->to, SHUT_WR);
        d->eof_out = 1;
    }
    return 0;
}

static long next_due_ms(link_ *links)
{
    uint64_t t = now_us();
    long best = -1;
    for (int i = 0; i < max_conns; i++) {
        if (!links[i].used)
            continue;
        for (int k = 0; k < 2; k++) {
            chunk *c = links[i].d[k].head;
            if (!c)
                continue;
            long ms = c->due_us > t ? (long)((c->due_us - t + 999) / 1000) : 0;
            if (rate && ms == 0)
                ms = 1;
            if (best < 0 || ms < best)
                best = ms;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *listen_port = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--listen") && v)
            listen_port = v, i++;
        else if (!strcmp(a, "--to") && v)
            to = v, i++;
        else if (!strcmp(a, "--delay-ms") && v)
            delay_us = (uint64_t)(atof(v) * 1000), i++;
        else if (!strcmp(a, "--rate") && v)
            rate = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--buffer") && v)
            buffer_max = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--max-conns") && v)
            max_conns = atoi(v), i++;
        else {
            fprintf(stderr,
                    "usage: linkemu --listen PORT --to HOST:PORT --delay-ms ONE_WAY_MS [--rate B/s]\n"
                    "               [--buffer BYTES] [--max-conns N]\n");
            return 2;
        }
    }
    if (!listen_port || !to) {
        fprintf(stderr, "linkemu: --listen and --to are required\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char host[256];
    const char *colon = strrchr(to, ':');
    if (!colon || (size_t)(colon - to) >= sizeof host) {
        fprintf(stderr, "linkemu: --to HOST:PORT\n");
        return 2;
    }
    memcpy(host, to, (size_t)(colon - to));
    host[colon - to] = '\0';
    struct addrinfo hints = {0}, *up;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &up) != 0) {
        fprintf(stderr, "linkemu: cannot resolve %s\n", to);
        return 2;
    }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(listen_port))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 512) != 0)
        die("linkemu: listen");

    link_ *links = calloc((size_t)max_conns, sizeof *links);
    struct pollfd *pfd = calloc((size_t)max_conns * 2 + 1, sizeof *pfd);
    if (!links || !pfd)
        die("linkemu: memory");
    for (;;) {
        int n = 0;
        pfd[n++] = (struct pollfd){lfd, POLLIN, 0};
        for (int i = 0; i < max_conns; i++) {
            link_ *l = &links[i];
            if (!l->used)
                continue;
            for (int k = 0; k < 2; k++) {
                dir *d = &l->d[k];
                short ev = 0;
                if (!d->eof_in && d->held < buffer_max)
                    ev |= POLLIN;
                if (d->head && d->head->due_us <= now_us())
                    ev |= POLLOUT;
                pfd[n++] = (struct pollfd){d->from, ev, 0};
                (void)d;
            }
        }
        long t = next_due_ms(links);
        if (poll(pfd, (nfds_t)n, t < 0 ? 1000 : (int)t) < 0 && errno != EINTR)
            die("linkemu: poll");
        if (pfd[0].revents & POLLIN) {
            for (;;) {
                int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                    break;
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                int slot = -1;
                for (int i = 0; i < max_conns; i++)
                    if (!links[i].used) {
                        slot = i;
                        break;
                    }
                int ufd = slot >= 0 ? connect_upstream(up) : -1;
                if (ufd < 0) {
                    close(cfd); /* the device refused: so does the link */
                    continue;
                }
                link_ *l = &links[slot];
                memset(l, 0, sizeof *l);
                l->used = 1;
                l->a = cfd;
                l->b = ufd;
                l->d[0].from = cfd;
                l->d[0].to = ufd;
                l->d[1].from = ufd;
                l->d[1].to = cfd;
                l->d[0].last_us = l->d[1].last_us = now_us();
            }
        }
        for (int i = 0; i < max_conns; i++) {
            link_ *l = &links[i];
            if (!l->used)
                continue;
            int bad = 0;
            for (int k = 0; k < 2 && !bad; k++)
                bad = pump_in(&l->d[k]) < 0 || pump_out(&l->d[k]) < 0;
            if (bad || (l->d[0].eof_out && l->d[1].eof_out))
                drop_link(l);
        }
    }
}
