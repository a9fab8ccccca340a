#!/usr/bin/env bash
# Puts podman in place on the machine running the molecule scenarios: the packages, and the settings
# this workplace needs (runc, because crun refuses this kernel's cgroup layout; no default ulimits).
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  # make cluster-build prebuilds the real node's images beside this, which may install debootstrap: wait for the lock
  apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 podman runc debootstrap >/dev/null
fi
mkdir -p /etc/containers
if ! grep -q '^runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
fi
