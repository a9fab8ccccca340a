"""Stand-ins for the database operators, which do not run in the local cluster."""

import contextlib
import threading

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError


class FakeOperators:
    """Does what CloudNativePG, the MongoDB operator and the MinIO operator do for readiness: writes the
    connection Secrets they own and sets the custom resources' status. (No operator runs in the test
    cluster; this stands in for them and only for them.)"""

    def __init__(self, kube):
        self.kube = kube
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.paused = set()

    def _secret(self, namespace, name, data):
        try:
            self.kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": name, "namespace": namespace},
                    "stringData": data,
                }
            )
        except KubeError as exc:
            if exc.status != 409:
                raise

    def _status(self, kind, api_version, namespace, name, status):
        self.kube.apply_status(
            {
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace},
                "status": status,
            }
        )

    def _loop(self):
        while not self.stop.is_set():
            with contextlib.suppress(KubeError):  # the next round retries
                self._reconcile()
            self.stop.wait(0.3)

    def _reconcile(self):
        stamp = "2026-01-01T00:00:00Z"
        for cluster in self.kube.list("Cluster"):
            ns = cluster["metadata"]["namespace"]
            if ns in self.paused or cluster.get("status", {}).get("readyInstances"):
                continue
            self._secret(
                ns,
                "postgresql-app",
                {
                    "uri": f"postgresql://app:pw@postgresql-rw.{ns}:5432/app",
                    "host": "postgresql-rw",
                    "port": "5432",
                    "dbname": "app",
                    "user": "app",
                    "password": "operator-made",
                },
            )
            self._status(
                "Cluster",
                "postgresql.cnpg.io/v1",
                ns,
                "postgresql",
                {
                    "instances": 1,
                    "readyInstances": 1,
                    "phase": "Cluster in healthy state",
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "ClusterIsReady",
                            "message": "Cluster is Ready",
                            "lastTransitionTime": stamp,
                        }
                    ],
                },
            )
        for mongo in self.kube.list("MongoDBCommunity"):
            ns = mongo["metadata"]["namespace"]
            if ns in self.paused or mongo.get("status", {}).get("phase") == "Running":
                continue
            self._secret(
                ns,
                "mongodb-app",
                {
                    "connectionString.standard": f"mongodb://app:pw@mongodb-0.mongodb-svc.{ns}:27017/app",
                    "username": "app",
                    "password": "pw",
                },
            )
            self._status(
                "MongoDBCommunity",
                "mongodbcommunity.mongodb.com/v1",
                ns,
                "mongodb",
                {
                    "phase": "Running",
                    "currentMongoDBMembers": 1,
                    "currentStatefulSetReplicas": 1,
                    "mongoUri": f"mongodb://mongodb-0.mongodb-svc.{ns}:27017",
                    "version": mongo["spec"]["version"],
                },
            )
        for tenant in self.kube.list("Tenant"):
            ns = tenant["metadata"]["namespace"]
            if ns in self.paused or tenant.get("status", {}).get("currentState") == "Initialized":
                continue
            self._status(
                "Tenant",
                "minio.min.io/v2",
                ns,
                "minio",
                {
                    "currentState": "Initialized",
                    "availableReplicas": 1,
                    "revision": 0,
                    "syncVersion": "v6.0.0",
                    "certificates": {},
                    "pools": [{"ssName": "minio-pool-0", "state": "PoolInitialized"}],
                    "healthStatus": "green",
                },
            )
