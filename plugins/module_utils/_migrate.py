# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving the reference platform's environments over (docs/migrating.md).

The reference platform (k8s-ephemeral-environments) names its namespaces as we do, `<projectId>-pr-<N>`, but labels
them `app.kubernetes.io/managed-by: github-actions`, so pr_up refuses them (docs/security.md, "Ownership and preserve
fields"). `plan` reads each one and decides, with one GitHub request per pull request: an open pull request's
namespace is taken over (its Helm releases and its own quota, limits and policies removed, a database whose kind and
names are ours kept with its data, the namespace relabelled ours, so the next pr_up deploys into it); a closed one is
deleted as cleanup would; a preserved one is taken over as preserved. `carry_out` does what the plan says. Nothing
is changed without `apply`, and nothing holding data is deleted without `recreate_data`.

Everything read here was written by the other platform's CI from pull request input (labels, annotations, the
manifests in Helm's release Secrets): it is data, bounded and checked before it becomes part of a URL."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import zlib

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._cleanup import DEFAULT_GRACE, _verdict
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import clip, show
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY
from ansible_collections.k8s_ee.platform.plugins.module_utils._github import repository_path
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KINDS, KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import parse_rfc3339, rfc3339

# The reference platform's marks (docs/migrating.md, "What is recognised").
REFERENCE_MANAGED_BY = (_naming.MANAGED_BY[0], "github-actions")
REFERENCE_SELECTOR = (
    f"{REFERENCE_MANAGED_BY[0]}={REFERENCE_MANAGED_BY[1]},{_naming.TYPE_LABEL[0]}={_naming.TYPE_LABEL[1]}"
)
REFERENCE_PRESERVE_LABEL = "preserve"  # theirs; the annotations k8s-ee/preserve-until and -preserved-by are ours too
REFERENCE_PRESERVE_WARNED = "k8s-ee/preserve-warning-sent"
REFERENCE_CRONJOB_NAMESPACE = "platform"
HELM_MANAGED = (_naming.MANAGED_BY[0], "Helm")
HELM_RELEASE_TYPE = "helm.sh/release.v1"
HELM_ANNOTATIONS = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace")

# Kinds looked for besides those of `_kube.KINDS`: what the reference platform's charts and CronJobs use.
EXTRA_KINDS = {
    "CronJob": ("batch/v1", "cronjobs"),
    "Job": ("batch/v1", "jobs"),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets"),
    "HorizontalPodAutoscaler": ("autoscaling/v2", "horizontalpodautoscalers"),
}
# The kinds of a namespace whose Helm-managed objects are looked up (a release Secret may be gone).
SCANNED_KINDS = (
    "Deployment",
    "StatefulSet",
    "Service",
    "Ingress",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "PersistentVolumeClaim",
    "NetworkPolicy",
    "ServiceMonitor",
    *(db.kind for db in REGISTRY.values() if db.custom),
    *EXTRA_KINDS,
)
FRAME_KINDS = ("ResourceQuota", "LimitRange", "NetworkPolicy")  # their create-namespace step's, replaced by ours
DATA_KINDS = {db.kind for db in REGISTRY.values() if db.custom}  # operators' databases: deleting one loses its data

_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
MAX_RELEASE_BYTES = 1 << 20  # a Secret holds at most 1 MiB
MAX_MANIFEST_BYTES = 16 << 20  # what a release may decompress to
MAX_MANIFEST_OBJECTS = 500
LIST_ATTEMPTS = 10


class MigrateError(ValueError):
    """A namespace that cannot be taken over as it is; the message says why and what to do."""


def _api(kind: str) -> tuple[str, str] | None:
    if kind in KINDS:
        return KINDS[kind][0], KINDS[kind][1]
    return EXTRA_KINDS.get(kind)


def _path(kind: str, namespace: str, name: str | None = None) -> str:
    api_version, plural = _api(kind)
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    return f"{base}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def _list(kube, kind: str, namespace: str, sleep=time.sleep) -> list[dict]:
    """The objects of `kind` in `namespace`; none where the kind is not served (an operator not installed). A 429
    (the API server's storage of a kind whose CRD was just created is still initialising) is asked again."""
    for attempt in range(LIST_ATTEMPTS):
        try:
            return kube.request("GET", _path(kind, namespace)).get("items", [])
        except KubeError as exc:
            if exc.status == 404:
                return []
            if exc.status != 429 or attempt == LIST_ATTEMPTS - 1:
                raise
            sleep(1)
    return []  # not reached: the last attempt returns or raises


# ---- Helm's release Secrets


def release_manifest(secret: dict) -> str:
    """The manifest of one Helm release Secret (data.release: base64 of Helm's base64 of gzipped JSON); MigrateError
    when it is not one, or larger than a release can be."""
    name = secret.get("metadata", {}).get("name", "?")
    text = (secret.get("data") or {}).get("release")
    if not isinstance(text, str) or len(text) > MAX_RELEASE_BYTES * 2:
        raise MigrateError(f"Secret {clip(name)}: no Helm release in data.release")
    try:
        packed = base64.b64decode(base64.b64decode(text, validate=True), validate=True)
    except (binascii.Error, ValueError):
        raise MigrateError(f"Secret {clip(name)}: data.release is not Helm's base64 encoding") from None
    if packed[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            packed = inflate.decompress(packed, MAX_MANIFEST_BYTES + 1)
        except zlib.error:
            raise MigrateError(f"Secret {clip(name)}: data.release is not gzip") from None
        if len(packed) > MAX_MANIFEST_BYTES or inflate.unconsumed_tail:
            raise MigrateError(f"Secret {clip(name)}: the release is larger than {MAX_MANIFEST_BYTES >> 20} MiB")
    try:
        release = json.loads(packed)
    except ValueError:
        raise MigrateError(f"Secret {clip(name)}: the release is not JSON") from None
    manifest = release.get("manifest") if isinstance(release, dict) else None
    if not isinstance(manifest, str):
        raise MigrateError(f"Secret {clip(name)}: the release has no manifest")
    return manifest


def manifest_objects(manifest: str) -> list[tuple[str, str]]:
    """(kind, name) of each object of a release manifest; YAML anchors and aliases refused (a rendered chart has
    none, and an alias can expand a small text into gigabytes)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise yaml.composer.ComposerError(None, None, "anchors and aliases are not read", event.start_mark)
            return super().compose_node(parent, index)

    objects = []
    loader = Loader(manifest)
    try:
        while loader.check_data():
            doc = loader.get_data()
            if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("metadata"), dict):
                objects.append((doc["kind"], doc["metadata"].get("name")))
            if len(objects) > MAX_MANIFEST_OBJECTS:
                raise MigrateError(f"the release holds more than {MAX_MANIFEST_OBJECTS} objects")
    except yaml.YAMLError as exc:
        raise MigrateError(f"the release manifest is not YAML k8s-ee reads ({clip(str(exc), 120)})") from None
    finally:
        loader.dispose()
    return objects


def _latest_releases(secrets: list[dict]) -> dict[str, dict]:
    """The newest release Secret of each release name (Helm keeps one per revision)."""
    latest: dict[str, dict] = {}
    for secret in secrets:
        labels = secret["metadata"].get("labels") or {}
        version = labels.get("version", "")
        name = labels.get("name", "")
        number = int(version) if version.isdigit() and len(version) < 10 else -1
        if name not in latest or number > latest[name][0]:
            latest[name] = (number, secret)
    return {name: secret for name, (_number, secret) in latest.items()}


# ---- one namespace


def _mounted_claims(obj: dict) -> set[str]:
    """The PersistentVolumeClaims a Deployment's or StatefulSet's pods mount or create."""
    spec = obj.get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    claims = {
        (volume.get("persistentVolumeClaim") or {}).get("claimName")
        for volume in pod.get("volumes") or []
        if isinstance(volume, dict)
    }
    claims.discard(None)
    return claims | {
        f"{template.get('metadata', {}).get('name')}-{obj['metadata']['name']}-"
        for template in spec.get("volumeClaimTemplates") or []
        if isinstance(template, dict)
    }


def _claims_of(obj: dict, claims: list[dict]) -> list[str]:
    """The claims holding the data of one database object: CloudNativePG labels its claims with the cluster's name;
    a StatefulSet's (and an operator's StatefulSet's) are named <template>-<name>-<ordinal>; a Deployment names its."""
    name = obj["metadata"]["name"]
    mounted = _mounted_claims(obj) if obj["kind"] in ("Deployment", "StatefulSet") else set()
    ordinal = re.compile(rf"^.+-{re.escape(name)}(-[a-z0-9-]+)?-[0-9]+$")
    out = []
    for claim in claims:
        claim_name = claim["metadata"]["name"]
        labels = claim["metadata"].get("labels") or {}
        if (
            labels.get("cnpg.io/cluster") == name
            or claim_name in mounted
            or any(claim_name.startswith(prefix) for prefix in mounted if prefix.endswith("-"))
            or (obj["kind"] != "Deployment" and ordinal.match(claim_name))
        ):
            out.append(claim_name)
    return out


def _holds_data(obj: dict) -> bool:
    return obj["kind"] in DATA_KINDS or (obj["kind"] in ("Deployment", "StatefulSet") and bool(_mounted_claims(obj)))


def _ref(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _ours(obj: dict, secrets: set[str]):
    """The database of ours this object is, when its kind and name are ours (and the Secret of the credentials
    pr_up would read exists), else None."""
    for db in REGISTRY.values():
        if obj["kind"] == db.kind and obj["metadata"]["name"] == db.name:
            if db.credentials_name and db.credentials_name not in secrets:
                return None
            return db
    return None


def inventory(kube, namespace: str) -> dict:
    """What the reference platform made in one namespace: its Helm releases' objects (from the release Secrets'
    manifests and Helm's label, so a half-removed release is still found), its own ResourceQuota, LimitRange and
    NetworkPolicies, the claims, and the rest (made by somebody else: left as it is)."""
    problems = []
    # each kind read once: the Secrets give the release Secrets and the names of credentials, the NetworkPolicies both
    # release objects and the frame, the claims both release objects and the claims of the databases
    listed = {kind: _list(kube, kind, namespace) for kind in dict.fromkeys((*SCANNED_KINDS, *FRAME_KINDS))}
    for kind, found in listed.items():
        for obj in found:
            obj.setdefault("kind", kind)
    release_secrets = [
        s
        for s in listed["Secret"]
        if s.get("type") == HELM_RELEASE_TYPE and (s["metadata"].get("labels") or {}).get("owner") == "helm"
    ]
    named: set[tuple[str, str]] = set()
    for release, secret in sorted(_latest_releases(release_secrets).items()):
        try:
            named |= {
                (kind, name) for kind, name in manifest_objects(release_manifest(secret)) if isinstance(name, str)
            }
        except MigrateError as exc:
            problems.append(f"release {clip(release)}: {exc}")
    objects: dict[tuple[str, str], dict] = {}
    for kind in SCANNED_KINDS:
        for obj in listed[kind]:
            meta = obj["metadata"]
            labels = meta.get("labels") or {}
            if (kind, meta["name"]) in named or labels.get(HELM_MANAGED[0]) == HELM_MANAGED[1]:
                objects[kind, meta["name"]] = obj
    unknown = sorted(f"{kind}/{name}" for kind, name in named if _api(kind) is None)
    missing_kinds = sorted({kind for kind, _name in named if _api(kind) is not None and kind not in SCANNED_KINDS})
    for kind in missing_kinds:  # a kind of the manifest not scanned above (a Pod, a ResourceQuota in the chart)
        for obj in listed[kind] if kind in listed else _list(kube, kind, namespace):
            if (kind, obj["metadata"]["name"]) in named:
                obj.setdefault("kind", kind)
                objects[kind, obj["metadata"]["name"]] = obj
    frame = [
        obj
        for kind in FRAME_KINDS
        for obj in listed[kind]
        if (obj["metadata"].get("labels") or {}).get(REFERENCE_MANAGED_BY[0]) == REFERENCE_MANAGED_BY[1]
        and (kind, obj["metadata"]["name"]) not in objects
    ]
    claims = listed["PersistentVolumeClaim"]
    secrets = {s["metadata"]["name"] for s in listed["Secret"]}
    return {
        "release_secrets": release_secrets,
        "objects": [objects[key] for key in sorted(objects)],
        "frame": frame,
        "claims": claims,
        "secrets": secrets,
        "unknown": unknown,
        "problems": problems,
    }


def takeover_plan(found: dict) -> dict:
    """What a takeover keeps and removes. `kept`: databases whose kind and name are ours (with their claims and
    credentials); `removed`: what pr_up recreates; `data_lost`: what holds data and is removed (only with
    recreate_data); `left`: what the reference platform did not make."""
    kept, removed, data_lost, keep_claims, keep_secrets = [], [], [], set(), set()
    databases = [
        (obj, _ours(obj, found["secrets"])) for obj in found["objects"] if obj["kind"] != "PersistentVolumeClaim"
    ]
    for obj, db in databases:
        if db is not None:
            claims = _claims_of(obj, found["claims"])
            keep_claims |= set(claims)
            keep_secrets |= {name for name in (db.credentials_name, *db.other_secrets) if name}
            kept.append(
                {
                    "object": _ref(obj),
                    "database": db.name,
                    "claims": claims,
                    "why": f"kind and name are those pr_up renders for {db.title}: its data and credentials are kept",
                }
            )
    for obj, db in databases:
        if db is not None:
            continue
        if obj["kind"] == "Secret" and obj["metadata"]["name"] in keep_secrets:
            kept.append({"object": _ref(obj), "database": None, "claims": [], "why": "credentials of a kept database"})
        elif _holds_data(obj):
            data_lost.append(_ref(obj))
        else:
            removed.append(_ref(obj))
    for claim in found["claims"]:
        name = claim["metadata"]["name"]
        if name not in keep_claims:
            data_lost.append(f"PersistentVolumeClaim/{name}")
    removed += [_ref(obj) for obj in found["frame"]]
    removed += [f"Secret/{s['metadata']['name']}" for s in found["release_secrets"]]
    return {"kept": kept, "removed": sorted(set(removed)), "data_lost": sorted(set(data_lost))}


def _environment(ns: dict) -> dict:
    """The reference platform's record of one environment, checked: MigrateError when it is not one of its
    environments' shapes (it is then left alone)."""
    meta = ns["metadata"]
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    name = meta["name"]
    project, number = labels.get(_naming.LABEL_PROJECT, ""), labels.get(_naming.LABEL_PR, "")
    if not _naming.PROJECT_ID_RE.match(project) or not re.fullmatch(r"[1-9][0-9]{0,9}", number):
        raise MigrateError(
            f"labels {_naming.LABEL_PROJECT}={show(project)} and {_naming.LABEL_PR}={show(number)} are not a "
            "project id and a pull request number"
        )
    if name != f"{project}-pr-{number}":
        raise MigrateError(f"the name is not {project}-pr-{number}, as its labels say")
    repository = annotations.get(_naming.ANNOTATION_REPOSITORY)
    try:
        repository_path(repository)
    except (TypeError, ValueError):
        raise MigrateError(
            f"annotation {_naming.ANNOTATION_REPOSITORY}: {show(repository)} is not owner/repo; "
            f"set it (kubectl annotate namespace {name} {_naming.ANNOTATION_REPOSITORY}=owner/repo) or delete it"
        ) from None
    until = annotations.get(_naming.ANNOTATION_PRESERVE_UNTIL)
    return {
        "namespace": name,
        "project_id": project,
        "pr": int(number),
        "repository": repository,
        "preserved": labels.get(REFERENCE_PRESERVE_LABEL) == "true",
        "preserve_until": until if parse_rfc3339(until) else None,
        "terminating": bool(meta.get("deletionTimestamp")),
    }


def plan(kube, github, now: float, repositories=None, recreate_data: bool = False, grace: float = DEFAULT_GRACE):
    """One row per namespace of the reference platform: what `carry_out` does with it, and why."""
    wanted = {r.lower() for r in repositories or []}
    rows, verdicts, readable = [], {}, {}
    for ns in sorted(kube.list("Namespace", label_selector=REFERENCE_SELECTOR), key=lambda n: n["metadata"]["name"]):
        row = {"namespace": ns["metadata"]["name"], "repository": "-", "pr": "-", "pull_request": "-"}
        rows.append(row)
        try:
            env = _environment(ns)
        except MigrateError as exc:
            row.update(action="skip", reason=f"not one of its environments' shapes: {exc}")
            continue
        row.update(repository=env["repository"], pr=env["pr"], preserve_until=env["preserve_until"])
        if wanted and env["repository"].lower() not in wanted:
            row.update(action="skip", reason="repository not selected (k8s_ee_migrate_repositories)")
            continue
        if env["terminating"]:
            row.update(action="skip", reason="already being deleted")
            continue
        key = (env["repository"].lower(), env["pr"])
        if key not in verdicts:  # one GitHub request per pull request, as cleanup
            verdicts[key] = _verdict(github, env["repository"], env["pr"], now, grace, readable)
        verdict, why = verdicts[key]
        if verdict == "error":
            row.update(action="skip", pull_request="unknown", reason=why, error=True)
            continue
        row["pull_request"] = {"open": "open", "merged": "merged", "closed": "closed"}.get(
            why, "gone" if verdict == "delete" else "closed"
        )
        preserved = env["preserved"] and (parse_rfc3339(env["preserve_until"]) or 0) > now
        if verdict == "skip" and why != "open":
            row.update(action="skip", reason=f"{why}; run again later")
            continue
        if verdict == "delete" and not preserved:
            row.update(action="delete", reason=f"pull request {why}: deleted as cleanup would")
            continue
        found = inventory(kube, env["namespace"])
        takeover = takeover_plan(found)
        row.update(takeover, left=found["unknown"], problems=found["problems"], preserved=preserved)
        if found["problems"]:
            row.update(action="skip", reason="; ".join(found["problems"]) + "; remove the release by hand first")
        elif takeover["data_lost"] and not recreate_data:
            row.update(
                action="skip",
                reason="holds data pr_up would recreate empty: "
                + ", ".join(takeover["data_lost"])
                + "; run with k8s_ee_migrate_recreate_data=true to accept that",
            )
        else:
            row.update(
                action="take over",
                reason=(
                    f"preserved until {env['preserve_until']}: taken over as preserved"
                    if preserved
                    else "pull request open: the next pr_up deploys it"
                ),
            )
    return rows


def cronjobs(kube) -> list[dict]:
    """The CronJobs in the reference platform's `platform` namespace (its cleanup and preserve expiry), with the
    command that removes each; k8s-ee has none (role schedules runs systemd timers)."""
    found = []
    for job in _list(kube, "CronJob", REFERENCE_CRONJOB_NAMESPACE):
        labels = job["metadata"].get("labels") or {}
        if labels.get(_naming.MANAGED_BY[0]) == _naming.MANAGED_BY[1]:
            continue
        name = job["metadata"]["name"]
        found.append(
            {
                "name": name,
                "schedule": (job.get("spec") or {}).get("schedule"),
                "command": f"kubectl delete cronjob --namespace {REFERENCE_CRONJOB_NAMESPACE} {name}",
            }
        )
    return found


# ---- doing it


def _delete(kube, ref: str, namespace: str) -> None:
    kind, name = ref.split("/", 1)
    if _api(kind) is None or not _DNS_NAME.match(name):
        raise MigrateError(f"{clip(ref)} in {namespace} cannot be deleted by k8s-ee; delete it by hand")
    try:
        kube.request("DELETE", _path(kind, namespace, name), body={"propagationPolicy": "Background"})
    except KubeError as exc:
        if exc.status != 404:
            raise


def take_over(kube, row: dict, now: float) -> None:
    """Remove what pr_up recreates, keep the databases whose kind and names are ours, then relabel the namespace
    ours — last, so an interrupted run is found and finished by the next one."""
    namespace = row["namespace"]
    for ref in row["removed"] + row["data_lost"]:
        _delete(kube, ref, namespace)
    for kept in row["kept"]:
        kind, name = kept["object"].split("/", 1)
        kube.request(
            "PATCH",
            _path(kind, namespace, name),
            body={
                "metadata": {
                    "labels": {_naming.MANAGED_BY[0]: _naming.MANAGED_BY[1]},
                    "annotations": dict.fromkeys(HELM_ANNOTATIONS),
                }
            },
            content_type="application/merge-patch+json",
        )
    live = kube.get("Namespace", namespace)
    annotations = live["metadata"].get("annotations") or {}
    labels = {
        _naming.MANAGED_BY[0]: _naming.MANAGED_BY[1],
        REFERENCE_PRESERVE_LABEL: None,
        _naming.LABEL_PRESERVE: "true" if row["preserved"] else None,
    }
    created = parse_rfc3339(annotations.get(_naming.ANNOTATION_CREATED)) or parse_rfc3339(
        live["metadata"].get("creationTimestamp")
    )
    patch_annotations = {
        _naming.ANNOTATION_CREATED: rfc3339(created) if created else None,
        _naming.ANNOTATION_MIGRATED_FROM: REFERENCE_MANAGED_BY[1],
        _naming.ANNOTATION_MIGRATED_AT: rfc3339(now),
        REFERENCE_PRESERVE_WARNED: None,
    }
    if row["preserved"]:
        patch_annotations[_naming.ANNOTATION_PRESERVE_WARNED] = (
            "true" if annotations.get(REFERENCE_PRESERVE_WARNED) else None
        )
    else:
        for key in (_naming.ANNOTATION_PRESERVE_UNTIL, _naming.ANNOTATION_PRESERVED_BY):
            patch_annotations[key] = None
    kube.merge_patch("Namespace", namespace, {"metadata": {"labels": labels, "annotations": patch_annotations}})


def carry_out(kube, rows: list[dict], now: float) -> list[dict]:
    """Do what each row's action says; a row's failure is recorded on it and the others go on."""
    done = []
    for row in rows:
        if row["action"] not in ("take over", "delete"):
            continue
        try:
            if row["action"] == "delete":
                kube.delete("Namespace", row["namespace"])
            else:
                take_over(kube, row, now)
        except (KubeError, MigrateError) as exc:
            row["error"] = True
            row["reason"] = f"{row['action']} failed: {exc}"
            row["action"] = "failed"
            continue
        done.append(row)
    return done


COLUMNS = (
    ("namespace", "NAMESPACE"),
    ("repository", "REPOSITORY"),
    ("pr", "PR"),
    ("pull_request", "PULL REQUEST"),
    ("action", "ACTION"),
    ("kept", "KEPT"),
    ("removed", "RECREATED BY PR_UP"),
    ("data_lost", "DATA LOST"),
)


def _cell(row: dict, key: str) -> str:
    value = row.get(key, "-")
    if key == "kept" and isinstance(value, list):
        value = [k["object"] + "".join(f" +{c}" for c in k["claims"]) for k in value]
    if isinstance(value, list):
        value = ", ".join(value) or "-"
    return clip(str(value), 200)


def table(rows: list[dict], jobs: list[dict]) -> str:
    """The plan as the status table prints environments, then why for each, then the CronJobs."""
    cells = [dict(COLUMNS)] + [{key: _cell(row, key) for key, _title in COLUMNS} for row in rows]
    widths = {key: max(len(c[key]) for c in cells) for key, _title in COLUMNS}
    lines = ["  ".join(c[key].ljust(widths[key]) for key, _title in COLUMNS).rstrip() for c in cells]
    if not rows:
        lines.append("(no environments of the reference platform)")
    lines += [f"{row['namespace']}: {row['action']}: {clip(str(row.get('reason', '')), 400)}" for row in rows]
    for job in jobs:
        lines.append(
            f"CronJob {REFERENCE_CRONJOB_NAMESPACE}/{job['name']} ({job['schedule']}) is the reference platform's: "
            f"k8s-ee's schedules replace it; remove it with: {job['command']}"
        )
    return "\n".join(lines)
