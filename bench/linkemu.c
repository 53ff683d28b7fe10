/*
 * linkemu.c: a user-space link emulator for the benchmarks (tc netem is not
 * available here). A TCP proxy that models each direction of a Wi-Fi-class
 * link the way a queue and a wire do:
 *
 *   linkemu --listen PORT --to HOST:PORT --delay-ms D [--rate BYTES_PER_S]
 *           [--queue BYTES] [--buffer BYTES] [--jitter-ms J]
 *           [--spike-ms S --spike-every-ms P] [--seed N] [--max-conns N]
 *
 * Bytes read from one side are cut into segments of at most 1448 bytes.
 * With --rate, the segments leave one after another, each taking len / rate
 * seconds on the wire (no burst: a segment never leaves before the one
 * before it has been serialised); then each arrives after the one-way delay
 * D (RTT = 2 x D) plus a uniform jitter of up to J ms, in order. At most
 * --queue bytes (default 64 KiB, an access point's queue) wait to be
 * serialised and at most --buffer bytes (default 4 MiB) are held in all;
 * past either, reading stops and the sender's TCP window closes, as on a
 * real link. With --spike-ms, the wire stalls for S ms at random moments,
 * P ms apart on average (exponential), as Wi-Fi does when it retransmits
 * or scans: every segment behind the stall waits for its end.
 * An end of stream is passed on (shutdown) once the bytes before it are out.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#define SEGMENT 1448u
#define READ_MAX 65536u

typedef struct segment {
    struct segment *next;
    uint64_t due_us;
    size_t len, off;
    uint8_t data[];
} segment;

typedef struct dir {
    int from, to;
    segment *head, *tail;
    size_t held;          /* bytes read and not yet written */
    uint64_t wire_free_us; /* when the last accepted segment is serialised */
    uint64_t last_due_us;  /* arrivals stay in order */
    uint64_t next_spike_us;
    int eof_in;           /* source ended */
    int eof_out;          /* shutdown passed on */
    int blocked_out;      /* a due segment met a full socket */
} dir;

typedef struct link_ {
    int used;
    int a, b; /* a = client side, b = upstream */
    dir d[2]; /* 0: a->b, 1: b->a */
} link_;

typedef struct settings {
    uint64_t delay_us, jitter_us, spike_us, spike_every_us;
    uint64_t rate; /* bytes per second; 0 = unlimited */
    size_t queue_max, buffer_max;
    int max_conns;
} settings;

static settings cfg = {.queue_max = 64u << 10, .buffer_max = 4u << 20, .max_conns = 256};

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

/* A uniform draw in [0, 1). */
static double uniform01(void)
{
    return (double)(random() & 0x7fffffff) / 2147483648.0;
}

static uint64_t next_spike_after(uint64_t t)
{
    if (!cfg.spike_us || !cfg.spike_every_us)
        return UINT64_MAX;
    return t + (uint64_t)(-log(1.0 - uniform01()) * (double)cfg.spike_every_us);
}

/* Bytes waiting to be serialised at time t. */
static size_t backlog(const dir *d, uint64_t t)
{
    if (!cfg.rate || d->wire_free_us <= t)
        return 0;
    return (size_t)((double)(d->wire_free_us - t) * (double)cfg.rate / 1e6);
}

/* When a segment of len bytes read at t arrives at the far end. */
static uint64_t schedule(dir *d, uint64_t t, size_t len)
{
    uint64_t start = d->wire_free_us > t ? d->wire_free_us : t;
    if (start >= d->next_spike_us) {
        start = d->next_spike_us + cfg.spike_us;
        d->next_spike_us = next_spike_after(start);
    }
    uint64_t done = start + (cfg.rate ? (uint64_t)((double)len * 1e6 / (double)cfg.rate) : 0);
    d->wire_free_us = done;
    uint64_t due = done + cfg.delay_us;
    if (cfg.jitter_us)
        due += (uint64_t)(uniform01() * (double)cfg.jitter_us);
    if (due < d->last_due_us)
        due = d->last_due_us;
    d->last_due_us = due;
    return due;
}

static int queue_segment(dir *d, const uint8_t *data, size_t len, uint64_t t)
{
    segment *s = malloc(sizeof *s + len);
    if (!s)
        return -1;
    memcpy(s->data, data, len);
    s->next = NULL;
    s->len = len;
    s->off = 0;
    s->due_us = schedule(d, t, len);
    if (d->tail)
        d->tail->next = s;
    else
        d->head = s;
    d->tail = s;
    d->held += len;
    return 0;
}

/* How many bytes may be read now (0: the queue or the buffer is full). */
static size_t read_room(const dir *d, uint64_t t)
{
    if (d->eof_in || d->held >= cfg.buffer_max)
        return 0;
    size_t room = cfg.buffer_max - d->held;
    size_t queued = backlog(d, t);
    if (cfg.rate) {
        if (queued + SEGMENT > cfg.queue_max)
            return 0; /* read whole segments, not the trickle drained since the last pass */
        if (room > cfg.queue_max - queued)
            room = cfg.queue_max - queued;
    }
    return room > READ_MAX ? READ_MAX : room;
}

/* Read what is there and cut it into scheduled segments. -1 on error. */
static int pump_in(dir *d)
{
    static uint8_t buf[READ_MAX];
    uint64_t t = now_us();
    size_t room = read_room(d, t);
    if (!room)
        return 0;
    ssize_t n = read(d->from, buf, room);
    if (n == 0)
        d->eof_in = 1;
    if (n <= 0)
        return n == 0 || errno == EAGAIN || errno == EINTR ? 0 : -1;
    for (size_t off = 0; off < (size_t)n; off += SEGMENT) {
        size_t len = (size_t)n - off < SEGMENT ? (size_t)n - off : SEGMENT;
        if (queue_segment(d, buf + off, len, t) != 0)
            return -1;
    }
    return 0;
}

/* Write the segments that have arrived. -1 on error. */
static int pump_out(dir *d)
{
    uint64_t t = now_us();
    d->blocked_out = 0;
    while (d->head && d->head->due_us <= t) {
        segment *s = d->head;
        ssize_t n = write(d->to, s->data + s->off, s->len - s->off);
        if (n < 0) {
            d->blocked_out = errno == EAGAIN;
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }
        s->off += (size_t)n;
        d->held -= (size_t)n;
        if (s->off < s->len) {
            d->blocked_out = 1;
            return 0;
        }
        d->head = s->next;
        if (!d->head)
            d->tail = NULL;
        free(s);
    }
    if (!d->head && d->eof_in && !d->eof_out) {
        shutdown(d->to, SHUT_WR);
        d->eof_out = 1;
    }
    return 0;
}

static void drop_link(link_ *l)
{
    for (int i = 0; i < 2; i++) {
        segment *s = l->d[i].head;
        while (s) {
            segment *n = s->next;
            free(s);
            s = n;
        }
    }
    close(l->a);
    close(l->b);
    memset(l, 0, sizeof *l);
}

/* Milliseconds until this direction has timed work: a segment falls due,
 * or the queue drains enough to read again. -1: none. */
static long dir_wait_ms(const dir *d, uint64_t t)
{
    long best = -1;
    if (d->head && !d->blocked_out)
        best = d->head->due_us > t ? (long)((d->head->due_us - t + 999) / 1000) : 0;
    if (cfg.rate && !d->eof_in && d->held < cfg.buffer_max && backlog(d, t) + SEGMENT > cfg.queue_max) {
        /* room for a segment once the backlog is down to queue_max - SEGMENT */
        uint64_t keep = (uint64_t)((double)(cfg.queue_max - SEGMENT) * 1e6 / (double)cfg.rate);
        long ms = (long)((d->wire_free_us - t > keep ? d->wire_free_us - t - keep : 0) / 1000) + 1;
        if (best < 0 || ms < best)
            best = ms;
    }
    return best;
}

static long next_wait_ms(const link_ *links)
{
    uint64_t t = now_us();
    long best = -1;
    for (int i = 0; i < cfg.max_conns; i++)
        for (int k = 0; links[i].used && k < 2; k++) {
            long ms = dir_wait_ms(&links[i].d[k], t);
            if (ms >= 0 && (best < 0 || ms < best))
                best = ms;
        }
    return best;
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

static void open_link(link_ *l, int cfd, int ufd)
{
    memset(l, 0, sizeof *l);
    l->used = 1;
    l->a = cfd;
    l->b = ufd;
    l->d[0].from = l->d[1].to = cfd;
    l->d[0].to = l->d[1].from = ufd;
    for (int k = 0; k < 2; k++)
        l->d[k].next_spike_us = next_spike_after(now_us());
}

static void accept_all(int lfd, link_ *links, const struct addrinfo *up)
{
    int one = 1;
    for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int slot = -1;
        for (int i = 0; i < cfg.max_conns && slot < 0; i++)
            if (!links[i].used)
                slot = i;
        int ufd = slot >= 0 ? connect_upstream(up) : -1;
        if (ufd < 0) {
            close(cfd); /* the device refused: so does the link */
            continue;
        }
        open_link(&links[slot], cfd, ufd);
    }
}

/* One pollfd per socket: it reads for one direction, writes for the other. */
static int build_pollfds(struct pollfd *pfd, int lfd, const link_ *links)
{
    int n = 0;
    uint64_t t = now_us();
    pfd[n++] = (struct pollfd){lfd, POLLIN, 0};
    for (int i = 0; i < cfg.max_conns; i++) {
        const link_ *l = &links[i];
        for (int k = 0; l->used && k < 2; k++) {
            const dir *in = &l->d[k], *out = &l->d[1 - k]; /* in->from == out->to */
            short ev = read_room(in, t) ? POLLIN : 0;
            if (out->blocked_out)
                ev |= POLLOUT;
            pfd[n++] = (struct pollfd){in->from, ev, 0};
        }
    }
    return n;
}

static void serve_links(link_ *links)
{
    for (int i = 0; i < cfg.max_conns; i++) {
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

static void usage(void)
{
    fprintf(stderr, "usage: linkemu --listen PORT --to HOST:PORT --delay-ms ONE_WAY_MS [--rate B/s]\n"
                    "               [--queue BYTES] [--buffer BYTES] [--jitter-ms MS]\n"
                    "               [--spike-ms MS --spike-every-ms MS] [--seed N] [--max-conns N]\n");
    exit(2);
}

static double number(const char *opt, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || x < 0) {
        fprintf(stderr, "linkemu: %s wants a number >= 0, got '%s'\n", opt, v);
        exit(2);
    }
    return x;
}

static void parse_args(int argc, char **argv, const char **listen_port, const char **to)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--listen"))
            *listen_port = v;
        else if (!strcmp(a, "--to"))
            *to = v;
        else if (!strcmp(a, "--delay-ms"))
            cfg.delay_us = (uint64_t)(number(a, v) * 1000);
        else if (!strcmp(a, "--jitter-ms"))
            cfg.jitter_us = (uint64_t)(number(a, v) * 1000);
        else if (!strcmp(a, "--spike-ms"))
            cfg.spike_us = (uint64_t)(number(a, v) * 1000);
        else if (!strcmp(a, "--spike-every-ms"))
            cfg.spike_every_us = (uint64_t)(number(a, v) * 1000);
        else if (!strcmp(a, "--rate"))
            cfg.rate = (uint64_t)number(a, v);
        else if (!strcmp(a, "--queue"))
            cfg.queue_max = (size_t)number(a, v);
        else if (!strcmp(a, "--buffer"))
            cfg.buffer_max = (size_t)number(a, v);
        else if (!strcmp(a, "--seed"))
            srandom((unsigned)number(a, v));
        else if (!strcmp(a, "--max-conns"))
            cfg.max_conns = (int)number(a, v);
        else
            usage();
    }
    if (!*listen_port || !*to || cfg.max_conns < 1 || cfg.queue_max < SEGMENT || cfg.buffer_max < SEGMENT)
        usage();
}

static struct addrinfo *resolve_upstream(const char *to)
{
    char host[256];
    const char *colon = strrchr(to, ':');
    if (!colon || (size_t)(colon - to) >= sizeof host) {
        fprintf(stderr, "linkemu: --to HOST:PORT\n");
        exit(2);
    }
    memcpy(host, to, (size_t)(colon - to));
    host[colon - to] = '\0';
    struct addrinfo hints = {0}, *up;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &up) != 0) {
        fprintf(stderr, "linkemu: cannot resolve %s\n", to);
        exit(2);
    }
    return up;
}

static int listen_loopback(const char *port)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 512) != 0)
        die("linkemu: listen");
    return lfd;
}

int main(int argc, char **argv)
{
    const char *listen_port = NULL, *to = NULL;
    srandom(1);
    parse_args(argc, argv, &listen_port, &to);
    signal(SIGPIPE, SIG_IGN);
    struct addrinfo *up = resolve_upstream(to);
    int lfd = listen_loopback(listen_port);
    link_ *links = calloc((size_t)cfg.max_conns, sizeof *links);
    struct pollfd *pfd = calloc((size_t)cfg.max_conns * 2 + 1, sizeof *pfd);
    if (!links || !pfd)
        die("linkemu: memory");
    for (;;) {
        int n = build_pollfds(pfd, lfd, links);
        long t = next_wait_ms(links);
        if (poll(pfd, (nfds_t)n, t < 0 ? 1000 : (int)t) < 0 && errno != EINTR)
            die("linkemu: poll");
        if (pfd[0].revents & POLLIN)
            accept_all(lfd, links, up);
        serve_links(links);
    }
}
