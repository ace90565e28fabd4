# Stream Manager: Debian 12 + Node 20, ffmpeg from Debian. Build steps mirror .ci/run (chromium and
# the other test-only packages stay out of the image). `npm run build` also builds the dashboard
# (orchestrator/dashboard/ui -> dist/ui), served at / on port 4200.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY orchestrator ./orchestrator
COPY workers ./workers
COPY pool ./pool
COPY pixels ./pixels
COPY media ./media
COPY shared ./shared
COPY cli ./cli
COPY bench ./bench
COPY scripts ./scripts
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Binding 0.0.0.0 needs tokens: run with -e AUTH_TOKENS=admin:<token> (or AUTH_TOKENS_FILE); without
# them the server refuses to start rather than expose an unauthenticated API (docs/operations.md, Docker).
ENV NODE_ENV=production HOST=0.0.0.0 RECORDINGS_DIR=/data/recordings DATA_DIR=/data/state ASSET_STORAGE_PATH=/data/assets
# node_modules as pruned to production dependencies (pino-pretty is one: LOG_PRETTY=1 works here).
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY assets ./assets
# Runs as the non-root user `node` (uid 1000). /data is the one volume: a named volume starts out
# owned by `node`; a bind-mounted host folder must be writable by uid 1000, else the start stops
# with one line naming the folder (SM_ERR_DIR_NOT_WRITABLE).
RUN mkdir -p /data/recordings /data/state /data/assets && chown -R node:node /data
USER node
VOLUME /data
EXPOSE 4200 4201
# The connection limit (MAX_CONNECTIONS) derives from the fd limit, which an image cannot set: run
# with --ulimit nofile=65536:65536 (systemd: LimitNOFILE=65536), see docs/operations.md, Security.
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4200)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The young generation capped at 2 MB a semi-space and no post-start heap shrink: RSS holds
# steady under a live stream (docs/configuration.md, "Node flags"); keep in step with package.json "start".
CMD ["node", "--max-semi-space-size=2", "--no-memory-reducer", "dist/orchestrator/main.js"]
