# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/charts.py without helm or a cluster: which chart and release a HelmChart is, spec.set as helm-controller
passes it, the value keys a chart tree reads, the images and the memory limits of rendered objects."""

import json

import pytest
import yaml
from charts import (
    MissingLimit,
    _crds,
    _set_arguments,
    api_versions,
    chart_folder,
    crd_api_versions,
    images,
    is_test_hook,
    memory_rows,
    owners,
    release,
    unread_keys,
)


@pytest.mark.parametrize(
    ("spec", "folder"),
    [
        ({"chart": "operator", "version": "7.1.1"}, "operator-7.1.1"),
        (
            {"chart": "oci://ghcr.io/actions/charts/gha-runner-scale-set", "version": "0.14.2"},
            "gha-runner-scale-set-0.14.2",
        ),
        ({"chart": "https://%{KUBERNETES_API}%/static/charts/traefik-37.1.1+up37.1.0.tgz"}, "traefik-37.1.0"),
        ({"chart": "https://charts.example/plain-1.2.3.tgz"}, "plain-1.2.3"),
    ],
)
def test_chart_folder(spec, folder):
    assert chart_folder(spec) == folder


def test_the_release_is_the_helmchart_and_its_target_namespace():
    chart = {"metadata": {"name": "minio-operator", "namespace": "kube-system"}, "spec": {"chart": "operator"}}
    assert release(chart) == ("minio-operator", "kube-system")
    chart["spec"]["targetNamespace"] = "minio-operator"
    assert release(chart) == ("minio-operator", "minio-operator")


def test_set_is_passed_as_helm_controller_passes_it():
    assert _set_arguments(
        {"b.count": 3, "a.registry": "%{SYSTEM_DEFAULT_REGISTRY_RAW}%", "c.on": "true", "d.list": "x,y\\,z"}
    ) == ["--set-string", "a.registry=", "--set", "b.count=3", "--set", "c.on=true", "--set-string", "d.list=x\\,y\\,z"]


def test_api_versions_are_group_versions_and_kinds():
    served = {("v1", "Pod"): ("pods", True), ("apps/v1", "Deployment"): ("deployments", True)}
    assert api_versions(served) == {"v1", "v1/Pod", "apps/v1", "apps/v1/Deployment"}
    crd = {
        "spec": {
            "group": "monitoring.coreos.com",
            "names": {"kind": "Prometheus"},
            "versions": [{"name": "v1", "served": True}, {"name": "v1alpha1", "served": False}],
        }
    }
    assert crd_api_versions(crd) == {"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/Prometheus"}


@pytest.fixture
def chart_dir(tmp_path):
    """A chart with a schema and a subchart under an alias, as helm lays them out."""

    def chart(folder, name, values, templates, dependencies=None, schema=None):
        (folder / "templates").mkdir(parents=True)
        meta = {"apiVersion": "v2", "name": name, "version": "1.0.0"}
        if dependencies:
            meta["dependencies"] = dependencies
        (folder / "Chart.yaml").write_text(yaml.safe_dump(meta))
        (folder / "values.yaml").write_text(yaml.safe_dump(values))
        (folder / "templates" / "deployment.yaml").write_text(templates)
        if schema:
            (folder / "values.schema.json").write_text(json.dumps(schema))

    root = tmp_path / "app"
    chart(
        root,
        "app",
        {"replicas": 1, "resources": {}, "config": {"data": {"a": 1}}, "sub": {"enabled": True}, "app.ini": {"a": {}}},
        """replicas: {{ .Values.replicas }}
ns: {{ .Values.operator.watchNamespace }}
{{- with .Values.operator }}{{ with .nodeSelector }}{{ toYaml . }}{{ end }}{{ end }}
{{- with .Values.podLabels }}
labels:
  {{- toYaml . | nindent 4 }}
{{- end }}
{{- range $section, $keys := index .Values "app.ini" }}[{{ $section }}]{{ end }}""",
        dependencies=[{"name": "subchart", "alias": "sub", "version": "1.0.0", "condition": "sub.enabled"}],
        schema={"properties": {"extra": {"type": "object"}, "typed": {"properties": {"known": {"type": "string"}}}}},
    )
    chart(root / "charts" / "subchart", "subchart", {"image": {"tag": ""}}, "{{ .Values.image.tag }}")
    (root / "charts" / "subchart" / "crds").mkdir()
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b"}}
    (root / "charts" / "subchart" / "crds" / "a.yaml").write_text(yaml.safe_dump(crd) + "---\n# enum: [=]\nx: =\n")
    return root


@pytest.fixture
def tree(chart_dir):
    return owners(chart_dir)


def test_the_crds_of_enabled_dependencies_are_created_first(chart_dir):
    assert [c["metadata"]["name"] for c in _crds(chart_dir, {})] == ["a.b"]
    assert _crds(chart_dir, {"sub": {"enabled": False}}) == []


def test_documented_and_read_keys_pass_and_others_are_named(tree):
    values = {
        "replicas": 2,
        "resources": {"limits": {"memory": "1Gi"}},  # free-form: an empty default mapping
        "config": {"data": {"a": 2}, "dataa": {}},
        "operator": {"watchNamespace": "*", "priorityClassName": "x"},  # read by the templates, and not
        "podLabels": {"team": "a"},  # passed on whole: with + toYaml .
        "app.ini": {"a": {"b": 1}, "users": {"allow": False}},  # passed on whole: a range over its keys
        "extra": {"anything": {"at": "all"}},  # a schema object without properties
        "typed": {"known": "k", "unknown": "u"},
        "sub": {"enabled": True, "image": {"tag": "v1", "tags": "v2"}},
        "global": {"imageRegistry": "r"},
        "misspelt": 1,
    }
    assert unread_keys(values, tree) == [
        "config.dataa",
        "operator.priorityClassName",
        "typed.unknown",
        "sub.image.tags",
        "global.imageRegistry",
        "misspelt",
    ]


def deployment(name, memory, replicas=None, init_memory=None):
    spec = {"containers": [{"name": name, "image": f"example/{name}:v1", "resources": {"limits": {"memory": memory}}}]}
    if init_memory:
        spec["initContainers"] = [
            {"name": "init", "image": "busybox:1.37", "resources": {"limits": {"memory": init_memory}}}
        ]
    obj = {"kind": "Deployment", "metadata": {"name": name}, "spec": {"template": {"spec": spec}}}
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    return obj


def rendered_stack():
    operator = deployment("operator", "256Mi")
    operator["spec"]["template"]["spec"]["containers"][0]["args"] = ["--config-reloader-memory-limit=64Mi"]
    daemon = deployment("exporter", "64Mi")
    daemon["kind"] = "DaemonSet"
    test_pod = {
        "kind": "Pod",
        "metadata": {"name": "grafana-test", "annotations": {"helm.sh/hook": "test"}},
        "spec": {"containers": [{"name": "test", "image": "bats/bats:v1.4.1"}]},
    }
    prometheus = {
        "kind": "Prometheus",
        "metadata": {"name": "prometheus"},
        "spec": {
            "replicas": 2,
            "image": "quay.io/prometheus/prometheus:v3.5.0",
            "resources": {"limits": {"memory": "2Gi"}},
        },
    }
    return [
        operator,
        daemon,
        test_pod,
        prometheus,
        deployment("grafana", "512Mi", replicas=0, init_memory="1Gi"),
        deployment("ksm", "256Mi", replicas=2, init_memory="32Mi"),
    ]


def test_memory_counts_replicas_nodes_init_containers_and_operator_pods():
    rows = {row["container"]: row for row in memory_rows(rendered_stack(), nodes=3)}
    assert rows["DaemonSet/exporter containers/exporter"]["count"] == 3
    assert rows["Deployment/ksm initContainers/init"]["bytes"] == 2 * 32 * 2**20
    assert rows["Prometheus/prometheus prometheus"]["bytes"] == 2 * 2 * 2**30
    assert rows["Prometheus/prometheus init-config-reloader (operator flag)"]["count"] == 2
    assert not [name for name in rows if "grafana" in name]  # no replicas, no pods (and the test hook never runs)
    mib = 256 + 3 * 64 + 2 * 2048 + 2 * 2 * 64 + 2 * (256 + 32)
    assert sum(row["bytes"] for row in rows.values()) == mib * 2**20


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda objs: objs[1]["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits"),
            "DaemonSet/exporter",
        ),
        (
            lambda objs: objs[5]["spec"]["template"]["spec"]["initContainers"][0].pop("resources"),
            "ksm initContainers/init",
        ),
        (lambda objs: objs[0]["spec"]["template"]["spec"]["containers"][0].pop("args"), "config-reloader"),
    ],
)
def test_a_running_container_without_a_memory_limit_fails(change, named):
    objects = rendered_stack()
    change(objects)
    with pytest.raises(MissingLimit, match=named):
        memory_rows(objects)


def test_pod_templates_of_custom_resources_are_not_guessed():
    thanos = {"kind": "ThanosRuler", "metadata": {"name": "t"}, "spec": {"resources": {"limits": {"memory": "1Gi"}}}}
    with pytest.raises(ValueError, match="ThanosRuler/t"):
        memory_rows([thanos])


def test_images_of_workloads_custom_resources_and_operator_kinds():
    runner_set = {
        "kind": "AutoscalingRunnerSet",
        "metadata": {"name": "shop"},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "runner", "image": "ghcr.io/actions/actions-runner:2.328.0"}]}
            }
        },
    }
    found = images([*rendered_stack(), runner_set])
    assert found["AutoscalingRunnerSet/shop containers/runner"] == "ghcr.io/actions/actions-runner:2.328.0"
    assert found["Prometheus/prometheus spec.image"] == "quay.io/prometheus/prometheus:v3.5.0"
    assert found["Deployment/ksm initContainers/init"] == "busybox:1.37"


def test_test_hooks():
    assert is_test_hook({"metadata": {"annotations": {"helm.sh/hook": "pre-install, test"}}})
    assert not is_test_hook({"metadata": {"annotations": {"helm.sh/hook": "pre-install"}}})
    assert not is_test_hook({"metadata": {}})
