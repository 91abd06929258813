#!/bin/sh
# remove-packages.sh: removes packages with the system package manager (apt-get, dnf, yum or apk),
# the AWS-Remove-Application managed template's handler.
#
# Usage:   remove-packages.sh RUN_AS_USER PACKAGE... [--dry-run]
# Example: {"handler": "remove-packages.sh", "args": ["curl jq"], "runAsUser": "root"}
#
# The managed template passes its `packages` parameter as ONE space-separated argument, so every
# argument is split on whitespace. Names starting with "-" are refused (no option injection).
# Needs root (runAsUser "root" with ggjobs running as root).
# Dry run (GGJOBS_DRY_RUN=1 or --dry-run): prints the command it would run, changes nothing.
set -eu

[ "$#" -gt 0 ] && shift # runAsUser: ggjobs already runs this handler as that user
dry_run=${GGJOBS_DRY_RUN:-0}
words=''
for arg do
  case $arg in
  --dry-run) dry_run=1 ;;
  *) words="$words $arg" ;;
  esac
done
set -f # split on whitespace below, without expanding * or ?
# shellcheck disable=SC2086
set -- $words
if [ "$#" -eq 0 ]; then
  echo "usage: remove-packages.sh RUN_AS_USER PACKAGE... [--dry-run]" >&2
  exit 2
fi
for package do
  case $package in
  -* | *[!A-Za-z0-9.+_:~=@/-]*) echo "remove-packages.sh: \"$package\" is not a package name" >&2; exit 2 ;;
  esac
done

if command -v apt-get >/dev/null 2>&1; then set -- apt-get remove -y "$@"
elif command -v dnf >/dev/null 2>&1; then set -- dnf remove -y "$@"
elif command -v yum >/dev/null 2>&1; then set -- yum remove -y "$@"
elif command -v apk >/dev/null 2>&1; then set -- apk del "$@"
else
  echo "remove-packages.sh: no supported package manager (apt-get, dnf, yum, apk)" >&2
  exit 1
fi

if [ "$dry_run" = 1 ]; then
  echo "dry run: would run: $*"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "remove-packages.sh: must run as root (set runAsUser to root)" >&2
  exit 1
fi
echo "running: $*"
DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND
exec "$@"
