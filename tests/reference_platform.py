"""Environments as the reference platform (k8s-ephemeral-environments) makes them, for the migrate playbook's tests:
its namespace labels and annotations, its quota, limits and default-deny policy, and its app chart installed with the
real Helm, so the release Secrets are Helm's own."""

import subprocess
import textwrap

from observability import helm_binary

GITHUB_ACTIONS = {"app.kubernetes.io/managed-by": "github-actions"}

# A chart shaped like the reference platform's app chart (written here from what its workflow installs: a Deployment
# <projectId>-pr-<N>-app, its Service, Ingress and ConfigMap, and with postgresql.enabled a CloudNativePG Cluster
# named as its PostgreSQL chart names it: the release's name when that holds "postgresql", else <release>-postgresql).
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: k8s-ee-app\nversion: 1.0.0\n",
    "values.yaml": "projectId: shop\nprNumber: 1\npostgresql:\n  enabled: false\napp:\n  enabled: true\n",
    "templates/app.yaml": """\
        {{- if .Values.app.enabled }}
        {{- $name := printf "%s-pr-%v-app" .Values.projectId .Values.prNumber }}
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ $name }}
          labels: {app.kubernetes.io/name: {{ $name }}}
        spec:
          replicas: 1
          selector: {matchLabels: {app.kubernetes.io/name: {{ $name }}}}
          template:
            metadata: {labels: {app.kubernetes.io/name: {{ $name }}}}
            spec:
              containers:
                - name: app
                  image: ghcr.io/acme/shop:pr-{{ .Values.prNumber }}
                  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 100m, memory: 128Mi}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: {{ $name }}}
        spec:
          selector: {app.kubernetes.io/name: {{ $name }}}
          ports: [{port: 80, targetPort: 3000}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: {{ $name }}}
        spec:
          rules:
            - host: {{ .Release.Namespace }}.k8s-ee.example
              http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend: {service: {name: {{ $name }}, port: {number: 80}}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: {{ $name }}-config}
        data: {PREVIEW_URL: "https://{{ .Release.Namespace }}.k8s-ee.example"}
        {{- end }}
        """,
    "templates/postgresql.yaml": """\
        {{- if .Values.postgresql.enabled }}
        apiVersion: postgresql.cnpg.io/v1
        kind: Cluster
        metadata:
          {{- $suffixed := printf "%s-postgresql" .Release.Name }}
          name: {{ if contains "postgresql" .Release.Name }}{{ .Release.Name }}{{ else }}{{ $suffixed }}{{ end }}
        spec:
          instances: 1
          storage: {size: 1Gi}
          bootstrap: {initdb: {database: app, owner: app}}
        {{- end }}
        """,
}


def write_chart(folder):
    """CHART's files under `folder`; returns the chart's folder."""
    for name, text in CHART.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


class Reference:
    """Makes environments as the reference platform's workflow does: its namespace, then its quota, limits and
    default-deny policy, then `helm upgrade --install` of its chart."""

    def __init__(self, kube, cluster, chart):
        self.kube, self.cluster, self.chart = kube, cluster, chart

    def environment(self, number, project="shop", repository="acme/shop", labels=None, annotations=None):
        namespace = f"{project}-pr-{number}"
        self.kube.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace,
                    "labels": {
                        **GITHUB_ACTIONS,
                        "k8s-ee/type": "ephemeral",
                        "k8s-ee/project-id": project,
                        "k8s-ee/pr-number": str(number),
                        "k8s-ee/branch": "feature-login",
                        "k8s-ee/commit-sha": "b" * 40,
                        **(labels or {}),
                    },
                    "annotations": {
                        "k8s-ee/created-at": "2030-03-16T10:00:00Z",
                        "k8s-ee/created-by": "pr-environment-workflow",
                        "k8s-ee/repository": repository,
                        "k8s-ee/last-updated": "2030-03-16T10:00:00Z",
                        **(annotations or {}),
                    },
                },
            }
        )
        frame = {"metadata": {"namespace": namespace, "labels": {**GITHUB_ACTIONS, "k8s-ee/type": "ephemeral"}}}
        self.kube.create(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                **_named(frame, "pr-quota"),
                "spec": {"hard": {"requests.cpu": "1", "requests.memory": "2Gi", "persistentvolumeclaims": "4"}},
            }
        )
        self.kube.create(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                **_named(frame, "pr-limits"),
                "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}}]},
            }
        )
        self.kube.create(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                **_named(frame, "default-deny"),
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            }
        )
        return namespace

    def helm(self, namespace, release, number, *settings):
        subprocess.run(
            [
                str(helm_binary()),
                "upgrade",
                "--install",
                release,
                str(self.chart),
                "--namespace",
                namespace,
                "--kubeconfig",
                str(self.cluster.kubeconfig),
                "--set",
                f"prNumber={number}",
                *[arg for setting in settings for arg in ("--set", setting)],
            ],
            check=True,
            capture_output=True,
            text=True,
        )

    def claim(self, namespace, name, cluster):
        """The claim CloudNativePG makes for a Cluster's first instance (no operator runs here)."""
        self.kube.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": namespace, "labels": {"cnpg.io/cluster": cluster}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        )


def _named(frame, name):
    return {"metadata": {**frame["metadata"], "name": name}}
