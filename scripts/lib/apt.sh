# scripts/lib/apt.sh -- sourced by the install scripts: apt_install WHO PKG...
# installs the Debian packages not installed yet (as root; through sudo when
# available), after one apt-get update, and does nothing when all are there.
apt_install() {
  who=$1; shift
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then exec sudo sh "$0"; fi
    echo "$who: must run as root (apt-get)" >&2; exit 2
  fi
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
  fi
}
