# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names, labels and annotations of an environment (docs/configuration.md, "Names")."""

from __future__ import annotations

import re

PROJECT_ID_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$")
# A DNS subdomain, each label at most 63 characters.
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$")

# Labels (docs/configuration.md, "Names"; docs/security.md, "Ownership and preserve fields").
MANAGED_BY = ("app.kubernetes.io/managed-by", "k8s-ee")
TYPE_LABEL = ("k8s-ee/type", "ephemeral")
LABEL_PROJECT = "k8s-ee/project-id"
LABEL_PR = "k8s-ee/pr-number"
LABEL_BRANCH = "k8s-ee/branch"
LABEL_PRESERVE = "k8s-ee/preserve"
LABEL_SLOT = "k8s-ee/slot"  # the environment slot of its project (_slots)
MANAGED_SELECTOR = f"{MANAGED_BY[0]}={MANAGED_BY[1]}"
EPHEMERAL_SELECTOR = f"{MANAGED_SELECTOR},{TYPE_LABEL[0]}={TYPE_LABEL[1]}"

# Annotations of the namespace; the times are RFC 3339 (_timestamps).
ANNOTATION_REPOSITORY = "k8s-ee/repository"
ANNOTATION_COMMIT = "k8s-ee/commit-sha"
ANNOTATION_AUTHOR = "k8s-ee/pr-author"
ANNOTATION_CREATED = "k8s-ee/created-at"
ANNOTATION_UPDATED = "k8s-ee/updated-at"
ANNOTATION_READY = "k8s-ee/ready-at"
ANNOTATION_PODS_GONE = "k8s-ee/pods-gone-at"  # set by pr_down on a terminating namespace (_lifecycle._nudge)
ANNOTATION_PRESERVE_UNTIL = "k8s-ee/preserve-until"
ANNOTATION_PRESERVED_BY = "k8s-ee/preserved-by"
ANNOTATION_PRESERVE_WARNED = "k8s-ee/preserve-warned"
# Set by the migrate playbook on a namespace of the reference platform it took over (_migrate, docs/migrating.md).
ANNOTATION_MIGRATED_FROM = "k8s-ee/migrated-from"
ANNOTATION_MIGRATED_AT = "k8s-ee/migrated-at"
# Annotation of the app's pod template: a changed configuration rolls the pods.
ANNOTATION_CONFIG_CHECKSUM = "k8s-ee/config-checksum"


class InputError(ValueError):
    """An input that cannot form a name; the message names field, value and fix."""


def pr_number(value) -> int:
    """A positive pull request number from an int or a decimal string."""
    if isinstance(value, bool):
        raise InputError(f"pr_number: {value!r} is not a pull request number; give a positive integer such as 42")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        number = int(value.strip())
    else:
        raise InputError(f"pr_number: {value!r} is not a pull request number; give a positive integer such as 42")
    if number < 1:
        raise InputError(f"pr_number: {value!r} is not a pull request number; it must be 1 or greater")
    return number


def env_namespace(project_id, number) -> str:
    """`{projectId}-pr-{number}`."""
    if not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id):
        raise InputError(
            f"projectId: {project_id!r} is not valid: must be 1-20 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return f"{project_id}-pr-{pr_number(number)}"


def env_host(namespace, domain) -> str:
    """`{namespace}.{domain}` (the domain is an operator setting)."""
    if not isinstance(namespace, str) or not DOMAIN_RE.match(namespace) or "." in namespace:
        raise InputError(f"namespace: {namespace!r} is not a namespace name such as my-app-pr-42")
    if not isinstance(domain, str) or not DOMAIN_RE.match(domain.lower().rstrip(".")):
        raise InputError(f"domain: {domain!r} is not a DNS domain; give one such as preview.example.com")
    host = f"{namespace}.{domain.lower().rstrip('.')}"
    if len(host) > 253:
        raise InputError(f"domain: {domain!r} makes the host {host!r} longer than 253 characters")
    return host


def env_url(host: str) -> str:
    return f"https://{host}"


def label_value(text) -> str:
    """A label value from any text (the branch rule of docs/configuration.md, "Names")."""
    if text is None:
        text = ""
    text = re.sub(r"[^A-Za-z0-9._-]", "-", str(text))
    text = re.sub(r"[-_.]{2,}", "-", text)
    text = text[:63]
    text = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", text)
    return text or "unknown"


def repository(value) -> str:
    """`owner/repo` as given (GitHub names are case-insensitive; compare with `same_repository`)."""
    if not isinstance(value, str) or not REPOSITORY_RE.match(value):
        raise InputError(f"repository: {value!r} is not 'owner/repo' (e.g. acme/shop)")
    return value


def same_repository(a, b) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()
