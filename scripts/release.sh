#!/usr/bin/env bash
# Builds the release binaries of reseq: static (CGO_ENABLED=0), reproducible
# paths (-trimpath), for linux, darwin and windows on amd64 and arm64, into
# dist/ with a SHA256SUMS file. The binaries carry the build information Go
# embeds (module version, VCS revision, dirty flag: see 'reseq version') and
# the build time in UTC — nothing else: no user, host or path.
#
#   scripts/release.sh            # version from 'git describe'
#   VERSION=v1.2.0 scripts/release.sh
#   SOURCE_DATE_EPOCH=... scripts/release.sh   # a fixed build time
set -euo pipefail
cd "$(dirname "$0")/.."

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  built=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
  built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
out=dist
rm -rf "$out"
mkdir -p "$out"

# -s -w: no symbol table or DWARF (smaller; the panics still name functions).
ldflags="-s -w -X main.buildTime=$built -X main.releaseVersion=$version"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  goos=${target%/*} goarch=${target#*/}
  name="reseq-$version-$goos-$goarch"
  [ "$goos" = windows ] && name="$name.exe"
  # GOWORK=off: the command is built from the library module alone, as
  # 'go install' builds it for a user (the workspace's fuzz module is not
  # part of it). -buildvcs=true: stamp the revision even where GOFLAGS says
  # otherwise.
  GOWORK=off GOFLAGS= CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
    go build -trimpath -buildvcs=true -ldflags "$ldflags" -o "$out/$name" ./cmd/reseq
  echo "built $out/$name"
done
(cd "$out" && sha256sum reseq-* > SHA256SUMS)
echo "wrote $out/SHA256SUMS"
