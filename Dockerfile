# syntax=docker/dockerfile:1
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY src ./src
# `build` also bundles the settings page (esbuild) into dist/web/assets.
RUN npm run build

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY wsdl ./wsdl
USER node
EXPOSE 8080
# Metrics (observability.metricsListen): loopback unless METRICS_LISTEN says otherwise, e.g. 0.0.0.0:9464
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
