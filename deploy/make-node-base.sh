#!/bin/sh
# Makes the Dockerfile's base without Docker Hub: Debian bookworm (mmdebstrap, minbase) with
# this machine's Node 20 and npm copied in, imported into strata as IMAGE (default
# localhost/node:20-bookworm-slim). Then build strata's own image on it:
#
#   deploy/make-node-base.sh
#   strata build --build-arg NODE_IMAGE=localhost/node:20-bookworm-slim -t localhost/strata:dev .
#   strata run --rm --privileged localhost/strata:dev version
#
# Needs root, mmdebstrap (Debian package), a Debian mirror (apt's), and node >= 20 on the host.
# The host's own CAs (/usr/local/share/ca-certificates/*.crt, e.g. a TLS-inspecting proxy's) go
# into the base too, with NODE_EXTRA_CA_CERTS set, so that `npm ci` and apt in the build (and the
# image's pulls) trust what the host trusts.
set -eu
IMAGE=${1:-localhost/node:20-bookworm-slim}
NODE=$(command -v node)
NPM_DIR=$(dirname "$(readlink -f "$(command -v npm)")")/..
case "$("$NODE" --version)" in v2[0-9]*|v[3-9][0-9]*) ;; *) echo "node >= 20 needed, found $("$NODE" --version)" >&2; exit 1 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmdebstrap --variant=minbase --include=ca-certificates --skip=output/dev bookworm "$work/rootfs.tar" \
  --customize-hook="copy-in $NODE /usr/local/bin" \
  --customize-hook='mkdir -p "$1/usr/local/lib/node_modules"' \
  --customize-hook="copy-in $(readlink -f "$NPM_DIR") /usr/local/lib/node_modules" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='for c in /usr/local/share/ca-certificates/*.crt; do [ -f "$c" ] && cp "$c" "$1/usr/local/share/ca-certificates/"; done; chroot "$1" update-ca-certificates'
strata import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["node"]' "$work/rootfs.tar" "$IMAGE"
