import json

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_kube import FakeKube

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _tasks
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.modules import environment

NS = "shop-pr-1"
CONFIG = _config.normalise({"projectId": "shop", "databases": {"redis": True}})


def run(capsys, monkeypatch, kube, **args):
    monkeypatch.setattr(_tasks, "kube_from_params", lambda params: kube)
    args = {
        "namespace": NS,
        "repository": "acme/shop",
        "config": CONFIG,
        "host": f"{NS}.example.com",
        "pr_number": 1,
        "image": "registry.example/shop@sha256:" + "1" * 64,
        "health_check": False,
        **args,
    }
    with patch_module_args(args), pytest.raises(SystemExit) as raised:
        environment.main()
    return raised.value.code, capsys.readouterr().out


def test_a_failure_never_prints_a_credential(capsys, monkeypatch):
    """The API refuses the app with a message that quotes the Redis URL (an admission policy may do that)."""
    kube = FakeKube()

    def refuse(kube):
        url = kube.secret("redis", NS)["url"]
        raise KubeError(422, "Invalid", f"Deployment app refused: REDIS_URL is {url}")

    kube.before[("apply", "Deployment", "app")] = refuse
    code, out = run(capsys, monkeypatch, kube)
    assert code == 1
    result = json.loads(out)
    assert result["failed"] is True
    assert result["msg"].startswith("Kubernetes API: Deployment app refused: REDIS_URL is ")
    assert result["api_requests"] == kube.requests > 0  # a failed run says what it cost too (benchmarks/capacity.py)
    assert not [key for key, value in kube.secret("redis", NS).items() if value in out]


def test_success_returns_no_credential(capsys, monkeypatch):
    kube = FakeKube()
    code, out = run(capsys, monkeypatch, kube)
    assert code == 0, out
    result = json.loads(out)
    assert result["changed"] is True
    assert result["api_requests"] == kube.requests > 0
    assert "secret_values" not in result
    assert not [key for key, value in kube.secret("redis", NS).items() if value in out]
