#!/bin/sh
# reboot.sh: restarts the device (the AWS-Reboot managed template's handler).
#
# Usage:   reboot.sh RUN_AS_USER [--dry-run]
# Example: {"action": {"name": "Reboot", "type": "runHandler", "input": {"handler": "reboot.sh"},
#           "runAsUser": "root"}}
#
# Pairs with ggjobs' resumeAfterReboot (on by default for reboot.sh): ggjobs records that this step
# started, the restart stops ggjobs while the step is still running, and after the restart ggjobs
# continues with the next step and reports the job instead of running this step again. No lock file
# is needed. If the device is still up GGJOBS_REBOOT_WAIT_SECONDS (default 300) after the request,
# the reboot did not happen and the step fails.
# Dry run (GGJOBS_DRY_RUN=1 or --dry-run): prints the command it would run, changes nothing.
set -eu

[ "$#" -gt 0 ] && shift # runAsUser: ggjobs already runs this handler as that user
dry_run=${GGJOBS_DRY_RUN:-0}
for arg do
  case $arg in
  --dry-run) dry_run=1 ;;
  *) echo "usage: reboot.sh RUN_AS_USER [--dry-run]" >&2; exit 2 ;;
  esac
done

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then set -- systemctl reboot
elif command -v shutdown >/dev/null 2>&1; then set -- shutdown -r now
else set -- reboot
fi

if [ "$dry_run" = 1 ]; then
  echo "dry run: would run: $*"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "reboot.sh: must run as root (set runAsUser to root)" >&2
  exit 1
fi
wait_seconds=${GGJOBS_REBOOT_WAIT_SECONDS:-300}
case $wait_seconds in '' | *[!0-9]*) wait_seconds=300 ;; esac

echo "rebooting: $*"
sync
"$@"
sleep "$wait_seconds"
echo "reboot.sh: the device is still up ${wait_seconds}s after the reboot request" >&2
exit 1
