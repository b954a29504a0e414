# Seismo image: native TensorFlow backend inside, non-root, healthcheck on /healthz.
#   docker build -t seismo .      (context: the repo; see deploy/docker-compose.yml)
# Stage 1 builds the tfjs-node addon against the tensorflow-cpu wheel (scripts/native, run by
# `npm ci`), compiles TypeScript and drops dev dependencies.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-pip g++ make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts/native scripts/native
RUN npm ci --no-audit --no-fund && npm run native:check
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Stage 2: runtime only. glibc malloc arenas per TensorFlow thread inflate RSS; two are plenty.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    SEISMO_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY config config
RUN mkdir -p /var/lib/seismo && chown node:node /var/lib/seismo
USER node
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "-c", "/etc/seismo/seismo.yaml"]
