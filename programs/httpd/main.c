/* programs/httpd/main.c -- vouchd: start, signals, graceful shutdown, reload. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "vouchd.h"

static const char usage[] =
  "usage: vouchd --db FILE.sqlite|postgresql://... [--index FILE.vidx | --index-dir DIR] [--listen HOST:PORT]\n"
  "              [OPTIONS]\n"
  "       vouchd token create|list|revoke --db FILE ...   (API tokens; see 'vouchd token --help')\n"
  "       vouchd reviewer create|list|revoke --db FILE ... (review console tokens: docs/review.md)\n"
  "\n"
  "The vouch HTTP/JSON service: hashing, matching, banks and voucher intake.\n"
  "API reference: docs/api.md; the HMA 2.x routes (/status, /m/, /h/, /c/): docs/hma.md.\n"
  "Signals: SIGTERM/SIGINT stop gracefully (requests in progress finish); SIGHUP\n"
  "reloads the index and the tokens without dropping requests.\n"
  "Every token and role is checked from the request headers, before any body is read.\n"
  "Vouchers and status of an account need its device token (vouchd token create --role\n"
  "device --account ID) or an admin token; its first voucher fixes its parameters.\n"
  "\n"
  "options:\n"
  "  --db FILE|URI        SQLite database (banks, tokens, vouchers), created if missing; or\n"
  "                       a postgresql:// URI (libpq) shared by several vouchd (docs/deploy.md)\n"
  "  --index FILE         index file for /v1/match (vouch index build); POST /v1/index/rebuild\n"
  "                       rewrites it from the banks\n"
  "  --index-dir DIR      one index per algorithm of the enabled banks, DIR/ALGO.vidx\n"
  "                       (pdq.vidx, vpdq.vidx, md5.vidx, ...; vouch index build --out-dir),\n"
  "                       so one vouchd serves every signal type of its database: each\n"
  "                       lookup uses the index of its algorithm (?algo=, HMA's signal_type);\n"
  "                       rebuilt all together by POST /v1/index/rebuild, --follow and syncs,\n"
  "                       reloaded by SIGHUP; replaces --index\n"
  "  --psi-key FILE       server key of private matching (vouch psi setup), for /v1/vouchers\n"
  "  --public FILE        the public data made with that key, served at /v1/public\n"
  "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080; port 0 = any free port)\n"
  "  --port-file FILE     write the port actually bound to FILE (for scripts and tests)\n"
  "  --threads N          connection threads, and as many workers for heavy requests, plus\n"
  "                       one worker for small JSON lookups only (default: number of cores)\n"
  "  --max-body BYTES     largest request body (default 33554432); larger gets 413\n"
  "  --max-batch N        most hashes in one /v1/match request (default 10000)\n"
  "  --max-inflight N     most heavy requests queued or running at once (default 4 x threads),\n"
  "                       and as many small JSON lookups apart; more get 429 with Retry-After.\n"
  "                       /healthz, /metrics and /v1/public are answered at once even then\n"
  "  --max-inflight-per-token N  heavy ones of one token (default max-inflight / 4, at least 2;\n"
  "                       small JSON lookups and admin tokens are not counted per token)\n"
  "  --max-connections N  most open connections (default 512)\n"
  "  --max-connections-per-ip N  most open connections from one address (default 64)\n"
  "  --header-timeout S   whole request header within S seconds of the connection (or its\n"
  "                       previous request) or the connection is closed (default 10)\n"
  "  --min-body-rate B    after S seconds a body must average B bytes/s (default 1024)\n"
  "  --idle-timeout S     close a connection after S seconds without a byte (default 30)\n"
  "  --body-budget BYTES  request body bytes held across all connections (default 268435456);\n"
  "                       a request that does not fit gets 503 busy before its body is read\n"
  "  --max-radius ALGO=N  largest ?radius= for ALGO (defaults pdq=64, phash/dhash/ahash=16)\n"
  "  --max-matches N      matches listed per query (default 100); more: \"truncated\":true\n"
  "  --max-matches-request N  matches listed per request (default 10000)\n"
  "  --max-work-seconds S search time per /v1/match request (default 10); the rest of the\n"
  "                       queries are left out with \"truncated\":true\n"
  "  --fetch-allow HOSTS  comma-separated host names that HMA's ?url= parameters may fetch\n"
  "                       from (http/https, no redirects, at most --max-body bytes); without\n"
  "                       it ?url= is refused with 403 (docs/hma.md)\n"
  "  --fetch-timeout S    seconds for one such fetch (default 10)\n"
  "  --sync-every S       sync each enabled exchange configured in --db (vouch exchange add) every S\n"
  "                       seconds, on a background thread, and rebuild --index after a sync that\n"
  "                       changed a bank; state at GET /v1/exchanges (docs/exchanges.md)\n"
  "  --exchange-credentials DIR  where HMA's POST /c/exchanges/api/NAME stores an exchange\n"
  "                       type's credentials (DIR/NAME.cred, mode 0600); without it they\n"
  "                       cannot be set over HTTP (docs/hma.md)\n"
  "  --no-access-log      no JSON access log line per request on stderr\n"
  "  --no-auth            accept requests without tokens (local experiments only)\n"
  "  --roles LIST         route families this replica serves, of hash,match,curate,vouchers\n"
  "                       (default all; others answer 404 not_served; /healthz, /metrics\n"
  "                       and HMA's /status always answer); a replica without match does\n"
  "                       not follow the database\n"
  "  --follow             with an SQLite --db and --index or --index-dir: rebuild and reload\n"
  "                       the index(es) within about a second of every change to --db, as\n"
  "                       HMA's matchers do (by\n"
  "                       default the index changes only on POST /v1/index/rebuild or SIGHUP)\n"
  "  --no-follow          with a postgresql:// --db and --index or --index-dir: do not follow\n"
  "                       the database\n"
  "                       (by default a replica keeps the last snapshot index plus an in-memory\n"
  "                       delta of the entries changed since, read after every committed change\n"
  "                       (LISTEN/NOTIFY); snapshots are rebuilt in the background by one replica\n"
  "                       at a time and published by Merkle root; /status says INDEX-STALE until\n"
  "                       the index holds every change; /status?format=json gives the details)\n"
  "  --snapshot-dir DIR   with postgresql://: a directory all replicas share where snapshots are\n"
  "                       published as DIR/ROOT.vidx (default: in the database, in 1 MiB rows)\n"
  "  --delta-max N        delta entries past which a new snapshot is built (default 100000)\n"
  "  -h, --help           this help\n";

static int parse_listen(const char *spec, char *host, size_t hostcap, unsigned *port) {
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec) return -1;
  size_t hl = (size_t)(colon - spec);
  if (hl >= hostcap) return -1;
  memcpy(host, spec, hl);
  host[hl] = 0;
  char *end;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (*end || p > 65535) return -1;
  *port = (unsigned)p;
  return 0;
}

static size_t parse_size(const char *s, size_t lo, size_t hi, int *ok) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  *ok = !errno && *end == 0 && v >= lo && v <= hi;
  return (size_t)v;
}

static double parse_seconds(const char *s, double lo, double hi, int *ok) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  *ok = !errno && end != s && *end == 0 && v >= lo && v <= hi;
  return v;
}

/* The same warning as the CLI's cli_read_secret(): the file is fine to use,
 * but others on the machine can read it. */
static void warn_if_readable(const char *path, const char *holds) {
  struct stat st;
  if (path && stat(path, &st) == 0 && (st.st_mode & 077))
    fprintf(stderr, "vouchd: warning: %s is readable by other users (mode %03o); it holds %s (chmod 600 %s)\n",
            path, (unsigned)(st.st_mode & 0777), holds, path);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "token")) return vd_cmd_token(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "reviewer")) return vd_cmd_reviewer(argc - 1, argv + 1);
  static const struct option lo[] = {
    {"db", required_argument, NULL, 'd'},          {"index", required_argument, NULL, 'i'},
    {"listen", required_argument, NULL, 'l'},      {"port-file", required_argument, NULL, 'P'},
    {"threads", required_argument, NULL, 't'},     {"max-body", required_argument, NULL, 'b'},
    {"max-batch", required_argument, NULL, 'B'},   {"max-inflight", required_argument, NULL, 'f'},
    {"max-connections", required_argument, NULL, 'c'}, {"no-access-log", no_argument, NULL, 'A'},
    {"no-auth", no_argument, NULL, 'N'},           {"help", no_argument, NULL, 'h'},
    {"psi-key", required_argument, NULL, 'K'},     {"public", required_argument, NULL, 'U'},
    {"body-budget", required_argument, NULL, 'G'}, {"max-radius", required_argument, NULL, 'R'},
    {"max-matches", required_argument, NULL, 'm'}, {"max-matches-request", required_argument, NULL, 'M'},
    {"max-work-seconds", required_argument, NULL, 'W'},
    {"max-connections-per-ip", required_argument, NULL, 'I'}, {"max-inflight-per-token", required_argument, NULL, 'k'}, {"header-timeout", required_argument, NULL, 'H'},
    {"min-body-rate", required_argument, NULL, 'r'}, {"idle-timeout", required_argument, NULL, 'T'},
    {"fetch-allow", required_argument, NULL, 'F'}, {"fetch-timeout", required_argument, NULL, 'O'},
    {"no-follow", no_argument, NULL, 'Z'},         {"roles", required_argument, NULL, 'Y'},
    {"follow", no_argument, NULL, 0x101},
    {"sync-every", required_argument, NULL, 0x100}, {"exchange-credentials", required_argument, NULL, 0x102},
    {"snapshot-dir", required_argument, NULL, 0x103}, {"delta-max", required_argument, NULL, 0x104},
    {"index-dir", required_argument, NULL, 0x110},
    {NULL, 0, NULL, 0}};
  static vd_server s; /* lives for the whole process; large (metrics) */
  const char *listen = "127.0.0.1:8080", *port_file = NULL;
  int no_follow = 0, follow_sqlite = 0;
  s.serve = VD_SERVE_ALL;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  s.threads = ncpu > 0 ? (unsigned)ncpu : 1;
  s.max_body = 32u << 20;
  s.max_batch = 10000;
  s.max_conns = 512;
  s.body_budget = (size_t)256 << 20;
  s.max_radius[VOUCH_ALGO_PDQ] = 64;
  s.max_radius[VOUCH_ALGO_PHASH] = s.max_radius[VOUCH_ALGO_DHASH] = s.max_radius[VOUCH_ALGO_AHASH] = 16;
  s.max_matches = 100;
  s.max_matches_req = 10000;
  s.max_work_s = 10;
  s.per_ip_conns = 64;
  s.header_timeout = 10;
  s.min_body_rate = 1024;
  s.idle_timeout = 30;
  s.access_log = 1;
  s.auth_required = 1;
  s.fetch_timeout = 10;
  unsigned inflight = 0, inflight_tok = 0;
  int ch, ok;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': s.db_path = optarg; break;
    case 'i': s.index_path = optarg; break;
    case 0x110: s.index_dir = optarg; break;
    case 'F': s.fetch_allow = optarg; break;
    case 'O':
      s.fetch_timeout = parse_seconds(optarg, 0.1, 600, &ok);
      if (!ok) goto bad;
      break;
    case 0x103: s.snapshot_dir = optarg; break;
    case 0x104: s.delta_max = (size_t)parse_size(optarg, 1, 100000000, &ok); if (!ok) goto bad; break;
    case 0x100: s.sync_every = (unsigned)parse_size(optarg, 1, 86400 * 30, &ok); if (!ok) goto bad; break;
    case 0x102: { /* stored in configured exchanges, so absolute */
      struct stat dst;
      if (!(s.exchange_creds = realpath(optarg, NULL)) || stat(s.exchange_creds, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
        fprintf(stderr, "vouchd: --exchange-credentials %s: not a directory\n", optarg);
        return 2;
      }
      break;
    }
    case 'l': listen = optarg; break;
    case 'P': port_file = optarg; break;
    case 't': s.threads = (unsigned)parse_size(optarg, 1, 256, &ok); if (!ok) goto bad; break;
    case 'b': s.max_body = parse_size(optarg, 1024, (size_t)1 << 31, &ok); if (!ok) goto bad; break;
    case 'B': s.max_batch = parse_size(optarg, 1, 1000000, &ok); if (!ok) goto bad; break;
    case 'f': inflight = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'c': s.max_conns = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'A': s.access_log = 0; break;
    case 'Z': no_follow = 1; break;
    case 0x101: follow_sqlite = 1; break;
    case 'Y':
      if (vd_roles_parse(optarg, &s.serve) != 0) {
        fprintf(stderr, "vouchd: --roles is a comma-separated list of hash, match, curate, vouchers\n");
        return 2;
      }
      break;
    case 'N': s.auth_required = 0; break;
    case 'K': s.psi_key_path = optarg; break;
    case 'U': s.public_path = optarg; break;
    case 'G': s.body_budget = parse_size(optarg, 1024, (size_t)1 << 40, &ok); if (!ok) goto bad; break;
    case 'm': s.max_matches = parse_size(optarg, 1, 1000000, &ok); if (!ok) goto bad; break;
    case 'M': s.max_matches_req = parse_size(optarg, 1, 100000000, &ok); if (!ok) goto bad; break;
    case 'k': inflight_tok = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'I': s.per_ip_conns = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'H': s.header_timeout = parse_seconds(optarg, 0.1, 3600, &ok); if (!ok) goto bad; break;
    case 'r': s.min_body_rate = parse_size(optarg, 0, (size_t)1 << 30, &ok); if (!ok) goto bad; break;
    case 'T': s.idle_timeout = (unsigned)parse_size(optarg, 1, 3600, &ok); if (!ok) goto bad; break;
    case 'W': s.max_work_s = parse_seconds(optarg, 0.01, 3600, &ok); if (!ok) goto bad; break;
    case 'R': {
      const char *eq = strchr(optarg, '=');
      char an[16];
      if (!eq || (size_t)(eq - optarg) >= sizeof an) goto bad;
      memcpy(an, optarg, (size_t)(eq - optarg));
      an[eq - optarg] = 0;
      int algo = vouch_algo_from_name(an);
      if (algo <= VOUCH_ALGO_NONE || algo > VOUCH_ALGO_AHASH) goto bad;
      s.max_radius[algo] = (unsigned)parse_size(eq + 1, 0, 8 * vouch_algo_bytes(algo), &ok);
      if (!ok) goto bad;
      break;
    }
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vouchd: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!s.db_path) {
    fprintf(stderr, "vouchd: --db is required\n%s", usage);
    return 2;
  }
  if (s.index_path && s.index_dir) {
    fprintf(stderr, "vouchd: --index and --index-dir exclude each other\n");
    return 2;
  }
  if (s.index_dir && mkdir(s.index_dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "vouchd: --index-dir %s: %s\n", s.index_dir, strerror(errno));
    return 2;
  }
  s.max_inflight = inflight ? inflight : 4 * s.threads;
  s.max_inflight_token = inflight_tok ? inflight_tok : (s.max_inflight / 4 > 2 ? s.max_inflight / 4 : 2);
  char host[256];
  if (parse_listen(listen, host, sizeof host, &s.port) != 0) {
    fprintf(stderr, "vouchd: --listen wants HOST:PORT, got '%s'\n", listen);
    return 2;
  }
  if (vouch_init() < 0 || sodium_init() < 0) {
    fprintf(stderr, "vouchd: library initialisation failed\n");
    return 2;
  }
  vouch_video_silence_log(); /* FFmpeg would print its own messages on stderr */
  char err[512];
  pthread_mutex_init(&s.pool_mu, NULL);
  pthread_rwlock_init(&s.tokens_lock, NULL);
  if (vd_store_init(s.db_path, err, sizeof err) != 0 || vd_tokens_load(&s, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: %s\n", err);
    return 2;
  }
  pthread_mutex_init(&s.index_mu, NULL);
  pthread_mutex_init(&s.rebuild_mu, NULL);
  pthread_mutex_init(&s.fol_mu, NULL);
  if ((s.index_dir || (s.index_path && access(s.index_path, F_OK) == 0)) && vd_index_reload(&s, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: %s\n", err);
    return 2;
  }
  warn_if_readable(s.db_path, "token hashes and vouchers");
  warn_if_readable(s.psi_key_path, "a secret key");
  if (vd_psi_load(&s, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: %s\n", err);
    return 2;
  }
  if (s.auth_required && s.ntokens == 0)
    fprintf(stderr, "vouchd: warning: no API tokens yet; create one with "
                    "'vouchd token create --db %s --role admin --name NAME'\n", s.db_path);

  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sslen;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  const char *h = host;
  char h6[256];
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    snprintf(h6, sizeof h6, "%.*s", (int)strlen(host) - 2, host + 1);
    h = h6;
  }
  if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)s.port);
    sslen = sizeof *a4;
  } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)s.port);
    sslen = sizeof *a6;
    flags |= MHD_USE_IPv6;
  } else {
    fprintf(stderr, "vouchd: '%s' is not an IP address\n", host);
    return 2;
  }
  (void)sslen;

  /* Block the signals in every thread; the main thread takes them with sigwait. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  s.started = vd_now();
  pthread_mutex_init(&s.conns_mu, NULL);
  if (vd_fetch_init() != 0) { /* before any thread: libcurl's global set-up is not thread-safe */
    fprintf(stderr, "vouchd: cannot initialise libcurl\n");
    return 2;
  }
  const int on_pg = vd_db_is_pg(s.db_path);
  if (vd_hma_types_start(&s) != 0 || vd_jobs_start(&s) != 0 || vd_watchdog_start(&s) != 0 || vd_sync_start(&s) != 0 ||
      ((on_pg ? !no_follow : follow_sqlite) && vd_index_configured(&s) && (s.serve & VD_SERVE_MATCH) &&
       vd_follow_start(&s) != 0)) {
    fprintf(stderr, "vouchd: cannot start threads\n");
    return 2;
  }
  s.mhd = MHD_start_daemon(flags, (uint16_t)s.port, NULL, NULL, vd_handler, &s,
                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                           MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s.threads,
                           MHD_OPTION_CONNECTION_LIMIT, (unsigned)s.max_conns,
                           MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s.per_ip_conns,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s.idle_timeout,
                           MHD_OPTION_NOTIFY_COMPLETED, vd_request_done, &s,
                           MHD_OPTION_NOTIFY_CONNECTION, vd_conn_notify, &s,
                           MHD_OPTION_END);
  if (!s.mhd) {
    fprintf(stderr, "vouchd: cannot listen on %s\n", listen);
    return 2;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.mhd, MHD_DAEMON_INFO_BIND_PORT);
  unsigned bound = di ? di->port : s.port;
  fprintf(stderr, "vouchd: listening on %s:%u (%u threads; index: %lu entries; private matching: %s)\n", host,
          bound, s.threads, atomic_load(&s.index_entries), s.psi_key ? "on" : "off");
  if (port_file) {
    FILE *pf = fopen(port_file, "w");
    if (!pf || fprintf(pf, "%u\n", bound) < 0 || fclose(pf) != 0) {
      fprintf(stderr, "vouchd: cannot write %s\n", port_file);
      MHD_stop_daemon(s.mhd);
      return 2;
    }
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (vd_tokens_load(&s, err, sizeof err) != 0)
        fprintf(stderr, "vouchd: reload: tokens: %s (keeping the old ones)\n", err);
      else
        fprintf(stderr, "vouchd: reloaded %zu tokens\n", s.ntokens);
      if (vd_index_configured(&s)) {
        if (vd_index_reload(&s, err, sizeof err) != 0)
          fprintf(stderr, "vouchd: reload: index: %s (keeping the old one)\n", err);
        else
          fprintf(stderr, "vouchd: reloaded the index%s: %lu entries\n", s.index_dir ? "es" : "",
                  atomic_load(&s.index_entries));
      }
      continue;
    }
    break;
  }
  /* Graceful stop: no new connections; let the open ones finish (30 s at most). */
  fprintf(stderr, "vouchd: stopping\n");
  vd_sync_stop(&s);
  MHD_socket lsock = MHD_quiesce_daemon(s.mhd);
  if (lsock != MHD_INVALID_SOCKET) close(lsock);
  for (int i = 0; i < 300 && atomic_load(&s.conns) > 0; i++) usleep(100000);
  /* libmicrohttpd must not stop with a connection suspended: answer what is
   * still queued with 503 and wait for the running jobs */
  atomic_store(&s.stopping, 1);
  while (atomic_load(&s.inflight) > 0) usleep(10000);
  MHD_stop_daemon(s.mhd);
  vd_jobs_stop(&s);
  vd_watchdog_stop(&s);
  vd_follow_stop(&s);
  while (s.pool) {
    vd_worker *w = s.pool;
    s.pool = w->next;
    vd_worker_free(w);
  }
  free(s.tokens);
  vd_index_drop(&s);
  vd_psi_free(&s);
  vd_hma_types_stop(&s);
  vd_fetch_cleanup();
  fprintf(stderr, "vouchd: stopped\n");
  return 0;
bad:
  fprintf(stderr, "vouchd: bad value for an option\n%s", usage);
  return 2;
}
