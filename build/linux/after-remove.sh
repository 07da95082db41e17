#!/bin/bash
# Image Vault deb post-remove: the links after-install.sh made.
rm -f /usr/bin/image-vault /usr/share/man/man1/image-vault.1 \
  /usr/share/bash-completion/completions/image-vault \
  /usr/share/zsh/vendor-completions/_image-vault
