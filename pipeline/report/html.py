"""HTML building blocks of the run report and the UI: escaping, the self-contained page, sections, tables, links."""

from __future__ import annotations

import html as _html
import math
from typing import Iterable, Optional


class Raw(str):
    """Markup already built (and escaped) by this package: table() and friends insert it as is."""


def esc(value) -> str:
    """Every string that comes from data or metadata goes through here before it reaches a page."""
    if isinstance(value, Raw):
        return str(value)
    return _html.escape("" if value is None else str(value), quote=True)


# No external URL anywhere: the page must open from a USB stick on an air-gapped laptop.
CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d8dde6;--bg:#fff;--panel:#f5f7fa;--ok:#1a7f37;--bad:#c62828;
--warn:#b26a00;--accent:#2456a6;--s0:#2456a6;--s1:#d9822b;--s2:#2e9e5b;--s3:#8e44ad;--s4:#c0392b;--s5:#16a0a8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
margin:0;padding:0 1.5rem 3rem}
header.top{position:sticky;top:0;background:var(--bg);border-bottom:1px solid var(--line);padding:.6rem 0;
display:flex;gap:1rem;align-items:center;flex-wrap:wrap;z-index:2}
header.top h1{font-size:1.2rem;margin:0}
header.top nav a{margin-right:.8rem}
header.top .tools{margin-left:auto;display:flex;gap:.4rem}
input.search{padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px;min-width:16rem}
button{font:inherit;padding:.25rem .6rem;border:1px solid var(--line);background:var(--panel);border-radius:4px;
cursor:pointer}
a{color:var(--accent)}
section{margin-top:1.2rem}
section>details>summary{cursor:pointer;list-style:none}
section>details>summary::-webkit-details-marker{display:none}
section>details>summary h2{display:inline-block;font-size:1.1rem;margin:.2rem 0;border-bottom:2px solid var(--accent)}
section>details>summary::before{content:"\\25B8 ";color:var(--muted)}
section>details[open]>summary::before{content:"\\25BE "}
details.item{border:1px solid var(--line);border-radius:4px;margin:.3rem 0;padding:.2rem .6rem}
details.item>summary{cursor:pointer;font-weight:600}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}
th,td{border:1px solid var(--line);padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:var(--panel)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.pass,.ok,.ran,.complete{color:var(--ok)}
.fail,.bad,.failed{color:var(--bad);font-weight:600}
.warn,.cached{color:var(--warn)}
.muted,.missing{color:var(--muted)}
p.missing{font-style:italic}
pre{background:var(--panel);padding:.5rem;overflow:auto;max-height:24rem;font-size:12px}
.charts,.side{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-start}
svg.chart{background:#fff;border:1px solid var(--line);border-radius:4px;max-width:100%;height:auto}
svg.chart text{font:11px system-ui,sans-serif;fill:var(--fg)}
svg.chart .axis{stroke:#9aa3b2;stroke-width:1}
svg.chart .grid{stroke:#eceff4;stroke-width:1}
svg.chart .bar{fill:var(--s0)}
svg.chart .bar.bad{fill:var(--bad)}
svg.chart .bar.s1{fill:var(--s1)}svg.chart .bar.s2{fill:var(--s2)}svg.chart .bar.s3{fill:var(--s3)}
svg.chart .threshold{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:5 3}
svg.chart .diagonal{stroke:#9aa3b2;stroke-dasharray:4 3}
svg.chart path.series{fill:none;stroke-width:2}
svg.chart .node rect{stroke:#6b7484;stroke-width:1;fill:#eef1f6}
svg.chart .node[data-state=ran] rect,svg.chart .node[data-state=complete] rect{fill:#e3f4e8;stroke:var(--ok)}
svg.chart .node[data-state=cached] rect{fill:#fff4e0;stroke:var(--warn)}
svg.chart .node[data-state=failed] rect{fill:#fde7e7;stroke:var(--bad)}
svg.chart .node[data-state=artifact] rect{fill:#fff;stroke:var(--accent)}
svg.chart .edge{stroke:#9aa3b2;stroke-width:1.2;fill:none}
.legend span{display:inline-block;margin-right:.8rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.25rem;vertical-align:middle}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:.8rem}
.hidden{display:none!important}
"""

# Section collapse (expand/collapse all) and the search box that filters elements carrying data-search.
SCRIPT = """
(function(){
var q=document.getElementById('search');
if(q){q.addEventListener('input',function(){
 var v=q.value.trim().toLowerCase();
 document.querySelectorAll('[data-search]').forEach(function(el){
  var hit=!v||el.getAttribute('data-search').toLowerCase().indexOf(v)>=0;
  el.classList.toggle('hidden',!hit);
  if(hit&&v&&el.tagName==='DETAILS'){el.open=true;}
 });
});}
function all(open){document.querySelectorAll('section>details,details.item').forEach(function(d){d.open=open;});}
var e=document.getElementById('expand-all'),c=document.getElementById('collapse-all');
if(e){e.addEventListener('click',function(){all(true);});}
if(c){c.addEventListener('click',function(){all(false);});}
})();
"""


def page(title: str, body: str, *, nav: str = "", refresh: Optional[int] = None) -> str:
    """A whole HTML5 document: inline CSS and script, no request to any other URL (the icon is a data: URL)."""
    meta_refresh = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"{meta_refresh}<link rel=\"icon\" href=\"data:,\"><title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body><header class=\"top\"><h1>{esc(title)}</h1><nav>{nav}</nav><div class=\"tools\">"
        "<input id=\"search\" class=\"search\" type=\"search\" placeholder=\"filter features, slices…\" "
        "aria-label=\"filter\"><button id=\"expand-all\" type=\"button\">expand all</button>"
        "<button id=\"collapse-all\" type=\"button\">collapse all</button></div></header>\n"
        f"<main>{body}</main>\n<script>{SCRIPT}</script></body></html>\n"
    )


def section(anchor: str, title: str, body: str, *, open: bool = True) -> str:
    is_open = " open" if open else ""
    return (f'<section id="{esc(anchor)}"><details{is_open}><summary><h2>{esc(title)}</h2></summary>'
            f"{body}</details></section>\n")


def _cell(value, tag: str) -> str:
    if isinstance(value, Raw):
        return f"<{tag}>{value}</{tag}>"
    if isinstance(value, bool) or value is None:
        return f"<{tag}>{esc('' if value is None else value)}</{tag}>"
    if isinstance(value, (int, float)):
        return f'<{tag} class="num">{esc(fmt_number(value))}</{tag}>'
    return f"<{tag}>{esc(value)}</{tag}>"


def table(headers: list[str], rows: Iterable[list], *, cls: str = "") -> str:
    """Cells are escaped; a Raw cell is inserted as is; numbers are right-aligned and formatted with fmt_number.
    Headers that are all empty make a table without a header row (label/value facts)."""
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    head = "".join(_cell(h, "th") for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(str(h) for h in headers) else ""
    body = "".join("<tr>" + "".join(_cell(c, "td") for c in row) + "</tr>" for row in rows)
    return f"<table{cls_attr}>{thead}<tbody>{body}</tbody></table>"


def link(href: str, text: str) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def fmt_number(value) -> str:
    """Short, readable numbers: integers as is, floats with 4 significant digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def missing(text: str) -> str:
    """The sentence a section shows instead of what it could not read."""
    return f'<p class="missing">{esc(text)}</p>'


def item(summary: str, body: str, *, search: Optional[str] = None, open: bool = False) -> str:
    """A collapsed block (one feature, one slice); `search` is the text the search box matches."""
    attr = f' data-search="{esc(search)}"' if search is not None else ""
    is_open = " open" if open else ""
    return f'<details class="item"{attr}{is_open}><summary>{esc(summary)}</summary>{body}</details>'
