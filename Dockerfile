# strata's own image: build it with strata (or any builder), run it privileged (runc and
# overlayfs need root and mounts), e.g. as the Kubernetes Job in deploy/k8s/build-job.yaml:
#
#   strata build -t REGISTRY/strata:latest \
#     --cache-from type=registry,ref=REGISTRY/strata-cache \
#     --cache-to type=registry,ref=REGISTRY/strata-cache,mode=max .
#
# The state root is /var/lib/strata: mount a volume there (an emptyDir in a pod) so that layers
# live on a filesystem overlayfs accepts as upper and lower dirs (not the container's own overlay).
#
# Without Docker Hub, make the base on the machine (mmdebstrap bookworm + the host's node) and
# build on it; deploy/README.md has the details and the last run:
#
#   deploy/make-node-base.sh
#   strata build --build-arg NODE_IMAGE=localhost/node:20-bookworm-slim -t localhost/strata:dev .
#   strata run --rm --privileged -v /srv/strata:/var/lib/strata localhost/strata:dev setup
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY grammar/ grammar/
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# runc + busybox-static: the runtime and the base image strata makes for itself; attr: layer
# xattrs; iproute2, nftables: container networks; git, openssh-client: ADD of git sources,
# build --ssh; ca-certificates: registries over https.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends runc busybox-static attr iproute2 nftables git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/strata
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/ dist/
COPY bin/ bin/
RUN ln -s /opt/strata/bin/strata /usr/local/bin/strata
ENV STRATA_ROOT=/var/lib/strata
VOLUME /var/lib/strata
ENTRYPOINT ["strata"]
CMD ["--help"]
