#!/usr/bin/env bash
# Puts the Pulumi CLI at $PULUMI_VERSION into $BIN/pulumi. A pulumi of that exact version
# already in $BIN or on PATH is used as it is; otherwise it is built from source in the
# tools module, stamped with its version (the automation API refuses an unstamped CLI).
set -euo pipefail
: "${PULUMI_VERSION:?}" "${BIN:?}"
mkdir -p "$BIN"
want=${PULUMI_VERSION#v}
have() { "$1" version 2>/dev/null | tr -d v; }
if [ -x "$BIN/pulumi" ] && [ "$(have "$BIN/pulumi")" = "$want" ]; then
  echo "==> pulumi $PULUMI_VERSION: bin/pulumi is up to date"; exit 0
fi
if onpath=$(PATH=${PATH//$BIN:/} command -v pulumi) && [ "$(have "$onpath")" = "$want" ]; then
  echo "==> pulumi $PULUMI_VERSION: using $onpath"; ln -sf "$onpath" "$BIN/pulumi"; exit 0
fi
echo "==> pulumi $PULUMI_VERSION: building from source into bin/pulumi (a cold build takes about 5 minutes)"
start=$(date +%s)
cd "$(dirname "$0")/.."
go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
  -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
echo "==> pulumi $("$BIN/pulumi" version) built in $(( $(date +%s) - start ))s"
