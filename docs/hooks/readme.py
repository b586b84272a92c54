"""MkDocs hook: pages take their text from README.md (and whole files such as CONTRIBUTING.md), so each text
is written once, where GitHub and PyPI show it too.

A directive, on a line of its own in a page under docs/:

    <!-- readme: "Connections" -->          the README section whose heading starts with "Connections",
                                            heading included, at the README's levels
    <!-- readme: "Connections" as h1 -->    the same, its heading moved to level 1 (sub-headings follow)
    <!-- readme: intro -->                  the README's text before its first section (its "# title" left out)
    <!-- file: "CONTRIBUTING.md" -->        a whole file of the repository (a path from the repository root)

A section runs from its heading to the next heading of the same or a higher level; "#" lines inside code
fences are not headings. A heading text that matches no README section, or several, stops the build and
lists the README's sections: when the README is reorganised, the pages are told, not silently emptied.

Links in the included text are made to work on the site: an in-page anchor of the README
(``#what-is-guaranteed``) points at the page that includes that section, a link to a repository file that
is a page (README.md, CONTRIBUTING.md, CHANGELOG.md) at that page, and a link to any other repository file
becomes its path as code (the site does not carry the repository); an image under ``docs/`` is shown from the
site's copy. A README anchor that no page includes
is a warning, so ``mkdocs build --strict`` fails on it.

Python-Markdown needs a blank line before a list that follows a paragraph, GitHub does not: one is added
to the included text where the README has none.
"""

from __future__ import annotations

import logging
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.readme")  # under "mkdocs": --strict counts its warnings

DIRECTIVE = re.compile(
    r'^[ \t]*<!--\s*(?P<kind>readme|file):\s*(?:"(?P<name>[^"]+)"|(?P<intro>intro))'
    r"(?:\s+as\s+h(?P<level>[1-6]))?\s*-->[ \t]*$",
    re.MULTILINE,
)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S")
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")
IMAGE = re.compile(r"!\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")

_ROOT: Path | None = None
_ANCHORS: dict[str, tuple[str, str]] = {}  # README anchor (GitHub's slug) -> (page src_uri, the site's slug)
_FILE_PAGES: dict[str, str] = {}  # repository path -> page src_uri that includes it whole


@dataclass(frozen=True)
class Heading:
    line: int
    level: int
    text: str


def fenced(lines: list[str]) -> list[bool]:
    """For each line: is it code (a fence line or inside a fenced block), where Markdown syntax means nothing?"""
    flags, fence = [], ""
    for line in lines:
        marker = FENCE.match(line)
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = "" if not line.strip().strip(fence[0]) else fence
            flags.append(True)
        else:
            fence = marker.group(1) if marker else ""
            flags.append(bool(marker))
    return flags


def headings(lines: list[str]) -> list[Heading]:
    """The Markdown headings of ``lines``, skipping fenced code."""
    found = []
    for number, (line, code) in enumerate(zip(lines, fenced(lines), strict=True)):
        if code:
            continue
        match = HEADING.match(line)
        if match:
            found.append(Heading(number, len(match.group(1)), match.group(2)))
    return found


def plain(text: str) -> str:
    """A heading's text as rendered, without Markdown: what both slugs are made from."""
    text = LINK.sub(lambda m: m.group("text"), text)
    return re.sub(r"[`*]", "", text).strip()


def github_slug(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", plain(text).lower()).replace(" ", "-")


def site_slug(text: str) -> str:
    """Python-Markdown's toc slugify (MkDocs' default), so anchors match the site's headings."""
    value = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise PluginError(f"readme hook: cannot read {path}: {error}") from error


def _section(lines: list[str], name: str, source: str, page: str) -> tuple[list[str], list[Heading]]:
    """The lines of the one section whose heading starts with ``name`` (case-insensitive), for ``page``."""
    all_headings = headings(lines)
    matches = [h for h in all_headings if h.level > 1 and plain(h.text).lower().startswith(name.lower())]
    if len(matches) != 1:
        listed = "\n".join(f"  {'#' * h.level} {h.text}" for h in all_headings if h.level > 1)
        what = "no heading" if not matches else f"{len(matches)} headings"
        raise PluginError(
            f'readme hook: docs/{page} includes the section "{name}", but {what} of {source} start with it: '
            f"change the directive to one of these (or give a longer prefix):\n{listed}"
        )
    start = matches[0]
    end = next((h.line for h in all_headings if h.line > start.line and h.level <= start.level), len(lines))
    body = lines[start.line : end]
    return body, [h for h in all_headings if start.line <= h.line < end]


def _intro(lines: list[str]) -> list[str]:
    first = next((h.line for h in headings(lines) if h.level > 1), len(lines))
    titles = {h.line for h in headings(lines) if h.level == 1 and h.line < first}
    return [line for number, line in enumerate(lines[:first]) if number not in titles]


def _shift(lines: list[str], top: int, level: int | None) -> list[str]:
    """Move the section's headings so its own lands at ``level``; sub-headings keep their distance."""
    if level is None or level == top:
        return lines
    heading_lines = {h.line: h for h in headings(lines)}
    out = []
    for number, line in enumerate(lines):
        heading = heading_lines.get(number)
        if heading is None:
            out.append(line)
        else:
            out.append("#" * min(6, max(1, heading.level + level - top)) + " " + heading.text)
    return out


def _blank_before_lists(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_list = False
    for line, code in zip(lines, fenced(lines), strict=True):
        if code:
            out.append(line)
            continue
        previous = out[-1] if out else ""
        if not line.strip():
            out.append(line)
            continue
        if LIST_ITEM.match(line):
            if not in_list and previous.strip() and not previous.lstrip().startswith(("|", "<", "#")):
                out.append("")
            in_list = True
        elif not previous.strip() and not line.startswith((" ", "\t")):
            in_list = False
        out.append(line)
    return out


def _directives(markdown: str) -> list[re.Match[str]]:
    return list(DIRECTIVE.finditer(markdown))


def on_config(config: Any) -> Any:
    global _ROOT
    _ROOT = Path(config["config_file_path"]).resolve().parent
    return config


def on_files(files: Any, config: Any) -> Any:
    """Before any page renders: where each README section and each whole file lands, for the links."""
    assert _ROOT is not None
    _ANCHORS.clear()
    _FILE_PAGES.clear()
    readme = _read(_ROOT / "README.md")
    for file in files.documentation_pages():
        for directive in _directives(Path(file.abs_src_path).read_text(encoding="utf-8")):
            if directive["kind"] == "file":
                _FILE_PAGES[directive["name"]] = file.src_uri
                continue
            if directive["intro"]:
                _FILE_PAGES.setdefault("README.md", file.src_uri)
                continue
            _, section_headings = _section(readme, directive["name"], "README.md", file.src_uri)
            for heading in section_headings:
                _ANCHORS.setdefault(github_slug(heading.text), (file.src_uri, site_slug(heading.text)))
    return files


def _relative(target: str, page: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _fix_links(lines: list[str], page: str, source: str) -> list[str]:
    """Links of text included from repository file ``source`` (a path from the root), made to work on ``page``."""
    base = posixpath.dirname(source)

    def fix(match: re.Match[str]) -> str:
        text, target = match.group("text"), match.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(base, path)) if path else source
        if repo_path == "README.md" and anchor:
            if anchor not in _ANCHORS:
                log.warning(f"readme hook: {source} links to README section #{anchor}, which no docs page includes")
                return text
            where, slug = _ANCHORS[anchor]
            return f"[{text}]({'' if where == page else _relative(where, page)}#{slug})"
        if repo_path in _FILE_PAGES:
            where = _FILE_PAGES[repo_path]
            suffix = f"#{anchor}" if anchor else ""
            return f"[{text}]({'' if where == page and suffix else _relative(where, page)}{suffix})"
        return text if text.strip("`") == repo_path else f"{text} (`{repo_path}`)"

    def image(match: re.Match[str]) -> str:  # an image under docs/ is a file of the site too
        repo_path = posixpath.normpath(posixpath.join(base, match.group("target")))
        if not repo_path.startswith("docs/"):
            return match.group(0)
        return f"![{match.group('text')}]({_relative(repo_path.removeprefix('docs/'), page)})"

    return [
        line if code else IMAGE.sub(image, LINK.sub(fix, line)) for line, code in zip(lines, fenced(lines), strict=True)
    ]


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    assert _ROOT is not None
    src = page.file.src_uri

    def include(directive: re.Match[str]) -> str:
        level = int(directive["level"]) if directive["level"] else None
        if directive["kind"] == "file":
            source = directive["name"]
            lines = _read(_ROOT / source)
            file_headings = headings(lines)
            if file_headings:
                lines = _shift(lines, min(h.level for h in file_headings), level)
        else:
            source = "README.md"
            readme = _read(_ROOT / source)
            if directive["intro"]:
                lines = _intro(readme)
            else:
                lines, section_headings = _section(readme, directive["name"], source, src)
                lines = _shift(lines, section_headings[0].level, level)
        lines = _fix_links(_blank_before_lists(lines), src, source)
        return "\n".join(lines).strip("\n")

    return DIRECTIVE.sub(include, markdown)
