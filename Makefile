# kontakt — build, run locally, test, deploy.
#   make dev       the whole stack on loopback (emulators, API on :3000, demo page)
#   make test      lint, unit, integration, end-to-end, browser and template tests
#   make test-aws  the integration and end-to-end tests against moto (stricter AWS)
#   make deploy    sam build && sam deploy (the first run asks its questions)
#   make loadtest  5,000 submissions at concurrency 32 while SES fails, then redrive
#   make fuzz      every fuzz target for FUZZTIME each
#   make bench     every performance figure in one run (docs/performance.md)
# `sam build` calls the build-<LogicalId> targets below (BuildMethod: makefile).

SHELL := /bin/bash
GO ?= go
# The deploy target is arm64; tests build for this machine with GOARCH set.
GOARCH ?= arm64
GOFLAGS_BUILD := -trimpath -tags lambda.norpc -ldflags='-s -w'
# A forms file (see docs/operators.md, "Configuration") is copied into the deployment
# package when it exists.
FORMS_FILE ?= forms.json
FUNCTIONS := submit erase privacy redrive
# Flags for the local stack, e.g. DEV_FLAGS='-port 3100' when 3000 is taken
# (go run ./infra/dev -h lists them).
DEV_FLAGS ?=
# make deploy: REGION=eu-north-1 to choose the region; GUIDED=1 to answer
# the questions again (the first deploy, without samconfig.toml, always asks).
REGION ?=
GUIDED ?=
SAM_INSTALL_URL := https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html

.PHONY: build build-hello bench dev deploy erase test test-aws tools lint unit validate tidy-check fmt-check clean loadtest fuzz requeue $(addprefix build-,$(FUNCTIONS))

# `make` alone lists the targets, rather than building the first rule below
# into /bootstrap.
.DEFAULT_GOAL := help
.PHONY: help
help: ## list the targets and what they do
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-9s %s\n", $$1, $$2}'

# build-<Function>: what sam build runs, with ARTIFACTS_DIR set by SAM.
define lambda_target
build-$(1)Function:
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(GOARCH) $$(GO) build $$(GOFLAGS_BUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
	@if [ -f "$$(FORMS_FILE)" ]; then cp "$$(FORMS_FILE)" "$$(ARTIFACTS_DIR)/"; fi
endef
$(eval $(call lambda_target,Submit,submit))
$(eval $(call lambda_target,Erase,erase))
$(eval $(call lambda_target,Privacy,privacy))
$(eval $(call lambda_target,Redrive,redrive))

# build-hello: the hello-world Lambda that `make bench` compares cold starts
# and sizes against, built with exactly the flags above (HELLO picks
# another one: make bench also builds infra/bench/testdata/sdkhello with
# HELLO_TAGS naming the SDK clients of each function).
HELLO ?= ./infra/harness/rie/testdata/hello
HELLO_TAGS ?=
comma := ,
build-hello:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) $(if $(HELLO_TAGS),-tags lambda.norpc$(comma)$(HELLO_TAGS)) -o $(ARTIFACTS_DIR)/bootstrap $(HELLO)

build: ## build every function for linux/arm64 into build/<name>/bootstrap
	@for f in $(FUNCTIONS); do \
	  id="$$(tr '[:lower:]' '[:upper:]' <<< $${f:0:1})$${f:1}"; \
	  $(MAKE) --no-print-directory build-$${id}Function ARTIFACTS_DIR=$(CURDIR)/build/$$f || exit 1; \
	done

dev: ## run the local stack: emulators + API on http://127.0.0.1:3000
	$(GO) run ./infra/dev $(DEV_FLAGS)

deploy: validate ## build and deploy to AWS with SAM: make deploy [REGION=eu-north-1] [GUIDED=1]
	@command -v sam >/dev/null || { echo "make deploy needs the AWS SAM CLI (sam), which is not installed: see $(SAM_INSTALL_URL)"; exit 1; }
	sam build
	sam deploy $(if $(or $(GUIDED),$(if $(wildcard samconfig.toml),,first)),--guided) $(if $(REGION),--region $(REGION))
	@# The deploy tells the truth about SES: a stack in the sandbox, or with an
	@# unverified sender, "works" and delivers nothing. A warning, not a
	@# failure: the stack is deployed either way.
	@stack="$$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml 2>/dev/null | head -1)"; \
	region="$(REGION)"; [ -n "$$region" ] || region="$$(sed -n 's/^region *= *"\(.*\)"/\1/p' samconfig.toml 2>/dev/null | head -1)"; \
	echo; echo "Checking SES for stack $${stack:-kontakt} (kontakt doctor --only ses):"; \
	$(GO) run ./cmd/kontakt doctor --only ses --stack "$${stack:-kontakt}" $${region:+--region "$$region"} || { \
	  echo; echo "WARNING: SES cannot deliver yet (see the FAIL lines and their fixes above): until they pass,"; \
	  echo "a test message is answered as accepted and its email does not arrive. Run kontakt doctor again after fixing."; }

# make erase and make requeue are the kontakt command's (cmd/kontakt): on the
# local stack by default, on a deployed one with STACK=<name> [REGION=...].
KONTAKT_TARGET = $(if $(STACK),--stack '$(STACK)' $(if $(REGION),--region '$(REGION)'),--local)

erase: ## enqueue an erasure request: make erase EMAIL=kari@example.no [STACK=kontakt REGION=eu-north-1]
	@test -n "$(EMAIL)" || { echo "usage: make erase EMAIL=address [STACK=<stack name> REGION=<region>]"; exit 2; }
	$(GO) run ./cmd/kontakt erase $(KONTAKT_TARGET) --email '$(EMAIL)'

requeue: ## put a failed copy back in the redrive queue: make requeue ID=<submission id> [STACK=kontakt REGION=eu-north-1]
	@test -z "$(TABLE)" || { echo "make requeue: TABLE is no longer needed; the stack's outputs name the table: make requeue ID=<id> STACK=<stack name> [REGION=<region>]"; exit 2; }
	@test -n "$(ID)" || { echo "usage: make requeue ID=<submission id> [STACK=<stack name> REGION=<region>]"; exit 2; }
	$(GO) run ./cmd/kontakt requeue $(KONTAKT_TARGET) '$(ID)'

# -bench . -benchtime=1x runs every benchmark once, so none can rot.
test: tools lint validate ## lint, validate, then every test (benchmarks once each)
	$(GO) test -race -count=1 -bench . -benchtime=1x ./...

# What `make test` needs beyond Go: Node.js for the emulators and chromium
# for the browser tests. Installed as root (as on CI), else named with the
# one command that installs them, before anything runs.
tools:
	@infra/ensure-tools.sh node chromium

# The integration, end-to-end and browser suites against moto_server (moto 5.2.1),
# which enforces much of what real AWS enforces and the npm emulators do
# not: expression rules, item size, unverified senders, recipient limits.
# The tests moto cannot run are skipped by name, with the reason, in
# infra/harness/testenv/moto.go.
AWS_SUITES ?= ./internal/app/ ./test/e2e/ ./test/browser/
test-aws: ## the integration, end-to-end and browser tests against moto, a stricter AWS implementation
	@infra/ensure-tools.sh moto
	@out="$$($(GO) test -count=1 -v -run '^TestMotoSkipsExist$$' ./infra/harness/testenv/)" || { echo "$$out"; exit 1; }; \
	  grep -o 'skipped on moto: .*' <<< "$$out" || true
	KONTAKT_TEST_AWS=moto $(GO) test -race -count=1 $(AWS_SUITES)

bench: ## every performance figure in one run: a table, and .bench/results.json
	$(GO) run ./infra/bench

lint: fmt-check tidy-check ## gofmt, go vet, staticcheck, and go.mod/go.sum tidy
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@tmp="$$(mktemp -d)"; cp go.mod go.sum "$$tmp/"; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod "$$tmp/go.mod" || ! cmp -s go.sum "$$tmp/go.sum"; then \
	  echo "go.mod/go.sum are not tidy; run go mod tidy:"; diff -u "$$tmp/go.mod" go.mod; \
	  cp "$$tmp/go.mod" "$$tmp/go.sum" .; rm -rf "$$tmp"; exit 1; fi; rm -rf "$$tmp"

validate: ## check the forms configuration and the SAM template without AWS
	$(GO) run ./infra/validate -forms infra/dev/forms.json $(if $(wildcard $(FORMS_FILE)),-forms $(FORMS_FILE)) -template template.yaml

# -short: every test that starts an emulator, a Lambda runtime or a
# browser skips itself (testenv.Main starts no stack), so this needs Go only.
unit: ## go test -short: the tests that need no emulator, browser or moto (Go only)
	$(GO) test -race -short ./...

# `make test` runs a small load (300 at 8, with -race); this is the full one.
LOAD_N ?= 5000
LOAD_C ?= 32
loadtest: ## LOAD_N submissions at concurrency LOAD_C through the local stack, SES failing for part of it
	$(GO) test -count=1 -run '^TestLoad$$' -v -timeout 30m ./test/load -load.n=$(LOAD_N) -load.c=$(LOAD_C)

# Fuzz targets as package:Target; `make test` runs their seed corpora
# (testdata/fuzz) like any test. Findings are written to testdata/fuzz too.
FUZZTIME ?= 30s
# Every Fuzz function under internal/, as package:name, so a new one is
# fuzzed without being listed here.
FUZZ_TARGETS := $(shell grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' internal | sed 's|/[^/]*_test.go:func |:|' | sort)
fuzz: ## run every fuzz target for FUZZTIME each: a time (default 30s) or a count (40000x)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg="./$${t%%:*}"; name="$${t##*:}"; \
	  echo "== $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" || { \
	    echo "== $$name failed; once more: a real crasher was saved under testdata/fuzz and fails again,"; \
	    echo "   while the fuzzer's own 'context deadline exceeded' on a loaded machine does not"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; }; \
	done

clean: ## remove build output and local state: build, .aws-sam, .dev, .bench
	rm -rf build .aws-sam .dev .bench
