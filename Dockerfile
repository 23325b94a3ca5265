# promptship: one binary on distroless, the SQLite database on the /data volume.
#
#   docker build -t promptship .
#   docker run -p 127.0.0.1:3000:3000 -v promptship-data:/data promptship
#
# The site file (promptship.toml) is compiled in; to use your own without rebuilding,
# mount it and name it: -v ./promptship.toml:/app/promptship.toml:ro
# -e PROMPTSHIP_SITE=/app/promptship.toml. The prompt apps are copied to /app/apps:
# -v ./apps:/app/apps:ro serves yours. docs/deploy.md has the whole deployment.

# The toolchain is this image's Rust 1.95 (.dockerignore leaves rust-toolchain.toml out,
# so rustup downloads nothing): bump both together.
FROM rust:1.95-slim-bookworm AS chef
# make builds jemalloc, the allocator of release builds (the `jemalloc` feature).
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 \
    && rm -rf /var/lib/apt/lists/*
# Builds read the committed query data in .sqlx/, never a live database.
ENV SQLX_OFFLINE=true
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

# The dependency recipe: it changes only when Cargo.toml or Cargo.lock do.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# Dependencies first (a cached layer while the recipe is unchanged), then the app.
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
# Build settings the dependencies use too (SQLite's compile options).
COPY .cargo .cargo
RUN cargo chef cook --release --locked --features jemalloc --recipe-path recipe.json
COPY . .
# The runtime image has no shell, so its data folder is made here and copied with its
# owner: distroless's nonroot user, uid 65532.
RUN cargo build --release --locked --features jemalloc --bin promptship \
    && mkdir -p /data/backups

# glibc, libgcc_s and CA certificates (rustls verifies the model server with them); no
# shell, no package manager, uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=builder /app/target/release/promptship /app/promptship
# The prompt apps, read at start from /app/apps (APPS_DIR); mount yours over it.
COPY --from=builder /app/apps /app/apps
COPY --from=builder --chown=65532:65532 /data /data
ENV BIND_ADDR=0.0.0.0:3000 \
    DATABASE_URL=sqlite:///data/promptship.db \
    LOG_FORMAT=json
USER 65532:65532
VOLUME ["/data"]
EXPOSE 3000
# No curl here: the binary asks its own /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/promptship", "healthcheck"]
# Exec form: the server is PID 1 and gets SIGTERM itself, then drains open answers for
# SHUTDOWN_GRACE_SECS (8 s), inside Docker's 10 s and Compose's stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/promptship"]
CMD ["serve"]
