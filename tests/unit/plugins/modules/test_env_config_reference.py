"""k8s-ee.yaml files of the reference platform (k8s-ephemeral-environments) work here unchanged: env_config, through
its module code path as pr_build and pr_up run it, reads each to the same result as the same settings written in this
platform's spelling (docs/configuration.md, "The reference platform's spelling"). The files, written from the
reference platform's documented fields, are in tests/unit/data/reference_platform/."""

import json
import pathlib

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _lifecycle
from ansible_collections.k8s_ee.platform.plugins.modules import env_config

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "reference_platform"
OPERATOR = "ghcr.io/acme/shop-api/preview"  # the example workflows' image repository for acme/shop-api


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as raised:
        env_config.main()
    result = json.loads(capsys.readouterr().out)
    result.pop("invocation", None)  # the arguments, which name the file
    return raised.value.code, result


def read(capsys, name, **args):
    code, result = run(
        capsys, path=str(DATA / name), pr_number=42, domain="preview.example.com", image_repository=OPERATOR, **args
    )
    assert code == 0, result
    return result


@pytest.mark.parametrize("example", ["minimal", "full"])
def test_a_reference_file_reads_as_the_same_settings_in_our_spelling(capsys, example):
    reference = read(capsys, f"{example}.reference.yaml")
    assert reference == read(capsys, f"{example}.ours.yaml")
    assert set(reference["config"]) == {"projectId", "trigger", "app", "image", "databases", "ingress", "metrics"}
    # what pr_up renders from: the same model, whichever spelling the file used
    assert reference["config"] == _config.normalise(reference["config"])


def test_the_reference_files_use_the_reference_spelling():
    """The test above compares two spellings of the same settings, not one file with itself."""
    reference = yaml.safe_load((DATA / "full.reference.yaml").read_text())
    ours = yaml.safe_load((DATA / "full.ours.yaml").read_text())
    keys = _config.TOP_LEVEL_APP_KEYS
    assert all(key in reference and key not in reference["app"] for key in keys)
    assert all(key in ours["app"] and key not in ours for key in keys)
    moved = {name: value for name, value in reference.items() if name not in keys}
    moved["app"] = {**reference["app"], **{key: reference[key] for key in keys}}
    assert moved == ours
    assert yaml.safe_load((DATA / "minimal.reference.yaml").read_text()) == {
        "projectId": "myapp",
        "app": {"port": 3000, "healthPath": "/health"},
        "databases": {"postgresql": True},
    }


def test_the_minimal_reference_file(capsys):
    result = read(capsys, "minimal.reference.yaml")
    assert result["namespace"] == "myapp-pr-42"
    assert result["databases"] == ["postgresql"]
    assert result["config"]["databases"]["postgresql"] == {
        "enabled": True,
        "version": "16",
        "storage": "1Gi",
        "bootstrap": {"initSQL": [], "postInitApplicationSQL": []},
    }
    assert result["image_repository"] == OPERATOR  # no image.repository: the operator's


def test_the_full_reference_file(capsys):
    result = read(capsys, "full.reference.yaml")
    app = result["config"]["app"]
    assert app["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert app["env"] == {"NODE_ENV": "production", "LOG_LEVEL": "info", "FEATURE_COUNT": "3"}
    assert app["envFrom"] == [{"secretRef": {"name": "stripe-test-keys"}}, {"configMapRef": {"name": "feature-flags"}}]
    assert result["image_repository"] == "ghcr.io/acme/shop-api"
    assert result["config"]["image"] == {
        "context": "services/api",
        "dockerfile": "Dockerfile.preview",
        "repository": "ghcr.io/acme/shop-api",
    }
    assert result["databases"] == ["postgresql", "mongodb", "redis", "mariadb"]
    assert result["config"]["databases"]["postgresql"]["bootstrap"]["initSQL"] == [
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";'
    ]
    assert result["config"]["metrics"] == {"enabled": True, "interval": "15s"}
    assert (
        result["quota"] == run(capsys, path=str(DATA / "full.ours.yaml"), pr_number=1, domain="example.org")[1]["quota"]
    )


def test_the_top_level_env_from_cannot_read_the_wildcard_certificate(capsys):
    """pr_up's check of app.envFrom (settings.tls_secret) sees the top-level spelling, as it reads the model."""
    code, result = run(
        capsys,
        content="projectId: shop\nenvFrom:\n  - secretRef: {name: wildcard-tls}\n",
        pr_number=1,
        domain="example.org",
    )
    assert code == 0
    assert _lifecycle.env_from_problems(result["config"], {"tls_secret": "wildcard-tls"}) == [
        'app.envFrom[0].secretRef.name: "wildcard-tls" is the platform\'s TLS certificate Secret, which is not the '
        "app's to read; name a Secret you created"
    ]


def test_both_spellings_fail_the_module_naming_both(capsys):
    code, result = run(
        capsys,
        content="projectId: shop\nresources: {limits: {cpu: 500m}}\napp:\n  resources: {limits: {cpu: 200m}}\n",
        pr_number=1,
        domain="example.org",
    )
    assert code == 1
    assert result["errors"] == [
        "resources: is the same setting as app.resources (resources at the top level is the reference platform's "
        "spelling) and both are given; keep one of resources and app.resources"
    ]


def test_an_image_repository_of_another_owner_fails_the_module(capsys):
    code, result = run(
        capsys,
        content="projectId: shop\nimage:\n  repository: ghcr.io/evil/shop\n",
        pr_number=1,
        domain="example.org",
        image_repository="ghcr.io/Acme/Shop/preview",
    )
    assert code == 1
    assert result["errors"] == [
        'image.repository: "ghcr.io/evil/shop" is not under ghcr.io/acme/, where this repository\'s images are pushed '
        "(the operator's image repository is ghcr.io/acme/shop/preview); name an image under ghcr.io/acme/, such as "
        "ghcr.io/acme/app, or remove image.repository to push to ghcr.io/acme/shop/preview"
    ]
    assert "image_repository" not in result


def test_without_the_operators_image_repository_nothing_is_returned_for_it(capsys):
    """pr_up reads k8s-ee.yaml without it: image.repository is only checked for its form there."""
    code, result = run(
        capsys, content="projectId: shop\nimage:\n  repository: ghcr.io/acme/web\n", pr_number=1, domain="example.org"
    )
    assert code == 0 and "image_repository" not in result
    assert result["config"]["image"]["repository"] == "ghcr.io/acme/web"
