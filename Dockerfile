# Gatehouse image: multi-stage, production dependencies only, non-root, Node 22
# (oidc-provider 9 supports Node 22+). Configure it from the environment:
#   PUBLIC_URL            the URL people and apps use (issuers are <PUBLIC_URL>/t/<tenant>)
#   DATABASE_URL          postgres://... for several processes; default sqlite:/data/gatehouse.db
#   GATEHOUSE_MASTER_KEY  base64 of 32 random bytes (openssl rand -base64 32); required
#   GATEHOUSE_DEMO=true   create the demo tenant on a fresh database
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/gatehouse.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/gatehouse.js", "start", "--config", "config/production.yaml"]
