import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import CommandError, approval, parse

SHA_A, SHA_B = "a" * 40, "b" * 40


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/deploy-preview", {"command": "deploy-preview", "hours": None, "sha": None}),
        ("  /destroy-preview  ", {"command": "destroy-preview", "hours": None, "sha": None}),
        ("/preserve", {"command": "preserve", "hours": None, "sha": None}),
        ("/preserve 24", {"command": "preserve", "hours": 24, "sha": None}),
        ("/preserve 100", {"command": "preserve", "hours": 100, "sha": None}),  # capped later, with a note
        ("thanks!\n/preserve 6\nbye", {"command": "preserve", "hours": 6, "sha": None}),
        ("/deploy-preview\r\n", {"command": "deploy-preview", "hours": None, "sha": None}),
        ("/deploy-preview " + "AB" * 20, {"command": "deploy-preview", "hours": None, "sha": "ab" * 20}),
    ],
)
def test_commands(body, expected):
    assert parse(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        None,
        "please /deploy-preview",
        "/deploy-previews",
        "/deploy-preview-now",
        "/preserved",
        "> /preserve 24",
        "`/deploy-preview`",
        "/deploy-preview now please",
        "/Deploy-Preview",
        "//preserve",
    ],
)
def test_not_commands(body):
    assert parse(body) is None


@pytest.mark.parametrize("body", ["/preserve soon", "/preserve 0", "/preserve -1", "/preserve 1.5"])
def test_bad_preserve_argument(body):
    with pytest.raises(CommandError, match="is not a number of hours"):
        parse(body)


@pytest.mark.parametrize(
    "body", ["/deploy-preview abcdef1", "/deploy-preview " + "a" * 39, "/deploy-preview " + "a" * 41]
)
def test_deploy_preview_names_a_whole_sha(body):
    """A prefix of a commit can be matched by a commit an attacker makes (28 bits for 7 digits)."""
    with pytest.raises(CommandError, match="not a whole commit SHA"):
        parse(body)


def test_bad_argument_is_shown_as_code_never_as_markdown():
    with pytest.raises(CommandError) as error:
        parse("/preserve [x](https://evil.example)")
    assert "`[x](https://evil.example)`" in str(error.value)


def _pull(head=SHA_A, association="NONE"):
    return {"head": {"sha": head}, "author_association": association}


def _own(head, updated_at):
    return {"body": f"<!-- k8s-ee:environment -->\n<!-- k8s-ee:head={head} -->\n...", "updated_at": updated_at}


WRITTEN = "2026-11-30T10:00:00Z"
BEFORE, AFTER = "2026-11-30T09:59:00Z", "2026-11-30T10:00:30Z"


def test_bare_approval_takes_the_head_the_platform_showed_before_the_command():
    parsed = parse("/deploy-preview")
    assert approval(parsed, _pull(SHA_A), WRITTEN, _own(SHA_A, BEFORE)) == SHA_A


@pytest.mark.parametrize(
    ("head", "own", "written", "message"),
    [
        # a fork pushed after the maintainer's comment: the comment shows the old head
        (SHA_B, _own(SHA_A, BEFORE), WRITTEN, "head moved from " + SHA_A + " to " + SHA_B),
        # the platform's comment was rewritten after the command: what the maintainer saw is not known
        (SHA_B, _own(SHA_B, AFTER), WRITTEN, "changed after the command was written"),
        (SHA_A, _own(SHA_A, WRITTEN), WRITTEN, "changed after the command was written"),
        # no comment of the platform (or one written by somebody else, which the caller never passes)
        (SHA_A, None, WRITTEN, "approved commit is not known"),
        # the command's time is not known (a playbook run by hand without the comment's ID)
        (SHA_A, _own(SHA_A, BEFORE), None, "approved commit is not known"),
    ],
)
def test_bare_approval_refused_when_the_commit_shown_is_not_the_head(head, own, written, message):
    with pytest.raises(CommandError, match=message) as error:
        approval(parse("/deploy-preview"), _pull(head), written, own)
    assert f"`/deploy-preview {head}`" in str(error.value)  # what to comment instead


def test_named_sha_must_be_the_head():
    assert approval(parse("/deploy-preview " + SHA_B), _pull(SHA_B), None, None) == SHA_B
    with pytest.raises(CommandError, match="names " + SHA_A + ", but the pull request's head is now " + SHA_B):
        approval(parse("/deploy-preview " + SHA_A), _pull(SHA_B), WRITTEN, _own(SHA_A, BEFORE))


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_trusted_author_deploys_the_head(association):
    assert approval(parse("/deploy-preview"), _pull(SHA_B, association), None, None) == SHA_B


# ------------------------------------------------------------------ check(): the module's logic against GitHub


@pytest.fixture
def github_server():
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
    from github_fake import FakeGitHub

    class Clock:
        now = 1_900_000_000

        def __call__(self):
            return self.now

    clock = Clock()
    with FakeGitHub(clock=clock) as server:
        server.tick = clock
        yield server
    assert server.violations == []


@pytest.fixture
def client(github_server):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHub

    return GitHub(github_server.token, github_server.url, timeout=5, sleep=lambda _s: None)


def test_the_comment_is_read_from_github_not_from_the_caller(client, github_server):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import check

    github_server.permissions[("acme/shop", "maintainer")] = "write"
    github_server.set_pull("acme/shop", 1, head_sha=SHA_A)
    comment = github_server.add_comment("acme/shop", 1, "just a remark", user="reader")
    result = check(client, "acme/shop", 1, "preserve", comment_id=comment["id"], comment="/preserve", user="maintainer")
    assert result["ignored"] is True  # what GitHub holds is no command, whatever the caller said


def test_a_refusal_is_replied_once_per_command_comment(client, github_server):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import check

    github_server.set_pull("acme/shop", 2, head_sha=SHA_A, association="NONE")
    github_server.permissions[("acme/shop", "maintainer")] = "write"
    comment = github_server.add_comment("acme/shop", 2, "/deploy-preview", user="maintainer")
    for _attempt in range(2):
        result = check(client, "acme/shop", 2, "deploy-preview", comment_id=comment["id"])
        assert result["accepted"] is False and "not known" in result["reason"]
    replies = [c for c in github_server.comments_of("acme/shop", 2) if "k8s-ee:command:" in c["body"]]
    assert len(replies) == 1
    assert replies[0]["body"].startswith(f"<!-- k8s-ee:command:{comment['id']} -->\n@maintainer ")


def test_deploy_preview_must_approve_the_commit_about_to_be_built(client, github_server):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import check

    github_server.set_pull("acme/shop", 3, head_sha=SHA_A, association="NONE")
    github_server.permissions[("acme/shop", "maintainer")] = "write"
    comment = github_server.add_comment("acme/shop", 3, f"/deploy-preview {SHA_A}", user="maintainer")
    refused = check(client, "acme/shop", 3, "deploy-preview", comment_id=comment["id"], head_sha=SHA_B)
    assert refused["accepted"] is False and f"the commit about to be built is {SHA_B}" in refused["reason"]
    accepted = check(client, "acme/shop", 3, "deploy-preview", comment_id=comment["id"], head_sha=SHA_A)
    assert accepted["accepted"] is True and accepted["pull_request"]["head_sha"] == SHA_A


def test_only_the_platform_s_own_comment_records_the_head(client, github_server):
    """A marker comment planted by the author naming their own later commit approves nothing."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import check

    github_server.set_pull("acme/shop", 4, head_sha=SHA_B, association="NONE")
    github_server.permissions[("acme/shop", "maintainer")] = "write"
    github_server.add_comment(
        "acme/shop", 4, f"<!-- k8s-ee:environment -->\n<!-- k8s-ee:head={SHA_B} -->\nplanted", user="forker"
    )
    github_server.tick.now += 60
    comment = github_server.add_comment("acme/shop", 4, "/deploy-preview", user="maintainer")
    result = check(client, "acme/shop", 4, "deploy-preview", comment_id=comment["id"])
    assert result["accepted"] is False and "not known" in result["reason"]
