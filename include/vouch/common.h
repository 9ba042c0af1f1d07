/*
 * vouch/common.h -- export macros, version, library initialisation.
 *
 * This header is part of the public API of libvouch.  Everything a program
 * may rely on is declared under include/vouch/; nothing under src/ is API.
 */
#ifndef VOUCH_COMMON_H
#define VOUCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#  define VOUCH_API __attribute__((visibility("default")))
#  define VOUCH_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define VOUCH_API
#  define VOUCH_WARN_UNUSED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time version.  VOUCH_VERSION_NUMBER = major*10000 + minor*100 + patch. */
#define VOUCH_VERSION_MAJOR 0
#define VOUCH_VERSION_MINOR 1
#define VOUCH_VERSION_PATCH 0
#define VOUCH_VERSION_STRING "0.1.0"
#define VOUCH_VERSION_NUMBER \
  (VOUCH_VERSION_MAJOR * 10000 + VOUCH_VERSION_MINOR * 100 + VOUCH_VERSION_PATCH)

/*! vouch_version_number() :
 *  The version of the library actually linked, to compare with
 *  VOUCH_VERSION_NUMBER from the headers a program was compiled against. */
VOUCH_API int vouch_version_number(void);
VOUCH_API const char *vouch_version_string(void);

/*! vouch_init() :
 *  Initialises the library once per process: picks CPU-specific kernels and
 *  initialises libsodium when the library was built with it.
 *  Safe to call more than once and from several threads.
 * @return : 0 on first success, 1 if already initialised, -1 on failure. */
VOUCH_API int vouch_init(void);

/*! vouch_free() : releases a buffer the library allocated and documents as
 *  "free with vouch_free()".  NULL is a no-op. */
VOUCH_API void vouch_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_COMMON_H */
