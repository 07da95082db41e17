#!/bin/bash
# Image Vault deb post-install (electron-builder fills in ${sanitizedProductName}).
app='/opt/${sanitizedProductName}'

# The command line, its man page and completions (the desktop entry runs $app directly).
ln -sf "$app/resources/bin/image-vault" /usr/bin/image-vault
mkdir -p /usr/share/man/man1 /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions
ln -sf "$app/resources/share/man/man1/image-vault.1" /usr/share/man/man1/image-vault.1
ln -sf "$app/resources/share/bash-completion/completions/image-vault" \
  /usr/share/bash-completion/completions/image-vault
ln -sf "$app/resources/share/zsh/vendor-completions/_image-vault" \
  /usr/share/zsh/vendor-completions/_image-vault

# Chromium's sandbox helper needs SUID only where unprivileged user namespaces do not work.
if [[ -L /proc/self/ns/user ]] && unshare --user true 2>/dev/null; then
  chmod 0755 "$app/chrome-sandbox" || true
else
  chmod 4755 "$app/chrome-sandbox" || true
fi

if hash update-mime-database 2>/dev/null; then update-mime-database /usr/share/mime || true; fi
if hash update-desktop-database 2>/dev/null; then
  update-desktop-database /usr/share/applications || true
fi
