"""site.yml with the example inventory: its cluster plays against the local control plane (the server plays, host
and k3s, run in the molecule scenarios; here --limit leaves them out)."""

import json
import pathlib
import subprocess

import pytest
import yaml
from harness import playbook_env, wait_until_gone

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

pytestmark = pytest.mark.cluster
REPO = pathlib.Path(__file__).resolve().parents[2]
PASSWORD = "grafana-" + "9" * 24


def site(cluster, tmp_path, *args):
    extra = {
        "k8s_ee_kubeconfig": str(cluster.kubeconfig),
        "platform_ci_kubeconfig_dir": str(tmp_path / "ci"),
        "vault_grafana_admin_password": PASSWORD,
    }
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    argv = ["ansible-playbook", "-i", str(REPO / "inventory"), str(REPO / "playbooks" / "site.yml")]
    argv += ["--limit", "localhost", "-e", f"@{tmp_path / 'vars.json'}", *args]
    proc = subprocess.run(
        argv, env=playbook_env(cluster.kubeconfig), capture_output=True, text=True, timeout=900, check=False
    )
    stats = json.loads(proc.stdout[proc.stdout.index("{") :])["stats"] if "{" in proc.stdout else {}
    return proc, stats.get("localhost", {})


def test_site_installs_the_platform_chain_and_then_changes_nothing(cluster, kube, tmp_path):
    wait_until_gone(kube, ["platform", "observability", "arc-systems", "arc-runners"])
    first, stats = site(cluster, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert stats["changed"] > 0
    second, stats = site(cluster, tmp_path)
    assert second.returncode == 0, second.stdout[-3000:]
    assert stats["changed"] == 0, second.stdout[-3000:]
    assert PASSWORD not in first.stdout + first.stderr + second.stdout
    charts = {
        c["metadata"]["name"]
        for c in kube.request("GET", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts")["items"]
    }
    assert {"sealed-secrets", "cloudnative-pg", "mongodb-kubernetes", "minio-operator", "arc"} <= charts
    assert any(name.startswith("kube-prometheus-stack") or "prometheus" in name for name in charts), charts
    # the example inventory's CI identity exists and its kubeconfig points at the server's public address
    ci = yaml.safe_load((tmp_path / "ci" / "k8s-ee-ci-shop.kubeconfig").read_text())
    assert ci["clusters"][0]["cluster"]["server"] == "https://203.0.113.10:6443"
    try:
        kube.request("GET", "/api/v1/namespaces/arc-runners/serviceaccounts/k8s-ee-ci-shop")
    except KubeError as exc:  # pragma: no cover - the assertion message is the point
        raise AssertionError(f"no CI identity: {exc}") from exc
