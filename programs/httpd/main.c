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
#include <unistd.h>
#include <sodium.h>
#include "vouchd.h"

static const char usage[] =
  "usage: vouchd --db FILE.sqlite [--index FILE.vidx] [--listen HOST:PORT] [OPTIONS]\n"
  "       vouchd token create|list|revoke --db FILE ...   (API tokens; see 'vouchd token --help')\n"
  "\n"
  "The vouch HTTP/JSON service: hashing, matching, banks and voucher intake.\n"
  "API reference: docs/api.md.  Signals: SIGTERM/SIGINT stop gracefully (requests\n"
  "in progress finish); SIGHUP reloads the index and the tokens without dropping requests.\n"
  "\n"
  "options:\n"
  "  --db FILE            SQLite database (banks, tokens, vouchers); created if missing\n"
  "  --index FILE         index file for /v1/match (vouch index build); POST /v1/index/rebuild\n"
  "                       rewrites it from the banks\n"
  "  --psi-key FILE       server key of private matching (vouch psi setup), for /v1/vouchers\n"
  "  --public FILE        the public data made with that key, served at /v1/public\n"
  "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080; port 0 = any free port)\n"
  "  --port-file FILE     write the port actually bound to FILE (for scripts and tests)\n"
  "  --threads N          request threads (default: number of cores)\n"
  "  --max-body BYTES     largest request body (default 33554432); larger gets 413\n"
  "  --max-batch N        most hashes in one /v1/match request (default 10000)\n"
  "  --max-inflight N     most hash/match requests at once (default 4 x threads); more get 429\n"
  "  --max-connections N  most open connections (default 512)\n"
  "  --no-access-log      no JSON access log line per request on stderr\n"
  "  --no-auth            accept requests without tokens (local experiments only)\n"
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

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "token")) return vd_cmd_token(argc - 1, argv + 1);
  static const struct option lo[] = {
    {"db", required_argument, NULL, 'd'},          {"index", required_argument, NULL, 'i'},
    {"listen", required_argument, NULL, 'l'},      {"port-file", required_argument, NULL, 'P'},
    {"threads", required_argument, NULL, 't'},     {"max-body", required_argument, NULL, 'b'},
    {"max-batch", required_argument, NULL, 'B'},   {"max-inflight", required_argument, NULL, 'f'},
    {"max-connections", required_argument, NULL, 'c'}, {"no-access-log", no_argument, NULL, 'A'},
    {"no-auth", no_argument, NULL, 'N'},           {"help", no_argument, NULL, 'h'},
    {"psi-key", required_argument, NULL, 'K'},     {"public", required_argument, NULL, 'U'},
    {NULL, 0, NULL, 0}};
  static vd_server s; /* lives for the whole process; large (metrics) */
  const char *listen = "127.0.0.1:8080", *port_file = NULL;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  s.threads = ncpu > 0 ? (unsigned)ncpu : 1;
  s.max_body = 32u << 20;
  s.max_batch = 10000;
  s.max_conns = 512;
  s.access_log = 1;
  s.auth_required = 1;
  unsigned inflight = 0;
  int ch, ok;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': s.db_path = optarg; break;
    case 'i': s.index_path = optarg; break;
    case 'l': listen = optarg; break;
    case 'P': port_file = optarg; break;
    case 't': s.threads = (unsigned)parse_size(optarg, 1, 256, &ok); if (!ok) goto bad; break;
    case 'b': s.max_body = parse_size(optarg, 1024, (size_t)1 << 31, &ok); if (!ok) goto bad; break;
    case 'B': s.max_batch = parse_size(optarg, 1, 1000000, &ok); if (!ok) goto bad; break;
    case 'f': inflight = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'c': s.max_conns = (unsigned)parse_size(optarg, 1, 100000, &ok); if (!ok) goto bad; break;
    case 'A': s.access_log = 0; break;
    case 'N': s.auth_required = 0; break;
    case 'K': s.psi_key_path = optarg; break;
    case 'U': s.public_path = optarg; break;
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
  s.max_inflight = inflight ? inflight : 4 * s.threads;
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
  if (s.index_path && access(s.index_path, F_OK) == 0 && vd_index_reload(&s, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: %s\n", err);
    return 2;
  }
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
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
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
  s.mhd = MHD_start_daemon(flags, (uint16_t)s.port, NULL, NULL, vd_handler, &s,
                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                           MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s.threads,
                           MHD_OPTION_CONNECTION_LIMIT, (unsigned)s.max_conns,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
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
      if (s.index_path) {
        if (vd_index_reload(&s, err, sizeof err) != 0)
          fprintf(stderr, "vouchd: reload: index: %s (keeping the old one)\n", err);
        else
          fprintf(stderr, "vouchd: reloaded the index: %lu entries\n", atomic_load(&s.index_entries));
      }
      continue;
    }
    break;
  }
  /* Graceful stop: no new connections; let the open ones finish (30 s at most). */
  fprintf(stderr, "vouchd: stopping\n");
  MHD_socket lsock = MHD_quiesce_daemon(s.mhd);
  if (lsock != MHD_INVALID_SOCKET) close(lsock);
  for (int i = 0; i < 300 && atomic_load(&s.conns) > 0; i++) usleep(100000);
  MHD_stop_daemon(s.mhd);
  while (s.pool) {
    vd_worker *w = s.pool;
    s.pool = w->next;
    vd_worker_free(w);
  }
  free(s.tokens);
  vd_index_drop(&s);
  vd_psi_free(&s);
  fprintf(stderr, "vouchd: stopped\n");
  return 0;
bad:
  fprintf(stderr, "vouchd: bad value for an option\n%s", usage);
  return 2;
}
