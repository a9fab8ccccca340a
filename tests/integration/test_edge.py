"""The preview URL as a reviewer opens it: Traefik v3.5.1 with the arguments k3s' chart renders for role platform's
HelmChartConfig, Pebble as the ACME CA, pr_up and pr_down run with ansible-playbook (tests/cluster/edge.py).

On simulated nodes a pod's address is the fake runtime's (192.168.192.168), which Traefik's network namespace cannot
reach: the app answers nothing here, Traefik answers 502 for it. The real node's test answers 200 from the app."""

import base64
import json
import pathlib
import re
import time

import pytest
import yaml
from edge import Edge, container, fetch, host_args, pebble_context, render, served_certificate, unverified, wait_for
from harness import wait_until_gone

from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER

pytestmark = pytest.mark.cluster
DOMAIN = "preview.example.com"  # conftest.Playbooks' k8s_ee_domain


@pytest.fixture(scope="module")
def edge(cluster):
    started = Edge(cluster)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def traefik_argv(cluster):
    (entry,) = [e for e in cluster._state() if e["name"] == "traefik"]
    with open(f"/proc/{entry['pid']}/cmdline", "rb") as cmdline:
        return [arg.decode() for arg in cmdline.read().split(b"\0") if arg]


def test_traefik_runs_what_role_platform_configures(playbooks, kube, cluster, edge):
    """The HelmChartConfig role platform stores, rendered with k3s' chart values as helm-controller would, is what
    the running Traefik was started with, but for the host changes edge.host_changes lists."""
    run = playbooks.role("platform", **edge.platform_variables())
    assert run.rc == 0, run
    stored = kube.request("GET", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs/traefik")
    values = stored["spec"]["valuesContent"]
    acme = yaml.safe_load(values)["certificatesResolvers"]["letsencrypt"]["acme"]
    assert acme["caServer"] == edge.acme_directory and acme["httpChallenge"] == {"entryPoint": "web"}
    rendered = container(render(values))["args"]
    running = traefik_argv(cluster)
    assert running[-len(rendered) :] == host_args(rendered, edge.dir / "traefik" / "acme.json")
    assert f"--certificatesresolvers.letsencrypt.acme.caServer={edge.acme_directory}" in running
    assert "--entryPoints.websecure.address=:8443/tcp" in running  # the chart's, in Traefik's own namespace


def test_status_reports_the_edge(cluster, edge):
    status = cluster.status()
    info = edge.info()
    assert status["running"] is True
    assert status["edge"] == {k: info[k] for k in ("http_port", "https_port", "pebble_root")}
    assert pathlib.Path(info["pebble_root"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_preview_url_https_redirect_noindex_then_404(playbooks, kube, github, operators, edge, tmp_path):
    number = 901
    namespace = f"shop-pr-{number}"
    host = f"{namespace}.{DOMAIN}"
    info = edge.info()
    config = tmp_path / "k8s-ee.yaml"
    config.write_text("projectId: shop\n")

    up = playbooks.run("pr_up", k8s_ee_pr_number=number, k8s_ee_config_path=str(config))
    assert up.rc == 0, up
    started = time.monotonic()

    # the certificate: Traefik's letsencrypt resolver asks Pebble, Pebble resolves the host through its DNS server
    # (127.0.0.1) and fetches the HTTP-01 token from Traefik's web entry point
    issued = wait_for(
        lambda: (cert := served_certificate(info["https_port"], host)).issuer != cert.subject and cert,
        f"no certificate from Pebble for {host}",
    )
    print(f"certificate for {host} served {time.monotonic() - started:.1f} s after pr_up returned")
    from cryptography import x509

    sans = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [host]
    assert "Pebble" in issued.issuer.rfc4514_string()
    # verified: chains to Pebble's root (fetched from its management API) and matches the host name
    verified = pebble_context(edge.info()["pebble_root"])
    # the app's pod on a simulated node has the fake runtime's address: Traefik cannot reach it and answers itself,
    # 502; until its EndpointSlice watch has seen the pod ready it answers 503 "no available server" (seen once in CI
    # with the certificate already served: the router is loaded before the endpoints under load)
    answers = []
    wait_for(
        lambda: answers.append(fetch(info["https_port"], host, tls=verified)[:2]) or answers[-1][0] != 503,
        f"Traefik still answers 503 (no endpoint of the app seen) for {host}",
        timeout=60,
    )
    status, headers = answers[-1]
    assert status == 502, (status, headers)
    # Traefik's own error answer still passes the environment's Middleware (headers.customResponseHeaders)
    assert headers.get("x-robots-tag") == "noindex, nofollow", headers
    history = _dns_history(info, host)
    assert history, f"Pebble never asked its DNS server for {host}"

    # http:// answers a permanent redirect to https://, on the host's default port (the chart's exposedPort 443)
    status, headers = fetch(info["http_port"], host, path="/login?next=%2F")[:2]
    assert status == 301, (status, headers)
    assert headers["location"] == f"https://{host}/login?next=%2F"

    # the PR comment links exactly that URL
    (comment,) = [c for c in github.comments_of("acme/shop", number) if MARKER in c["body"]]
    assert re.findall(r"\| Preview \| \[([^\]]+)\]\(([^)]+)\)", comment["body"]) == [(f"https://{host}",) * 2]

    down = playbooks.run("pr_down", k8s_ee_pr_number=number)
    assert down.rc == 0, down
    assert kube.get("Ingress", "app", namespace) is None
    # the router is gone: Traefik's own 404 for a host no router matches (its certificate may still be served, or
    # its default one: not verified here)
    wait_for(lambda: fetch(info["https_port"], host, tls=unverified())[0] == 404, f"{host} still routed")
    status, headers = fetch(info["https_port"], host, tls=unverified())[:2]
    assert status == 404 and "x-robots-tag" not in headers, (status, headers)


def issued_for(edge, host):
    """Waits for the certificate Pebble issues for `host`, checks its SAN and that it verifies against Pebble's root."""
    from cryptography import x509

    info = edge.info()
    issued = wait_for(
        lambda: (cert := served_certificate(info["https_port"], host)).issuer != cert.subject and cert,
        f"no certificate from Pebble for {host}",
    )
    sans = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [host]
    assert "Pebble" in issued.issuer.rfc4514_string()
    return issued


OBSERVABILITY = "observability"
# Role observability's variables for the two hosts (the admin password is what Traefik's basicAuth checks).
GRAFANA_HOST, PROMETHEUS_HOST = f"grafana.{DOMAIN}", f"prometheus.{DOMAIN}"
ADMIN_PASSWORD = "edge-test-admin-" + "5" * 12
# The address a simulated node's pod gets from the fake runtime: unreachable from Traefik's network namespace.
FAKE_POD_ADDRESS = "192.168.192.168"


def _endpoints(service):
    """An EndpointSlice for a rendered Service, as the endpoint slice controller would write it for one running pod
    of a simulated node. There is no Grafana or Prometheus pod here; without endpoints Traefik would answer 503 (the
    chart's allowEmptyServices), with this one it answers as for a preview app: 502, the address being unreachable."""
    ports = [
        {
            "name": p.get("name", ""),
            "port": p["targetPort"] if isinstance(p.get("targetPort"), int) else p["port"],
            "protocol": p.get("protocol", "TCP"),
        }
        for p in service["spec"]["ports"]
    ]
    name = service["metadata"]["name"]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-edge-test",
            "namespace": OBSERVABILITY,
            "labels": {
                "kubernetes.io/service-name": name,
                "endpointslice.kubernetes.io/managed-by": "k8s-ee-edge-test",
            },
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [FAKE_POD_ADDRESS], "conditions": {"ready": True}}],
        "ports": ports,
    }


def test_grafana_and_prometheus_hosts_get_certificates_and_prometheus_asks_for_credentials(playbooks, kube, edge):
    """Role observability applied for real (HelmCharts, the Secrets, Traefik's Middleware prometheus-auth); the
    kube-prometheus-stack chart rendered from the HelmChart the role stored (tests/charts.py, as helm-controller
    installs it); its two Ingresses and the Services they name applied. Simulated nodes run no Grafana or Prometheus
    pod: each Service gets an EndpointSlice with a simulated pod's address, which Traefik cannot reach, so a request
    that gets past Traefik's middlewares is answered 502 Bad Gateway by Traefik itself. Prometheus without
    credentials, or with wrong ones, is answered 401 by the basicAuth Middleware before any backend is tried; with
    Grafana's admin user and password it gets past the Middleware (502)."""
    from charts import render

    info = edge.info()
    # role platform's run above made the namespace, and conftest's no_leftover_namespaces deleted it after that test
    wait_until_gone(kube, [OBSERVABILITY])
    had_namespace = kube.get("Namespace", OBSERVABILITY) is not None
    run = playbooks.role(
        "observability",
        observability_grafana_host=GRAFANA_HOST,
        observability_prometheus_host=PROMETHEUS_HOST,
        observability_grafana_admin_password=ADMIN_PASSWORD,
    )
    assert run.rc == 0, "\n".join(run.failures())
    assert ADMIN_PASSWORD not in run.stdout + run.stderr
    chart = kube.request("GET", f"{HELMCHARTS}/kube-prometheus-stack")
    rendered = render(chart)
    ingresses = [o for o in rendered if o["kind"] == "Ingress"]
    backends = {
        p["backend"]["service"]["name"] for i in ingresses for r in i["spec"]["rules"] for p in r["http"]["paths"]
    }
    services = [o for o in rendered if o["kind"] == "Service" and o["metadata"]["name"] in backends]
    assert sorted(i["spec"]["rules"][0]["host"] for i in ingresses) == [GRAFANA_HOST, PROMETHEUS_HOST], ingresses
    assert len(services) == 2, sorted(backends)
    applied = [*services, *map(_endpoints, services), *ingresses]
    try:
        for obj in applied:
            obj["metadata"]["namespace"] = OBSERVABILITY
            kube.apply(obj)
        started = time.monotonic()
        for host in (GRAFANA_HOST, PROMETHEUS_HOST):
            issued_for(edge, host)
            print(f"certificate for {host} served {time.monotonic() - started:.1f} s after the Ingresses were applied")
            # http:// answers a permanent redirect to https://
            status, headers = fetch(info["http_port"], host, path="/graph?g0.expr=up")[:2]
            assert status == 301, (host, status, headers)
            assert headers["location"] == f"https://{host}/graph?g0.expr=up"
        pebble = pebble_context(info["pebble_root"])
        # Grafana: no Middleware (Grafana asks for its own login); Traefik cannot reach the simulated pod
        status, headers = fetch(info["https_port"], GRAFANA_HOST, tls=pebble)[:2]
        assert status == 502, (status, headers)
        # Prometheus: the basicAuth Middleware answers first, never anonymous
        status, headers = fetch(info["https_port"], PROMETHEUS_HOST, tls=pebble)[:2]
        assert status == 401, (status, headers)
        assert headers.get("www-authenticate") == 'Basic realm="Prometheus"', headers
        wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:" + b"x" * 20).decode()}
        assert fetch(info["https_port"], PROMETHEUS_HOST, tls=pebble, headers=wrong)[0] == 401
        right = {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()}
        status, headers = fetch(info["https_port"], PROMETHEUS_HOST, tls=pebble, headers=right)[:2]
        assert status == 502, (status, headers)
    finally:
        for obj in reversed(applied):
            kube.delete(obj["kind"], obj["metadata"]["name"], OBSERVABILITY)
        _remove_observability(kube, had_namespace)


HELMCHARTS = "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts"


def _remove_observability(kube, keep_namespace):
    """What role observability applied: its HelmCharts, and its namespace, or (role platform's) what is in it."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

    paths = [f"{HELMCHARTS}/{name}" for name in ("kube-prometheus-stack", "loki", "alloy")]
    if keep_namespace:
        paths += [
            f"/apis/traefik.io/v1alpha1/namespaces/{OBSERVABILITY}/middlewares/prometheus-auth",
            f"/apis/monitoring.coreos.com/v1/namespaces/{OBSERVABILITY}/prometheusrules/k8s-ee",
            *(f"/api/v1/namespaces/{OBSERVABILITY}/secrets/{s}" for s in ("grafana-admin", "prometheus-basic-auth")),
            *(
                f"/api/v1/namespaces/{OBSERVABILITY}/configmaps/{c['metadata']['name']}"
                for c in kube.list("ConfigMap", OBSERVABILITY, label_selector="grafana_dashboard=1")
            ),
        ]
    else:
        kube.delete("Namespace", OBSERVABILITY)
    for path in paths:
        try:
            kube.request("DELETE", path)
        except KubeError as exc:
            if exc.status != 404:
                raise


def _dns_history(info, host):
    """What Pebble asked challtestsrv about the host (its management API, on loopback)."""
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1, edge.json
        f"{info['challtestsrv_management']}/dns-request-history",
        data=json.dumps({"host": host}).encode(),
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:  # loopback
        return json.loads(response.read())
