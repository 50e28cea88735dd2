# The image of every Node.js service of polyshop: inventory, notifications,
# storefront.
# Build it from the repository root, where the npm workspace
# (package-lock.json), the shared package and contracts/ are; the build
# arguments say which service (docker/README.md lists the command for each):
#
#     docker build -f docker/node.Dockerfile -t polyshop/inventory \
#         --build-arg WORKSPACE=node-services/inventory --build-arg PORT=3001 .
#
# Stage one installs the production dependencies of the whole workspace from
# the lockfile, compiling better-sqlite3 (a native module). It names no
# service, so its layers are the same for every Node.js image and the compile
# (about a minute here) happens once, not once per service; an image carries
# the few small packages its sibling services use beside its own. Stage two
# copies them, the shared package and the service's code onto a fresh slim
# Node.js, without the compilers, and runs it as the image's unprivileged
# `node` user.

FROM node:22-slim AS build

# Compilers for better-sqlite3. It is built from source against the headers
# that ship in the image (no prebuilt binary or header download at build time).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

WORKDIR /app
# npm reads the whole workspace to use its one lockfile: every member's
# package.json comes in, and no source yet. No layer of this stage names a
# service, so the stage is built once for all of them.
COPY package.json package-lock.json ./
COPY libs/node/package.json libs/node/
COPY node-services/inventory/package.json node-services/inventory/
COPY node-services/notifications/package.json node-services/notifications/
COPY node-services/storefront/package.json node-services/storefront/

# An extra CA certificate (PEM text), for builds behind a TLS-inspecting proxy:
#     docker build --build-arg EXTRA_CA_CERT="$(cat proxy-ca.pem)" ...
ARG EXTRA_CA_CERT=""
RUN if [ -n "$EXTRA_CA_CERT" ]; then \
        printf '%s\n' "$EXTRA_CA_CERT" > /tmp/extra-ca.pem \
        && export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; \
    fi \
    && npm ci --omit=dev \
    && rm -f /tmp/extra-ca.pem

FROM node:22-slim
# The service: its folder in the npm workspace (node-services/inventory).
ARG WORKSPACE
ARG PORT
RUN : "${WORKSPACE:?needs --build-arg WORKSPACE}" "${PORT:?needs --build-arg PORT}"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    DATA_DIR=/data \
    CONTRACTS_DIR=/app/contracts
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY package.json ./
COPY libs/node libs/node
# The event schemas and seed data, read at run time (one copy, in contracts/).
COPY contracts contracts
COPY ${WORKSPACE} ${WORKSPACE}
RUN mkdir /data && chown node:node /data
WORKDIR /app/${WORKSPACE}
USER node
EXPOSE ${PORT}
# A small young generation, as make up runs it (NODE_FLAGS in
# tools/src/polyshop_dev/pieces.py says why).
CMD ["node", "--max-semi-space-size=4", "src/server.js"]
