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
    fake.add_comment("acme/shop", 2, f"{MARKER} old", user=fake.login)
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


def test_a_marker_planted_by_somebody_else_is_not_the_platform_s_comment(client, fake):
    """Anybody can write the hidden marker first; only the token's own identity's comment is edited."""
    planted = fake.add_comment("acme/shop", 11, f"{MARKER} [click me](https://evil.example)", user="mallory")
    action, comment = client.upsert_comment("acme/shop", 11, MARKER, f"{MARKER} real")
    assert action == "created"
    assert comment["user"]["login"] == fake.login
    assert planted["body"] == f"{MARKER} [click me](https://evil.example)"  # never edited
    assert not [r for r in fake.requests if r["method"] == "PATCH"]


def test_another_login_is_configurable(fake, sleeps):
    fake.add_comment("acme/shop", 12, f"{MARKER} by the app", user="k8s-ee-app[bot]")
    client = GitHub(fake.token, fake.url, timeout=5, sleep=sleeps.append, login="K8S-EE-APP[bot]")
    assert client.find_comment("acme/shop", 12, MARKER)["user"]["login"] == "k8s-ee-app[bot]"


def test_a_creation_whose_answer_was_lost_is_not_repeated(client, fake, sleeps):
    """The POST was carried out but its 502 came back: the comment exists once, found again by a GET."""
    fake.fail_next(r"/issues/13/comments$", 502, method="POST", after=True)
    action, comment = client.upsert_comment("acme/shop", 13, MARKER, f"{MARKER} once")
    assert action == "created"
    assert [c["body"] for c in fake.comments_of("acme/shop", 13)] == [f"{MARKER} once"]
    assert fake.count("POST", r"/issues/13/comments$") == 1
    assert comment["body"] == f"{MARKER} once"


def test_a_creation_that_failed_is_sent_again_after_looking(client, fake, sleeps):
    fake.fail_next(r"/issues/14/comments$", 503, method="POST")
    assert client.upsert_comment("acme/shop", 14, MARKER, f"{MARKER} x")[0] == "created"
    assert len(fake.comments_of("acme/shop", 14)) == 1
    assert fake.count("POST", r"/issues/14/comments$") == 2
    assert fake.count("GET", r"/issues/14/comments$") == 2  # looked before sending again


def test_post_is_not_retried_blindly(client, fake, sleeps):
    fake.fail_next(r"/issues/15/comments$", 502, method="POST", after=True)
    with pytest.raises(GitHubError, match="HTTP 502"):
        client.request("POST", "/repos/acme/shop/issues/15/comments", {"body": "plain"})
    assert fake.count("POST", r"/issues/15/comments$") == 1
    assert sleeps == []


def test_secondary_rate_limit_retries_a_post(client, fake, sleeps):
    """A rate limit means GitHub did nothing: any request may be sent again."""
    fake.fail_next(r"/issues/16/comments$", 403, headers={"Retry-After": "1"}, method="POST")
    client.request("POST", "/repos/acme/shop/issues/16/comments", {"body": "plain"})
    assert len(fake.comments_of("acme/shop", 16)) == 1
    assert sleeps == [1.0]


def test_redirects_are_followed_only_on_the_api_address(client, fake):
    fake.set_pull("acme/shop", 17)
    fake.fail_next(r"/pulls/170$", 301, headers={"Location": f"{fake.url}/repos/acme/shop/pulls/17"})
    assert client.pull_request("acme/shop", 170)["number"] == 17
    with FakeGitHub(token="other") as elsewhere:
        fake.fail_next(r"/pulls/171$", 307, headers={"Location": f"{elsewhere.url}/repos/acme/shop/pulls/17"})
        with pytest.raises(GitHubError, match="redirected away from the API's address"):
            client.pull_request("acme/shop", 171)
        assert elsewhere.requests == []  # the token never went there


def test_next_page_only_on_the_api_address(client, fake):
    with FakeGitHub(token="other") as elsewhere:
        link = f'<{elsewhere.url}/repos/acme/shop/issues/18/comments?page=2>; rel="next"'
        fake.add_comment("acme/shop", 18, "one")
        original = fake._route

        def route(*args):
            status, payload, headers = original(*args)
            return status, payload, {**(headers or {}), "Link": link}

        fake._route = route
        with pytest.raises(GitHubError, match="not on the API's address"):
            list(client.comments("acme/shop", 18))
        assert elsewhere.requests == []


@pytest.mark.parametrize("repository", ["acme/..", "acme/.", "../user", "acme/shop/../x", "acme", "a b/c"])
def test_repository_is_one_name_in_a_url(client, fake, repository):
    with pytest.raises(ValueError, match="is not 'owner/repo'"):
        client.pull_request(repository, 1)
    assert fake.requests == []


def test_permission_quotes_the_user_as_one_path_segment(client, fake):
    assert client.permission("acme/shop", "../../../user") == "none"
    assert fake.requests[-1]["path"] == "/repos/acme/shop/collaborators/..%2F..%2F..%2Fuser/permission"


def test_requests_go_through_the_environments_proxy_unless_no_proxy_exempts_the_host(fake, sleeps, monkeypatch):
    # the local GitHub plays the proxy too: it answers the absolute URL a client sends to a proxy
    fake.set_pull("acme/shop", 7, state="open")
    for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", fake.url)
    client = GitHub(fake.token, "http://github.invalid", timeout=5, sleep=sleeps.append, max_attempts=1)
    assert client.pull_request("acme/shop", 7)["state"] == "open"
    assert fake.requests[-1]["path"] == "/repos/acme/shop/pulls/7"

    monkeypatch.setenv("no_proxy", "github.invalid")
    exempt = GitHub(fake.token, "http://github.invalid", timeout=5, sleep=sleeps.append, max_attempts=1)
    with pytest.raises(GitHubError, match="no response"):
        exempt.pull_request("acme/shop", 7)  # straight to github.invalid, which does not resolve


def test_one_connection_serves_many_requests(client, fake):
    fake.set_pull("acme/shop", 8, state="open")
    for _request in range(5):
        client.pull_request("acme/shop", 8)
    pools = [pool for manager in client._pools.values() for pool in manager.pools._container.values()]
    assert [pool.num_connections for pool in pools] == [1]
