/*
 * eota/private_access.h: EOTA_PRIVATE(field) marks the fields of a public
 * struct that are the library's own state, as mbedTLS's MBEDTLS_PRIVATE
 * does. The caller owns the struct (no malloc in the core) and so sees its
 * fields, but must not read or write them: they change between versions.
 * Outside the library a marked field is named private_<field>, so that code
 * touching one does not compile by accident; the library's own sources (and
 * white-box tests) define EOTA_ALLOW_PRIVATE_ACCESS and see the plain names.
 * Use the functions instead.
 */
#ifndef EOTA_PRIVATE_ACCESS_H
#define EOTA_PRIVATE_ACCESS_H

#ifdef EOTA_ALLOW_PRIVATE_ACCESS
#define EOTA_PRIVATE(field) field
#else
#define EOTA_PRIVATE(field) private_##field
#endif

#endif
