# syntax=docker/dockerfile:1
# One image with every Apogee app (nameserver, broker, index-service, ha-replicator, cli); the
# container command picks the app:
#   docker build -t apogee:0.1.0 .
#   docker run --rm apogee:0.1.0 node /app/dist/apps/broker/main.js --help
#   docker run --rm -p 9876:9876 apogee:0.1.0 node /app/dist/apps/nameserver/main.js
# The build stage runs the same commands as .ci/run (npm ci, nx run-many -t build); the image
# holds the bundles, the protos and the production dependencies only, and runs as uid 10001.
# docs/deploy.md has the details; deploy/ has the Kubernetes manifests that run it.

ARG NODE_IMAGE=node:20.20-bookworm-slim

# ---- build: all dependencies, then the apps' bundles (dist/apps/<app>/main.js)
FROM ${NODE_IMAGE} AS build
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true NX_ISOLATE_PLUGINS=false NX_TUI=false
WORKDIR /src
# tools/apogee-bin is a file: devDependency (the `npx apogee` link) that npm ci needs.
COPY package.json package-lock.json ./
COPY tools/apogee-bin ./tools/apogee-bin
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx run-many -t build --outputStyle=static

# ---- production dependencies only (the bundles keep node_modules packages external)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 apogee \
 && useradd --system --uid 10001 --gid apogee --home-dir /app --no-create-home --shell /usr/sbin/nologin apogee \
 && mkdir -p /var/lib/apogee \
 && chown apogee:apogee /var/lib/apogee
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
# The apps load Apogee's protos from <dist>/../../../proto = /app/proto (or PROTO_DIR).
COPY --from=build /src/proto ./proto
COPY --from=build /src/dist/apps ./dist/apps
USER 10001:10001
# gRPC (grpc.health.v1 on each) and /metrics: nameserver, broker, index-service, ha-replicator
EXPOSE 9876 8081 9877 9878 19876 18081 19877 19878
# Apps handle SIGTERM themselves (graceful stop, exit 0).
STOPSIGNAL SIGTERM
CMD ["node", "/app/dist/apps/nameserver/main.js"]
