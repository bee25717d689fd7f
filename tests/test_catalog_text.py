"""HTML to plain text, and HTML sanitising, for product descriptions."""

from __future__ import annotations

from storebot.catalog.text import html_to_text, looks_like_html, sanitize_html


def test_html_to_text_breaks_blocks_decodes_entities_and_drops_scripts() -> None:
    html = (
        "<h2>Ridge&nbsp;Shell</h2><p>Light &amp; <b>dry</b>,\n   really.</p>"
        "<script>alert('x')</script><style>p {color: red}</style>"
        "<ul><li>Taped seams</li><li>Hood</li></ul>Fits&#160;true<br>to size"
    )
    assert html_to_text(html) == "Ridge Shell\n\nLight & dry, really.\n\n- Taped seams\n- Hood\n\nFits true\nto size"


def test_html_to_text_keeps_table_cells_apart_and_passes_plain_text() -> None:
    assert html_to_text("<table><tr><td>Weight</td><td>320 g</td></tr><tr><td>Fabric</td></tr></table>") == (
        "Weight 320 g\nFabric"
    )
    assert html_to_text("5 < 6, plain") == "5 < 6, plain"
    assert html_to_text("") == html_to_text(None) == ""


def test_sanitize_html_keeps_the_allowlist_only() -> None:
    dirty = (
        '<p onclick="steal()" style="color:red">Hi <strong>there</strong></p>'
        "<script>steal()</script><img src=x onerror=alert(1)><iframe src=//evil></iframe>"
        '<h1>Big</h1><a href="javascript:alert(1)">bad</a><a href="https://x.example" target="_blank">ok</a>'
    )
    clean = sanitize_html(dirty)
    assert "<script" not in clean and "steal" not in clean
    assert "onclick" not in clean and "style" not in clean and "<img" not in clean and "<iframe" not in clean
    assert clean.startswith("<p>Hi <strong>there</strong></p>")
    assert "Big" in clean and "<h1>" not in clean
    assert '<a rel="noopener noreferrer">bad</a>' in clean
    assert '<a href="https://x.example" rel="noopener noreferrer">ok</a>' in clean


def test_looks_like_html() -> None:
    assert looks_like_html("<p>x</p>") and looks_like_html("Tom &amp; Jerry")
    assert not looks_like_html("5 < 6 & 7 > 3")
