/*
 * pipe.h: an in-memory, bidirectional byte pipe for tests: two connected
 * ends that speak the transport seam (eota/transport.h), so that the
 * uploader engine and the device engine (or a scripted device) can talk in
 * one process without sockets. Each direction is a bounded buffer, like a
 * socket's send and receive buffers: a writer that finds it full gets
 * EOTA_AGAIN. Closing an end gives the other end EOF after what is already
 * buffered (reads), and EOTA_CLOSED on writes.
 */
#ifndef EOTA_TEST_PIPE_H
#define EOTA_TEST_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/transport.h"

typedef struct mem_pipe mem_pipe;

typedef struct mem_pipe_end {
    mem_pipe *pipe;
    int side;            /* 0 or 1 */
    int closed;          /* close() calls on this end */
    size_t max_io;       /* 0: no limit; else at most this many bytes per call */
    int fail_write;      /* writes give EOTA_EIO */
    int fail_read;       /* reads give EOTA_EIO */
    int again_reads;     /* this many reads give EOTA_AGAIN, data or not */
    uint64_t bytes_read, bytes_written;
} mem_pipe_end;

typedef struct mem_pipe_dir {
    uint8_t *data;
    size_t cap, head, len;
} mem_pipe_dir;

struct mem_pipe {
    mem_pipe_dir dir[2];  /* dir[0]: end 0 -> end 1; dir[1]: end 1 -> end 0 */
    mem_pipe_end end[2];
};

/* Each direction buffers at most cap bytes (0: 256 KiB). */
void mem_pipe_init(mem_pipe *p, size_t cap);
void mem_pipe_free(mem_pipe *p);
/* Bytes waiting to be read by end `side`. */
size_t mem_pipe_pending(const mem_pipe *p, int side);

extern const eota_transport_ops mem_pipe_transport;

#endif
