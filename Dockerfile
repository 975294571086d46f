# syntax=docker/dockerfile:1
# The Shoal node image: one node per container. Build with `docker build -t shoal .` from the
# repository root; run and deploy as docs/DEPLOY.md says. Multi-stage: the build stage compiles
# with the full toolchain, the runtime stage gets production dependencies and the built code only,
# and runs as a non-root user.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY packages ./packages
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
# The server package as a user installs it: packed, then installed with production dependencies
# only, so no dev tool (TypeScript, tsx, test tools) reaches the runtime stage.
RUN npm run build && npm pack --workspace packages/server --pack-destination /pkg
WORKDIR /prod
RUN npm init -y >/dev/null && npm install --omit=dev --no-audit --no-fund /pkg/shoal-*.tgz

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /opt/shoal
# ---- The application's layout in the image: the ONE place that names it. ---------------------
# test/integration/deploy-image.test.ts reads these lines; /prod/node_modules/shoal is the
# installed server package (compiled JavaScript run by plain node).
COPY --from=build /prod/node_modules ./node_modules
ENV CLI=/opt/shoal/node_modules/shoal/bin/shoal.js
# -----------------------------------------------------------------------------------------------
COPY --chmod=0755 deploy/docker/docker-entrypoint.sh deploy/docker/drain.sh /usr/local/bin/
COPY deploy/docker/healthcheck.mjs deploy/docker/zone-from-node.mjs /usr/local/lib/shoal/
# The node's data directory (users and ACLs, the gossip keyring), owned by the node's user: the
# entrypoint passes it as --data-dir. The default, .shoal/data under /opt/shoal, is root's.
ENV DATA_DIR=/var/lib/shoal
RUN mkdir -p /var/lib/shoal && chown 1000:1000 /var/lib/shoal
VOLUME /var/lib/shoal
# The node images' unprivileged user, by number so that `runAsNonRoot` can check it.
USER 1000:1000
# 7400: clients (WebSocket /shoal) and health probes (/healthz, /readyz); 7401: node-to-node.
EXPOSE 7400 7401
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/usr/local/lib/shoal/healthcheck.mjs"]
# Exec form, and the script execs node: node is PID 1 and gets SIGTERM itself (graceful leave).
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["start", "--host", "0.0.0.0"]
