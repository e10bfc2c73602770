#!/usr/bin/env bash
# ensure-tools.sh TOOL...: make sure the tools a test run needs are here
# before it starts, so a fresh machine never fails half an hour in.
#
# TOOL is one of: git make node chromium moto.
# Debian packages (git, make, nodejs npm, chromium fonts-dejavu-core) are
# installed with apt-get when this runs as root, as on CI (.ci/run); as
# another user it stops at once and prints the one command to run.
# moto is a Python package and PyPI is not reachable from every machine
# that runs the tests, so a missing moto_server is never installed here:
# it stops with the command that installs it.
set -euo pipefail

MOTO_INSTALL="python3 -m pip install 'moto[server]==5.2.1'"

pkgs=()
for tool in "$@"; do
  case "$tool" in
    git) command -v git >/dev/null || pkgs+=(git) ;;
    make) command -v make >/dev/null || pkgs+=(make) ;;
    node) { command -v node >/dev/null && command -v npm >/dev/null; } || pkgs+=(nodejs npm) ;;
    # The browser tests (test/browser) drive Debian's chromium; the fonts
    # make the screenshots they take readable. KONTAKT_CHROMIUM names
    # another browser (infra/harness/chromium).
    chromium)
      if [ -z "${KONTAKT_CHROMIUM:-}" ] && ! command -v chromium >/dev/null &&
        ! command -v chromium-browser >/dev/null; then
        pkgs+=(chromium fonts-dejavu-core)
      fi ;;
    moto)
      command -v moto_server >/dev/null || {
        echo "moto_server is not installed; make test-aws needs moto 5.2.1. Install it with:" >&2
        echo "  $MOTO_INSTALL" >&2
        exit 1
      } ;;
    *) echo "ensure-tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
done

[ ${#pkgs[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${pkgs[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${pkgs[*]}. Install them with:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "== installing ${pkgs[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
