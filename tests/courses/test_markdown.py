"""Authored Markdown is rendered to HTML with everything executable removed."""

import pytest

from courses.markdown import markdown_inline_render, markdown_render


def test_plain_markdown_is_rendered():
    assert markdown_render("Some **bold** and *em*.") == (
        "<p>Some <strong>bold</strong> and <em>em</em>.</p>"
    )


def test_empty_text_renders_to_nothing():
    assert markdown_render("") == ""


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "Text<script src='https://evil.example/x.js'></script>",
        "<SCRIPT>alert(1)</SCRIPT>",
    ],
)
def test_scripts_are_removed(source):
    html = markdown_render(source)

    assert "script" not in html.lower()
    assert "alert" not in html


@pytest.mark.parametrize(
    "source",
    [
        '<img src="x.png" alt="x" onerror="alert(1)">',
        '<a href="https://example.org" onclick="alert(1)">go</a>',
        "<p onmouseover='alert(1)'>hover</p>",
    ],
)
def test_event_handlers_are_removed(source):
    html = markdown_render(source)

    assert "alert" not in html
    assert " on" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<a href="&#106;avascript:alert(1)">click</a>',
        "![x](javascript:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    ],
)
def test_unsafe_urls_are_removed(source):
    html = markdown_render(source)

    assert "javascript" not in html.lower()
    assert "alert" not in html
    assert "data:" not in html


def test_iframes_are_removed():
    html = markdown_render('<iframe src="https://evil.example"></iframe>\n\nAfter.')

    assert "iframe" not in html
    assert "evil" not in html
    assert html.endswith("<p>After.</p>")


def test_styles_and_objects_are_removed():
    html = markdown_render('<style>p{}</style><object data="x.swf"></object><p style="x">t</p>')

    assert html.strip() == "<p>t</p>"


def test_safe_links_are_kept_and_made_nofollow():
    html = markdown_render("[docs](https://example.org/docs)")

    assert html == (
        '<p><a href="https://example.org/docs" rel="noopener noreferrer nofollow">docs</a></p>'
    )


def test_images_keep_their_source_and_alt_text():
    html = markdown_render("![A graph](https://example.org/graph.png)")

    assert html == '<p><img alt="A graph" src="https://example.org/graph.png"></p>'


def test_fenced_code_blocks_are_kept_with_the_language_class():
    html = markdown_render("```python\nif a < b:\n    print('<b>')\n```")

    assert html == (
        "<pre><code class=\"language-python\">if a &lt; b:\n    print('&lt;b&gt;')\n</code></pre>"
    )


def test_tables_are_kept():
    html = markdown_render("| a | b |\n|---|---|\n| 1 | 2 |")

    assert html == (
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>"
    )


# Math: $...$ and $$...$$ become span.math in the Markdown step, before cleaning ----------------


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("$x^2$", '<p><span class="math">x^2</span></p>'),
        ("$(-2)^4$", '<p><span class="math">(-2)^4</span></p>'),
        ("$$\\frac{a}{b}$$", '<p><span class="math display">\\frac{a}{b}</span></p>'),
        (
            "$\\{1, 2\\}$ and $a \\\\ b$",
            ('<p><span class="math">\\{1, 2\\}</span> and <span class="math">a \\\\ b</span></p>'),
        ),
        ("$a*b*c$ *em*", '<p><span class="math">a*b*c</span> <em>em</em></p>'),
        (
            "$a<b$ & $c>d$",
            ('<p><span class="math">a&lt;b</span> &amp; <span class="math">c&gt;d</span></p>'),
        ),
        ("`$HOME $PATH`", "<p><code>$HOME $PATH</code></p>"),
        ("It costs $5 and $10.", "<p>It costs $5 and $10.</p>"),
        ("A literal \\$x\\$.", "<p>A literal $x$.</p>"),
        (
            "[see $z$](https://example.org)",
            (
                '<p><a href="https://example.org" rel="noopener noreferrer nofollow">see '
                '<span class="math">z</span></a></p>'
            ),
        ),
    ],
)
def test_math_becomes_span_math_with_escaped_tex(source, html):
    assert markdown_render(source) == html


def test_math_inside_fenced_code_stays_code():
    assert markdown_render("```\necho $A $B\n```") == "<pre><code>echo $A $B\n</code></pre>"


@pytest.mark.parametrize(
    ("source", "attribute"),
    [
        ('[a](https://example.org "cost $x$")', 'title="cost $x$"'),
        ("![area $r^2$](https://example.org/c.png)", 'alt="area $r^2$"'),
        ('![c](https://example.org/c.png "a $b$ c")', 'title="a $b$ c"'),
        ('Say <abbr title="cost $x$">y</abbr>.', 'title="cost $x$"'),
        ("<img src=\"https://example.org/a.png\" alt='$q$'>", 'alt="$q$"'),
    ],
)
def test_a_dollar_inside_a_link_title_or_image_alt_stays_text(source, attribute):
    html = markdown_render(source)

    assert attribute in html
    assert "math" not in html


def test_span_classes_are_only_those_of_the_math_step():
    html = markdown_render('<span class="math evil">q</span> <span class="x" onclick="y">w</span>')

    assert html == '<p><span class="math">q</span> <span class="">w</span></p>'


def test_tex_cannot_break_out_of_its_element():
    html = markdown_render('$</span><script>alert(1)</script>$ $" onmouseover="x$')

    assert html == (
        '<p><span class="math">&lt;/span&gt;&lt;script&gt;alert(1)&lt;/script&gt;</span> '
        '<span class="math">" onmouseover="x</span></p>'
    )


def test_inline_render_drops_the_single_paragraph():
    assert markdown_inline_render("$(-2)^4$ is **16**") == (
        '<span class="math">(-2)^4</span> is <strong>16</strong>'
    )
    assert markdown_inline_render("one\n\ntwo") == "<p>one</p>\n<p>two</p>"
