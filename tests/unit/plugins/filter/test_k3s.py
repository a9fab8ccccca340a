import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.filter.k3s import FilterModule

FILTERS = FilterModule().filters()


K3S_YAML = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
"""


def test_exports_the_k3s_filters():
    assert sorted(FILTERS) == ["k3s_checksum", "k3s_kubeconfig", "k3s_version"]


def test_checksum_reads_the_published_format():
    digest_k3s = "1e5fd0a8ea5d4c3e9ea1f2b6a0d2f7c1c5b4b5ec0a3c6f0e4b0c0e5d2a1f9b8c"
    digest_arm = "AB" * 32
    listing = f"{digest_k3s}  k3s\n{digest_arm}  k3s-arm64\n\n{'0' * 64}  k3s-airgap-images-amd64.tar.zst\n"
    assert FILTERS["k3s_checksum"](listing, "k3s") == digest_k3s
    assert FILTERS["k3s_checksum"](listing, "k3s-arm64") == digest_arm.lower()
    # binary-mode marker and ./ prefix as some sha256sum invocations write them
    assert FILTERS["k3s_checksum"](f"{digest_k3s} *./k3s\n", "k3s") == digest_k3s


@pytest.mark.parametrize(
    ("listing", "message"),
    [
        (f"{'0' * 64}  k3s-arm64\n", "no entry for 'k3s' (it lists k3s-arm64)"),
        ("", "no entry for 'k3s' (it lists nothing)"),
        ("<html>Not Found</html>\n", "line 1 of the sha256 list is not '<sha256>  <file>'"),
        (f"{'0' * 63}  k3s\n", "line 1 of the sha256 list"),
        (None, "expects the text of a sha256sum list, got None"),
    ],
)
def test_checksum_refuses(listing, message):
    with pytest.raises(AnsibleFilterError, match=r"^k3s_checksum: ") as err:
        FILTERS["k3s_checksum"](listing, "k3s")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("k3s version v1.34.3+k3s1 (48ffa7b6)\ngo version go1.24.11\n", "v1.34.3+k3s1"),
        ("k3s version v1.35.0-rc1+k3s2 (abcdef12)\n", "v1.35.0-rc1+k3s2"),
    ],
)
def test_version(output, version):
    assert FILTERS["k3s_version"](output) == version


@pytest.mark.parametrize("output", ["", "this is a test artefact, not k3s", "k3s version 1.34.3"])
def test_version_refuses_anything_else(output):
    with pytest.raises(AnsibleFilterError, match=r"^k3s_version: not the output of 'k3s \-\-version'"):
        FILTERS["k3s_version"](output)


def test_kubeconfig_points_at_the_public_address_and_names_the_context():
    config = FILTERS["k3s_kubeconfig"](K3S_YAML, "https://203.0.113.10:6443", "k8s-ee")
    assert config["current-context"] == "k8s-ee"
    assert config["clusters"] == [
        {"name": "k8s-ee", "cluster": {"certificate-authority-data": "Q0E=", "server": "https://203.0.113.10:6443"}}
    ]
    assert config["users"] == [
        {"name": "k8s-ee", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}
    ]
    assert config["contexts"] == [{"name": "k8s-ee", "context": {"cluster": "k8s-ee", "user": "k8s-ee"}}]
    # a mapping works as well as text, and the original is not modified
    original = yaml.safe_load(K3S_YAML)
    assert FILTERS["k3s_kubeconfig"](original, "https://k3s.example.com:6443")["clusters"][0]["name"] == "default"
    assert original["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"


@pytest.mark.parametrize(
    ("content", "server", "context", "message"),
    [
        (K3S_YAML, "http://203.0.113.10:6443", "k8s-ee", "server must be https://<host>:<port>"),
        (K3S_YAML, "https://203.0.113.10:6443/", "k8s-ee", "server must be https://<host>:<port>"),
        (K3S_YAML, "https://203.0.113.10:6443", "a b", "context must be a plain name"),
        ("kind: Pod\n", "https://203.0.113.10:6443", "k8s-ee", "expects a kubeconfig (kind: Config)"),
        ("kind: Config\nclusters: []\n", "https://h:6443", "k8s-ee", "exactly one cluster, user and context"),
    ],
)
def test_kubeconfig_refuses(content, server, context, message):
    with pytest.raises(AnsibleFilterError, match=r"^k3s_kubeconfig: ") as err:
        FILTERS["k3s_kubeconfig"](content, server, context)
    assert message in str(err.value)
