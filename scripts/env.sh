# Shared settings of the scripts: one cargo target directory outside the clone, so that CI on
# the same machine reuses the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lightrag-target}"
