"""The GitHub client against the local GitHub server shaped by the REST description."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from github_fake import FakeGitHub

from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHub, GitHubError

MARKER = "<!-- marker -->"


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        yield server
    assert server.violations == []


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(fake, sleeps):
    return GitHub(fake.token, fake.url, timeout=5, sleep=sleeps.append, clock=lambda: 1000.0)


def test_creates_then_edits_then_leaves_unchanged(client, fake):
    assert client.upsert_comment("acme/shop", 1, MARKER, f"{MARKER} one")[0] == "created"
    assert client.upsert_comment("acme/shop", 1, MARKER, f"{MARKER} two")[0] == "updated"
    assert client.upsert_comment("acme/shop", 1, MARKER, f"{MARKER} two")[0] == "unchanged"
    assert [c["body"] for c in fake.comments_of("acme/shop", 1)] == [f"{MARKER} two"]
    assert all(r["authorized"] for r in fake.requests)


def test_finds_the_marker_on_a_later_page(client, fake):
    for index in range(250):
        fake.add_comment("acme/shop", 2, f"comment {index}")
    fake.add_comment("acme/shop", 2, f"{MARKER} old", user="k8s-ee[bot]")
    action, updated = client.upsert_comment("acme/shop", 2, MARKER, f"{MARKER} new")
    assert action == "updated"
    assert updated["body"] == f"{MARKER} new"
    assert len(fake.comments_of("acme/shop", 2)) == 251
    assert fake.count("GET", r"/issues/2/comments$") == 3  # 100 + 100 + 51


def test_retries_5xx_then_succeeds(client, fake, sleeps):
    fake.fail_next(r"/pulls/3$", 502, times=2)
    fake.set_pull("acme/shop", 3)
    assert client.pull_request("acme/shop", 3)["state"] == "open"
    assert fake.count("GET", r"/pulls/3$") == 3
    assert sleeps == [2.0, 4.0]


def test_honours_retry_after_on_secondary_rate_limit(client, fake, sleeps):
    fake.fail_next(r"/pulls/4$", 403, headers={"Retry-After": "7"})
    fake.set_pull("acme/shop", 4)
    client.pull_request("acme/shop", 4)
    assert sleeps == [7.0]


def test_honours_rate_limit_reset(client, fake, sleeps):
    fake.fail_next(r"/pulls/5$", 429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1010"})
    fake.set_pull("acme/shop", 5)
    client.pull_request("acme/shop", 5)
    assert sleeps == [11.0]  # until the reset, plus a second


def test_waits_are_bounded(client, fake, sleeps):
    fake.fail_next(r"/pulls/6$", 429, headers={"Retry-After": "3600"})
    fake.set_pull("acme/shop", 6)
    client.pull_request("acme/shop", 6)
    assert sleeps == [60.0]


def test_gives_up_after_the_last_attempt(client, fake, sleeps):
    fake.fail_next(r"/pulls/7$", 503, times=10)
    with pytest.raises(GitHubError, match="HTTP 503") as raised:
        client.pull_request("acme/shop", 7)
    assert raised.value.status == 503
    assert fake.count("GET", r"/pulls/7$") == 4
    assert len(sleeps) == 3


def test_plain_403_and_404_are_not_retried(client, fake, sleeps):
    fake.fail_next(r"/pulls/8$", 403)
    with pytest.raises(GitHubError, match="HTTP 403"):
        client.pull_request("acme/shop", 8)
    with pytest.raises(GitHubError, match="HTTP 404"):
        client.pull_request("acme/shop", 9)
    assert sleeps == []


def test_token_never_in_errors(fake, sleeps):
    client = GitHub("wrong-secret-token", fake.url, timeout=5, sleep=sleeps.append)
    with pytest.raises(GitHubError) as raised:
        client.pull_request("acme/shop", 1)
    assert raised.value.status == 401
    assert "wrong-secret-token" not in str(raised.value)


def test_timeout_is_reported_and_retried(sleeps):
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = GitHub(
            "t", f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3, sleep=sleeps.append, max_attempts=2
        )
        with pytest.raises(GitHubError, match="no response"):
            client.pull_request("acme/shop", 1)
    assert sleeps == [2.0]


def test_permission_and_reaction(client, fake):
    fake.permissions[("acme/shop", "alice")] = "write"
    assert client.permission("acme/shop", "alice") == "write"
    assert client.permission("acme/shop", "mallory") == "none"
    comment = fake.add_comment("acme/shop", 10, "/preserve")
    client.react("acme/shop", comment["id"], "eyes")
    assert fake.reactions == [(comment["id"], "eyes")]
