#!/bin/sh
# echo.sh: prints its arguments, space-separated, as one line on stdout. Handy to try a job end to end.
#
# Usage:   echo.sh RUN_AS_USER [WORD...]
# Example: {"action": {"name": "Say hello", "type": "runHandler",
#           "input": {"handler": "echo.sh", "args": ["hello", "world"]}}}
#
# $1 is runAsUser (AWS IoT Device Client convention: always passed, possibly empty). ggjobs has already
# started this handler as that user, so it is only informational here.
set -eu

[ "$#" -gt 0 ] && shift
printf '%s\n' "$*"
