"""The k3s role's config.yaml check (roles/k3s/files/k3s-config-check.py), which the role runs on the server."""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "roles" / "k3s" / "files" / "k3s-config-check.py"
spec = importlib.util.spec_from_file_location("k3s_config_check", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def run(tmp_path, text, role="server"):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return check.main(["--role", role, str(path)])


def test_accepts_what_the_role_writes(tmp_path, capsys):
    server = (
        "cluster-init: true\ndisable:\n- traefik\nnode-label:\n- k8s-ee/role=server\ntls-san:\n- 203.0.113.10\n"
        "token-file: /etc/rancher/k3s/token\nwrite-kubeconfig-mode: '0600'\nkubelet-arg+: [max-pods=150]\n"
    )
    assert run(tmp_path, server) == 0
    agent = "server: https://10.0.0.1:6443\ntoken-file: /etc/rancher/k3s/token\nnode-label: [a=b]\n"
    assert run(tmp_path, agent, role="agent") == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("text", "role", "says"),
    [
        ("write-kubeconfig-mode: 0600\n", "server", "write-kubeconfig-mode: 384 must be a quoted octal string"),
        ("tls-sans: [a]\n", "server", "'tls-sans' is not a flag of k3s server"),
        ("cluster-init: 'yes'\n", "server", "cluster-init: 'yes' must be true or false"),
        ("disable: [traefik, ingress]\n", "server", "disable: ['ingress'] are not k3s components"),
        ("tls-san: [{a: b}]\n", "server", "tls-san: [{'a': 'b'}] must be a string or a list of strings"),
        ("node-name: [a, b]\n", "server", "node-name: ['a', 'b'] must be a single value"),
        ("- tls-san\n", "server", "must be a mapping of k3s server flags, got list"),
        (
            "server: https://a:6443\ntoken-file: /t\ncluster-init: true\n",
            "agent",
            "'cluster-init' is not a flag of k3s agent (a server flag)",
        ),
        ("token: x\n", "agent", "server: None must be the https URL of a k3s server"),
        ("server: https://a:6443\n", "agent", "an agent needs token or token-file"),
        ("a: [\n", "server", "while parsing"),
    ],
)
def test_refuses(tmp_path, capsys, text, role, says):
    assert run(tmp_path, text, role) == 1
    assert says in capsys.readouterr().err
