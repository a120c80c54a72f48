#!/usr/bin/env bash
# make bench: ogive against the AWS CLI on the local Deep Archive server, in
# the same run, on the same files. docs/BENCHMARKS.md explains the method and
# records results.
#
#   put and get of a random file: wall time, client CPU (user+sys) and peak RSS
#     (/usr/bin/time), for ogive, "aws s3 cp", ogive-plain (ogive built with
#     -tags ogive_bench_plaintext: the same path with encryption switched off)
#     and rawput (object.Upload with ogive's part size and concurrency, without
#     encryption, profile or resume state);
#   list over many archives: wall time and the S3 requests the server saw;
#   restore --all over as many archives (not on loopback by default): wall
#     time, each run checked to start a restore of every archive;
#   directory archives (loopback): put and get of a tree of 10,000 files of
#     100 KiB against one file of the same bytes, and of 100,000 files of 1 KiB
#     (peak RSS), and ls of its index;
#   crypt: single-core Go benchmark throughput against "openssl speed".
#
# Put and get run on every network of BENCH_NET, list and restore on those
# of BENCH_LIST_NET and BENCH_RESTORE that BENCH_NET has too. A network is
# loopback (the client talks to the server directly) or a WAN model, where
# the client talks to a toxiproxy server on loopback that adds latency and
# caps each TCP connection's bandwidth in both directions
# (internal/benchtools/wanproxy; "WAN models" in docs/BENCHMARKS.md):
#   wan40   20 ms each way (40 ms round trip), 20 MiB/s per connection
#   wan100  50 ms each way (100 ms round trip), 10 MiB/s per connection
# Before a WAN run, "go test -tags benchwan ./internal/benchtools/wanproxy"
# checks that the models are what they say.
#
# Knobs (environment):
#   BENCH_SIZES     file sizes in MiB                  (default "1024 8192"; 0 skips)
#   BENCH_RUNS      runs per tool at the first size    (default 5)
#   BENCH_BIG_RUNS  runs per tool at the other sizes   (default 1)
#   BENCH_BIG_TOOLS tools at the other sizes           (default "ogive": only its
#                   memory is a target there; "ogive aws raw plain" for all)
#   BENCH_NET       networks, by spaces or commas      (default "loopback wan40 wan100")
#   BENCH_TREE      files of 100 KiB in the directory archived on loopback,
#                   against one file of the same bytes  (default 10000; 0 skips)
#   BENCH_TREE_BIG  files of 1 KiB in the directory whose put and get
#                   memory and ls time are measured     (default 100000; 0 skips)
#   BENCH_LIST      archives for list and restore --all (default 10000; 0 skips)
#   BENCH_LIST_NET  networks of list                   (default "loopback wan40")
#   BENCH_RESTORE   networks of restore --all          (default "wan40")
#                   (list and restore run only on networks that BENCH_NET has too)
#   BENCH_RESTORE_RUNS runs of restore --all           (default BENCH_RUNS)
#   BENCH_DIR       work directory, needs 3 × the largest size free
#                   (default: a new directory under $TMPDIR, removed at the end)
#   AWS             the AWS CLI                        (default: aws on PATH; installed
#                   from Debian's awscli package when missing and apt-get can run)
#   OGIVE_TOXIPROXY the toxiproxy server for WAN runs  (default: toxiproxy-server on
#                   PATH or in the Go bin directory; make bench-tools installs it)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${BENCH_SIZES:-"1024 8192"}
RUNS=${BENCH_RUNS:-5}
BIG_RUNS=${BENCH_BIG_RUNS:-1}
BIG_TOOLS=${BENCH_BIG_TOOLS:-ogive}
LIST_N=${BENCH_LIST:-10000}
TREE_N=${BENCH_TREE:-10000}
TREE_BIG=${BENCH_TREE_BIG:-100000}
NETS=${BENCH_NET:-"loopback wan40 wan100"}
LIST_NETS=${BENCH_LIST_NET:-"loopback wan40"}
RESTORE_NETS=${BENCH_RESTORE:-"wan40"}
RESTORE_RUNS=${BENCH_RESTORE_RUNS:-$RUNS}
# Lists may be separated by commas too.
NETS=${NETS//,/ } LIST_NETS=${LIST_NETS//,/ } RESTORE_NETS=${RESTORE_NETS//,/ }
for net in $NETS $LIST_NETS $RESTORE_NETS; do
	case $net in
	loopback | wan40 | wan100) ;;
	*) echo "bench: unknown network \"$net\" in BENCH_NET, BENCH_LIST_NET or BENCH_RESTORE: use loopback, wan40 or wan100" >&2; exit 2 ;;
	esac
done
# inlist LIST WORD: WORD is one of the words of LIST.
inlist() { [[ " $1 " == *" $2 "* ]]; }
# list and restore run only on the networks of BENCH_NET.
only() { local n; for n in $1; do if inlist "$NETS" "$n"; then printf '%s ' "$n"; fi; done; }
LIST_NETS=$(only "$LIST_NETS") RESTORE_NETS=$(only "$RESTORE_NETS")
wan=0
for net in $NETS; do [ "$net" = loopback ] || wan=1; done
AWS=${AWS:-aws}
TIME=/usr/bin/time

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing. $2" >&2; exit 1; }; }
# debian PACKAGE: installs a Debian package, as root or through password-less
# sudo; fails quietly where neither is possible.
debian() {
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
		sudo="sudo -n"
	fi
	command -v apt-get >/dev/null || return 1
	echo "bench: installing Debian's $1 package" >&2
	$sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}
if [ "$AWS" = aws ] && ! command -v aws >/dev/null; then
	debian awscli || true
fi
need "$AWS" "Install the AWS CLI (Debian: apt-get install -y awscli) or set AWS=/path/to/aws."
[ -x "$TIME" ] || debian time || true
[ -x "$TIME" ] || { echo "bench: $TIME is missing. Debian: apt-get update && apt-get install -y time" >&2; exit 1; }
need go ""

if [ -n "${BENCH_DIR:-}" ]; then
	work=$BENCH_DIR
	mkdir -p "$work"
	keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/ogive-bench.XXXXXX")
	keep=0
fi
work=$(cd "$work" && pwd)
bin=$work/bin
servers=()
cleanup() {
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work/data" "$work/out" "$work/s3" "$work/s3list" "$work/state"
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

log "building ogive, s3local, rawput, seedlist, wanproxy into $bin"
mkdir -p "$bin" "$work/data" "$work/out"
go build -o "$bin/ogive" .
# The same ogive with encryption switched off for multipart file uploads:
# the issue's "same upload path with encryption switched off".
go build -tags ogive_bench_plaintext -o "$bin/ogive-plain" .
go build -o "$bin/s3local" ./internal/s3local/cmd/s3local
go build -o "$bin/rawput" ./internal/benchtools/rawput
go build -o "$bin/seedlist" ./internal/benchtools/seedlist
go build -o "$bin/wanproxy" ./internal/benchtools/wanproxy

# start_server DIR LOG [FLAGS...]: runs s3local in the background and loads
# its export lines into this shell.
start_server() {
	local dir=$1 logf=$2
	shift 2
	"$bin/s3local" -dir "$dir" -addr 127.0.0.1:0 -bucket bench -bulk 1s -standard 1s "$@" \
		>"$dir.env" 2>"$logf" &
	servers+=($!)
	for _ in $(seq 1 300); do
		grep -q '^export AWS_ENDPOINT_URL_S3=' "$dir.env" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^export AWS_ENDPOINT_URL_S3=' "$dir.env" || { cat "$logf" >&2; echo "bench: s3local did not start" >&2; exit 1; }
	grep '^export ' "$dir.env" >"$dir.sh"
	# shellcheck disable=SC1090
	. "$dir.sh"
	ENDPOINT=$AWS_ENDPOINT_URL_S3
}

# The AWS CLI reads only the environment: no user config or credentials file.
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
# ogive put keeps resume state under $XDG_STATE_HOME: keep it in the work directory.
export XDG_STATE_HOME=$work/state
printf 'ogive bench password\n' >"$work/password"
chmod 600 "$work/password"
export OGIVE_PASSWORD_FILE=$work/password

results=$work/results.tsv
: >"$results"
# Timed commands read no terminal: nothing waits for an answer.
: >"$work/empty"

# measure LABEL CMD...: runs CMD under /usr/bin/time and appends
# "LABEL wall user sys maxrss_kib" to the results; CMD's stdout is in $work/cmd.out.
measure() {
	local label=$1
	shift
	# Written data reaches the disk, and what the last deletion queued has a
	# moment to settle, before the clock starts.
	sync
	sleep 1
	if ! "$TIME" -f '%e %U %S %M' -o "$work/time.out" "$@" <"$work/empty" >"$work/cmd.out" 2>"$work/cmd.err"; then
		cat "$work/cmd.err" >&2
		# wanproxy says why it stopped the proxies, if it did.
		grep -v 'toxiproxy API on' "$work/wanproxy.err" 2>/dev/null >&2 || true
		echo "bench: $label failed: $*" >&2
		exit 1
	fi
	printf '%s %s\n' "$label" "$(tail -n 1 "$work/time.out")" >>"$results"
	printf '  %-22s %s\n' "$label" "$(tail -n 1 "$work/time.out" | awk '{printf "%6.2f s wall %6.2f s cpu %5.0f MiB", $1, $2 + $3, $4 / 1024}')" >&2
}

s3() { "$AWS" --endpoint-url "$ENDPOINT" "$@"; }

# random_file PATH MIB: incompressible data, fast (AES-CTR keystream).
random_file() {
	if command -v openssl >/dev/null; then
		# openssl dies of SIGPIPE when head has enough.
		{ openssl enc -aes-128-ctr -nosalt -pass "pass:$RANDOM$RANDOM" -pbkdf2 </dev/zero 2>/dev/null || true; } |
			head -c "$(($2 << 20))" >"$1"
	else
		head -c "$(($2 << 20))" /dev/urandom >"$1"
	fi
}

# ------------------------------------------------------------------- networks
log "starting the local Deep Archive server"
start_server "$work/s3" "$work/s3.log"
direct=$ENDPOINT
echo "endpoint $ENDPOINT; work directory $work" >&2
many=()
if [ "$LIST_N" -gt 0 ]; then
	for net in $LIST_NETS $RESTORE_NETS; do inlist "${many[*]:-}" "$net" || many+=("$net"); done
fi
if [ "${#many[@]}" -gt 0 ]; then
	# Every request is logged, to count them; a restore is ready after 1 s
	# and expires 1 s later (-day 1s, --lifetime 1), so that each run of
	# restore --all finds every archive archived again.
	log "starting a second server, that logs every request, for list and restore"
	start_server "$work/s3list" "$work/s3list.log" -v -day 1s
	list_direct=$ENDPOINT
fi

# endpoint NET SERVER: the URL through which the client reaches SERVER (main
# or list) on NET.
declare -A via
endpoint() {
	case $1-$2 in
	loopback-main) echo "$direct" ;;
	loopback-list) echo "$list_direct" ;;
	*) echo "http://${via[$1-$2]}" ;;
	esac
}
if [ "$wan" = 1 ]; then
	log "checking the WAN models (go test -tags benchwan ./internal/benchtools/wanproxy)"
	go test -tags benchwan -count=1 ./internal/benchtools/wanproxy >"$work/wanproxy-test.out" 2>&1 ||
		{ cat "$work/wanproxy-test.out" >&2; echo "bench: the WAN models are not what they say" >&2; exit 1; }
	links=()
	for net in $NETS; do [ "$net" = loopback ] || links+=("$net=${direct#http://}"); done
	for net in "${many[@]}"; do [ "$net" = loopback ] || links+=("$net=${list_direct#http://}"); done
	"$bin/wanproxy" -log "$work/toxiproxy.log" "${links[@]}" >"$work/wanproxy.out" 2>"$work/wanproxy.err" &
	servers+=($!)
	for _ in $(seq 1 300); do
		grep -qx ready "$work/wanproxy.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -qx ready "$work/wanproxy.out" || { cat "$work/wanproxy.err" >&2; echo "bench: wanproxy did not start" >&2; exit 1; }
	while read -r model upstream listen; do
		[ "$model" = ready ] && break
		if [ "http://$upstream" = "$direct" ]; then via[$model-main]=$listen; else via[$model-list]=$listen; fi
		echo "$model: 127.0.0.1 → $listen → $upstream" >&2
	done <"$work/wanproxy.out"
fi

# use_profile NET SERVER: points OGIVE_PROFILE and ENDPOINT at SERVER (main
# or list) through NET, creating the profile the first time. On the list
# server each network's profile has its own key prefix, so that each lists
# and restores its own archives only.
use_profile() {
	local prefix=
	ENDPOINT=$(endpoint "$1" "$2")
	if [ "$2" = main ]; then
		export OGIVE_PROFILE=$work/s3/ogive-$1.profile
	else
		export OGIVE_PROFILE=$work/s3list/ogive-$1.profile
		prefix=$1/
	fi
	[ -e "$OGIVE_PROFILE" ] && return
	"$bin/ogive" init --bucket bench --region "$AWS_REGION" --endpoint "$ENDPOINT" --prefix "$prefix" >/dev/null 2>"$work/init.err" ||
		{ cat "$work/init.err" >&2; exit 1; }
}

# ---------------------------------------------------------------- put and get
# putget NET: put and get of each size through NET. Labels are
# OPERATION-SIZE-TOOL-NET.
putget() {
	local net=$1 first=1 mib runs tools file id run tool order plain_id awscp
	use_profile "$net" main
	# The CLI's 60 s read timeout is shorter than the local server's
	# CompleteMultipartUpload of several GiB, which copies every part.
	awscp=("$AWS" --endpoint-url "$ENDPOINT" --cli-read-timeout 600 s3 cp --only-show-errors)
	for mib in $SIZES; do
		runs=$BIG_RUNS tools=$BIG_TOOLS
		if [ "$first" = 1 ]; then
			runs=$RUNS tools="aws ogive raw plain"
			# Through a WAN model the issue compares ogive with the AWS CLI
			# only: encryption's cost is a loopback matter.
			[ "$net" = loopback ] || tools="aws ogive"
		fi
		first=0
		file=$work/data/file-$mib.bin
		log "put, $mib MiB, $net, $runs run(s) per tool"
		[ -e "$file" ] || random_file "$file" "$mib"
		id=
		for run in $(seq 1 "$runs"); do
			# Rotate the order so that no tool always runs first after a pause.
			order=(aws ogive raw plain)
			order=("${order[@]:$((run % 4))}" "${order[@]:0:$((run % 4))}")
			for tool in "${order[@]}"; do
				uses "$tool" || continue
				# Each tool's object is deleted right after its run (but the
				# last, which get needs), so that no run pays for the deletion
				# of another's gigabytes.
				case $tool in
				aws)
					measure "put-$mib-aws-$net" "${awscp[@]}" --storage-class DEEP_ARCHIVE "$file" "s3://bench/aws-$mib.bin"
					[ "$run" = "$runs" ] || s3 s3 rm --only-show-errors "s3://bench/aws-$mib.bin"
					;;
				ogive)
					measure "put-$mib-ogive-$net" "$bin/ogive" put "$file"
					id=$(head -n 1 "$work/cmd.out")
					[ "$run" = "$runs" ] || s3 s3 rm --only-show-errors "s3://bench/$id"
					;;
				raw)
					measure "put-$mib-raw-$net" "$bin/rawput" -endpoint "$ENDPOINT" -bucket bench -key "raw-$mib.bin" "$file"
					s3 s3 rm --only-show-errors "s3://bench/raw-$mib.bin"
					;;
				plain)
					measure "put-$mib-plain-$net" "$bin/ogive-plain" put "$file"
					plain_id=$(head -n 1 "$work/cmd.out")
					# The switch really was on: the object is the file, unencrypted.
					[ "$(s3 s3api head-object --bucket bench --key "$plain_id" --query ContentLength --output text)" = "$(stat -c %s "$file")" ] ||
						{ echo "bench: ogive-plain stored an object of another size than the file" >&2; exit 1; }
					s3 s3 rm --only-show-errors "s3://bench/$plain_id"
					;;
				esac
			done
		done

		log "get, $mib MiB, $net, $runs run(s) per tool"
		uses aws && s3 s3api restore-object --bucket bench --key "aws-$mib.bin" \
			--restore-request '{"Days":1,"GlacierJobParameters":{"Tier":"Bulk"}}'
		"$bin/ogive" restore "$id" >/dev/null 2>&1 </dev/null
		for _ in $(seq 1 100); do
			"$bin/ogive" head "$id" >/dev/null 2>&1 </dev/null && break
			sleep 0.2
		done
		for run in $(seq 1 "$runs"); do
			order=(aws ogive)
			[ $((run % 2)) = 0 ] && order=(ogive aws)
			for tool in "${order[@]}"; do
				uses "$tool" || continue
				case $tool in
				aws)
					measure "get-$mib-aws-$net" "${awscp[@]}" "s3://bench/aws-$mib.bin" "$work/out/aws.bin"
					[ "$run" = 1 ] && cmp "$file" "$work/out/aws.bin"
					rm -f "$work/out/aws.bin"
					;;
				ogive)
					measure "get-$mib-ogive-$net" "$bin/ogive" get "$id" "$work/out"
					[ "$run" = 1 ] && cmp "$file" "$work/out/file-$mib.bin"
					find "$work/out" -mindepth 1 -delete
					;;
				esac
			done
		done
		uses aws && s3 s3 rm --only-show-errors "s3://bench/aws-$mib.bin"
		s3 s3 rm --only-show-errors "s3://bench/$id"
	done
}
uses() { [[ " $tools " == *" $1 "* ]]; }

# BENCH_SIZES=0 measures no put and get of single files.
[ "$SIZES" = 0 ] || for net in $NETS; do
	putget "$net"
done
rm -f "$work"/data/file-*.bin

# ------------------------------------------------------------ directory archives
# tree: on loopback, put and get of a tree of TREE_N files of 100 KiB against
# put and get of one file of the same bytes (issue 16: each at >= 0.8x the
# throughput, so <= 1.25x the wall time); then a tree of TREE_BIG files of
# 1 KiB: put's and get's peak RSS, and ls of its index.
treebench() {
	local n=$1 kib=$2 runs=$3 dir=$work/data/tree-$1 file=$work/data/tree-$1.bin id fid
	log "tree: $n files of $kib KiB, loopback, $runs run(s)"
	use_profile loopback main
	rm -rf "$dir" && mkdir -p "$dir"
	random_file "$file" $((n * kib / 1024 + 1))
	truncate -s $((n * kib * 1024)) "$file"
	# Spread over 100 directories, as a photo library is.
	for d in $(seq 0 99); do
		mkdir "$dir/d$d"
		dd if="$file" bs=$((kib * 1024)) skip=$((d * n / 100)) count=$((n / 100)) status=none |
			(cd "$dir/d$d" && split -a 6 -d -b $((kib * 1024)) - f)
	done
	for run in $(seq 1 "$runs"); do
		if [ "$kib" = 100 ]; then
			measure "treeput-$n-file-loopback" "$bin/ogive" put "$file"
			fid=$(head -n 1 "$work/cmd.out")
			[ "$run" = "$runs" ] || "$bin/ogive" rm --force --yes "$fid" >/dev/null 2>&1 </dev/null
		fi
		measure "treeput-$n-dir-loopback" "$bin/ogive" put "$dir"
		id=$(head -n 1 "$work/cmd.out")
		[ "$run" = "$runs" ] || "$bin/ogive" rm --force --yes "$id" >/dev/null 2>&1 </dev/null
	done
	for run in $(seq 1 "$runs"); do
		measure "ls-$n-dir-loopback" "$bin/ogive" ls "$id"
		[ "$(wc -l <"$work/cmd.out")" -gt "$n" ] || { echo "bench: ogive ls printed $(wc -l <"$work/cmd.out") lines" >&2; exit 1; }
	done
	"$bin/ogive" restore "$id" ${fid:+"$fid"} >/dev/null 2>&1 </dev/null
	for _ in $(seq 1 100); do
		"$bin/ogive" head "$id" >/dev/null 2>&1 </dev/null && break
		sleep 0.2
	done
	# Each run extracts into a directory of its own, all removed at the end:
	# creating 10,000 files just after deleting as many measures ext4's
	# search for inodes freed recently, not the extraction.
	[ "$kib" = 100 ] && "$bin/ogive" get "$id" - >"$work/data/tree-$n.tar" </dev/null 2>/dev/null
	for run in $(seq 1 "$runs"); do
		if [ "$kib" = 100 ]; then
			mkdir -p "$work/out/file-$run" "$work/out/tar-$run"
			measure "treeget-$n-file-loopback" "$bin/ogive" get "$fid" "$work/out/file-$run"
			# The file system's own cost of the files: GNU tar extracting the
			# same stream from a local file, with no network or decryption.
			measure "treeget-$n-tar-loopback" tar x -C "$work/out/tar-$run" -f "$work/data/tree-$n.tar"
		fi
		mkdir -p "$work/out/dir-$run"
		measure "treeget-$n-dir-loopback" "$bin/ogive" get "$id" "$work/out/dir-$run"
		[ "$run" = 1 ] && diff -r "$dir" "$work/out/dir-$run/tree-$n"
	done
	find "$work/out" -mindepth 1 -delete
	rm -f "$work/data/tree-$n.tar"
	"$bin/ogive" rm --force --yes "$id" ${fid:+"$fid"} >/dev/null 2>&1 </dev/null
	rm -rf "$dir" "$file"
}
if inlist "$NETS" loopback; then
	[ "$TREE_N" = 0 ] || treebench "$TREE_N" 100 "$RUNS"
	[ "$TREE_BIG" = 0 ] || treebench "$TREE_BIG" 1 1
fi

# ------------------------------------------------------- list and restore --all
if [ "${#many[@]}" -gt 0 ]; then
	requests() { grep -c '| vgw |' "$work/s3list.log" || true; }
	restores() { grep -c 'restore .*: Bulk tier' "$work/s3list.log" || true; }
	for net in "${many[@]}"; do
		use_profile "$net" list
		# Seeded directly: only the commands measured go through the model.
		log "list and restore: seeding $LIST_N archives for $net"
		"$bin/seedlist" -n "$LIST_N" -endpoint "$list_direct" >/dev/null
		if inlist "$LIST_NETS" "$net"; then
			log "list, $LIST_N archives, $net, $RUNS run(s)"
			for run in $(seq 1 "$RUNS"); do
				sleep 0.5
				before=$(requests)
				measure "list-$LIST_N-ogive-$net" "$bin/ogive" list
				sleep 0.5
				after=$(requests)
				listed=$(($(wc -l <"$work/cmd.out") - 2))
				[ "$listed" = "$LIST_N" ] || { echo "bench: ogive list printed $listed archives, want $LIST_N" >&2; exit 1; }
				printf 'requests-%s-ogive-%s %s\n' "$LIST_N" "$net" "$((after - before))" >>"$results"
				echo "  $((after - before)) requests" >&2
			done
		fi
		if inlist "$RESTORE_NETS" "$net"; then
			log "restore --all, $LIST_N archives, $net, $RESTORE_RUNS run(s)"
			for run in $(seq 1 "$RESTORE_RUNS"); do
				# The previous run's restores have expired (-day 1s).
				sleep 3
				before=$(restores)
				measure "restore-$LIST_N-ogive-$net" "$bin/ogive" restore --all
				sleep 0.5
				after=$(restores)
				[ "$((after - before))" = "$LIST_N" ] ||
					{ echo "bench: ogive restore --all started $((after - before)) restores, want $LIST_N" >&2; exit 1; }
			done
		fi
	done
fi

# ----------------------------------------------------------------------- crypt
log "crypt: single-core Go benchmarks against openssl speed (16 KiB blocks)"
go test -c -o "$bin/crypt.test" ./crypt
for run in $(seq 1 "$RUNS"); do
	"$bin/crypt.test" -test.run '^$' -test.bench '^Benchmark(Encrypt|Decrypt)' -test.benchtime 1s -test.cpu 1 |
		awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == "MB/s") { sub(/-[0-9]+$/, "", $1); print "crypt-" $1, $(i-1) } }' >>"$results"
	if command -v openssl >/dev/null; then
		openssl speed -evp aes-256-gcm -bytes 16384 -seconds 2 2>/dev/null |
			awk '/^AES-256-GCM|^aes-256-gcm/ { v = $NF; sub(/k$/, "", v); print "crypt-openssl", v / 1000 }' >>"$results"
	fi
done
grep '^crypt-' "$results" | tail -n 4 | sed 's/^/  /' >&2 || true

# --------------------------------------------------------------------- summary
# report RESULTS: medians per label, then each target with its ratio.
report() {
	awk '
	function median(key,    n, i, j, t, a) {
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = val[key, i]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		if (n == 0) return ""
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	function add(key, v) { val[key, ++cnt[key]] = v }
	function has(key) { return cnt[key] > 0 }
	# check prints a target row; the wall-time ratios are targets at 1 GiB
	# only (issues 5 and 15), so at other sizes they print as reference rows.
	function check(name, got, op, want, unit,    ok) {
		if (got == "") { printf "| %s | not measured | %s %s%s | - |\n", name, op, want, unit; return }
		if (unit == "x" && name ~ /^(put|get) / && name !~ /^(put|get) 1024 MiB/) {
			printf "| %s | %.2f%s | none at this size | reference |\n", name, got, unit
			return
		}
		ok = (op == "<=") ? got + 0 <= want + 0 : got + 0 >= want + 0
		printf "| %s | %.2f%s | %s %s%s | %s |\n", name, got, unit, op, want, unit, ok ? "met" : "**missed**"
	}
	{
		label = $1
		if (NF == 5) {
			add(label ".wall", $2); add(label ".cpu", $3 + $4); add(label ".rss", $5 / 1024)
			if (!(label in seen)) { seen[label] = 1; order[++nl] = label }
		} else {
			add(label, $2)
		}
	}
	END {
		print "| operation | size | tool | network | runs | wall (s) | client CPU (s) | peak RSS (MiB) |"
		print "|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= nl; i++) {
			split(order[i], f, "-")
			size = f[1] == "put" || f[1] == "get" ? f[2] " MiB" : f[1] ~ /^(tree|ls)/ ? f[2] " files" : f[2] " archives"
			printf "| %s | %s | %s | %s | %d | %.2f | %.2f | %.0f |\n", f[1], size, f[3], f[4], cnt[order[i] ".wall"],
				median(order[i] ".wall"), median(order[i] ".cpu"), median(order[i] ".rss")
		}
		print ""
		print "| target | measured (ratio of medians) | goal | |"
		print "|---|---|---|---|"
		for (i = 1; i <= nl; i++) {
			split(order[i], f, "-")
			s = f[2]; net = f[4]; k = "-" net
			# Issue 15: through a WAN model put and get are to take at
			# most 0.75x the AWS CLI wall time; on loopback the targets
			# of issue 5 hold.
			if (f[1] == "put" && f[3] == "ogive") {
				if (has("put-" s "-aws" k ".wall")) {
					check("put " s " MiB, " net ": wall / aws", median("put-" s "-ogive" k ".wall") / median("put-" s "-aws" k ".wall"), "<=", net == "loopback" ? "1.0" : "0.75", "x")
					if (net == "loopback")
						check("put " s " MiB, " net ": client CPU / aws", median("put-" s "-ogive" k ".cpu") / median("put-" s "-aws" k ".cpu"), "<=", "0.75", "x")
				}
				if (has("put-" s "-plain" k ".wall"))
					check("put " s " MiB, " net ": wall / same path, encryption off (ogive-plain)", median("put-" s "-ogive" k ".wall") / median("put-" s "-plain" k ".wall"), "<=", "1.10", "x")
				if (has("put-" s "-raw" k ".wall"))
					check("put " s " MiB, " net ": wall / unencrypted upload program (rawput)", median("put-" s "-ogive" k ".wall") / median("put-" s "-raw" k ".wall"), "<=", "1.10", "x")
				check("put " s " MiB, " net ": peak RSS", median("put-" s "-ogive" k ".rss"), "<=", "150", " MiB")
			}
			if (f[1] == "get" && f[3] == "ogive") {
				if (has("get-" s "-aws" k ".wall"))
					check("get " s " MiB, " net ": wall / aws", median("get-" s "-ogive" k ".wall") / median("get-" s "-aws" k ".wall"), "<=", net == "loopback" ? "0.8" : "0.75", "x")
				check("get " s " MiB, " net ": peak RSS", median("get-" s "-ogive" k ".rss"), "<=", "150", " MiB")
			}
			if (f[1] == "treeput" && f[3] == "dir") {
				if (has("treeput-" s "-file" k ".wall"))
					check("tree put, " s " files, " net ": wall / one file of its bytes", median("treeput-" s "-dir" k ".wall") / median("treeput-" s "-file" k ".wall"), "<=", "1.25", "x")
				check("tree put, " s " files, " net ": peak RSS", median("treeput-" s "-dir" k ".rss"), "<=", "150", " MiB")
			}
			if (f[1] == "treeget" && f[3] == "dir") {
				if (has("treeget-" s "-file" k ".wall"))
					check("tree get, " s " files, " net ": wall / one file of its bytes", median("treeget-" s "-dir" k ".wall") / median("treeget-" s "-file" k ".wall"), "<=", "1.25", "x")
				check("tree get, " s " files, " net ": peak RSS", median("treeget-" s "-dir" k ".rss"), "<=", "150", " MiB")
				if (has("treeget-" s "-tar" k ".wall"))
					printf "| tree get, %s files, %s: wall / GNU tar x of its stream from a local file (the cost of the file system) | %.2fx | none | reference |\n", s, net, median("treeget-" s "-dir" k ".wall") / median("treeget-" s "-tar" k ".wall")
			}
			if (f[1] == "ls")
				check("ls of " s " entries, " net ": wall", median(order[i] ".wall"), "<=", "2", " s")
			if (f[1] == "list") {
				check("list " s ", " net ": wall", median(order[i] ".wall"), "<=", "3", " s")
				check("list " s ", " net ": S3 requests", median("requests-" s "-ogive" k), "<=", "11", "")
			}
			if (f[1] == "restore" && net != "loopback")
				check("restore --all " s ", " net ": wall", median(order[i] ".wall"), "<=", "30", " s")
		}
		if (has("crypt-BenchmarkEncryptInCache") && has("crypt-openssl"))
			check(sprintf("encryption, one core, in cache: %.0f MB/s / openssl speed %.0f MB/s",
				median("crypt-BenchmarkEncryptInCache"), median("crypt-openssl")),
				median("crypt-BenchmarkEncryptInCache") / median("crypt-openssl"), ">=", "0.8", "x")
		print ""
		print "| Go benchmark, -cpu 1 | MB/s (median) |"
		print "|---|---|"
		for (k in cnt) if (k ~ /^crypt-/) {
			name = k; sub(/^crypt-/, "", name)
			printf "| %s | %.0f |\n", name == "openssl" ? "openssl speed -evp aes-256-gcm -bytes 16384" : name, median(k)
		}
	}' "$1"
}

log "summary (medians)"
report "$results" | tee "$work/results.md"
[ "$keep" = 1 ] && echo "results in $work/results.md and $results" >&2
exit 0
