# One image for every replica: the server (run from source through @swc-node, as `npm start`
# does) and the built dashboard it serves at /.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
WORKDIR /app/server
EXPOSE 4000
# SIGTERM (docker stop, compose scale-down) drains: in-flight requests finish, WebSockets are
# closed with 1012 so clients reconnect through the load balancer, exit 0 within 10 s.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "--import", "@swc-node/register/esm-register", "src/main.ts"]
