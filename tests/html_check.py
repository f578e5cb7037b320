"""Checks of an HTML report page shared by the unit and integration tests."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

_REMOTE = re.compile(r"^\s*(https?:|ftp:|//|file:)", re.IGNORECASE)


@dataclass
class Page:
    """What a page holds: its tags with attributes, figures by class, text, remote references."""

    html: str
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: str = ""

    def figures(self, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == "figure" and cls in a.get("class", "").split()]

    def cards(self) -> dict[str, str]:
        """Each card (``<article>``) of the attention list by id: its HTML."""
        return {
            m.group(1): m.group(0)
            for m in re.finditer(
                r'<article class="card[^"]*" id="([^"]+)">.*?</article>', self.html, re.S
            )
        }

    def remote_references(self) -> list[str]:
        found = []
        for tag, attrs in self.tags:
            for name in ("src", "href", "srcset", "data", "action", "poster", "xlink:href"):
                value = attrs.get(name)
                if value is not None and not value.startswith(("#", "data:")):
                    found.append(f"<{tag} {name}={value!r}>")
            if tag in ("script", "link", "iframe", "object", "embed", "base"):
                found.append(f"<{tag}>")
        for style in re.findall(r"<style>(.*?)</style>", self.html, re.S):
            found += [f"css {m}" for m in re.findall(r"(@import|url\()", style)]
        return found

    def svgs(self) -> list[ET.Element]:
        """Every inline SVG, parsed as XML (raises if one is not well formed)."""
        return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", self.html, re.S)]

    def images(self) -> list[bytes]:
        """Every ``<img>``'s data, decoded from its ``data:`` URI (raises if one is not)."""
        out = []
        for tag, attrs in self.tags:
            if tag == "img":
                head, _, data = attrs["src"].partition(",")
                assert head.startswith("data:image/"), head
                assert head.endswith(";base64"), head
                out.append(base64.b64decode(data, validate=True))
        return out


class _Collector(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def parse(html: str) -> Page:
    page = Page(html)
    collector = _Collector(page)
    collector.feed(html)
    collector.close()
    page.text = " ".join(collector.chunks)
    return page


def assert_self_contained(page: Page) -> None:
    assert page.html.startswith("<!DOCTYPE html>")
    assert page.remote_references() == []
    assert not _REMOTE.search(page.html.split("<style>")[0])
    for svg in page.svgs():
        assert svg.tag == "svg"
    for image in page.images():
        assert image[:8] == b"\x89PNG\r\n\x1a\n" or image[:4] == b"<svg"
