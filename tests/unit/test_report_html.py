"""pipeline.report.html: escaping of every text, a self-contained page (no external URL), sections, tables."""

from __future__ import annotations

import re

from pipeline.report import html as H

HOSTILE = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)")


def no_live_markup(doc: str) -> None:
    """None of HOSTILE survives as markup: no injected tag, no attribute break-out."""
    assert "<script>alert" not in doc
    assert "<img" not in doc
    assert not re.search(r"""\sonerror=""", doc.replace("&quot;&gt;&lt;img src=x onerror=", ""))
    assert "' onmouseover='" not in doc


def test_esc_escapes_markup_and_quotes():
    assert H.esc('<script>"x"</script>') == "&lt;script&gt;&quot;x&quot;&lt;/script&gt;"
    assert H.esc("it's") == "it&#x27;s"
    assert H.esc(None) == "" and H.esc(3) == "3"
    assert H.esc(H.Raw("<b>kept</b>")) == "<b>kept</b>"


def test_page_is_self_contained():
    doc = H.page("t", "<p>body</p>", nav=H.link("/", "runs"), refresh=5)
    assert doc.startswith("<!DOCTYPE html>")
    assert '<link rel="icon" href="data:,">' in doc
    assert '<meta http-equiv="refresh" content="5">' in doc
    assert 'id="search"' in doc and "data-search" in doc  # the filter script
    # No URL of any scheme but data: anywhere (no CDN, font, favicon fetch); the SVG namespace is not a request.
    urls = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", doc) + re.findall(r"url\(([^)]*)\)", doc)
    assert urls == ["data:,", "/"]
    assert "http://" not in doc and "https://" not in doc and "@import" not in doc


def test_page_without_refresh_has_none():
    assert "refresh" not in H.page("t", "")


def test_every_text_argument_is_escaped():
    for bad in HOSTILE:
        doc = H.page(bad, H.section("data", bad, H.table([bad], [[bad, 1.5, H.Raw("<em>ok</em>")]]))
                     + H.link(bad, bad) + H.item(bad, H.missing(bad), search=bad))
        no_live_markup(doc)
        assert "<em>ok</em>" in doc
        assert H.esc(bad) in doc  # shown literally


def test_section_and_item_structure():
    s = H.section("evaluation", "Evaluation", "<p>x</p>", open=False)
    assert s.startswith('<section id="evaluation"><details><summary><h2>Evaluation</h2></summary><p>x</p>')
    assert "<details open>" in H.section("run", "Run", "")
    item = H.item("trip_miles", "<p>b</p>", search="trip_miles")
    assert item.startswith('<details class="item" data-search="trip_miles"><summary>trip_miles</summary>')


def test_table_numbers_right_aligned_and_formatted():
    t = H.table(["a", "b"], [[1, 0.123456], [12345, float("nan")], [None, True]])
    assert '<td class="num">0.1235</td>' in t and '<td class="num">12,345</td>' in t
    assert '<td class="num">nan</td>' in t and "<td></td>" in t and "<td>True</td>" in t
    assert t.count("<tr>") == 4
