"""Authored Markdown to safe HTML: rendered with Python-Markdown, then sanitised with nh3.

TeX between `$...$` (inline) or `$$...$$` (display) becomes `<span class="math">TeX</span>`
(`class="math display"`) during the Markdown step, as an element whose text is escaped by the
serialiser, so math never lands inside an attribute; the page's script draws it with KaTeX.
"""

import re
import xml.etree.ElementTree as etree
from functools import lru_cache

import markdown as markdown_lib
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "th": {"align"},
    "td": {"align"},
}
# A span may carry exactly the classes of the math step (nh3 drops any other class value).
ALLOWED_CLASSES = {"span": {"math", "display"}}

# Display math first; inline math follows pandoc's rule so that prices stay text ("$5 and $10"):
# no space just inside the dollars and no digit right after the closing one.
MATH_PATTERN = (
    r"(?<![\\$])\$\$(?P<display>[^$]+?)\$\$"
    r"|(?<![\\$])\$(?![\s$])(?P<inline>[^$\n]*?[^$\s\\])\$(?!\d)"
)
# Positions inside link or image syntax whose text becomes an attribute (alt, href, title).
IMAGE_ALT_OPEN = "!["
LINK_TARGET_OPEN = re.compile(r"\]\s?\(")
OPEN_HTML_ATTRIBUTE = re.compile(r"<[A-Za-z][\w:-]*\s[^<>]*=\s*(\"[^\"]*|'[^']*)$")


def _inside_attribute_syntax(before: str) -> bool:
    """True when the text before a match leaves it in an alt, a link target or a raw HTML tag."""
    if OPEN_HTML_ATTRIBUTE.search(before):
        return True
    alt_start = before.rfind(IMAGE_ALT_OPEN)
    if alt_start != -1 and "]" not in before[alt_start:]:
        return True
    targets = list(LINK_TARGET_OPEN.finditer(before))
    return bool(targets) and ")" not in before[targets[-1].end() :]


class MathInlineProcessor(InlineProcessor):
    def handleMatch(
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        if _inside_attribute_syntax(data[: m.start(0)]):
            return None, None, None
        element = etree.Element("span")
        display = m.group("display")
        element.set("class", "math display" if display is not None else "math")
        element.text = AtomicString((display if display is not None else m.group("inline")).strip())
        return element, m.start(0), m.end(0)


class MathExtension(Extension):
    """`$...$` and `$$...$$` to span.math; `\\$` is a literal dollar."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        if "$" not in md.ESCAPED_CHARS:
            md.ESCAPED_CHARS.append("$")
        # Above "escape" (180), so TeX backslashes stay as written; below "backtick" (190), so
        # code spans keep their dollars.
        md.inlinePatterns.register(MathInlineProcessor(MATH_PATTERN, md), "math", 185)


@lru_cache(maxsize=4096)
def markdown_render(text: str) -> str:
    """Render authored Markdown to HTML with every script, handler and unsafe URL removed.

    A pure function of the text, so each process caches it: a lesson is rendered many times.
    """
    html = markdown_lib.markdown(
        text or "", extensions=["fenced_code", "tables", "sane_lists", MathExtension()]
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def markdown_inline_render(text: str) -> str:
    """Like `markdown_render` for one-line text (a choice, a hint): without the paragraph."""
    html = markdown_render(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html
