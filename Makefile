# kontakt — build, run locally, test.
#   make dev    the whole stack on loopback (emulators, API on :3000, demo page)
#   make test   lint, unit, integration, end-to-end and template tests
#   make bench  every performance figure in one run (README, "Performance")
# `sam build` calls the build-<LogicalId> targets below (BuildMethod: makefile).

SHELL := /bin/bash
GO ?= go
# The deploy target is arm64; tests build for this machine with GOARCH set.
GOARCH ?= arm64
GOFLAGS_BUILD := -trimpath -tags lambda.norpc -ldflags='-s -w'
# A forms file (see README, "Configuration") is copied into the deployment
# package when it exists.
FORMS_FILE ?= forms.json
FUNCTIONS := submit erase

.PHONY: build build-hello bench dev erase test lint unit validate tidy-check fmt-check clean $(addprefix build-,$(FUNCTIONS))

# build-<Function>: what sam build runs, with ARTIFACTS_DIR set by SAM.
define lambda_target
build-$(1)Function:
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(GOARCH) $$(GO) build $$(GOFLAGS_BUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
	@if [ -f "$$(FORMS_FILE)" ]; then cp "$$(FORMS_FILE)" "$$(ARTIFACTS_DIR)/"; fi
endef
$(eval $(call lambda_target,Submit,submit))
$(eval $(call lambda_target,Erase,erase))

# build-hello: the hello-world Lambda that `make bench` compares cold starts
# and sizes against, built with exactly the flags above (HELLO picks
# another one: make bench also starts infra/bench/testdata/sdkhello).
HELLO ?= ./internal/rie/testdata/hello
build-hello:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) -o $(ARTIFACTS_DIR)/bootstrap $(HELLO)

build: ## build every function for linux/arm64 into build/<name>/bootstrap
	@for f in $(FUNCTIONS); do \
	  id="$$(tr '[:lower:]' '[:upper:]' <<< $${f:0:1})$${f:1}"; \
	  $(MAKE) --no-print-directory build-$${id}Function ARTIFACTS_DIR=$(CURDIR)/build/$$f || exit 1; \
	done

dev: ## run the local stack: emulators + API on http://127.0.0.1:3000
	$(GO) run ./infra/dev

erase: ## enqueue an erasure request on the local stack: make erase EMAIL=kari@example.no
	@test -n "$(EMAIL)" || { echo "usage: make erase EMAIL=address"; exit 2; }
	$(GO) run ./infra/erase -email '$(EMAIL)'

# -bench . -benchtime=1x runs every benchmark once, so none can rot.
test: lint validate ## every test
	$(GO) test -race -count=1 -bench . -benchtime=1x ./...

bench: ## every performance figure in one run: a table, and .bench/results.json
	$(GO) run ./infra/bench

lint: fmt-check tidy-check
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@cp go.mod /tmp/kontakt.go.mod.bak; cp go.sum /tmp/kontakt.go.sum.bak; \
	$(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go.mod/go.sum are not tidy:"; git --no-pager diff -- go.mod go.sum; \
	  cp /tmp/kontakt.go.mod.bak go.mod; cp /tmp/kontakt.go.sum.bak go.sum; exit 1; fi

validate: ## check the forms configuration and the SAM template without AWS
	$(GO) run ./infra/validate -forms infra/dev/forms.json $(if $(wildcard $(FORMS_FILE)),-forms $(FORMS_FILE)) -template template.yaml

unit: ## unit tests only (no emulators)
	$(GO) test -race -short ./...

clean:
	rm -rf build .aws-sam .dev .bench
