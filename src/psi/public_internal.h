/* src/psi/public_internal.h -- the validated public data, shared by setup.c
 * (which validates it) and client.c (which uses it).  Not API. */
#ifndef VOUCH_PSI_PUBLIC_INTERNAL_H
#define VOUCH_PSI_PUBLIC_INTERNAL_H
#include <stdint.h>
#include <stddef.h>

struct vouch_psi_public {
  uint8_t *buf;           /* our copy of the file */
  size_t len;
  uint32_t m;             /* slots */
  int algo, scheme;       /* algorithm and key scheme of the database keys */
  unsigned band, probes;  /* b and P (exact scheme: 0 and 1) */
  const uint8_t *seed;    /* cuckoo seed, in buf */
  const uint8_t *L;       /* alpha*G, in buf */
  const uint8_t *table;   /* m points, in buf */
  uint8_t id[16];         /* pdid */
};

#endif
