#!/bin/sh
# Tools the tests use beyond Python packages: headless Chromium (renders the HTML notices in a
# test), CJK fonts (so its screenshots show Chinese) and a headless Java 17 runtime (PySpark runs
# the Spark backend's tests on it). Installed with Debian's packages when missing and we may
# (root, apt-get); otherwise the tests needing them skip and say why. Never fails.
can_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }
updated=""
apt_install() {  # apt_install <what it is for> <package>...
  what=$1; shift
  if [ -z "$updated" ]; then apt-get update -qq >/dev/null 2>&1; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || echo "note: could not install $*; $what will skip"
}

if ! command -v chromium >/dev/null 2>&1; then
  if can_apt; then
    apt_install "the HTML screenshot test" chromium fonts-noto-cjk
  else
    echo "note: chromium not installed (Debian: apt-get install -y chromium fonts-noto-cjk); the HTML screenshot test will skip"
  fi
fi

if ! command -v java >/dev/null 2>&1; then
  if can_apt; then
    apt_install "the Spark backend tests" openjdk-17-jre-headless
  else
    echo "note: java not installed (Debian: apt-get install -y openjdk-17-jre-headless); the Spark backend tests will skip"
  fi
fi
exit 0
