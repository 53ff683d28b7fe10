/*
 * multipart.h: a streaming parser for the multipart/form-data body of a web
 * upload (RFC 7578), as curl -F and browser forms send it. It finds the
 * first part that carries a file (whatever its field name) and hands out
 * that part's bytes; other parts, the preamble and the epilogue are
 * skipped. It holds no more than one delimiter of the body back, keeps no
 * copy of the image, and takes only as much input as the caller's output
 * buffer can receive (partial takes: the caller keeps the rest, which is
 * how the web server's backpressure reaches the socket).
 */
#ifndef EOTA_APP_WEB_MULTIPART_H
#define EOTA_APP_WEB_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#define MULTIPART_BOUNDARY_MAX 200u /* RFC 2046 says 70; be lenient */
#define MULTIPART_HEADERS_MAX 4096u /* the headers of one part */

/* How the body ended (multipart_finish). */
typedef enum multipart_end {
    MULTIPART_COMPLETE = 0,  /* a file part, then the closing delimiter */
    MULTIPART_NO_FILE,       /* no part had a filename */
    MULTIPART_CUT_IN_FILE,   /* the body ended inside the file part */
    MULTIPART_NO_CLOSING,    /* the closing delimiter is missing */
    MULTIPART_EMPTY_FILE     /* the file part holds no byte */
} multipart_end;

/* Private to multipart.c; read the documented fields only. */
typedef struct multipart {
    char delim[MULTIPART_BOUNDARY_MAX + 8]; /* CRLF "--" boundary */
    size_t dlen;
    size_t match;              /* delimiter bytes held back */
    int state;
    char hdr[MULTIPART_HEADERS_MAX];
    size_t hdr_len;
    int file_seen, file_done, closing_seen;
    uint8_t *out;              /* the caller's buffer during a feed */
    size_t out_len;
    /* readable */
    uint64_t seen;             /* body bytes taken so far */
    uint64_t file_start;       /* body offset where the file's bytes begin */
    uint64_t file_bytes;       /* file bytes handed out so far */
    char field[64];            /* the file part's field name */
    char filename[128];        /* and its filename */
    const char *error;         /* why the body is malformed, or NULL */
} multipart;

/* Start parsing a body of this Content-Type. 0, or -1 when it is not
 * multipart/form-data with a usable boundary. */
int multipart_init(multipart *m, const char *content_type);

/* Take body bytes: returns how many of the n were taken (fewer when out
 * cannot receive more; none once the body is malformed, m->error saying
 * why). The file's bytes found go to out (cap bytes; cap must exceed
 * multipart_reserve), *out_len saying how many. */
size_t multipart_feed(multipart *m, const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* Room an output buffer needs beyond the input it is fed with: the
 * delimiter bytes a feed may release. */
size_t multipart_reserve(const multipart *m);

/* At the end of the body: was it whole? */
multipart_end multipart_finish(const multipart *m);

/* The most bytes the file can have in a body of body_len bytes (it ends
 * at least a closing delimiter before the end); 0 when unknown. */
uint64_t multipart_file_bound(const multipart *m, uint64_t body_len);

#endif
