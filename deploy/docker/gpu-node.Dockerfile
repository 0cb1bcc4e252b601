# syntax=docker/dockerfile:1.7
# The gpu-node on CPU (onnxruntime's CPU provider). Build from the repository root:
#   docker build -f deploy/docker/gpu-node.Dockerfile -t indextts-gpu-node:cpu .
# The model directory is mounted at /models (docker run -v $PWD/gpu-node/models/tiny:/models:ro); it is never baked in.
# Node 22 LTS (Node 20, which the repository's tests also run these bundles on, is past its end of life)
ARG NODE_IMAGE=node:22.12.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# toolchain for native addons whose prebuilt binary cannot be fetched (better-sqlite3 then compiles); build stage only
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY . .
RUN bash deploy/docker/build-gpu-node.sh /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production GPU_NODE_HOST=0.0.0.0 GPU_NODE_PORT=8001 GPU_NODE_MODEL=/models GPU_NODE_PROVIDERS=cpu
WORKDIR /app
COPY --from=build --chown=root:root /out /app
USER node
VOLUME ["/models"]
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/gpu-node.mjs"]
