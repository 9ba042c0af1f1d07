/* src/index/out.c -- the growable match list both search engines append
 * to (the scan in search.c, multi-index hashing in mih.c), and its free.
 * Kept apart so that mih.c does not depend on search.c, which drives it. */
#include "index_internal.h"

int vouch__out_push(vidx_out *o, uint32_t q, uint32_t e, unsigned d, unsigned var) {
  if (o->n == o->cap) /* checked here: this runs once per match */
    VOUCH_TRY(vouch__grow(&o->v, &o->cap, o->n + 1, sizeof *o->v, 256));
  vouch_match *m = &o->v[o->n++];
  m->query = q;
  m->entry = e;
  m->distance = (uint16_t)d;
  m->variant = (uint8_t)var;
  m->pad_ = 0;
  return VOUCH_OK;
}

void vouch_matches_free(vouch_match *m) { vouch__free(m); }
