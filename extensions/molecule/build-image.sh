#!/usr/bin/env bash
# Builds the Debian bookworm systemd image the molecule scenarios run in, once: debootstrap into a
# folder, `podman import` it, cache the tarball in ~/.cache/k8s-ee/images. No registry is needed.
set -euo pipefail
image=localhost/k8s-ee-bookworm-systemd:2
cache="${K8S_EE_CACHE:-$HOME/.cache/k8s-ee}/images"
tarball="$cache/bookworm-systemd-2.tar"

if podman image exists "$image"; then
  exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq -o DPkg::Lock::Timeout=600 && apt-get install -y -qq -o DPkg::Lock::Timeout=600 debootstrap >/dev/null; }
  rootfs=$(mktemp -d /var/tmp/k8s-ee-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,python3-venv,python3-apt,python3-packaging,ca-certificates \
    bookworm "$rootfs" >/dev/null
  # no getty or hardware units in a container
  rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* "$rootfs"/lib/systemd/system/multi-user.target.wants/getty*
  tar -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi
podman import --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' "$tarball" "$image" >/dev/null
