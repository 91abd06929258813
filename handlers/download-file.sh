#!/bin/sh
# download-file.sh: downloads a URL to a file (the AWS-Download-File managed template's handler).
#
# Usage:   download-file.sh RUN_AS_USER URL DESTINATION [SHA256] [--dry-run]
# Example: {"handler": "download-file.sh", "args": ["https://example.com/app.tar.gz", "/opt/app/app.tar.gz"]}
#
# URL may be http(s) (curl or wget) or file://. The file is written next to DESTINATION first and moved
# into place only when complete and, if SHA256 (64 hex digits) is given, only when it matches; so a
# failed download never leaves a partial DESTINATION behind. URLs are printed without their query
# string (presigned URL signatures stay out of logs).
# Dry run (GGJOBS_DRY_RUN=1 or --dry-run): checks the arguments, prints what it would do, changes nothing.
# ggjobs itself also has a `download` step type that verifies a SHA-256 in-process.
set -eu

usage() {
  echo "usage: download-file.sh RUN_AS_USER URL DESTINATION [SHA256] [--dry-run]" >&2
  exit 2
}

[ "$#" -gt 0 ] && shift # runAsUser: ggjobs already runs this handler as that user
dry_run=${GGJOBS_DRY_RUN:-0}
url='' dest='' sum=''
for arg do
  case $arg in
  --dry-run) dry_run=1 ;;
  *)
    if [ -z "$url" ]; then url=$arg
    elif [ -z "$dest" ]; then dest=$arg
    elif [ -z "$sum" ]; then sum=$arg
    else usage
    fi
    ;;
  esac
done
[ -n "$url" ] && [ -n "$dest" ] || usage

shown_url=${url%%\?*}
[ "$shown_url" = "$url" ] || shown_url="$shown_url?..."
case $url in
http://* | https://* | file://*) ;;
*) echo "download-file.sh: $shown_url is not an http(s) or file:// URL" >&2; exit 2 ;;
esac
case $dest in
/*) ;;
*) echo "download-file.sh: destination $dest must be an absolute path" >&2; exit 2 ;;
esac
if [ -n "$sum" ]; then
  case $sum in *[!0-9a-fA-F]*) echo "download-file.sh: SHA256 must be 64 hexadecimal digits" >&2; exit 2 ;; esac
  [ "${#sum}" -eq 64 ] || { echo "download-file.sh: SHA256 must be 64 hexadecimal digits" >&2; exit 2; }
  sum=$(printf '%s' "$sum" | tr 'A-F' 'a-f')
fi

if [ "$dry_run" = 1 ]; then
  echo "dry run: would download $shown_url to $dest${sum:+ and verify sha256 $sum}"
  exit 0
fi

dir=$(dirname -- "$dest")
mkdir -p -- "$dir"
tmp=$(mktemp "$dir/.download-file.XXXXXX" 2>/dev/null) || { tmp="$dir/.download-file.$$"; : >"$tmp"; }
trap 'rm -f -- "$tmp"' EXIT
trap 'rm -f -- "$tmp"; exit 143' TERM
trap 'rm -f -- "$tmp"; exit 130' INT

case $url in
file://*) cp -- "${url#file://}" "$tmp" ;;
*)
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --output "$tmp" -- "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$tmp" -- "$url"
  else
    echo "download-file.sh: neither curl nor wget is installed" >&2
    exit 1
  fi
  ;;
esac

if [ -n "$sum" ]; then
  if command -v sha256sum >/dev/null 2>&1; then actual=$(sha256sum -- "$tmp" | cut -d ' ' -f 1)
  elif command -v shasum >/dev/null 2>&1; then actual=$(shasum -a 256 -- "$tmp" | cut -d ' ' -f 1)
  else actual=$(openssl dgst -sha256 -r "$tmp" | cut -d ' ' -f 1)
  fi
  if [ "$actual" != "$sum" ]; then
    echo "download-file.sh: sha256 mismatch for $shown_url: expected $sum, got $actual" >&2
    exit 1
  fi
fi

chmod 0644 "$tmp"
mv -f -- "$tmp" "$dest"
trap - EXIT INT TERM
echo "downloaded $shown_url to $dest"
