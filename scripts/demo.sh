#!/usr/bin/env bash
# make demo: the whole ogive workflow against a local Deep Archive server,
# narrated. Restores are made to take seconds instead of hours.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

OGIVE=${OGIVE:-$PWD/ogive}
[ -x "$OGIVE" ] || go build -o "$OGIVE" .

say "Starting the local Deep Archive server (versitygw + ogive's Deep Archive layer)"
go build -o "$work/s3local" ./internal/s3local/cmd/s3local
"$work/s3local" -dir "$work/s3" -addr 127.0.0.1:0 -bucket demo -bulk 4s -standard 2s -day 1h \
	>"$work/server.env" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
	grep -q '^export AWS_ENDPOINT_URL_S3=' "$work/server.env" 2>/dev/null && break
	sleep 0.1
done
grep -q '^export AWS_ENDPOINT_URL_S3=' "$work/server.env" || { cat "$work/server.log"; echo "server did not start"; exit 1; }
grep '^export ' "$work/server.env" >"$work/server.sh"
# shellcheck disable=SC1091
. "$work/server.sh"
S3_ENDPOINT=$AWS_ENDPOINT_URL_S3 S3_BUCKET=demo S3_REGION=$AWS_REGION
# ogive reads the endpoint from its profile, not from the environment.
unset AWS_ENDPOINT_URL_S3
echo "endpoint $S3_ENDPOINT, bucket $S3_BUCKET; Bulk restores take 4 s here instead of 48 h"

export OGIVE_PROFILE=$work/profile
printf 'correct horse battery staple\n' >"$work/password"
chmod 600 "$work/password"
export OGIVE_PASSWORD_FILE=$work/password

say "1. init: a new master key, sealed with a password in $OGIVE_PROFILE"
run "$OGIVE" init --bucket "$S3_BUCKET" --region "$S3_REGION" --endpoint "$S3_ENDPOINT"

say "2. put: encrypt and upload a 20 MiB file to DEEP_ARCHIVE"
head -c 20971520 /dev/urandom >"$work/photos.tar"
chmod 640 "$work/photos.tar"
touch -d '2024-03-01 12:00:00' "$work/photos.tar"
id=$(run "$OGIVE" put "$work/photos.tar")
echo "storage ID: $id"

say "3. list: names are decrypted locally; the file is archived (DEEPS)"
run "$OGIVE" list

say "4. get before a restore: Deep Archive refuses, exit status 2"
mkdir "$work/restored"
set +e
"$OGIVE" get "$id" "$work/restored"
echo "exit status $?"
set -e

short=${id:0:12}
say "5. restore (Bulk tier) by a shortened ID, then head --wait until READY"
run "$OGIVE" restore "$short"
run "$OGIVE" head --wait "$short"

say "6. get: download, authenticate and decrypt under the original name"
run "$OGIVE" get "$short" "$work/restored"

say "7. compare: the same bytes, mode and modification time"
run cmp "$work/photos.tar" "$work/restored/photos.tar"
sha256sum "$work/photos.tar" "$work/restored/photos.tar"
ls -l --time-style=+%F.%T "$work/photos.tar" "$work/restored/photos.tar" | awk '{print $1, $6, $7}'
say "The restored file is identical to the original."
