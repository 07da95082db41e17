#!/bin/sh
# image-vault: the command line of the Image Vault desktop package. It runs the app's own
# Electron runtime in Node mode (ELECTRON_RUN_AS_NODE, as VS Code's `code` command does) on
# the CLI launcher, which lies outside app.asar (resources/app.asar.unpacked).
set -e
resources=$(dirname "$(dirname "$(readlink -f "$0")")")
ELECTRON_RUN_AS_NODE=1 exec "$(dirname "$resources")/image-vault" \
  "$resources/app.asar.unpacked/bin/image-vault.js" "$@"
