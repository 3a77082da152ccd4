#!/bin/sh
# Entry point of the membrane image: runs one app, chosen by the first
# argument or else by $APP. The remaining arguments go to the app.
#
#   membrane membership-service --config /etc/membrane/membership-service.yaml
#   APP=cs-gateway membrane --config /etc/membrane/cs-gateway.yaml
#   membrane admin create-user alice
#
# `exec` makes node PID 1 of the container, so SIGTERM reaches the app's own
# handler (stop accepting, drain, exit 0) instead of a shell.
# MEMBRANE_HOME (default /app) is where the sources and node_modules are.
set -eu
cd "${MEMBRANE_HOME:-/app}"

app="${APP:-membership-service}"
case "${1:-}" in
  membership-service | cs-gateway | federation-gateway | admin)
    app="$1"
    shift
    ;;
esac

case "$app" in
  membership-service | cs-gateway | federation-gateway)
    exec node --import tsx "apps/$app/src/main.ts" "$@"
    ;;
  admin)
    exec node --import tsx tools/admin/src/main.ts "$@"
    ;;
  *)
    echo "membrane: unknown app '$app' (expected membership-service, cs-gateway, federation-gateway or admin)" >&2
    exit 2
    ;;
esac
