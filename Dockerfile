# syntax=docker/dockerfile:1
# iceberg-remotes: a static, reproducible binary on a distroless base, run as non-root.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t iceberg-remotes .

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0 and -trimpath make the binary static and independent of the build path.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/iceberg-remotes ./cmd/server \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/seed ./cmd/seed \
 && mkdir -p /out/data

# distroless/static carries CA certificates and a nonroot user (65532), and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/iceberg-remotes /iceberg-remotes
# seed: the one-shot helper docker-compose runs to create a repository and a table to try.
COPY --from=build /out/seed /seed
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV ICEBERG_REMOTES_LISTEN_ADDRESS=0.0.0.0:8001 \
    ICEBERG_REMOTES_STATE_SQLITE_PATH=/data/iceberg-remotes.db \
    ICEBERG_REMOTES_LOGGING_FORMAT=json
VOLUME ["/data"]
EXPOSE 8001
# No shell or curl in the image: the binary checks its own /_health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/iceberg-remotes", "--healthcheck"]
ENTRYPOINT ["/iceberg-remotes"]
