#!/bin/sh
# restart-services.sh: restarts system services with systemctl (when systemd runs), service, rc-service or
# /etc/init.d, the AWS-Restart-Application managed template's handler.
#
# Usage:   restart-services.sh RUN_AS_USER SERVICE... [--dry-run]
# Example: {"handler": "restart-services.sh", "args": ["nginx cron"], "runAsUser": "root"}
#
# The managed template passes its `services` parameter as ONE space-separated argument, so every
# argument is split on whitespace. Names starting with "-" are refused. Every service is tried; the
# exit code is 1 if any of them failed. Needs root for system services.
# Dry run (GGJOBS_DRY_RUN=1 or --dry-run): prints the commands it would run, changes nothing.
set -eu

action=restart
me="$action-services.sh"
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
  echo "usage: $me RUN_AS_USER SERVICE... [--dry-run]" >&2
  exit 2
fi
for service do
  case $service in
  -* | *[!A-Za-z0-9@._:-]*) echo "$me: \"$service\" is not a service name" >&2; exit 2 ;;
  esac
done

# Prints the command line that applies $action to service $1.
command_for() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo "systemctl $action $1"
  elif command -v service >/dev/null 2>&1; then echo "service $1 $action"
  elif command -v rc-service >/dev/null 2>&1; then echo "rc-service $1 $action"
  elif [ -x "/etc/init.d/$1" ]; then echo "/etc/init.d/$1 $action"
  else return 1
  fi
}

failed=0
for service do
  if ! line=$(command_for "$service"); then
    echo "$me: no service manager found for $service (systemctl, service, rc-service, /etc/init.d)" >&2
    failed=1
    continue
  fi
  if [ "$dry_run" = 1 ]; then
    echo "dry run: would run: $line"
    continue
  fi
  echo "running: $line"
  # $line holds only the manager, the checked service name and the action: splitting it is safe.
  # shellcheck disable=SC2086
  $line || { echo "$me: $line failed" >&2; failed=1; }
done
exit "$failed"
