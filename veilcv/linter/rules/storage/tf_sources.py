"""What a ``module`` block's ``source`` names, read as Terraform reads it (no download).

Terraform takes a source that starts with ``./`` or ``../`` as a local folder, one of the form
``[host/]namespace/name/provider`` as a registry module, and anything else as a go-getter address:
``git::<url>``, the GitHub shorthand ``github.com/owner/repo``, an scp-like ``git@host:owner/repo``,
an archive URL. ``//sub/dir`` picks a folder inside the download and ``?ref=`` a git tag, branch or
commit. The registry publishes ``namespace/name/provider`` from the GitHub repository
``namespace/terraform-<provider>-<name>``, so a git or archive source of that repository is the same
module as its registry address, at the release its tag names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

#: Registries whose ``namespace/name/provider`` is the module published from GitHub. A private
#: registry may serve anything under the same address, so its modules are not taken for these.
PUBLIC_REGISTRIES = frozenset({"registry.terraform.io", "registry.opentofu.org"})
_GIT_SHORTHAND_HOSTS = ("github.com/", "bitbucket.org/")
_REGISTRY = re.compile(
    r"^(?:(?P<host>[A-Za-z0-9.-]+\.[A-Za-z0-9-]+(?::\d+)?)/)?"
    r"(?P<ns>[A-Za-z0-9][A-Za-z0-9_-]*)/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)/(?P<provider>[A-Za-z0-9]+)$"
)
_FORCED = re.compile(r"^([A-Za-z0-9]+)::(.+)$", re.S)
_SCP = re.compile(r"^(?:[\w.+-]+@)?(?P<host>[\w.-]+\.[\w-]+):(?!//)(?P<path>[^:]+)$")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)(?:[^@/]+@)?(?P<host>[^/:@]+)(?::\d+)?/(?P<path>.+)$")
_BARE = re.compile(r"^(?P<host>[\w-]+(?:\.[\w-]+)+)/(?P<path>.+)$")
#: A release as tags and version constraints write it (``v4.1.2``, ``4.1``, ``4.1.2-rc.1``, ``4.1.2+b7``):
#: ``release`` is the version without its ``v`` and build metadata, ``numbers`` its release numbers.
RELEASE = r"v?(?P<release>(?P<numbers>\d+(?:\.\d+){0,2})(?:-[0-9A-Za-z.-]+)?)(?:\+[0-9A-Za-z.-]+)?"
_TAG = re.compile(rf"^(?:refs/tags/)?{RELEASE}$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar")
_GITHUB_ARCHIVE = re.compile(
    r"^github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+)/archive/(?P<ref>.+?)(?:\.zip|\.tar\.gz)$"
    r"|^codeload\.github\.com/(?P<owner2>[^/]+)/(?P<repo2>[^/]+)/(?:legacy\.)?(?:zip|tar\.gz)/(?P<ref2>.+)$"
)
_PUBLISHED = re.compile(r"^terraform-(?P<provider>[a-z0-9]+)-(?P<name>[a-z0-9][a-z0-9_-]*)$")
MAX_GIT_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Source:
    """A module source, taken apart. ``kind`` is ``local``, ``registry``, ``git``, ``archive``,
    ``other`` (a bucket, an HTTP page, Mercurial), ``expression`` or ``none`` (no source)."""

    text: str
    kind: str
    module: str = ""  # namespace/name/provider[//subdir] (lowercase) this source publishes, if known
    host: str = ""  # a registry host other than the public registries
    repo: str = ""  # git: host/owner/name, lowercase, without ``.git``
    subdir: str = ""  # the folder inside the download (``//modules/x``), normalised
    ref: str | None = None  # git ``?ref=``, or the ref an archive URL names
    version: str | None = None  # the release a ref names (``v4.1.2`` -> ``4.1.2``); None: unpinned

    def describe_ref(self) -> str:
        """How the source pins its code, for notes and findings."""
        if self.ref is None:
            return "no ref, so the default branch"
        if self.version is not None:
            return f"ref {self.ref}"
        what = "a commit" if _SHA.match(self.ref) else "a branch or other ref"
        return f"ref {self.ref} is {what}, not a release tag"


def parse_source(value: Any) -> Source:
    """Take a ``source`` value apart without touching the network or the disk."""
    if not isinstance(value, str) or not value.strip():
        return Source("" if value is None else str(value), "none")
    text = value.strip()
    if "${" in text:
        return Source(text, "expression")
    if text.startswith(("./", "../", ".\\", "..\\")):
        return Source(text, "local")
    forced, rest = "", text
    m = _FORCED.match(text)
    if m:
        forced, rest = m.group(1).lower(), m.group(2)
    base, subdir = _split_subdir(rest)
    base, _, query = base.partition("?")
    params = parse_qs(query)
    ref = params.get("ref", [None])[0]
    subdir = _clean(subdir)
    if not forced and "://" not in base:
        reg = _REGISTRY.match(base)
        if reg and not (reg.group("host") or "").lower().startswith(("github.com", "bitbucket.org")):
            host = (reg.group("host") or "registry.terraform.io").lower()
            module = "/".join(reg.group(g) for g in ("ns", "name", "provider")).lower()
            module += f"//{subdir}" if subdir else ""
            if host in PUBLIC_REGISTRIES:
                return Source(text, "registry", module=module, subdir=subdir)
            return Source(text, "registry", module=module, host=host, subdir=subdir)
    if forced in ("", "git"):
        repo = _git_repo(base, forced == "git")
        if repo:
            published = _published(repo)
            return Source(
                text,
                "git",
                module=(published + (f"//{subdir}" if subdir else "")) if published else "",
                repo=repo,
                subdir=subdir,
                ref=ref,
                version=_version(ref),
            )
    if forced in ("", "http", "https") and (base.lower().endswith(_ARCHIVES) or "archive" in params):
        return _archive(text, base, subdir)
    return Source(text, "other", subdir=subdir)


def _split_subdir(src: str) -> tuple[str, str]:
    """go-getter's rule: the first ``//`` after the scheme separates the folder; a query written
    after the folder belongs to the address."""
    start = src.find("://")
    start = start + 3 if start >= 0 else 0
    idx = src.find("//", start)
    if idx < 0:
        return src, ""
    sub, src = src[idx + 2 :], src[:idx]
    if "?" in sub:
        sub, query = sub.split("?", 1)
        src = f"{src}?{query}"
    return src, sub


def _clean(subdir: str) -> str:
    parts = [p for p in subdir.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def _git_repo(base: str, forced: bool) -> str:
    """``host/owner/name`` of a git address Terraform would clone; "" when it is not one."""
    if base.lower().startswith(_GIT_SHORTHAND_HOSTS) or forced:
        return repo_id(base) or ""
    if "://" not in base and "@" in base.split(":", 1)[0]:
        return repo_id(base) or ""  # scp-like git@host:owner/name
    return ""


def repo_id(url: str) -> str | None:
    """``github.com/acme/infra`` for every spelling of one remote: https, ssh, scp-like, with or
    without ``.git``, a user or a port. None for a local path or ``file://``."""
    url = url.strip()
    m = _URL.match(url) or _SCP.match(url) or (None if "://" in url else _BARE.match(url))
    if m is None or url.lower().startswith("file:"):
        return None
    path = m.group("path").strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4]
    path = path.strip("/")
    if not path:
        return None
    return f"{m.group('host').lower()}/{path.lower()}"


def _published(repo: str) -> str:
    """The registry address the public registry publishes from a GitHub repository, if it does."""
    host, _, path = repo.partition("/")
    owner, _, name = path.partition("/")
    m = _PUBLISHED.match(name)
    if host != "github.com" or not owner or m is None:
        return ""
    return f"{owner}/{m.group('name')}/{m.group('provider')}"


def _version(ref: str | None) -> str | None:
    if ref is None or _SHA.match(ref) and not ref.isdigit():
        return None
    m = _TAG.match(ref)
    return m.group("release") if m else None


def _archive(text: str, base: str, subdir: str) -> Source:
    """An archive download; a GitHub archive of a published module's repository is that module
    (the archive's single top folder, ``<repo>-<ref>``, is not part of the module's path)."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", base)
    m = _GITHUB_ARCHIVE.match(bare)
    if m is None:
        return Source(text, "archive", subdir=subdir)
    owner, name = m.group("owner") or m.group("owner2"), m.group("repo") or m.group("repo2")
    ref = re.sub(r"^refs/(?:tags|heads)/", "", m.group("ref") or m.group("ref2"))
    parts = subdir.split("/") if subdir else []
    if parts and parts[0].lower().startswith(f"{name.lower()}-"):
        parts = parts[1:]
    inner = "/".join(parts)
    repo = f"github.com/{owner.lower()}/{name.lower()}"
    published = _published(repo)
    module = (published + (f"//{inner}" if inner else "")) if published else ""
    return Source(text, "archive", module=module, repo=repo, subdir=inner, ref=ref, version=_version(ref))


def git_remotes(root: Path) -> frozenset[str]:
    """The remotes (as :func:`repo_id`) of the git checkout at ``root``: the URLs of its
    ``[remote ...]`` sections. A ``.git`` file (a worktree or submodule) is followed to its
    git directory. Empty when ``root`` is not the top of a checkout."""
    git = root / ".git"
    try:
        if git.is_file():
            m = re.match(r"gitdir:\s*(.+)", git.read_text("utf-8", errors="replace").strip())
            if m is None:
                return frozenset()
            gitdir = (root / m.group(1).strip()).resolve()
            common = gitdir / "commondir"
            if common.is_file():  # a worktree: the remotes live in the main checkout's config
                gitdir = (gitdir / common.read_text("utf-8", errors="replace").strip()).resolve()
            config = gitdir / "config"
        else:
            config = git / "config"
        if not config.is_file() or config.stat().st_size > MAX_GIT_CONFIG_BYTES:
            return frozenset()
        text = config.read_text("utf-8", errors="replace")
    except OSError:
        return frozenset()
    found: set[str] = set()
    in_remote = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_remote = re.match(r'^\[\s*remote\s+"[^"]*"\s*\]', line) is not None
            continue
        m = re.match(r"^(url|pushurl)\s*=\s*(.+?)\s*$", line, re.I)
        if in_remote and m:
            rid = repo_id(m.group(2).strip('"'))
            if rid:
                found.add(rid)
    return frozenset(found)
