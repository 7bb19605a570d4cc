"""sockpit's package-cache helper: PEP 440/508 decisions made with pip's own vendored `packaging`.

Run with the interpreter that runs pip (and that the sandboxes run: markers and wheel tags are evaluated for it).
Reads one JSON request on stdin, writes one JSON answer on stdout:

  request:  {"indexUrl": str|null, "findLinks": str|null, "wheelsOnly": bool,
             "installed": {name: [version...]},      # versions already in the cache (candidates even offline)
             "queries": [{"name", "specifier", "marker": str|null, "extras": [str]}]}
  answer:   {"python": "3.11.2", "results": [{"applies": bool, "matching": [version...] (newest first),
             "error": str|null}], "available": {name: [version...] (newest first)}}

A query whose marker is false for every extra context ('' and each asked extra) does not apply and lists nothing.
Versions come back normalised (str(Version(v))). Exit status is 0 whenever an answer was written.
"""

import html.parser
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.tags import sys_tags
from pip._vendor.packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org/simple"
SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz")


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


SUPPORTED = {str(t) for t in sys_tags()}
PYTHON_FULL = ".".join(str(x) for x in sys.version_info[:3])


def canonical(version):
    try:
        return str(Version(version))
    except InvalidVersion:
        return None


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []  # (href, attrs)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            a = dict(attrs)
            if a.get("href"):
                self.links.append((a["href"], a))


def fetch_page(url):
    req = urllib.request.Request(url, headers={"Accept": "text/html", "User-Agent": "sockpit-packages"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            charset = resp.headers.get_content_charset() or "utf-8"
            return resp.read().decode(charset, "replace")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise RuntimeError("%s: HTTP %d %s" % (url, e.code, e.reason))
    except (urllib.error.URLError, OSError) as e:
        raise RuntimeError("%s: %s" % (url, getattr(e, "reason", e)))


def filename_version(name, filename, wheels_only):
    """The version a distribution file offers for `name` (normalised), or None when unusable here."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6) or normalise(parts[0]) != name:
            return None
        py, abi, plat = parts[-3:]
        tags = {"%s-%s-%s" % (x, y, z) for x in py.split(".") for y in abi.split(".") for z in plat.split(".")}
        if not tags & SUPPORTED:
            return None
        return canonical(parts[1])
    if wheels_only:
        return None
    for ext in SDIST_EXTS:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            # the name part may itself hold '-': split at the first '-' followed by a digit
            m = re.match(r"^(.+?)-(\d.*)$", stem)
            if m and normalise(m.group(1)) == name:
                return canonical(m.group(2))
    return None


def from_links(name, links, wheels_only):
    out = set()
    for href, attrs in links:
        if "data-yanked" in attrs:
            continue
        rp = attrs.get("data-requires-python")
        if rp:
            try:
                if not SpecifierSet(html.unescape(rp)).contains(PYTHON_FULL, prereleases=True):
                    continue
            except Exception:
                pass
        path = urllib.parse.urlsplit(href).path
        filename = urllib.parse.unquote(path.rsplit("/", 1)[-1])
        v = filename_version(name, filename, wheels_only)
        if v:
            out.add(v)
    return out


def list_versions(req, name):
    versions = set()
    find_links = req.get("findLinks")
    index_url = req.get("indexUrl")
    wheels_only = bool(req.get("wheelsOnly", True))
    if find_links:
        if re.match(r"^https?://", find_links):
            page = fetch_page(find_links)
            if page is not None:
                p = Links()
                p.feed(page)
                versions |= from_links(name, p.links, wheels_only)
        else:
            try:
                entries = os.listdir(find_links)
            except FileNotFoundError:
                raise RuntimeError("find-links folder %s does not exist" % find_links)
            versions |= from_links(name, [(e, {}) for e in entries], wheels_only)
    installed = {c for c in (canonical(v) for v in req.get("installed", {}).get(name, [])) if c}
    if index_url or not find_links:
        base = (index_url or DEFAULT_INDEX).rstrip("/")
        try:
            page = fetch_page("%s/%s/" % (base, urllib.parse.quote(name)))
        except RuntimeError:
            # offline: what is already in the cache still resolves; anything else is an error
            if not installed and not versions:
                raise
            page = None
        if page is not None:
            p = Links()
            p.feed(page)
            versions |= from_links(name, p.links, wheels_only)
    versions |= installed
    return sorted(versions, key=Version, reverse=True)


def applies(marker, extras):
    if not marker:
        return True
    m = Marker(marker)
    return any(m.evaluate({"extra": e}) for e in [""] + list(extras))


def main():
    req = json.load(sys.stdin)
    available = {}
    results = []
    for q in req.get("queries", []):
        name = normalise(q["name"])
        try:
            if not applies(q.get("marker"), q.get("extras") or []):
                results.append({"applies": False, "matching": [], "error": None})
                continue
            if name not in available:
                available[name] = list_versions(req, name)
            spec = SpecifierSet(q.get("specifier") or "")
            matching = sorted(spec.filter(available[name]), key=Version, reverse=True)
            results.append({"applies": True, "matching": [str(v) for v in matching], "error": None})
        except Exception as e:  # one bad query does not sink the others
            results.append({"applies": True, "matching": [], "error": "%s: %s" % (type(e).__name__, e)})
    json.dump({"python": PYTHON_FULL, "results": results, "available": available}, sys.stdout)


if __name__ == "__main__":
    main()
