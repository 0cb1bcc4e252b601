# syntax=docker/dockerfile:1.7
# The gpu-node on NVIDIA GPUs: CUDA 12 + cuDNN 9 runtime, onnxruntime-node with its CUDA 12 execution providers
# (fetched at build time by onnxruntime-node's installer, ONNXRUNTIME_NODE_INSTALL=cuda12). Build from the repo root:
#   docker build -f deploy/docker/gpu-node.cuda.Dockerfile -t indextts-gpu-node:cuda .
# Run with the NVIDIA container toolkit (docker run --gpus all …, or nvidia.com/gpu in Kubernetes), which also
# mounts nvidia-smi: the node samples it for gpu_node_gpu_* metrics. The model directory is mounted at /models.
# Node 22 LTS (Node 20, which the repository's tests also run these bundles on, is past its end of life)
ARG NODE_IMAGE=node:22.12.0-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS build
# toolchain for native addons whose prebuilt binary cannot be fetched (better-sqlite3 then compiles); build stage only
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY . .
RUN bash deploy/docker/build-gpu-node.sh /out --cuda

FROM ${CUDA_IMAGE}
# Node from the build stage (the official binary needs glibc ≥ 2.28; Ubuntu 22.04 has 2.35)
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --no-create-home --shell /usr/sbin/nologin node
ENV NODE_ENV=production GPU_NODE_HOST=0.0.0.0 GPU_NODE_PORT=8001 GPU_NODE_MODEL=/models GPU_NODE_PROVIDERS=cuda,cpu \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=build --chown=root:root /out /app
USER node
VOLUME ["/models"]
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/gpu-node.mjs"]
