# syntax=docker/dockerfile:1
# lightrag-rs: the `lightrag` binary in a small Debian image, serving LightRAG's HTTP API on 9621.
#
#   docker build -t lightrag-rs .            # or: podman build --format docker -t lightrag-rs .
#   docker run -p 9621:9621 -v lightrag-data:/data lightrag-rs
#
# Build arguments:
#   BUILDER_IMAGE  Rust toolchain image with a C/C++ compiler (ring, usearch). The locked
#                  dependencies need Rust >= 1.94 (sqlx 0.9).
#   RUNTIME_IMAGE  Debian-like base with useradd; needs glibc and libstdc++ (both in
#                  debian:bookworm-slim). CA certificates come from the builder.
#   MODEL_DIR      Directory in the build context holding all-MiniLM-L6-v2 (config.json,
#                  tokenizer.json, model.safetensors): baked into the image when present (e.g.
#                  `cp -r ~/.cache/lightrag-rs/models ./models` after scripts/fetch-model.sh);
#                  when absent, mount the model at /opt/lightrag/models/all-MiniLM-L6-v2.
#   CARGO_ARGS     Extra `cargo build` arguments, e.g. "--no-default-features --features postgres"
#                  (default: lightrag-cli's default features: PostgreSQL, PDF, Office).
# scripts/container.sh builds it on a machine without a registry (local base images) and
# smoke-tests it; docs/operations.md, "The container image", has the details.

ARG BUILDER_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: the release binary, without debug info ----
FROM ${BUILDER_IMAGE} AS build
# On every stage, so that scripts/container.sh can prune this image's old layers by label.
LABEL org.opencontainers.image.title="lightrag-rs"
ARG CARGO_ARGS=
WORKDIR /src
# No line tables (the release profile keeps them for backtraces) and no symbols: a smaller binary.
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_TERM_COLOR=never
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# Cache mounts keep the crate downloads and the target directory between builds (BuildKit,
# podman >= 4). The binary is copied out of the cache mount, which is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p lightrag-cli ${CARGO_ARGS} \
 && install -D -m 0755 target/release/lightrag /out/lightrag \
 && mkdir -p /out/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/certs/

# ---- model: the embedding model from the build context, if there is one ----
FROM ${BUILDER_IMAGE} AS model
LABEL org.opencontainers.image.title="lightrag-rs"
ARG MODEL_DIR=models/all-MiniLM-L6-v2
# The glob lets MODEL_DIR be absent (Cargo.lock always matches), and keeps this layer
# independent of the sources.
COPY Cargo.lock ${MODEL_DIR}* /context/
RUN mkdir -p /model \
 && if [ -s /context/model.safetensors ]; then \
      for f in config.json tokenizer.json model.safetensors; do \
        cp "/context/$f" /model/ || exit 1; \
      done; \
      echo "model: baked in from ${MODEL_DIR}"; \
    else \
      echo "model: none in the build context (${MODEL_DIR}); mount one at run time"; \
    fi

# ---- runtime ----
FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="lightrag-rs" \
      org.opencontainers.image.description="LightRAG-compatible graph RAG server (lightrag serve)" \
      org.opencontainers.image.licenses="Apache-2.0"
ARG UID=10001
RUN useradd --uid "${UID}" --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin lightrag \
 && mkdir -p /data/rag_storage /data/inputs /opt/lightrag/models/all-MiniLM-L6-v2 \
 && chown -R "${UID}:${UID}" /data
COPY --from=build /out/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/lightrag /usr/local/bin/lightrag
COPY --from=model /model/ /opt/lightrag/models/all-MiniLM-L6-v2/
ENV HOST=0.0.0.0 \
    PORT=9621 \
    WORKING_DIR=/data/rag_storage \
    INPUT_DIR=/data/inputs \
    LOCAL_EMBEDDING_MODEL_DIR=/opt/lightrag/models/all-MiniLM-L6-v2 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER ${UID}:${UID}
WORKDIR /data
EXPOSE 9621
# The first start loads the embedding model (a few seconds); /health answers 200 once listening.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["lightrag", "healthcheck"]
ENTRYPOINT ["lightrag"]
CMD ["serve"]
