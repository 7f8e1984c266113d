#!/usr/bin/env bash
# Installs the pinned Temporal CLI (it contains the dev server) into .tools/bin, which git ignores.
# Idempotent: returns at once when the pinned version is already there. A per-user cache
# (~/.cache/nodus) lets fresh clones on the same machine skip the build.
# Sources, in order: the user cache; `go install` where Go is present; the official release archive.
set -euo pipefail

VERSION="1.5.1"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${NODUS_TOOLS_DIR:-$REPO_ROOT/.tools}/bin"
TARGET="$TOOLS_BIN/temporal"
STAMP="$TARGET.version"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/nodus/temporal-cli-$VERSION"

if [[ -x "$TARGET" && "$(cat "$STAMP" 2>/dev/null)" == "$VERSION" ]]; then
  exit 0
fi
mkdir -p "$TOOLS_BIN"

if [[ ! -x "$CACHE/temporal" ]]; then
  mkdir -p "$CACHE"
  if command -v go >/dev/null 2>&1; then
    echo "install-temporal: building Temporal CLI v$VERSION with go install (first time takes minutes)" >&2
    GOBIN="$CACHE" go install "github.com/temporalio/cli/cmd/temporal@v$VERSION"
  else
    case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "install-temporal: unsupported OS $(uname -s)" >&2; exit 1 ;; esac
    case "$(uname -m)" in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "install-temporal: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
    base="https://github.com/temporalio/cli/releases/download/v$VERSION"
    archive="temporal_cli_${VERSION}_${os}_${arch}.tar.gz"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    echo "install-temporal: downloading $archive" >&2
    curl -fsSL -o "$work/$archive" "$base/$archive"
    curl -fsSL -o "$work/checksums.txt" "$base/temporal_cli_${VERSION}_checksums.txt"
    (cd "$work" && grep " $archive\$" checksums.txt | sha256sum -c - >/dev/null) || {
      echo "install-temporal: checksum mismatch for $archive" >&2
      exit 1
    }
    tar -xzf "$work/$archive" -C "$work" temporal
    install -m 0755 "$work/temporal" "$CACHE/temporal"
  fi
fi

install -m 0755 "$CACHE/temporal" "$TARGET.tmp"
mv "$TARGET.tmp" "$TARGET"
echo "$VERSION" >"$STAMP"
echo "install-temporal: Temporal CLI v$VERSION at $TARGET" >&2
