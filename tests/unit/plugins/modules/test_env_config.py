import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.k8s_ee.platform.plugins.modules import env_config


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as raised:
        env_config.main()
    result = json.loads(capsys.readouterr().out)
    return raised.value.code, result


def test_reads_a_file(tmp_path, capsys):
    path = tmp_path / "k8s-ee.yaml"
    path.write_text("projectId: shop\ndatabases:\n  postgresql: true\n  redis: true\n")
    code, result = run(capsys, path=str(path), pr_number="42", domain="preview.example.com")
    assert code == 0
    assert result["changed"] is False
    assert result["namespace"] == "shop-pr-42"
    assert result["host"] == "shop-pr-42.preview.example.com"
    assert result["url"] == "https://shop-pr-42.preview.example.com"
    assert result["databases"] == ["postgresql", "redis"]
    assert result["quota"]["requests.cpu"] == "550m"
    assert result["config"]["app"]["port"] == 3000


def test_content_instead_of_path(capsys):
    code, result = run(capsys, content="projectId: web\n", pr_number=7, domain="example.org")
    assert code == 0
    assert result["namespace"] == "web-pr-7"
    assert result["quota"]["limits.memory"] == "1178Mi"


def test_every_error_at_once(capsys):
    code, result = run(capsys, content="projectId: Web\napp:\n  port: 70000\n", pr_number="0", domain="example.org")
    assert code == 1
    assert result["failed"] is True
    assert result["errors"] == [
        "app.port: 70000 is greater than 65535",
        "pr_number: '0' is not a pull request number; it must be 1 or greater",
        "projectId: \"Web\" is not valid: must be 1-20 lowercase letters, digits and '-', starting and ending "
        "with a letter or digit",
    ]
    assert result["msg"].startswith("invalid k8s-ee.yaml (3 problems): app.port: 70000 is greater than 65535; ")


def test_missing_file(tmp_path, capsys):
    code, result = run(capsys, path=str(tmp_path / "nope.yaml"), pr_number=1, domain="example.org")
    assert code == 1
    assert result["errors"] == [
        f"config_path: '{tmp_path / 'nope.yaml'}' cannot be read (No such file or directory); "
        "give the path of the repository's k8s-ee.yaml"
    ]


def test_yaml_error(capsys):
    code, result = run(capsys, content="projectId: [\n", pr_number=1, domain="example.org")
    assert code == 1
    assert result["errors"][0].startswith("(YAML): line 2")


def test_bad_domain(capsys):
    code, result = run(capsys, content="projectId: web\n", pr_number=1, domain="not a domain")
    assert code == 1
    assert result["errors"] == ["domain: 'not a domain' is not a DNS domain; give one such as preview.example.com"]


def test_path_and_content_are_exclusive(capsys):
    code, result = run(capsys, content="projectId: web\n", path="/x", pr_number=1, domain="example.org")
    assert code == 1
    assert "mutually exclusive" in result["msg"]


def test_a_symbolic_link_fails_without_showing_its_target(tmp_path, capsys, monkeypatch):
    secret = tmp_path / "token"
    secret.write_text("eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.signature")
    (tmp_path / "pr").mkdir()
    (tmp_path / "pr" / "k8s-ee.yaml").symlink_to(secret)
    monkeypatch.chdir(tmp_path)
    code, result = run(capsys, path="pr/k8s-ee.yaml", pr_number=1, domain="example.org")
    assert code == 1
    assert result["errors"] == [
        'config_path: "pr/k8s-ee.yaml" is a symbolic link; commit k8s-ee.yaml as a regular file (symbolic links '
        "are not followed, so the file cannot point at files on the runner)"
    ]
    assert "c2VjcmV0" not in json.dumps(result)


def test_root_bounds_the_path(tmp_path, capsys):
    (tmp_path / "pr").mkdir()
    (tmp_path / "pr" / "k8s-ee.yaml").write_text("projectId: web\n")
    code, result = run(capsys, path="k8s-ee.yaml", root=str(tmp_path / "pr"), pr_number=1, domain="example.org")
    assert code == 0
    assert result["namespace"] == "web-pr-1"
