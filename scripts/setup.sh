#!/usr/bin/env bash
# Sets a fresh Debian machine up for strata (run as root): Debian packages, npm packages,
# the build, the busybox base image; then runs the main job unless --no-demo is given.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh: run as root (it installs Debian packages and uses runc)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# runc + busybox-static: the runtime and the base image; catatonit: the init of `run --init`; attr: layer xattrs (overlay opaque
# dirs); iproute2, nftables: container networks (bridges, veth pairs, NAT and isolation rules);
# tmux: terminal tests; xz-utils, bzip2, zstd: compressed archives; podman, skopeo, umoci:
# interoperability checks and side-by-side benchmarks (with podman's recommended network
# plugins); hyperfine: benchmarks; openssh-client: ssh-agent for `build --ssh` with key files
# (and its tests), and `--host ssh://`; openssh-server: that one's test runs its own sshd on
# 127.0.0.1 (Debian's service is not started in a container: policy-rc.d); git: ADD of git repositories; docker-registry, apache2-utils (htpasswd),
# openssl: the registry tests run a real registry on 127.0.0.1; qemu-user-static: `build
# --platform` for other architectures (RUN steps under qemu through binfmt_misc); mmdebstrap: the
# Debian base deploy/make-node-base.sh makes to build strata's own image without Docker Hub.
apt-get install -y -qq \
  runc catatonit busybox-static attr iproute2 nftables tmux xz-utils bzip2 zstd procps util-linux openssh-client openssh-server git \
  podman skopeo umoci hyperfine python3 ca-certificates docker-registry apache2-utils openssl qemu-user-static mmdebstrap >/dev/null

# Debian's arm64 busybox-static binary for the multi-platform tests (src/builder/platform.e2e.test.ts),
# fetched with a private apt state: the machine's dpkg architectures and lists are left alone.
if [ ! -x /usr/local/lib/strata/busybox.arm64 ]; then
  apt_tmp=$(mktemp -d)
  mkdir -p "$apt_tmp/lists/partial" "$apt_tmp/cache/archives/partial"
  echo "deb http://deb.debian.org/debian $(. /etc/os-release && echo "$VERSION_CODENAME") main" > "$apt_tmp/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt_tmp/lists"
    -o "Dir::Cache=$apt_tmp/cache" -o APT::Architectures::=arm64 -o APT::Architecture=arm64)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_tmp" && apt-get "${apt_opts[@]}" download busybox-static:arm64 >/dev/null 2>&1)
  dpkg-deb -x "$apt_tmp"/busybox-static_*_arm64.deb "$apt_tmp/x"
  install -D -m 0755 "$apt_tmp/x/bin/busybox" /usr/local/lib/strata/busybox.arm64
  rm -rf "$apt_tmp"
fi

# podman on these machines: runc (crun refuses the hybrid cgroup layout) and sane ulimits.
if [ ! -f /etc/containers/containers.conf ] || ! grep -q 'runtime = "runc"' /etc/containers/containers.conf; then
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024","nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi

npm ci --no-audit --no-fund
npm run build
# `strata` on the PATH: a link to bin/strata (a foreign /usr/local/bin/strata is left alone).
if [ ! -e /usr/local/bin/strata ] || [ -L /usr/local/bin/strata ]; then
  ln -sfn "$PWD/bin/strata" /usr/local/bin/strata
fi
bin/strata setup

if [ "${1:-}" != "--no-demo" ]; then
  # The main job: build the example and run it.
  bin/strata build -t hello testdata/hello
  bin/strata run --rm hello
fi
