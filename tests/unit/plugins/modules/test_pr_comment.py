"""The refused comment needs no namespace: access is decided before k8s-ee.yaml is read (docs/security.md,
"The configuration file is untrusted")."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.k8s_ee.platform.plugins.module_utils import _comment
from ansible_collections.k8s_ee.platform.plugins.modules import pr_comment


def run(capsys, monkeypatch, **args):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with patch_module_args({"repository": "acme/shop", "pr_number": 42, **args}), pytest.raises(SystemExit) as raised:
        pr_comment.main()
    return raised.value.code, json.loads(capsys.readouterr().out)


def test_refused_before_the_config_is_read_has_no_namespace(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, state="refused", reason="acme/shop is not on the operator's allowlist")
    assert code == 0
    assert result["action"] == "printed"
    assert result["body"] == _comment.render("refused", None, reason="acme/shop is not on the operator's allowlist")
    assert "Namespace" not in result["body"]
    assert "```text\nacme/shop is not on the operator's allowlist\n```" in result["body"]
    assert "|---|" not in result["body"]  # nothing to put in a table


def test_failed_without_a_namespace(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, state="failed", reason="boom", grafana_url="https://grafana.example.com")
    assert code == 0
    assert "Grafana" not in result["body"] and "Namespace" not in result["body"]


@pytest.mark.parametrize("state", ["deployed", "destroyed", "preserved"])
def test_states_of_an_environment_still_need_its_namespace(capsys, monkeypatch, state):
    code, result = run(capsys, monkeypatch, state=state)
    assert code == 1
    assert "namespace" in result["msg"]


def test_with_a_namespace_nothing_changes(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, state="refused", namespace="shop-pr-42", reason="no")
    assert code == 0
    assert "| Namespace | `shop-pr-42` |" in result["body"]
