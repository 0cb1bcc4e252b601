#!/usr/bin/env bash
# Debian's kubectl (package kubernetes-client, 1.20 with kustomize v2.0.3) unpacked into .tools/kubernetes-client,
# for deploy/test/k8s.test.ts to render the kustomizations. Unpacked rather than installed: a machine may already
# have another kubectl owning /usr/bin/kubectl (a cloud SDK's), which dpkg would refuse to overwrite.
# Needs `apt-get update` first (.ci/run does it). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEST="${1:-$ROOT/.tools/kubernetes-client}"
if [ -x "$DEST/usr/bin/kubectl" ]; then exit 0; fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
chmod 777 "$TMP" # apt-get download drops privileges to _apt
(cd "$TMP" && apt-get download -qq kubernetes-client)
mkdir -p "$DEST"
dpkg-deb -x "$TMP"/kubernetes-client_*.deb "$DEST"
"$DEST/usr/bin/kubectl" version --client
