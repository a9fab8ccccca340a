# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upstream files the tests read (CRDs, the GitHub REST description subset, Helm charts), each checked against
its sha256 in tests/upstream.lock.json before it is used.

    upstream.path("github-rest-subset.json")       # one file
    upstream.directory("crds")                      # a folder: exactly the locked files under it
    upstream.directory("charts/loki-6.53.0")

Where the files come from:

1. ../shared/upstream beside the checkout (K8S_EE_UPSTREAM names another folder), when it holds the file (`path`)
   or the folder (`directory`). A file there whose sha256 differs from the lock's, and for a folder a missing or an
   extra file, is an error; it never falls back to a download.
2. Otherwise the cache, ~/.cache/k8s-ee/upstream (K8S_EE_CACHE moves ~/.cache/k8s-ee). A file not yet there is
   downloaded from the lock's URL and its sha256 checked before it is stored: a mismatch is an error that names the
   file, the URL and both hashes, and nothing of it is kept. The extract github-rest-subset.json is made again from
   its pinned source file (`github_rest_subset`) and must give the locked sha256 too. Cached files are checked
   again whenever a process first uses them.

`mirror` (or K8S_EE_UPSTREAM_MIRROR) makes downloads go to `mirror + <URL without its scheme>` instead: the unit
tests serve files from 127.0.0.1 this way. The content is verified all the same.

Standard library only, so the lock can be checked before the test virtualenv exists.
"""

from __future__ import annotations

import base64
import concurrent.futures
import copy
import dataclasses
import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
LOCK = HERE / "upstream.lock.json"
REGENERATE = "python3 tests/tools/upstream_lock.py generate"
DOWNLOAD_WORKERS = 8
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_ATTEMPTS = 3


class UpstreamError(RuntimeError):
    """An upstream file is not in the lock, differs from it, or could not be fetched."""


# ---------------------------------------------------------------- where things are


def shared_root() -> pathlib.Path:
    """../shared/upstream beside the checkout, or K8S_EE_UPSTREAM."""
    return pathlib.Path(os.environ.get("K8S_EE_UPSTREAM") or REPO.parent / "shared" / "upstream")


def cache_root() -> pathlib.Path:
    """~/.cache/k8s-ee/upstream (K8S_EE_CACHE moves ~/.cache/k8s-ee)."""
    return pathlib.Path(os.environ.get("K8S_EE_CACHE") or pathlib.Path.home() / ".cache" / "k8s-ee") / "upstream"


_LOCKS: dict[pathlib.Path, dict] = {}


def load_lock(lock: pathlib.Path | str | None = None) -> dict:
    lock = pathlib.Path(lock or LOCK).resolve()
    if lock not in _LOCKS:
        _LOCKS[lock] = json.loads(lock.read_text())
    return _LOCKS[lock]


# ---------------------------------------------------------------- public


def path(
    relative: str,
    *,
    lock: pathlib.Path | str | None = None,
    root: pathlib.Path | str | None = None,
    cache: pathlib.Path | str | None = None,
    mirror: str | None = None,
) -> pathlib.Path:
    """The verified file `relative` (a path inside shared/upstream, as in the lock)."""
    store = _Store.make(lock, root, cache, mirror)
    entry = store.entry(relative)
    local = store.root / relative
    if local.exists():
        if not local.is_file():
            raise UpstreamError(f"{relative}: {local} is not a file")
        store.verify(local, relative, entry, "the copy at")
        return local
    return store.cached(relative)


def directory(
    relative_dir: str,
    *,
    lock: pathlib.Path | str | None = None,
    root: pathlib.Path | str | None = None,
    cache: pathlib.Path | str | None = None,
    mirror: str | None = None,
) -> pathlib.Path:
    """The verified folder `relative_dir` (for example `crds` or `charts/loki-6.53.0`): it holds exactly the files
    the lock lists under it."""
    store = _Store.make(lock, root, cache, mirror)
    relative_dir = relative_dir.strip("/")
    entries = store.under(relative_dir)
    local = store.root / relative_dir
    if local.is_dir():
        store.verify_tree(local, relative_dir, entries, "the copy at")
        return local
    tree = store.tree
    missing = [rel for rel in entries if not (tree / rel).is_file()]
    if missing:
        with concurrent.futures.ThreadPoolExecutor(DOWNLOAD_WORKERS) as pool:
            futures = [pool.submit(store.cached, rel) for rel in missing]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    store.verify_tree(tree / relative_dir, relative_dir, entries, "the cached copy at")
    return tree / relative_dir


def sha256_file(file: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- the store

# Files already verified by this process: (path, inode, size, mtime) -> sha256.
_VERIFIED: dict[tuple, str] = {}
_VERIFIED_LOCK = threading.Lock()


def _stat_key(file: pathlib.Path) -> tuple:
    stat = file.stat()
    return (str(file), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _hash_of(file: pathlib.Path) -> str:
    key = _stat_key(file)
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
    if known is None:
        known = sha256_file(file)
        with _VERIFIED_LOCK:
            _VERIFIED[key] = known
    return known


@dataclasses.dataclass(frozen=True)
class _Store:
    lock_path: pathlib.Path
    files: dict
    root: pathlib.Path
    cache: pathlib.Path
    mirror: str | None

    @classmethod
    def make(cls, lock, root, cache, mirror) -> _Store:
        lock_path = pathlib.Path(lock or LOCK)
        return cls(
            lock_path=lock_path,
            files=load_lock(lock_path)["files"],
            root=pathlib.Path(root) if root else shared_root(),
            cache=pathlib.Path(cache) if cache else cache_root(),
            mirror=mirror if mirror is not None else os.environ.get("K8S_EE_UPSTREAM_MIRROR") or None,
        )

    # -------------------------------------------------------- lock look-ups

    def entry(self, relative: str) -> dict:
        entry = self.files.get(relative)
        if entry is None:
            raise UpstreamError(
                f"{relative} is not in {self.lock_path}: the tests may use only locked upstream files "
                f"(add it to the shared folder and its PROVENANCE.md, then run `{REGENERATE}`)"
            )
        return entry

    def under(self, relative_dir: str) -> dict:
        prefix = f"{relative_dir}/"
        entries = {rel: entry for rel, entry in self.files.items() if rel.startswith(prefix)}
        if not entries:
            raise UpstreamError(f"{relative_dir}: no file of {self.lock_path} is under this folder")
        return entries

    # -------------------------------------------------------- verification

    def verify(self, file: pathlib.Path, relative: str, entry: dict, where: str) -> None:
        actual = _hash_of(file)
        if actual != entry["sha256"]:
            raise UpstreamError(
                f"{relative}: {where} {file} has sha256 {actual}, but {self.lock_path.name} pins {entry['sha256']} "
                f"({_origin(entry)}). It was not used. Restore the file (or delete a cached one to fetch it again); "
                f"if the upstream folder was changed on purpose, run `{REGENERATE}`."
            )

    def verify_tree(self, folder: pathlib.Path, relative_dir: str, entries: dict, where: str) -> None:
        present = {
            f"{relative_dir}/{(pathlib.Path(dirpath) / name).relative_to(folder).as_posix()}"
            for dirpath, _dirnames, names in os.walk(folder)
            for name in names
        }
        extra = sorted(present - entries.keys())
        missing = sorted(entries.keys() - present)
        if extra or missing:
            raise UpstreamError(
                f"{relative_dir}: {where} {folder} does not hold exactly the locked files; "
                f"not in {self.lock_path.name}: {extra[:10]}{' …' if len(extra) > 10 else ''}; "
                f"missing: {missing[:10]}{' …' if len(missing) > 10 else ''}. Nothing of it was used."
            )
        for rel, entry in sorted(entries.items()):
            self.verify(folder / rel[len(relative_dir) + 1 :], rel, entry, where)

    # -------------------------------------------------------- the cache

    @functools.cached_property
    def tree(self) -> pathlib.Path:
        """The cache's folder for this lock: named by the hash of the locked (path, sha256) pairs, so checkouts with
        different locks never see each other's files."""
        pairs = json.dumps(sorted((rel, entry["sha256"]) for rel, entry in self.files.items()))
        return self.cache / f"tree-{hashlib.sha256(pairs.encode()).hexdigest()[:16]}"

    def blob(self, sha256: str) -> pathlib.Path:
        return self.cache / "sha256" / sha256

    def cached(self, relative: str) -> pathlib.Path:
        """The file from the cache's tree, fetched (and verified) first if it is not there."""
        entry = self.entry(relative)
        target = self.tree / relative
        if target.is_file():
            self.verify(target, relative, entry, "the cached copy at")
            return target
        blob = self.blob(entry["sha256"])
        if blob.is_file():
            self.verify(blob, relative, entry, "the cached copy at")
        elif "extract" in entry:
            self._extract(relative, entry, blob)
        else:
            self._download(relative, entry["url"], entry["sha256"], entry["size"], blob)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = self._staging()
        try:
            os.link(blob, staging)
        except OSError:  # another file system, or no hard links: a read-only copy
            shutil.copyfile(blob, staging)
            staging.chmod(0o444)
        os.replace(staging, target)
        self.verify(target, relative, entry, "the cached copy at")
        return target

    def _staging(self) -> pathlib.Path:
        folder = self.cache / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}.part"

    def _store(self, staging: pathlib.Path, blob: pathlib.Path) -> None:
        blob.parent.mkdir(parents=True, exist_ok=True)
        staging.chmod(0o444)
        os.replace(staging, blob)

    def _download(self, relative: str, url: str, sha256: str, size: int, blob: pathlib.Path) -> None:
        """Fetch url into blob if its content has this sha256 (and size); otherwise an error, and nothing stored."""
        fetched = _mirrored(url, self.mirror)
        staging = self._staging()
        try:
            actual, count = _fetch(fetched, staging, size, relative)
            if actual != sha256 or count != size:
                raise UpstreamError(
                    f"{relative}: refused the download of {url}"
                    + (f" (fetched as {fetched})" if fetched != url else "")
                    + (
                        f": sha256 {actual} ({count} bytes)"
                        if count <= size
                        else f": larger than {size} bytes (sha256 of its first {count} bytes: {actual})"
                    )
                    + f", but the lock pins sha256 {sha256} ({size} bytes). Nothing of it was used or cached."
                )
            self._store(staging, blob)
        finally:
            staging.unlink(missing_ok=True)

    def _extract(self, relative: str, entry: dict, blob: pathlib.Path) -> None:
        """Make an extract (github-rest-subset.json) again from its pinned source file."""
        extract = entry["extract"]
        source = extract["source"]
        source_blob = self.blob(source["sha256"])
        label = f"{relative} (source {source['url']})"
        if source_blob.is_file():
            self.verify(source_blob, label, source, "the cached copy at")
        else:
            try:
                self._download(label, source["url"], source["sha256"], source["size"], source_blob)
            except _Unreachable as error:
                if not (source.get("npm") and shutil.which("npm")):
                    raise
                self._npm(label, source, source_blob, error)
        data = EXTRACTORS[extract["function"]](source_blob.read_bytes())
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry["sha256"]:
            raise UpstreamError(
                f"{relative}: {extract['function']}() of {source['url']} (sha256 {source['sha256']}) gives sha256 "
                f"{actual}, but the lock pins {entry['sha256']}. Nothing of it was used or cached."
            )
        self._store_bytes(data, blob)

    def _store_bytes(self, data: bytes, blob: pathlib.Path) -> None:
        """Store verified bytes as `blob` through a staging file of the cache."""
        staging = self._staging()
        try:
            staging.write_bytes(data)
            self._store(staging, blob)
        finally:
            staging.unlink(missing_ok=True)

    def _npm(self, label: str, source: dict, blob: pathlib.Path, cause: Exception) -> None:
        """The extract's source from its npm package (through the npm client and its configured registry), when
        the URL cannot be reached: the package's integrity and then the file's sha256 are checked."""
        self.cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache) as folder:
            proc = subprocess.run(
                ["npm", "pack", source["npm"], "--pack-destination", folder, "--json"],
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            if proc.returncode != 0:
                raise UpstreamError(
                    f"{label}: unreachable ({cause}), and `npm pack {source['npm']}` failed: {proc.stderr}"
                )
            package = pathlib.Path(folder) / json.loads(proc.stdout)[0]["filename"]
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(package.read_bytes()).digest()).decode()
            if integrity != source["npm_integrity"]:
                raise UpstreamError(
                    f"{label}: refused npm package {source['npm']}: integrity {integrity}, but the lock pins "
                    f"{source['npm_integrity']}. Nothing of it was used or cached."
                )
            with tarfile.open(package) as archive:
                member = archive.extractfile(source["npm_member"])
                if member is None:
                    raise UpstreamError(f"{label}: {source['npm_member']} is not a file in {source['npm']}")
                data = member.read()
        actual = hashlib.sha256(data).hexdigest()
        if actual != source["sha256"]:
            raise UpstreamError(
                f"{label}: refused {source['npm_member']} of npm package {source['npm']}: sha256 {actual}, but the "
                f"lock pins {source['sha256']}. Nothing of it was used or cached."
            )
        self._store_bytes(data, blob)


def _origin(entry: dict) -> str:
    if "extract" in entry:
        return f"made by {entry['extract']['function']}() from {entry['extract']['source']['url']}"
    return f"from {entry['url']}"


def _mirrored(url: str, mirror: str | None) -> str:
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url.split("://", 1)[1]


class _Unreachable(UpstreamError):
    """The URL could not be fetched at all (as opposed to a wrong content)."""


def _fetch(url: str, staging: pathlib.Path, size: int, relative: str) -> tuple[str, int]:
    """Download url into staging, hashing as it goes; stops reading one byte past the expected size."""
    if not url.startswith(("https://", "http://")):
        raise UpstreamError(f"{relative}: {url} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": "k8s-ee-tests (tests/upstream.py)"})  # noqa: S310
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        digest = hashlib.sha256()
        count = 0
        try:
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response, open(staging, "wb") as out:  # noqa: S310
                while count <= size and (chunk := response.read(min(1 << 16, size + 1 - count))):
                    digest.update(chunk)
                    out.write(chunk)
                    count += len(chunk)
            return digest.hexdigest(), count
        except urllib.error.HTTPError as error:
            if (error.code < 500 and error.code != 429) or attempt == DOWNLOAD_ATTEMPTS:
                raise _Unreachable(f"{relative}: {url}: HTTP {error.code} {error.reason}") from error
        except (urllib.error.URLError, OSError) as error:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise _Unreachable(f"{relative}: {url} could not be fetched: {error}") from error
        time.sleep(attempt)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- extracts

# github-rest-subset.json: the operations the local GitHub (tests/github_fake.py) serves, as
# ../shared/upstream/PROVENANCE.md lists them.
GITHUB_OPERATIONS = (
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("delete", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("get", "/orgs/{org}/members/{username}"),
    ("post", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/rate_limit"),
)
# The info fields Octokit's build rewrites, restored to upstream's (api.github.com.json of github/rest-api-description).
GITHUB_UPSTREAM_INFO = {
    "version": "1.1.4",
    "title": "GitHub v3 REST API",
    "description": "GitHub's v3 REST API.",
    "contact.url": "https://support.github.com/contact?tags=dotcom-rest-api",
}


def github_rest_subset(source: bytes) -> bytes:
    """The extract of Octokit's api.github.com.json that shared/upstream/github-rest-subset.json is: the operations
    of GITHUB_OPERATIONS without Octokit's `x-octokit` extension, every component they reference (transitively,
    sorted by name within each kind, kinds sorted), the tags they use (in the source's order), `openapi`, `servers`,
    `externalDocs`, and the `info` block with upstream's values restored. JSON with two-space indentation."""
    doc = json.loads(source)
    paths: dict = {}
    for method, template in GITHUB_OPERATIONS:
        operation = {key: value for key, value in doc["paths"][template][method].items() if key != "x-octokit"}
        paths.setdefault(template, {})[method] = operation
    components: dict = {}
    stack: list = [paths]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                kind, name = ref.removeprefix("#/components/").split("/", 1)
                if name not in components.setdefault(kind, {}):
                    components[kind][name] = doc["components"][kind][name]
                    stack.append(components[kind][name])
            stack.extend(reversed(list(node.values())))
    used_tags = {tag for item in paths.values() for operation in item.values() for tag in operation.get("tags", [])}
    info = copy.deepcopy(doc["info"])
    info["version"] = GITHUB_UPSTREAM_INFO["version"]
    info["title"] = GITHUB_UPSTREAM_INFO["title"]
    info["description"] = GITHUB_UPSTREAM_INFO["description"]
    info["contact"]["url"] = GITHUB_UPSTREAM_INFO["contact.url"]
    subset = {
        "openapi": doc["openapi"],
        "info": info,
        "tags": [tag for tag in doc["tags"] if tag["name"] in used_tags],
        "servers": doc["servers"],
        "externalDocs": doc["externalDocs"],
        "paths": paths,
        "components": {kind: dict(sorted(components[kind].items())) for kind in sorted(components)},
    }
    return (json.dumps(subset, indent=2) + "\n").encode()


EXTRACTORS = {"github_rest_subset": github_rest_subset}
