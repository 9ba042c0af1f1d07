/* programs/httpd/replica.c -- a vouchd replica following a PostgreSQL
 * database (--db postgresql://... with --index): a thread waits for committed
 * bank changes (LISTEN/NOTIFY, vouch_bank_wait_change(), and a poll of the
 * change counter every second in case a notification was lost with a
 * connection), then rebuilds the index from one snapshot under the
 * database-wide builder lock (one replica builds at a time) into
 * INDEX.follow.tmp, renames it over --index and reloads it.  The counters
 * db_seq (the database's) and index_seq (the loaded index's) give /status
 * its staleness.  A new replica builds at start, so it is ready once its
 * first build is loaded. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "vouchd.h"

static void *follow_main(void *arg) {
  vd_server *s = arg;
  vouch_bank *db = NULL;
  char tmp[4096], err[512];
  snprintf(tmp, sizeof tmp, "%s.follow.tmp", s->index_path);
  while (!atomic_load(&s->follow_stop)) {
    if (!db && vouch_bank_open(&db, s->db_path, 0) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s\n", db ? vouch_bank_errmsg(db) : "cannot open the database");
      vouch_bank_free(db);
      db = NULL;
      sleep(1);
      continue;
    }
    int changed = 0;
    int64_t seq = 0;
    if (vouch_bank_wait_change(db, 1000, &changed) != VOUCH_OK || vouch_bank_change_seq(db, &seq) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s (reconnecting)\n", vouch_bank_errmsg(db));
      vouch_bank_free(db);
      db = NULL;
      usleep(200000);
      continue;
    }
    atomic_store(&s->db_seq, (long long)seq);
    if (seq <= atomic_load(&s->index_seq)) continue;
    int got = 0;
    if (vouch_bank_build_lock(db, 1, &got) != VOUCH_OK || !got) continue;
    const double t0 = vd_now();
    uint8_t root[VOUCH_MERKLE_HASH_BYTES];
    size_t count = 0;
    int64_t built = -1;
    int rc = vouch_bank_build_index_seq(db, NULL, 0, tmp, root, &count, &built);
    (void)vouch_bank_build_unlock(db);
    if (rc != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: index build: %s\n", vouch_bank_errmsg(db));
      unlink(tmp);
      sleep(1);
      continue;
    }
    if (rename(tmp, s->index_path) != 0 || vd_index_reload(s, err, sizeof err) != 0) {
      fprintf(stderr, "vouchd: follow: cannot load the new index: %s\n", err);
      sleep(1);
      continue;
    }
    atomic_store(&s->index_seq, (long long)built);
    fprintf(stderr, "vouchd: follow: index of change %lld loaded: %zu entries (%.2f s)\n", (long long)built, count,
            vd_now() - t0);
  }
  vouch_bank_free(db);
  return NULL;
}

int vd_follow_start(vd_server *s) {
  atomic_store(&s->index_seq, -1LL);
  atomic_store(&s->db_seq, 0LL);
  atomic_store(&s->follow_stop, 0);
  if (pthread_create(&s->follow_th, NULL, follow_main, s) != 0) return -1;
  s->following = 1;
  return 0;
}

void vd_follow_stop(vd_server *s) {
  if (!s->following) return;
  atomic_store(&s->follow_stop, 1);
  pthread_join(s->follow_th, NULL);
  s->following = 0;
}

/* --roles: which route families this replica serves. */
static const char *const role_names_[] = {"hash", "match", "curate", "vouchers"};

int vd_roles_parse(const char *spec, unsigned *out) {
  unsigned m = 0;
  const char *p = spec;
  while (p && *p) {
    size_t l = strcspn(p, ",");
    unsigned bit = 0;
    for (unsigned k = 0; k < 4; k++)
      if (strlen(role_names_[k]) == l && !strncmp(p, role_names_[k], l)) bit = 1u << k;
    if (!bit) return -1;
    m |= bit;
    p += l;
    if (*p == ',') p++;
  }
  if (!m) return -1;
  *out = m;
  return 0;
}

int vd_route_served(const vd_server *s, int route, const char *url) {
  unsigned need = 0;
  switch (route) {
  case VD_R_HASH: need = VD_SERVE_HASH; break;
  case VD_R_MATCH: need = VD_SERVE_MATCH; break;
  case VD_R_BANKS:
  case VD_R_INDEX: need = VD_SERVE_CURATE; break;
  case VD_R_VOUCHERS:
  case VD_R_ACCOUNTS:
  case VD_R_PUBLIC: need = VD_SERVE_VOUCHERS; break;
  case VD_R_HMA:
    need = !strncmp(url, "/h/", 3) ? VD_SERVE_HASH : !strncmp(url, "/m/", 3) ? VD_SERVE_MATCH
         : !strncmp(url, "/c/", 3) ? VD_SERVE_CURATE : 0;
    break;
  default: break;
  }
  return !need || (s->serve & need);
}
