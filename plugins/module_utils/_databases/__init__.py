# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The databases an environment can have: one file each, described by `_base.Database`, registered here.

Rendering (`_render`), the quota (`_quota`), readiness (`_readiness`), credentials (`_credentials`), the
configuration's database keys (`_config`) and the API paths of their resources (`_kube.KINDS`) are derived from
`REGISTRY`. What must stay literal (the JSON Schema, role operators' and role platform's YAML, the docs' tables) is
compared with it by tests/unit/plugins/module_utils/test_databases.py. docs/adding-a-database.md has the steps.

The modules are imported by name (not discovered) so that Ansible packs them with every module that uses them.
"""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import (
    mariadb,
    minio,
    mongodb,
    postgresql,
    redis,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import (  # noqa: F401 - the API
    Budget,
    Database,
    Operator,
    budget,
    new_password,
)

# The order is the order of k8s-ee.yaml's `databases`, of rendering, of the waits and of the docs' tables.
REGISTRY: dict[str, Database] = {
    db.name: db for db in (postgresql.DATABASE, mongodb.DATABASE, redis.DATABASE, minio.DATABASE, mariadb.DATABASE)
}
NAMES = tuple(REGISTRY)

# database -> the namespace its operator runs in by default (setting `operator_namespaces`)
OPERATOR_NAMESPACES = {db.name: db.operator.namespace for db in REGISTRY.values() if db.operator}
# database -> the Secret of its generated credentials
CREDENTIAL_SECRETS = {db.name: db.credentials_name for db in REGISTRY.values() if db.credentials_name}
# Every Secret that holds a database credential: written by an operator, generated, or made of generated ones.
CREDENTIAL_HOLDERS = tuple(
    name
    for db in REGISTRY.values()
    for name in (*db.other_secrets, *([db.credentials_name] if db.credentials_name else []))
)
