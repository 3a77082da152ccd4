#!/bin/sh
# Installs the npm packages when they are missing or the lock file changed.
# Native addons (better-sqlite3) are built against Node's own headers, so
# nothing is downloaded from outside the npm registry.
set -e
cd "$(dirname "$0")/../.."
stamp=node_modules/.membrane-install-stamp
fingerprint() { cat package.json package-lock.json | sha256sum | cut -c1-16; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fingerprint)" ]; then exit 0; fi
echo "installing npm packages ..." >&2
npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}"
export npm_config_nodedir
# `npm install` rather than `npm ci`: the registry lacks some of
# @bufbuild/buf's optional per-platform packages, which `npm ci` treats as a
# lock-file mismatch; with the committed lock, `npm install` installs the
# same versions and skips the missing optional ones.
npm install --no-audit --no-fund
fingerprint > "$stamp"
