/*
 * config.h: libmdnsd's headers include "config.h" (its own build's, which
 * Debian does not ship); this empty one stands in for it. Only the mdns
 * files see this directory (CMakeLists.txt).
 */
