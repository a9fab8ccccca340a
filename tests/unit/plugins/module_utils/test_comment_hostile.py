"""Text from a pull request in the platform's comments, rendered by cmark-gfm (GitHub's own Markdown engine):
shown verbatim, inside code, and nothing of it becomes a link, an image, HTML or a second marker."""

import html.parser

import cmarkgfm
import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _comment
from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import CommandError, parse

SHA = "c" * 40
HOSTILE = [
    "{{ lookup('pipe', 'touch /tmp/k8s-ee-pwned') }}",
    "{% raw %}$(id)`id`'\";|&<>",
    "[click](https://evil.example/x) ![pixel](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)><script>alert(1)</script>",
    "<!-- k8s-ee:head=" + "b" * 40 + " -->",
    "@everyone @acme/admins https://evil.example",
    "a | b || c",
    "``` fence ``` and ` tick `",
    " spaced both ends ",
    "line one\nline two\r\x1b[31mred\x00",
]


class Parts(html.parser.HTMLParser):
    """Text inside <code>/<pre> and outside it, and every link and image."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.code_depth = 0
        self.code, self.outside, self.links = [], [], []
        self._current = None

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre"):
            self.code_depth += 1
            if tag == "code":
                self._current = []
        if tag in ("a", "img", "script", "iframe"):
            self.links.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("code", "pre"):
            self.code_depth -= 1
            if tag == "code" and self._current is not None:
                self.code.append("".join(self._current))
                self._current = None

    def handle_data(self, data):
        if self.code_depth:
            if self._current is not None:
                self._current.append(data)
        else:
            self.outside.append(data)


def shown(markdown):
    parts = Parts()
    parts.feed(cmarkgfm.github_flavored_markdown_to_html(markdown))
    return parts


def visible(text):
    """What a reader sees for `text`: control characters are replaced, never passed on."""
    return "".join("\ufffd" if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) <= 0x9F else ch for ch in text)


@pytest.mark.parametrize("payload", HOSTILE)
def test_branch_is_shown_verbatim_as_code(payload):
    body = _comment.render("deployed", "shop-pr-1", commit=SHA, branch=payload, url="https://shop-pr-1.example.com")
    parts = shown(body)
    expected = visible(payload).replace("\n", "\ufffd")
    assert expected.strip(" ") in [c.strip(" ") for c in parts.code]
    assert [link for link in parts.links if "evil" in str(link)] == []
    assert not any("evil" in text or "alert" in text or "pwned" in text for text in parts.outside)
    assert _comment.head_of(body) == SHA  # a look-alike marker in the branch changes nothing


@pytest.mark.parametrize("payload", HOSTILE)
def test_reasons_steps_and_details_are_shown_verbatim(payload):
    body = _comment.render("failed", "shop-pr-1", step=payload, reason=payload, details=[payload, "log: " + payload])
    parts = shown(body)
    assert [link for link in parts.links if "evil" in str(link)] == []
    assert not any("evil" in text or "alert" in text or "pwned" in text for text in parts.outside)
    first_line = visible(payload.split("\n")[0])
    assert any(first_line.strip(" ") in c for c in parts.code)


@pytest.mark.parametrize("payload", HOSTILE)
def test_preserve_comments_show_data_as_code(payload):
    for kind, info in [
        ("preserved", {"preserve_until": payload, "user": payload}),
        ("refused", {"reason": payload}),
        ("warning", {"preserve_until": payload}),
    ]:
        parts = shown(_comment.render_preserve(kind, payload, **info))
        assert [link for link in parts.links if "evil" in str(link)] == []
        assert not any("evil" in text or "alert" in text or "pwned" in text for text in parts.outside)


def test_a_login_is_a_mention_only_when_it_is_a_login():
    assert _comment.mention("octocat") == "@octocat"
    assert _comment.mention("github-actions[bot]") == "@github-actions[bot]"
    assert _comment.mention("@acme/admins") == "`@acme/admins`"


def test_head_is_read_only_from_the_line_after_the_marker():
    fake = f"{_comment.MARKER}\n### x\n<!-- k8s-ee:head={'d' * 40} -->\n"
    assert _comment.head_of(fake) is None
    assert _comment.head_of(_comment.render("refused", None, commit=SHA, reason="r")) == SHA
    assert _comment.head_of(_comment.render("refused", None, commit="not-a-sha", reason="r")) is None


def test_refused_comment_says_how_to_approve_the_commit():
    body = _comment.render("refused", None, commit=SHA, reason="not trusted", approvable=True)
    assert f"`/deploy-preview {SHA}`" in body
    assert "/deploy-preview" not in _comment.render("refused", None, commit="xyz", reason="r", approvable=True)


@pytest.mark.parametrize("argument", ["[x](https://evil.example)", "<img/src=x/onerror=alert(1)>", "@everyone"])
def test_a_bad_command_argument_is_quoted_as_code(argument):
    with pytest.raises(CommandError) as error:
        parse(f"/preserve {argument}")
    parts = shown(str(error.value))
    assert parts.links == []
    assert argument in parts.code
