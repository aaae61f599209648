# syntax=docker/dockerfile:1
#
# otelcol-audit container image: `make image` (docker, or podman). It holds
# the audit collector; the gateway tier's otelcol-audit-gateway
# (`make dist-gateway`) is not in it.
#
# Stage 1 builds the distribution as `make dist` does: the pinned OCB
# (build/dist.mk, OCB_VERSION) from the Go module proxy, run on
# builder-config.yaml. The binary is static (OCB builds with CGO_ENABLED=0).
# Stage 2 is distroless: the binary and nothing else (no shell, no package
# manager), run as the non-root user 65532.
#
# The collector writes nothing to the image's filesystem, so it runs with a
# read-only root filesystem. What it reads and writes is mounted at run time
# (deploy/kubernetes/ mounts all four; the queue is a claim of the replica's own):
#   /etc/otelcol-audit/config/config.yaml  the collector configuration
#   /etc/otelcol-audit/catalogs/           catalog files (catalog_files), a ConfigMap
#   /etc/otelcol-audit/tls/                certificate, key and senders' CA for mutual TLS
#   /var/lib/otelcol-audit/queue/          the persistent sending queue
#                                          (file_storage.directory), a volume
#
# docker run --read-only \
#   -v "$PWD/config.yaml:/etc/otelcol-audit/config/config.yaml:ro" \
#   -v otelcol-audit-queue:/var/lib/otelcol-audit/queue \
#   -p 4317:4317 -p 4318:4318 otelcol-audit:0.1.0

# The Go release the project is built and tested with (go.mod's go line).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY . .
# The caches survive between builds (BuildKit, Buildah): a rebuild after a
# change to the processor takes seconds instead of minutes.
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make dist
RUN mkdir /empty

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/dist/otelcol-audit /otelcol-audit
# The mount points. The queue's belongs to the collector's user, so that a
# fresh named volume mounted there is writable by it.
COPY --from=build /empty /etc/otelcol-audit/config
COPY --from=build /empty /etc/otelcol-audit/catalogs
COPY --from=build /empty /etc/otelcol-audit/tls
COPY --from=build --chown=65532:65532 /empty /var/lib/otelcol-audit/queue
USER 65532:65532
VOLUME ["/var/lib/otelcol-audit/queue"]
# OTLP/gRPC, OTLP/HTTP, health_check, the collector's own metrics.
EXPOSE 4317 4318 13133 8888
ENTRYPOINT ["/otelcol-audit"]
CMD ["--config=/etc/otelcol-audit/config/config.yaml"]
