import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _comment


def test_deployed():
    body = _comment.render(
        "deployed",
        "shop-pr-1",
        url="https://shop-pr-1.example.com",
        commit="a" * 40,
        branch="feat/x",
        updated_at="2026-01-01T00:00:00Z",
        time_to_ready=42,
        quota={
            "requests.cpu": "200m",
            "requests.memory": "512Mi",
            "limits.cpu": "690m",
            "limits.memory": "1178Mi",
            "requests.storage": "1Gi",
            "pods": "5",
        },
        grafana_url="https://grafana.example.com/",
    )
    assert body.startswith(_comment.MARKER)
    assert "[https://shop-pr-1.example.com](https://shop-pr-1.example.com)" in body
    assert "| Commit | `aaaaaaaaaaaa` |" in body
    assert "| Time to ready | 42 s |" in body
    assert "200m CPU / 512Mi requested" in body
    assert "https://grafana.example.com/d/k8s-ee-environment/k8s-ee-environment?var-namespace=shop-pr-1" in body


def test_a_time_to_ready_within_the_second_is_shown_too():
    body = _comment.render("deployed", "shop-pr-1", url="https://shop-pr-1.example.com", time_to_ready=0)
    assert "| Time to ready | under 1 s |" in body
    assert "Time to ready" not in _comment.render("deployed", "shop-pr-1", url="https://shop-pr-1.example.com")


def test_failed_with_details_fenced_safely():
    body = _comment.render(
        "failed",
        "shop-pr-1",
        step="wait for app",
        reason="Deployment/app is not ready",
        details=["pod app-x: CrashLoopBackOff", "  log: ```evil``` markdown"],
    )
    assert "**Failed step:** `wait for app`" in body
    assert "```text\nDeployment/app is not ready\n```" in body
    assert "````text" in body  # longer than the backticks inside


def test_destroyed_and_states():
    assert "| Merged | no |" in _comment.render("destroyed", "shop-pr-1")
    with pytest.raises(ValueError, match="state: 'gone'"):
        _comment.render("gone", "shop-pr-1")


def test_a_failed_comment_always_fits_github():
    """GitHub refuses bodies over 65,536 characters; the rescue comment of a failure must still post."""
    details = [f"  log: {index} " + "é" * 5000 for index in range(10_000)] + ["````", "<details>"]
    body = _comment.render(
        "failed",
        "shop-pr-1",
        step="wait for app",
        reason="x" * 200_000,
        details=details,
        branch="b" * 70_000,
        note="n" * 70_000,
    )
    assert len(body) <= 65_536 and len(body.encode()) <= 65_536
    assert body.startswith(_comment.MARKER + "\n")
    assert "### ❌ Preview environment: failed" in body
    assert body.count("<details>") == body.count("</details>") or "```" in body
    fences = [line for line in body.splitlines() if line.startswith("`" * 3)]
    assert len(fences) % 2 == 0  # every code block is closed


def test_a_long_detail_line_is_cut_and_a_small_comment_stays_as_it_is():
    body = _comment.render("failed", "shop-pr-1", reason="r", details=["a" * 5000, "short"])
    assert "a" * 1000 not in body and "short" in body
    small = _comment.render("failed", "shop-pr-1", reason="r", details=["one", "two"])
    assert small.endswith("</details>\n") and "cut:" not in small
