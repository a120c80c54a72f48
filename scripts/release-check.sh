#!/usr/bin/env bash
# make release-check: the release is reproducible and its Linux binary works.
#  1. make release's build, here, with the usual build cache;
#  2. the same commit cloned to another path and built again with an empty
#     build cache and no network (GOPROXY=off: the module cache is enough);
#  3. both SHA256SUMS and every archive must be byte-identical;
#  4. the Linux archive for this machine's architecture is unpacked, and its
#     binary must print its version and run the whole make demo workflow.
# It needs a committed tree: uncommitted changes are not in the clone.
# RELEASE_TARGETS=linux/amd64,... limits the platforms (a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${VERSION:-v0.0.0-check}
GO=${GO:-go}
# A go.work above the checkout must not choose the modules (docs/RELEASING.md).
export GOWORK=off
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "release-check: first build ($version)"
"$GO" run ./internal/release -version "$version" -out "$work/a" ${RELEASE_TARGETS:+-targets "$RELEASE_TARGETS"}

echo "release-check: second build, from a clone at another path, empty build cache, no network"
commit=$(git rev-parse HEAD)
git clone -q --no-checkout . "$work/src"
git -C "$work/src" checkout -q "$commit"
(cd "$work/src" && GOCACHE="$work/cache" GOPROXY=off "$GO" run ./internal/release -version "$version" -out "$work/b" ${RELEASE_TARGETS:+-targets "$RELEASE_TARGETS"})

if ! cmp "$work/a/SHA256SUMS" "$work/b/SHA256SUMS"; then
	diff "$work/a/SHA256SUMS" "$work/b/SHA256SUMS" || true
	echo "release-check: the two builds differ"
	exit 1
fi
for f in "$work"/a/ogive-*; do
	cmp "$f" "$work/b/$(basename "$f")"
done
(cd "$work/a" && sha256sum -c --quiet SHA256SUMS)
echo "release-check: both builds identical:"
cat "$work/a/SHA256SUMS"

arch=$("$GO" env GOARCH)
top=ogive-$version-linux-$arch
mkdir "$work/x"
tar -xzf "$work/a/$top.tar.gz" -C "$work/x"
bin=$work/x/$top/ogive
out=$("$bin" --version)
echo "$out"
for want in "$version" "commit ${commit:0:7}" "$("$GO" env GOVERSION)" "linux/$arch"; do
	case $out in *"$want"*) ;; *) echo "release-check: --version lacks \"$want\""; exit 1 ;; esac
done
for f in README.md UNLICENSE man/man1/ogive.1 man/man1/ogive-put.1 completions/ogive.bash completions/_ogive completions/ogive.fish completions/ogive.ps1; do
	[ -s "$work/x/$top/$f" ] || { echo "release-check: $top lacks $f"; exit 1; }
done
echo "release-check: the demo, with the archive's binary"
OGIVE=$bin ./scripts/demo.sh
