# Stand-in for node:22-slim, built from Debian packages and this machine's
# own Node.js (binary, headers and npm copied in) for machines that cannot
# reach a container registry. Its Node.js is whatever version the machine
# has: a harness step, never what users run. Like the official image it has
# node, npm and the C headers under /usr/local, and a `node` user (uid 1000).
FROM polyshop-standin/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY include/node /usr/local/include/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
CMD ["node"]
