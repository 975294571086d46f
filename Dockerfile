# syntax=docker/dockerfile:1
# The Shoal node image: one node per container. Build with `docker build -t shoal .` from the
# repository root; run and deploy as docs/DEPLOY.md says. Multi-stage: the build stage compiles
# with the full toolchain, the runtime stage gets production dependencies and the built code only,
# and runs as a non-root user.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build
# Production dependencies alone, in their own tree, so no dev tool reaches the runtime stage.
WORKDIR /prod
RUN cp /src/package.json /src/package-lock.json ./ && npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /opt/shoal
# ---- The application's layout in the image: the ONE place that names it. ---------------------
# When the package layout changes (the server package with its compiled `shoal` command), adjust
# these COPY lines and CLI; test/integration/deploy-image.test.ts reads them from here.
COPY --from=build /prod/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# bin/shoal.js still loads src/ through tsx (a production dependency); drop this line once the
# command runs the compiled dist/ code.
COPY --from=build /src/src ./src
ENV CLI=/opt/shoal/bin/shoal.js
# -----------------------------------------------------------------------------------------------
COPY --chmod=0755 deploy/docker/docker-entrypoint.sh deploy/docker/drain.sh /usr/local/bin/
COPY deploy/docker/healthcheck.mjs deploy/docker/zone-from-node.mjs /usr/local/lib/shoal/
# The node images' unprivileged user, by number so that `runAsNonRoot` can check it.
USER 1000:1000
# 7400: clients (WebSocket /shoal) and health probes (/healthz, /readyz); 7401: node-to-node.
EXPOSE 7400 7401
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/usr/local/lib/shoal/healthcheck.mjs"]
# Exec form, and the script execs node: node is PID 1 and gets SIGTERM itself (graceful leave).
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["start", "--host", "0.0.0.0"]
