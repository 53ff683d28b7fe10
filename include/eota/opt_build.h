/*
 * eota/opt_build.h: the options an installed library was built with.
 *
 * Empty here, in the source tree: a build from source decides the options
 * itself (eota/opt.h). `cmake --install` puts in its place the file the
 * build wrote (cmake/opt_build.h.in), which fixes each option to the
 * library's value and stops a program that sets one differently.
 */
#ifndef EOTA_OPT_BUILD_H
#define EOTA_OPT_BUILD_H
#endif
