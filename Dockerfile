# One image for the syncer, the bot and (where hosts run containers) the agent: the `cairn` command.
#
#   docker build -t cairn .
#   docker run cairn sync --watch --repo https://git.example.com/org/config.git --zk zk1:2181 --listen 0.0.0.0:8080
#   docker run -p 3000:3000 --env-file bot.env cairn bot
#
# See docs/deployment.md for each role's settings, health checks and volumes.

# Build: the TypeScript compiled, then only the production dependencies kept.
FROM node:22-bookworm-slim AS build
WORKDIR /opt/cairn
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY core ./core
COPY schemas ./schemas
COPY sdk ./sdk
COPY syncer ./syncer
COPY dashboard ./dashboard
COPY agent ./agent
COPY bot ./bot
COPY cli ./cli
COPY local ./local
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: Node.js, git (it indexes every fetched pack; cairn start and local repositories) and what the package ships, as an unprivileged user.
FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/cairn
COPY --from=build /opt/cairn/package.json ./package.json
COPY --from=build /opt/cairn/node_modules ./node_modules
COPY --from=build /opt/cairn/dist ./dist
COPY schemas/*.schema.json ./schemas/
COPY example-config-repo ./example-config-repo
COPY bot/app.yml bot/.env.example ./bot/
COPY dashboard/static ./dashboard/static
COPY scripts/install-system-deps.sh ./scripts/
COPY LICENSE README.md ./
RUN ln -s /opt/cairn/dist/cli/main.js /usr/local/bin/cairn \
  && mkdir -p /srv/cairn /var/cache/cairn \
  && chown node:node /srv/cairn /var/cache/cairn
# The bot reads (and on registration writes) .env in its working directory; the syncer keeps its
# clone in the cache directory, which a volume makes survive restarts (a new clone is a full fetch).
WORKDIR /srv/cairn
ENV NODE_ENV=production \
    CAIRN_CACHE_DIR=/var/cache/cairn \
    CAIRN_LOG_FORMAT=json
VOLUME ["/var/cache/cairn"]
USER node
# 8080: the syncer's --listen (webhook, /healthz, /metrics); 3000: the bot (webhooks, /healthz, /metrics).
EXPOSE 8080 3000
# tini forwards SIGTERM to cairn, which finishes the sync in progress and hands leadership over.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/cairn/dist/cli/main.js"]
CMD ["--help"]
