#!/usr/bin/env bash
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# docker-entrypoint.sh of the test harness' mariadb image (tests/cluster/images.py): the part of the
# upstream image's documented environment contract that the platform and its tests use, on Debian's
# MariaDB. On the first start (no `mysql` folder in the datadir) it initialises the datadir, sets the
# root password, creates MARIADB_DATABASE and MARIADB_USER (granted all on that database) and runs
# /docker-entrypoint-initdb.d; later starts keep the data and only exec the server.
#
# Variables (each also as MYSQL_*, and as *_FILE naming a file that holds the value):
#   MARIADB_ROOT_PASSWORD | MARIADB_ROOT_PASSWORD_HASH | MARIADB_ALLOW_EMPTY_ROOT_PASSWORD |
#   MARIADB_RANDOM_ROOT_PASSWORD (one is required on the first start), MARIADB_ROOT_HOST (default %),
#   MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD | MARIADB_PASSWORD_HASH.
# Not implemented: MARIADB_AUTO_UPGRADE, MARIADB_INITDB_SKIP_TZINFO (no time zone tables are loaded),
# MARIADB_MYSQL_LOCALHOST_USER, MARIADB_REPLICATION_*, MARIADB_MASTER_HOST, healthcheck.sh.
set -eo pipefail
shopt -s nullglob

log() {
	local type=$1
	shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$*"
}
note() { log Note "$@"; }
warn() { log Warn "$@" >&2; }
error() {
	log ERROR "$@" >&2
	exit 1
}

# file_env MARIADB_X: MARIADB_X, MARIADB_X_FILE, MYSQL_X or MYSQL_X_FILE, in that order, into MARIADB_X.
file_env() {
	local var=$1 mysql_var="MYSQL_${1#MARIADB_}" value=""
	local file_var="${var}_FILE" mysql_file_var="${mysql_var}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		error "both $var and $file_var are set (but are exclusive)"
	fi
	if [ -n "${!var:-}" ]; then
		value=${!var}
	elif [ -n "${!file_var:-}" ]; then
		value=$(<"${!file_var}")
	elif [ -n "${!mysql_var:-}" ]; then
		value=${!mysql_var}
	elif [ -n "${!mysql_file_var:-}" ]; then
		value=$(<"${!mysql_file_var}")
	fi
	export "$var"="$value"
	unset "$file_var" "$mysql_var" "$mysql_file_var"
}

# sql_string VALUE: VALUE for a single-quoted SQL string literal
sql_string() {
	local escaped=${1//\\/\\\\}
	escaped=${escaped//$'\n'/\\n}
	printf '%s' "${escaped//\'/\\\'}"
}

# config_value NAME ARGS...: the server's effective setting NAME for these arguments
config_value() {
	local name=$1
	shift
	"$@" --verbose --help 2>/dev/null | awk -v name="$name" '$1 == name && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

wants_help() {
	local arg
	for arg; do
		case "$arg" in
		-'?' | --help | --print-defaults | -V | --version) return 0 ;;
		esac
	done
	return 1
}

setup_env() {
	file_env MARIADB_ROOT_PASSWORD
	file_env MARIADB_ROOT_PASSWORD_HASH
	file_env MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
	file_env MARIADB_RANDOM_ROOT_PASSWORD
	file_env MARIADB_ROOT_HOST
	file_env MARIADB_DATABASE
	file_env MARIADB_USER
	file_env MARIADB_PASSWORD
	file_env MARIADB_PASSWORD_HASH
	: "${MARIADB_ROOT_HOST:=%}"
	DATADIR=$(config_value datadir "$@")
	SOCKET=$(config_value socket "$@")
	DATADIR=${DATADIR%/}
	[ -n "$DATADIR" ] || error "cannot read the datadir from the server's configuration"
}

verify_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] &&
		[ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		error $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ "$MARIADB_USER" = root ]; then
		error "MARIADB_USER=\"root\", MARIADB_USER and MARIADB_PASSWORD are for configuring a regular user and cannot be used for the root user"
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ] && [ -z "$MARIADB_PASSWORD_HASH" ]; then
		error "MARIADB_USER is set but neither MARIADB_PASSWORD nor MARIADB_PASSWORD_HASH"
	fi
	if [ -n "$MARIADB_PASSWORD" ] && [ -z "$MARIADB_USER" ]; then
		warn "MARIADB_PASSWORD is set but MARIADB_USER is not: no user is created"
	fi
}

# sql [client options]: the statements on stdin, as root over the socket of the temporary server
sql() {
	local password=""
	if [ "${1:-}" = --as-root ]; then
		shift
		password=$MARIADB_ROOT_PASSWORD
	fi
	MYSQL_PWD=$password mariadb --protocol=socket --socket="$SOCKET" -uroot -hlocalhost --binary-mode "$@"
}

start_temporary_server() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--expire-logs-days=0 --skip-slave-start --skip-log-bin \
		--loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 &
	SERVER_PID=$!
	local _
	for _ in {1..60}; do
		if sql --database=mysql <<<'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || error "the temporary server stopped while starting"
		sleep 0.5
	done
	error "the temporary server did not answer on $SOCKET"
}

stop_temporary_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || error "the temporary server did not stop cleanly"
}

# init_sql: the statements of the first start into INIT_SQL (notes go to stdout, so not the SQL)
init_sql() {
	local root_auth="" root_create="" database="" user="" grants=""
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		root_auth="IDENTIFIED BY PASSWORD '$(sql_string "$MARIADB_ROOT_PASSWORD_HASH")'"
	elif [ -n "$MARIADB_ROOT_PASSWORD" ]; then
		root_auth="IDENTIFIED BY '$(sql_string "$MARIADB_ROOT_PASSWORD")'"
	fi
	if [ "$MARIADB_ROOT_HOST" != localhost ]; then
		local host
		host=$(sql_string "$MARIADB_ROOT_HOST")
		root_create="CREATE USER 'root'@'$host' $root_auth;
GRANT ALL ON *.* TO 'root'@'$host' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'$host' WITH GRANT OPTION;"
	fi
	if [ -n "$MARIADB_DATABASE" ]; then
		note "Creating database ${MARIADB_DATABASE}"
		database="CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE//\`/\`\`}\`;"
	fi
	if [ -n "$MARIADB_USER" ]; then
		local name user_auth
		name=$(sql_string "$MARIADB_USER")
		if [ -n "$MARIADB_PASSWORD_HASH" ]; then
			user_auth="IDENTIFIED BY PASSWORD '$(sql_string "$MARIADB_PASSWORD_HASH")'"
		else
			user_auth="IDENTIFIED BY '$(sql_string "$MARIADB_PASSWORD")'"
		fi
		note "Creating user ${MARIADB_USER}"
		user="CREATE USER '$name'@'%' $user_auth;"
		if [ -n "$MARIADB_DATABASE" ]; then
			local pattern=${MARIADB_DATABASE//\`/\`\`}
			note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			grants="GRANT ALL ON \`${pattern//_/\\_}\`.* TO '$name'@'%';"
		fi
	fi
	INIT_SQL=$(
		cat <<-EOSQL
			SET @@SESSION.SQL_LOG_BIN=0;
			SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
			DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
			EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
			ALTER USER 'root'@'localhost' ${root_auth:-IDENTIFIED BY ''};
			${root_create}
			${database}
			${user}
			${grants}
		EOSQL
	)
}

run_initdb_scripts() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh)
			note "$0: running $f"
			# shellcheck disable=SC1090
			if [ -x "$f" ]; then "$f"; else . "$f"; fi
			;;
		*.sql)
			note "$0: running $f"
			sql --as-root ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} <"$f"
			;;
		*.sql.gz)
			note "$0: running $f"
			gzip -dc "$f" | sql --as-root ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"}
			;;
		*) note "$0: ignoring $f" ;;
		esac
	done
}

init_datadir() {
	local marker="$DATADIR/.k8s-ee-init-incomplete"
	if [ -e "$marker" ]; then
		warn "an earlier first start did not finish: emptying $DATADIR and starting over"
		find "$DATADIR" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} +
	fi
	if [ -d "$DATADIR/mysql" ]; then
		note "MariaDB data found in $DATADIR: keeping it"
		return 0
	fi
	verify_env
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
		note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	note "Initializing database files"
	: >"$marker"
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal --skip-test-db \
		--default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin --expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 \
		"${@:2}" >/dev/null
	note "Database files initialized"
	note "Starting temporary server"
	start_temporary_server "$@"
	note "Temporary server started."
	init_sql
	sql --database=mysql <<<"$INIT_SQL"
	unset INIT_SQL
	run_initdb_scripts
	note "Stopping temporary server"
	stop_temporary_server
	note "Temporary server stopped"
	rm -f "$marker"
	note "MariaDB init process done. Ready for start up."
}

if [ "${1:0:1}" = - ]; then
	set -- mariadbd "$@"
fi

if { [ "$1" = mariadbd ] || [ "$1" = mysqld ]; } && ! wants_help "$@"; then
	note "Entrypoint script for MariaDB Server $(mariadbd --version | awk '{print $3}') started."
	setup_env "$@"
	if [ "$(id -u)" = 0 ]; then
		# like upstream: own the datadir and the socket folder, then run as mysql
		mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
		find "$DATADIR" "$(dirname "$SOCKET")" \! -user mysql -exec chown mysql:mysql '{}' +
		note "Switching to dedicated user 'mysql'"
		exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
	fi
	init_datadir "$@"
fi
exec "$@"
