#!/usr/bin/env bash
# Installs the system packages Cairn runs against when they are missing:
# the ZooKeeper server (Debian package `zookeeper`, with Java) and git; with --tests, also what
# only the tests use: nginx, whose `nginx -t` checks the example's rendered gateway configuration,
# python3-kazoo, the other language's ZooKeeper client that reads Cairn from the protocol document,
# and chromium, the browser the dashboard's tests drive (through playwright-core, which downloads none).
# Safe to run repeatedly; does nothing when everything is present.
#
# This file is the one list of those packages: `cairn start` (cli/system-packages.ts) asks it
# what is missing with --missing, and runs it as root to install them; `npm test` runs it with
# --tests before anything else.
#
#   install-system-deps.sh                 install what is missing (as root), or say how
#   install-system-deps.sh --missing       print what is missing, one package a line, and exit 0
#   install-system-deps.sh --status-fd N   install, writing apt's progress lines to descriptor N
#   install-system-deps.sh --tests ...     the same, counting the tests' packages too
set -euo pipefail

mode=install
status_fd=
tests=
while [ $# -gt 0 ]; do
  case "$1" in
    --missing) mode=list ;;
    --status-fd) status_fd="${2:?--status-fd needs a descriptor number}"; shift ;;
    --tests) tests=1 ;;
    *) echo "usage: $0 [--tests] [--missing | --status-fd N]" >&2; exit 2 ;;
  esac
  shift
done

missing=()
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v git >/dev/null 2>&1 || missing+=(git)
[ -z "$tests" ] || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -z "$tests" ] || /usr/bin/python3 -c 'import kazoo' >/dev/null 2>&1 || missing+=(python3-kazoo)
[ -z "$tests" ] || [ -x /usr/bin/chromium ] || missing+=(chromium)

if [ "$mode" = list ]; then
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
  exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "cairn: missing system packages: ${missing[*]}" >&2
  echo "cairn: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "cairn: installing ${missing[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
if [ -n "$status_fd" ]; then
  # APT::Status-Fd writes "dlstatus:…" and "pmstatus:<package>:<percent>:<what>" lines there.
  apt-get update -qq -o "APT::Status-Fd=$status_fd"
  apt-get install -y -qq -o "APT::Status-Fd=$status_fd" "${missing[@]}" >/dev/null
else
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
