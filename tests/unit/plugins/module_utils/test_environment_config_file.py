"""k8s-ee.yaml is read as untrusted data: no symbolic links, regular files only, bounded size, UTF-8."""

import os
import threading

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _environment
from ansible_collections.k8s_ee.platform.plugins.module_utils._environment import EnvironmentInputError, describe

# What a runner pod holds: a service account token a symbolic link in a pull request could point at.
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNFQ1JFVCJ9." + "s3cr3t" * 60
NO_LINKS = (
    "commit k8s-ee.yaml as a regular file (symbolic links are not followed, so the file cannot point at files on "
    "the runner)"
)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A working directory with the pull request checked out in pr/ and a secret outside it."""
    secret = tmp_path / "secrets" / "token"
    secret.parent.mkdir()
    secret.write_text(TOKEN)
    work = tmp_path / "work"
    (work / "pr").mkdir(parents=True)
    monkeypatch.chdir(work)
    return work, secret


def refused(**kwargs) -> list[str]:
    with pytest.raises(EnvironmentInputError) as raised:
        describe(1, "example.org", **kwargs)
    assert TOKEN[:40] not in str(raised.value)
    return raised.value.errors


def test_a_regular_file_in_the_checkout_is_read(checkout):
    (checkout[0] / "pr" / "k8s-ee.yaml").write_text("projectId: shop\n")
    assert describe(1, "example.org", path="pr/k8s-ee.yaml")["namespace"] == "shop-pr-1"


def test_a_symbolic_link_is_refused_without_reading_its_target(checkout):
    work, secret = checkout
    (work / "pr" / "k8s-ee.yaml").symlink_to(secret)
    assert refused(path="pr/k8s-ee.yaml") == [f'config_path: "pr/k8s-ee.yaml" is a symbolic link; {NO_LINKS}']


def test_a_link_to_a_file_inside_the_checkout_is_refused_too(checkout):
    work, _secret = checkout
    (work / "pr" / "real.yaml").write_text("projectId: shop\n")
    (work / "pr" / "k8s-ee.yaml").symlink_to("real.yaml")
    assert refused(path="pr/k8s-ee.yaml") == [f'config_path: "pr/k8s-ee.yaml" is a symbolic link; {NO_LINKS}']


def test_a_path_through_a_linked_directory_is_refused(checkout):
    work, secret = checkout
    (secret.parent / "k8s-ee.yaml").write_text(TOKEN)
    (work / "pr" / "config").symlink_to(secret.parent)
    assert refused(path="pr/config/k8s-ee.yaml") == [
        f'config_path: "pr/config/k8s-ee.yaml" goes through the symbolic link pr/config; {NO_LINKS}'
    ]


def test_an_absolute_path_checks_the_file_and_a_root_checks_every_directory_below_it(checkout):
    work, secret = checkout
    (secret.parent / "k8s-ee.yaml").write_text("projectId: shop\n")
    (work / "pr" / "config").symlink_to(secret.parent)
    linked = str(work / "pr" / "config" / "k8s-ee.yaml")
    # without a root only the file itself must not be a link (the directories are the caller's)
    assert describe(1, "example.org", path=linked)["namespace"] == "shop-pr-1"
    errors = refused(path=linked, root=str(work / "pr"))
    assert errors[0].endswith(f"goes through the symbolic link config; {NO_LINKS}")
    assert refused(path=str(secret), root=str(work / "pr"))[0].endswith("give a path inside the checkout")


def test_a_directory_is_refused(checkout):
    (checkout[0] / "pr" / "k8s-ee.yaml").mkdir()
    assert refused(path="pr/k8s-ee.yaml") == [
        'config_path: "pr/k8s-ee.yaml" is a directory, not a regular file; commit k8s-ee.yaml as a regular file'
    ]


def test_a_named_pipe_is_refused_without_blocking(checkout):
    fifo = checkout[0] / "pr" / "k8s-ee.yaml"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            describe(1, "example.org", path="pr/k8s-ee.yaml")
        except EnvironmentInputError as exc:
            outcome.append(exc.errors)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # blocked in open(): let it go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a named pipe blocked")
    assert outcome == [
        ['config_path: "pr/k8s-ee.yaml" is a named pipe, not a regular file; commit k8s-ee.yaml as a regular file']
    ]


def test_a_device_is_refused_without_reading_it():
    # /dev/zero never ends: reading it unbounded would take every byte of memory
    assert refused(path="/dev/zero") == [
        'config_path: "/dev/zero" is a character device, not a regular file; commit k8s-ee.yaml as a regular file'
    ]


SHORTER = "k8s-ee.yaml describes an environment in a few lines: keep it under 64 KiB"


def test_the_size_is_capped_at_64_kib(checkout):
    path = checkout[0] / "pr" / "k8s-ee.yaml"
    text = "projectId: shop\n"
    path.write_text(text + "#" * (64 * 1024 - len(text) - 1) + "\n")
    assert describe(1, "example.org", path="pr/k8s-ee.yaml")["namespace"] == "shop-pr-1"
    path.write_text(text + "#" * (64 * 1024 - len(text)) + "\n")
    assert refused(path="pr/k8s-ee.yaml") == [
        f'config_path: "pr/k8s-ee.yaml" has 65537 bytes, more than the 64 KiB allowed; {SHORTER}'
    ]
    assert refused(content=text + "#" * 70000) == [f"content: has 70016 bytes, more than the 64 KiB allowed; {SHORTER}"]


def test_never_more_than_the_cap_plus_one_byte_is_read(checkout, monkeypatch):
    """A file whose size says little (procfs, a file growing while read) is still read only up to the cap."""
    path = checkout[0] / "pr" / "k8s-ee.yaml"
    path.write_text("#" * (1024 * 1024))
    real_fstat, real_read = os.fstat, os.read
    asked = []

    class Small:
        def __init__(self, result):
            self.st_mode, self.st_size = result.st_mode, 0

    monkeypatch.setattr(os, "fstat", lambda fd: Small(real_fstat(fd)))
    monkeypatch.setattr(os, "read", lambda fd, n: asked.append(n) or real_read(fd, n))
    assert refused(path="pr/k8s-ee.yaml") == [
        f'config_path: "pr/k8s-ee.yaml" has more than 65536 bytes, more than the 64 KiB allowed; {SHORTER}'
    ]
    assert sum(asked) <= 64 * 1024 + 1


def test_text_that_is_not_utf8_is_refused(checkout):
    (checkout[0] / "pr" / "k8s-ee.yaml").write_bytes(b"projectId: \xff\xfeshop\n")
    assert refused(path="pr/k8s-ee.yaml") == [
        'config_path: "pr/k8s-ee.yaml" is not UTF-8 text (byte 0xff at offset 11); save k8s-ee.yaml as UTF-8'
    ]


def test_a_long_value_is_never_shown_in_full(checkout):
    """The file is readable but holds a secret: the message shows at most 80 characters of any value."""
    (checkout[0] / "pr" / "k8s-ee.yaml").write_text(TOKEN)
    with pytest.raises(EnvironmentInputError) as raised:
        describe(1, "example.org", path="pr/k8s-ee.yaml")
    assert raised.value.errors == [f"(top level): {(chr(34) + TOKEN)[:77]}... is not a mapping"]
    assert TOKEN[80:] not in str(raised.value)


def test_at_most_forty_problems_are_listed():
    text = "projectId: shop\napp:\n  env:\n" + "".join(f"    {index}X: v\n" for index in range(45))
    errors = refused(content=text)
    assert len(errors) == 41
    assert errors[-1] == "(more): 5 more problems not shown; fix these first"
    with pytest.raises(EnvironmentInputError) as raised:
        describe(1, "example.org", content=text)
    assert str(raised.value).startswith("invalid k8s-ee.yaml (45 problems): app.env.0X: ")


def test_read_file_is_the_reader_the_module_uses(checkout):
    (checkout[0] / "pr" / "k8s-ee.yaml").write_text("projectId: shop\n")
    assert _environment.read_file("pr/k8s-ee.yaml") == "projectId: shop\n"
    assert _environment.MAX_CONFIG_BYTES == 64 * 1024
