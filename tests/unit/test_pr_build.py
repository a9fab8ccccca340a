"""playbooks/pr_build.yml run for real, on the controller alone (an allowed repository and a trusted author need no
GitHub and no cluster): the `image` output is where the example workflows push, image.repository of k8s-ee.yaml only
under the registry host and owner of the operator's image repository (docs/configuration.md, "Where the image is
pushed"); otherwise the playbook fails naming the field and writes no output, so nothing is built."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "unit" / "data" / "reference_platform"
SHA = "a" * 40


def pr_build(tmp_path, config: str, repository="Acme/Shop", **env):
    """Run pr_build on `config` as the example workflows do (K8S_EE_* in the environment); (rc, output, outputs)."""
    (tmp_path / "pr").mkdir(exist_ok=True)
    (tmp_path / "pr" / "k8s-ee.yaml").write_text(config)
    (tmp_path / "allowlist.yaml").write_text("mode: allowlist\norganizations: [acme]\n")
    outputs = tmp_path / "outputs"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("K8S_EE_") and key != "GITHUB_TOKEN"
    }
    environment.update(
        ANSIBLE_CONFIG=str(REPO / "tests" / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
        PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PWD=str(tmp_path),
        K8S_EE_REPOSITORY=repository,
        K8S_EE_PR_NUMBER="42",
        K8S_EE_HEAD_SHA=SHA,
        K8S_EE_AUTHOR_ASSOCIATION="MEMBER",
        K8S_EE_ALLOWLIST_PATH=str(tmp_path / "allowlist.yaml"),
        **env,
    )
    playbook = shutil.which("ansible-playbook", path=environment["PATH"])
    arguments = ["-e", "k8s_ee_config_path=pr/k8s-ee.yaml", "-e", f"k8s_ee_outputs_path={outputs}"]
    run = subprocess.run(
        [playbook, "k8s_ee.platform.pr_build", *arguments],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = outputs.read_text().splitlines() if outputs.exists() else None
    return (
        run.returncode,
        run.stdout + run.stderr,
        None if lines is None else dict(line.split("=", 1) for line in lines),
    )


@pytest.mark.parametrize(
    ("config", "env", "image"),
    [
        ("projectId: shop\n", {}, "ghcr.io/acme/shop/preview"),  # without K8S_EE_IMAGE_REPOSITORY: the default
        # as the example workflows call it (ghcr.io/${{ github.repository }}/preview), lower case
        ("projectId: shop\n", {"K8S_EE_IMAGE_REPOSITORY": "ghcr.io/Acme/Shop/preview"}, "ghcr.io/acme/shop/preview"),
        (
            "projectId: shop\nimage:\n  repository: ghcr.io/acme/web\n",
            {"K8S_EE_IMAGE_REPOSITORY": "ghcr.io/Acme/Shop/preview"},
            "ghcr.io/acme/web",
        ),
    ],
    ids=["default", "the workflows' default", "image.repository"],
)
def test_the_image_output(tmp_path, config, env, image):
    code, output, outputs = pr_build(tmp_path, config, **env)
    assert code == 0, output[-3000:]
    assert outputs == {"build": "true", "sha": SHA, "context": "pr", "dockerfile": "pr/Dockerfile", "image": image}


def test_a_reference_platform_file_builds_where_it_says(tmp_path):
    code, output, outputs = pr_build(
        tmp_path,
        (REFERENCE / "full.reference.yaml").read_text(),
        repository="acme/shop-api",
        K8S_EE_IMAGE_REPOSITORY="ghcr.io/acme/shop-api/preview",
    )
    assert code == 0, output[-3000:]
    assert outputs["image"] == "ghcr.io/acme/shop-api"
    assert (outputs["context"], outputs["dockerfile"]) == ("pr/services/api", "pr/services/api/Dockerfile.preview")


def test_an_image_repository_elsewhere_builds_nothing(tmp_path):
    canary = tmp_path / "evaluated"
    hostile = f"ghcr.io/acme/web{{{{ lookup('pipe', 'touch {canary}') }}}}\\nbuild=true"  # a template, an output line
    code, output, outputs = pr_build(tmp_path, f'projectId: shop\nimage:\n  repository: "{hostile}"\n')
    assert code != 0 and outputs is None, output[-3000:]
    assert "image.repository: " in output and "is not valid: must be an image repository" in output
    assert not canary.exists()
    code, output, outputs = pr_build(tmp_path, "projectId: shop\nimage:\n  repository: ghcr.io/evil/web\n")
    assert code != 0 and outputs is None, output[-3000:]
    assert 'image.repository: "ghcr.io/evil/web" is not under ghcr.io/acme/' in output
