# One image per service: docker build --build-arg SERVICE=auth -t ticketing-auth . (SERVICE=orders
# or SERVICE=client for the others; skaffold.yaml builds all three). The build stage compiles the
# service and common; the image holds only their compiled code and production dependencies, runs as
# the unprivileged user node, and starts node itself as PID 1, so SIGTERM reaches the service's own
# shutdown (drain, then close).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY common/package.json common/
COPY testing/package.json testing/
COPY auth/package.json auth/
COPY orders/package.json orders/
COPY client/package.json client/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY common/ common/
COPY testing/ testing/
COPY auth/ auth/
COPY orders/ orders/
COPY client/ client/
ARG SERVICE
RUN test -n "$SERVICE" && npx tsc -b "$SERVICE"

FROM node:20-bookworm-slim
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY testing/package.json testing/
COPY auth/package.json auth/
COPY orders/package.json orders/
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace "@ticketing/$SERVICE" \
  && npm cache clean --force
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/${SERVICE}/dist ${SERVICE}/dist
WORKDIR /app/${SERVICE}
USER node
CMD ["node", "dist/main.js"]
