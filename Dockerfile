# Seismo image: native TensorFlow backend inside, non-root, healthcheck on /healthz.
#   docker build -t seismo .      (context: the repo; see deploy/docker-compose.yml)
#   podman build -t seismo .      (same; scripts/image/build.sh for machines without a registry)
# Stage 1 builds the tfjs-node addon against the tensorflow-cpu wheel (scripts/native; see
# NATIVE.md), compiles TypeScript and drops dev dependencies.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-pip g++ make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts/native scripts/native
# --ignore-scripts: node:20 ships npm 10, which has no `allowScripts` policy and would run
# tfjs-node's own install.js (a libtensorflow download we do not use). Our script builds the
# addon instead and then proves tf.getBackend() === 'tensorflow'. The cache mounts keep the
# npm cache and the ~230 MB wheel across rebuilds that change package-lock.json.
# strip --strip-unneeded drops libtensorflow's static symbol table (~130 MB; the dynamic
# symbols it links by stay), and the C headers are only needed to compile.
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=cache,target=/root/.cache/seismo \
    npm ci --no-audit --no-fund --ignore-scripts \
 && node scripts/native/install-tfjs-native.mjs \
 && strip --strip-unneeded node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow_cc.so.2 \
                            node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow_framework.so.2 \
 && rm -rf node_modules/@tensorflow/tfjs-node/deps/include node_modules/@tensorflow/tfjs-node/build \
 && npm run native:check
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts && npm run native:check

# Stage 2: runtime only, on jemalloc: glibc's malloc keeps what TensorFlow's threads and the
# Kafka client free (~50-100 MB more RSS with 10,000 entities at the same CPU per reading;
# docs/BENCHMARKS.md, "Issue 15: memory"). LD_PRELOAD puts it under node itself (no launcher process in between);
# the symlink gives one path on every architecture. The daemon reports what it runs on in
# seismo_allocator_info and /readyz.
# NODE_OPTIONS: the V8 heap flags bin/seismo.js gives the daemon (bin/node-flags.js): an old
# generation limit under 2 GB halves how much garbage V8 lets accumulate between full
# collections (growing factor 2 instead of 4), a smaller young generation halves its share;
# ~50-130 MB less RSS with 10,000 entities (docs/BENCHMARKS.md, "Issue 15: memory, where it
# goes and what cut it"). Here they apply to every command the image runs; override
# NODE_OPTIONS to change them. Without them, under a memory limit, Node would size the heap
# from the limit itself (docs/operations.md, "Memory").
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" /usr/local/lib/libjemalloc.so.2 \
 && test -e /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0 \
    NODE_OPTIONS="--max-old-space-size=2047 --max-semi-space-size=8" \
    SEISMO_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY config config
RUN mkdir -p /var/lib/seismo && chown node:node /var/lib/seismo
USER node
EXPOSE 9464
# The port follows SEISMO_HTTP_PORT when set (host networking next to other services).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.SEISMO_HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "-c", "/etc/seismo/seismo.yaml"]
