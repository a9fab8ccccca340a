#!/bin/sh
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# docker-entrypoint.sh of the test harness' redis image (tests/cluster/images.py), as upstream's: options
# or a *.conf file as the first argument run redis-server with them; started as root, it owns the
# working folder (/data) and drops to user redis; the umask becomes 0077 unless one was set.
# The platform's Deployment sets `command: [redis-server]`, which replaces this entrypoint.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

exec "$@"
