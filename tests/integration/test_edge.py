"""The preview URL as a reviewer opens it: Traefik v3.5.1 with the arguments k3s' chart renders for role platform's
HelmChartConfig, Pebble as the ACME CA, pr_up and pr_down run with ansible-playbook (tests/cluster/edge.py).

On simulated nodes a pod's address is the fake runtime's (192.168.192.168), which Traefik's network namespace cannot
reach: the app answers nothing here, Traefik answers 502 for it. The real node's test answers 200 from the app."""

import json
import pathlib
import re
import time

import pytest
import yaml
from edge import Edge, container, fetch, host_args, pebble_context, render, served_certificate, unverified, wait_for

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
    status, headers, *_rest = fetch(info["https_port"], host, tls=pebble_context(edge.info()["pebble_root"]))
    # the app's pod on a simulated node has the fake runtime's address: Traefik cannot reach it and answers itself
    assert status == 502, (status, headers)
    # Traefik's own error answer still passes the environment's Middleware (headers.customResponseHeaders)
    assert headers.get("x-robots-tag") == "noindex, nofollow", headers
    history = _dns_history(info, host)
    assert history, f"Pebble never asked its DNS server for {host}"

    # http:// answers a permanent redirect to https://, on the host's default port (the chart's exposedPort 443)
    status, headers, *_rest = fetch(info["http_port"], host, path="/login?next=%2F")
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
    status, headers, *_rest = fetch(info["https_port"], host, tls=unverified())
    assert status == 404 and "x-robots-tag" not in headers, (status, headers)


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
