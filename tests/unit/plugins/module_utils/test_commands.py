import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import CommandError, parse


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/deploy-preview", {"command": "deploy-preview", "hours": None}),
        ("  /destroy-preview  ", {"command": "destroy-preview", "hours": None}),
        ("/preserve", {"command": "preserve", "hours": None}),
        ("/preserve 24", {"command": "preserve", "hours": 24}),
        ("/preserve 100", {"command": "preserve", "hours": 100}),  # capped later, with a note
        ("thanks!\n/preserve 6\nbye", {"command": "preserve", "hours": 6}),
        ("/deploy-preview\r\n", {"command": "deploy-preview", "hours": None}),
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
