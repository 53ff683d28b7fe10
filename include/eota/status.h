/*
 * eota/status.h: the library's one error vocabulary. Every function that can
 * fail returns an eota_status (an int): non-negative values are successes (a
 * count where a function says so), negative values say why something did not
 * happen. eota_status_name() gives the constant's short name ("ETOOBIG"),
 * eota_status_describe() a sentence, for logs.
 *
 * Storage backends report these too (with a detail text of their own); the
 * device engine alone maps them to PROTOCOL.md response codes, so no backend
 * invents a wire code.
 */
#ifndef EOTA_STATUS_H
#define EOTA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum eota_status_code {
    EOTA_OK = 0,
    EOTA_AGAIN = -1,       /* would block / not finished yet: call again later */
    EOTA_CLOSED = -2,      /* the peer closed the connection in order */
    EOTA_EIO = -3,         /* an I/O error (reset, unreachable, flash, disk) */
    EOTA_EINVAL = -4,      /* a bad argument */
    EOTA_EBUSY = -5,       /* an upload is already running */
    EOTA_ECRYPTO = -6,     /* the crypto or random seam failed */
    EOTA_ENOSPC = -7,      /* a buffer given by the caller is too small */
    /* storage: what a backend (slot store and its layers) reports */
    EOTA_ETOOBIG = -8,     /* the image does not fit the slot */
    EOTA_ENOSLOT = -9,     /* there is no slot to write the image to */
    EOTA_EUNSUPPORTED = -10, /* this kind of image (OTA type) is not taken */
    EOTA_EPREPARE = -11,   /* the slot could not be prepared */
    EOTA_EWRITE = -12,     /* writing the image failed */
    EOTA_EFORMAT = -13,    /* the image is malformed (a corrupt gzip stream) */
    EOTA_EVERIFY = -14,    /* the written image did not verify */
    EOTA_ECOMMIT = -15,    /* the image could not be committed or installed */
    /* signed images (eota/signature.h) */
    EOTA_ESIGNATURE = -16, /* not signed by a trusted key, or a bad trailer */
    EOTA_EDOWNGRADE = -17  /* older than the running image (security counter, version) */
};
typedef int eota_status;

/* "OK", "AGAIN", "ETOOBIG", ...; "UNKNOWN" for a value not listed above. */
const char *eota_status_name(int status);
/* A sentence saying what the status means; the name in a build without
 * EOTA_WITH_DESCRIPTIONS (eota/opt.h). */
const char *eota_status_describe(int status);

#ifdef __cplusplus
}
#endif

#endif
