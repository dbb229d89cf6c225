# One image for every replica: the compiled server (server/dist) and the built dashboard it
# serves at /, on production dependencies only, run as the unprivileged `node` user.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY server/package.json server/
COPY client/package.json client/
# The worker SDK (which the server imports) builds when installed (its prepare script).
COPY scripts/ scripts/
COPY sdk/ sdk/
RUN npm ci --no-audit --no-fund
COPY . .
# Builds them and stamps them, as `npm start` would on first run.
RUN node scripts/ensure-built.mjs

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY server/package.json server/
COPY client/package.json client/
COPY scripts/ scripts/
# The SDK built, with its stamp: its prepare finds it current and needs no TypeScript.
COPY sdk/ sdk/
COPY --from=build /app/sdk/dist sdk/dist
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/server/dist server/dist
COPY --from=build /app/client/build client/build
# Read at run time: the dashboard's operation names (the metrics labels it knows).
COPY client/src/lib/graphql client/src/lib/graphql
USER node
WORKDIR /app/server
EXPOSE 4000
# SIGTERM (docker stop, compose scale-down) drains: in-flight requests finish, WebSockets are
# closed with 1012 so clients reconnect through the load balancer, exit 0 within 10 s.
STOPSIGNAL SIGTERM
# The same flags as `npm start`.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "dist/server/src/main.js"]
