# ogive — see README.md. Everything here needs only Go; tools are installed
# at pinned versions into $(GOBIN).

GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
PREFIX    ?= /usr/local
# The release tag at this commit, or dev; --version adds the commit, and
# -dirty for a modified tree. Go's own VCS stamp takes precedence over
# COMMIT when go build records one (not in a git worktree, nor with
# -buildvcs=false).
VERSION   ?= $(shell git describe --tags --exact-match --match 'v*' 2>/dev/null || echo dev)
COMMIT    ?= $(shell git describe --always --dirty --abbrev=7 --match NONE 2>/dev/null)
LDFLAGS   := -s -w -X github.com/ogive-project/ogive/cmd.Version=$(VERSION) -X github.com/ogive-project/ogive/cmd.Commit=$(COMMIT)

VERSITYGW_VERSION := v1.8.0
VERSITYGW         := $(GOBIN)/versitygw
export OGIVE_VERSITYGW := $(VERSITYGW)

# The network emulator of make bench's WAN models (docs/BENCHMARKS.md); only
# make bench needs it. Its module has no cmd named toxiproxy-server: go
# install makes "server", which is renamed.
TOXIPROXY_VERSION := v2.5.0
TOXIPROXY         := $(GOBIN)/toxiproxy-server
export OGIVE_TOXIPROXY := $(TOXIPROXY)

# Linters, pinned; lint installs them (a no-op once built at that version).
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0

# The platforms a release is built for (internal/release has the same list).
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64
# The packages whose Linux-only code -tags ogive_portable swaps for the
# generic Unix code; make test runs them both ways.
PORTABLE_PKGS := ./tree ./extract ./archive ./object
# Where make release writes its archives and SHA256SUMS.
DIST      ?= dist

# fuzz-short runs each fuzz target this long.
FUZZTIME ?= 10s

.PHONY: all build cross release release-check test test-short vet lint lint-tools fuzz-short fmt-check man man-check install demo s3-local tools bench-tools bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o ogive .

## tools: the real S3 server the tests run against (versitygw, posix backend)
tools: $(VERSITYGW)

$(VERSITYGW):
	GOBIN=$(GOBIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

## test: every test, against the real local Deep Archive server; then the
## packages with a Linux-only fast path again, built as macOS and FreeBSD
## build them (-tags ogive_portable, docs/ARCHITECTURE.md "Platforms")
test: tools fmt-check vet man-check
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -race -count=1 -timeout 10m -tags ogive_portable $(PORTABLE_PKGS)

vet:
	$(GO) vet ./...

## lint: go vet, staticcheck and govulncheck (.ci/vulncheck says what happens
## when the vulnerability database cannot be reached)
lint: vet lint-tools
	$(GOBIN)/staticcheck ./...
	GOVULNCHECK=$(GOBIN)/govulncheck ./.ci/vulncheck
	@# The plaintext benchmark build (make bench's "same path, encryption
	@# off") must keep compiling, and its switch must work.
	$(GO) vet -tags ogive_bench_plaintext ./archive ./cmd
	$(GO) test -tags ogive_bench_plaintext -count=1 -run '^TestBenchmarkPlaintextSwitch$$' ./archive

lint-tools:
	GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	GOBIN=$(GOBIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

## fuzz-short: every fuzz target of every package, $(FUZZTIME) each; a
## target added anywhere is picked up without editing this file
fuzz-short:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz-short

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## man: regenerate doc/man/*.1 from the command tree
man:
	$(GO) run ./doc doc/man

man-check:
	@tmp=$$(mktemp -d) && $(GO) run ./doc $$tmp && \
	if ! diff -r $$tmp doc/man >/dev/null; then \
		echo "doc/man is stale: run 'make man'"; diff -r $$tmp doc/man | head -20; rm -rf $$tmp; exit 1; fi; \
	rm -rf $$tmp

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 ogive $(DESTDIR)$(PREFIX)/bin/ogive
	install -m 0644 doc/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

## demo: the whole workflow against a local Deep Archive server
demo: tools build
	./scripts/demo.sh

## bench-tools: what make bench needs beyond tools (toxiproxy, pinned)
bench-tools: tools $(TOXIPROXY)

$(TOXIPROXY):
	tmp=$$(mktemp -d) && \
	GOBIN=$$tmp $(GO) install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION) && \
	mkdir -p $(GOBIN) && mv $$tmp/server $@ && rmdir $$tmp

## bench: ogive against the AWS CLI on the local server, on loopback and
## through the WAN models (docs/BENCHMARKS.md); heavy (1 and 8 GiB files,
## 10,000 archives), never part of test. BENCH_NET=loopback runs no toxiproxy.
bench: bench-tools
	./scripts/bench.sh

## cross: every release platform builds, and go vet and staticcheck (tests
## included) pass under each GOOS and with -tags ogive_portable. -trimpath
## and CGO_ENABLED=0, as make release builds, so the release reuses what
## this compiled.
cross: lint-tools
	@set -e; for t in $(PLATFORMS); do echo "cross: build $$t"; \
		CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -trimpath -o /dev/null .; done
	@set -e; for os in darwin freebsd windows; do echo "cross: vet and staticcheck GOOS=$$os"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=amd64 $(GO) vet -trimpath ./...; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=amd64 $(GOBIN)/staticcheck ./...; done
	@echo "cross: vet and staticcheck -tags ogive_portable"
	$(GO) vet -tags ogive_portable ./...
	$(GOBIN)/staticcheck -tags ogive_portable ./...

## release: reproducible archives for every platform in $(DIST), from a
## tagged commit or VERSION=vX.Y.Z (docs/RELEASING.md)
release:
	GOWORK=off $(GO) run ./internal/release -version '$(VERSION)' -out '$(DIST)'

## release-check: two release builds are byte-identical, and the Linux
## archive's binary runs the demo
release-check: tools
	GO=$(GO) VERSION=$(if $(filter v%,$(VERSION)),$(VERSION),v0.0.0-check) ./scripts/release-check.sh

## s3-local: run the local Deep Archive server in the foreground
s3-local: tools
	$(GO) run ./internal/s3local/cmd/s3local $(S3LOCAL_FLAGS)

clean:
	rm -f ogive
	rm -rf $(DIST)
