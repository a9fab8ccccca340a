"""Role platform's Traefik HelmChartConfig (roles/platform/templates/traefik.yml.j2), rendered by Ansible's templating
with the role's defaults: which ACME directory its resolver uses."""

import pathlib
import sys

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "cluster"))

import edge

STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"


def acme(**variables):
    values = yaml.safe_load(edge.role_values(platform_acme_email="ops@example.com", **variables))
    return values["certificatesResolvers"]["letsencrypt"]["acme"]


def test_lets_encrypt_by_default():
    """No caServer: Traefik (lego) then uses Let's Encrypt's production directory."""
    assert acme() == {"email": "ops@example.com", "storage": "/data/acme.json", "httpChallenge": {"entryPoint": "web"}}


def test_staging():
    assert acme(platform_acme_staging=True)["caServer"] == STAGING


@pytest.mark.parametrize("url", ["https://127.0.0.1:14000/dir", "https://acme.internal.example/directory"])
def test_another_ca(url):
    assert acme(platform_acme_ca_server=url)["caServer"] == url


def test_another_ca_with_dns01():
    settings = acme(
        platform_acme_ca_server="https://acme.internal.example/directory",
        platform_acme_challenge="dns",
        platform_acme_dns_provider="cloudflare",
    )
    assert settings["caServer"] == "https://acme.internal.example/directory"
    assert settings["dnsChallenge"] == {"provider": "cloudflare"}


def test_a_url_is_data_not_yaml():
    """The URL is quoted: a value with YAML syntax in it stays one string."""
    url = "https://ca.example/dir#x: {y: 1}"
    assert acme(platform_acme_ca_server=url)["caServer"] == url


def preflight_rules(**variables):
    """The rules of the role's input check (tasks/main.yml) that name platform_acme_ca_server, evaluated as Ansible
    evaluates them, with the role's defaults and `variables`."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    role = edge.REPO / "roles" / "platform"
    check = yaml.safe_load((role / "tasks" / "main.yml").read_text())[0]["ansible.builtin.assert"]
    rules = [rule for rule in check["that"] if "platform_acme_ca_server" in rule]
    assert rules and "platform_acme_ca_server" in check["fail_msg"]
    values = dict(yaml.safe_load((role / "defaults" / "main.yml").read_text()), **variables)
    templar = Templar(loader=DataLoader(), variables=values)
    return all(templar.evaluate_conditional(trust_as_template(rule)) for rule in rules)


@pytest.mark.parametrize(
    ("variables", "accepted"),
    [
        ({}, True),
        ({"platform_acme_staging": True}, True),
        ({"platform_acme_ca_server": "https://127.0.0.1:14000/dir"}, True),
        ({"platform_acme_ca_server": "http://127.0.0.1:14000/dir"}, False),
        ({"platform_acme_ca_server": "127.0.0.1:14000/dir"}, False),
        ({"platform_acme_ca_server": "https://127.0.0.1:14000/dir", "platform_acme_staging": True}, False),
    ],
)
def test_preflight(variables, accepted):
    assert preflight_rules(**variables) is accepted
