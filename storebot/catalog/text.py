"""Turn feed HTML into plain text for the assistant, or into safe HTML for display.

Product descriptions arrive as HTML (Shopify's ``body_html``, Google and CSV
descriptions pasted from an editor). Retrieval and the chat read plain text;
the widget may show the HTML, so that copy is sanitised with ``nh3`` against a
small allowlist first.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Elements that end a paragraph, and elements that only end a line.
_PARAGRAPH = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section",
    "table", "ul",
}  # fmt: skip
_LINE = {"br", "li", "tr", "caption"}
_CELL = {"td", "th"}
# Whose content is never prose: dropping it keeps scripts and CSS out of search.
_HIDDEN = {"script", "style", "template", "noscript", "head", "title", "iframe", "object", "svg", "math", "select"}

_SAFE_TAGS = {
    "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "a",
}  # fmt: skip
# Dropped with their content; nh3 would otherwise keep a script's text as prose.
_DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math"}

_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but newline (covers nbsp)
_BLANK_LINES = re.compile(r"\n{3,}")
_LOOKS_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if tag == "pre":
            self.pre += 1
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _LINE:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/>: a self-closing hidden tag must not open a hidden region.
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        # A line-level tag breaks the line where it opens; breaking again on
        # close would put blank lines between list items and table rows.

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            # In HTML a line break in the source is just a space, except inside <pre>.
            self.parts.append(data if self.pre else data.replace("\n", " "))


def html_to_text(html: str | None) -> str:
    """Plain text from an HTML fragment: tags dropped, entities decoded, whitespace collapsed.

    Paragraph-like elements become blank-line breaks, ``<br>`` and table rows
    line breaks, list items ``- `` bullets; script and style content is dropped.

    Example:
        >>> html_to_text("<p>Light &amp; dry.</p><ul><li>Taped seams</li><li>Hood</li></ul>")
        'Light & dry.\\n\\n- Taped seams\\n- Hood'
    """
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(str(html))
    parser.close()
    text = _SPACES.sub(" ", "".join(parser.parts))
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def sanitize_html(html: str | None) -> str:
    """HTML safe to show in the widget: a small allowlist of tags, only ``href`` on links.

    Example:
        >>> sanitize_html('<p onclick="x()">Hi<script>alert(1)</script></p>')
        '<p>Hi</p>'
    """
    if not html:
        return ""
    return nh3.clean(
        str(html),
        tags=_SAFE_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def looks_like_html(text: str) -> bool:
    """Whether a feed value holds markup or entities rather than plain prose."""
    return bool(_LOOKS_HTML.search(text))
