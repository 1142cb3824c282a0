#!/usr/bin/env bash
# Debian packages the end-to-end and metrics tests drive: headless Chromium and its
# WebDriver (tests/e2e, the dashboard) and Prometheus's promtool (`promtool check metrics`).
#
#   bash infra/test-tools.sh     # install whichever of them is missing (idempotent)
#
# Installs as root with apt, like infra/postgres.sh: apt-get update once, then
# DEBIAN_FRONTEND=noninteractive apt-get install -y -qq.
set -euo pipefail

say() { echo "test-tools.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v promtool >/dev/null || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "missing ${missing[*]} and not root: apt-get install -y ${missing[*]}"
say "installing Debian packages: ${missing[*]} ..."
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
