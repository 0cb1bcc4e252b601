# syntax=docker/dockerfile:1.7
# The proxy (Node, embedded SQLite). Build from the repository root:
#   docker build -f deploy/docker/proxy.Dockerfile -t indextts-proxy .
# The database lives in /data (a volume); nothing of it is in the image.
# Node 22 LTS (Node 20, which the repository's tests also run these bundles on, is past its end of life)
ARG NODE_IMAGE=node:22.12.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# toolchain for native addons whose prebuilt binary cannot be fetched (better-sqlite3 then compiles); build stage only
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 builds or fetches its addon here, against the same Node as the runtime stage
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY . .
RUN bash deploy/docker/build-proxy.sh /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=root:root /out /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# SIGTERM reaches node directly (exec form, PID 1 is node): it closes the server, the ledger and the database.
STOPSIGNAL SIGTERM
CMD ["node", "/app/proxy.mjs"]
