#!/bin/sh
# Tools the tests use beyond Python packages: headless Chromium (renders the HTML notices in a
# test) and CJK fonts (so its screenshots show Chinese). Installed with Debian's packages when
# missing and we may (root, apt-get); otherwise the browser test skips and says why. Never fails.
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk) \
    >/dev/null 2>&1 || echo "note: could not install chromium; the HTML screenshot test will skip"
else
  echo "note: chromium not installed (Debian: apt-get install -y chromium fonts-noto-cjk); the HTML screenshot test will skip"
fi
exit 0
