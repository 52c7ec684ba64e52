"""Nothing a student's notebook carries runs in the instructor's (or a student's) browser.

formgrader and nbgrader's feedback render a submission with nbconvert's classic HTML
template: ``text/html`` outputs, ``application/javascript`` outputs, widget views and the
HTML inside markdown cells go into the page as they are. :class:`SanitizeNotebook` is an
nbconvert preprocessor that keeps **text and images only**:

* code cell outputs keep ``text/plain``, PNG/JPEG/GIF images and ``text/html`` cleaned by
  bleach through nbconvert's :class:`~nbconvert.preprocessors.SanitizeHTML`;
  ``application/javascript``, widget views, SVG, LaTeX and every other type are dropped (a
  line of text says so); output metadata keep only numeric image sizes (the template
  writes ``width=`` without quotes); stream names are ``stdout`` or ``stderr``;
* markdown cells that are not locked instructor cells are rendered with nbconvert's own
  markdown renderer and checked: only plain tags, no event handlers, no ``javascript:``
  (or any non-web) URL, no MathJax command that makes links or loads code. A cell that
  fails is cleaned with bleach and checked again; if it still fails (a markdown link
  ``[x](javascript:...)`` is not HTML, so bleach never sees it; a mermaid block is put
  into the page unescaped) it is shown as text;
* attachments keep PNG/JPEG/GIF images only; raw cells are cleaned with bleach; the
  notebook's ``widgets`` metadata (the template loads a widget manager for it) is dropped.

It runs (a) in nbgrader's Autograde chain, so the autograded notebook on disk, which
formgrader shows, is already clean, and (b) in the feedback chain (``nbgrader_config.py``).
Running it twice changes nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import Any, Bool, List, Unicode

__all__ = ["SanitizeNotebook", "add_to_autograde", "markdown_problem", "sanitize_notebook"]

#: Output types kept as they are (text is always escaped by the template).
TEXT_TYPES = ("text/plain",)
#: Raster images, kept (the template escapes their data; an SVG can carry a script).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
#: Tags bleach may keep in a ``text/html`` output: formatting and tables, nothing active.
HTML_TAGS = sorted({
    "a", "abbr", "acronym", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
HTML_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "acronym": ["title"],
                   "td": ["colspan", "rowspan"], "th": ["colspan", "rowspan"]}
#: Tags nbconvert's markdown renderer makes from plain markdown (and its math and tables).
MARKDOWN_TAGS = frozenset(HTML_TAGS) | {"img", "dl", "dt", "dd", "caption",
                                        "colgroup", "col", "mark", "kbd", "samp", "var", "q",
                                        "cite", "details", "summary", "figure", "figcaption"}
MARKDOWN_ATTRIBUTES = frozenset({"href", "title", "src", "alt", "class", "id", "colspan",
                                 "rowspan", "align", "start", "width", "height"})
URL_ATTRIBUTES = frozenset({"href", "src"})
SAFE_SCHEMES = frozenset({"", "http", "https", "mailto"})
#: MathJax commands that make links, set attributes or load extensions.
_MATHJAX_ACTIVE = re.compile(r"\\(href|require|class|style|cssId|data|unicode|html|mmlToken)\b")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def _url_ok(url: str) -> bool:
    url = _CONTROL.sub("", url or "")
    if url.startswith(tuple(f"data:{mime};base64," for mime in IMAGE_TYPES)):
        return True
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in SAFE_SCHEMES


class _Checker(HTMLParser):
    """Finds what is not plain text and images in rendered markdown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.verbatim = 0  # inside <code>/<pre>, which MathJax leaves alone

    def handle_endtag(self, tag):
        if tag in ("code", "pre") and self.verbatim:
            self.verbatim -= 1

    def handle_data(self, data):
        found = None if self.verbatim else _MATHJAX_ACTIVE.search(data)
        if found:
            self.problems.append(f"the MathJax command {found.group(0)}")

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre"):
            self.verbatim += 1
        if tag not in MARKDOWN_TAGS:
            self.problems.append(f"a <{tag}> tag")
        for name, value in attrs:
            if name.startswith("on") or name not in MARKDOWN_ATTRIBUTES:
                self.problems.append(f"a {name!r} attribute on <{tag}>")
            elif name in URL_ATTRIBUTES and not _url_ok(value or ""):
                self.problems.append(f"a link to {(value or '')[:40]!r}")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)


def _render_markdown(source: str, attachments: dict) -> str:
    """The HTML nbconvert's exporters (formgrader, feedback) make of a markdown cell."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=attachments, embed_images=False,
                               anchor_link_text="¶")
    return MarkdownWithMath(renderer=renderer).render(source)


def markdown_problem(source: str, attachments: dict | None = None) -> str | None:
    """Why a markdown cell's rendering is not plain text and images (``None`` if it is)."""
    try:
        html = _render_markdown(source, dict(attachments or {}))
    except Exception as err:  # e.g. a missing attachment: nbconvert would fail on it
        return f"markdown nbconvert cannot render ({type(err).__name__})"
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems[0] if checker.problems else None


def _as_text(source: str, why: str) -> str:
    fence = "~" * max(4, 1 + max((len(m) for m in re.findall(r"~+", source)), default=0))
    return (f"*This cell is shown as text: it held {why}, which could run code in a browser.*"
            f"\n\n{fence}text\n{source}\n{fence}")


class SanitizeNotebook(SanitizeHTML):
    """Keep text and images only (see the module docstring); idempotent.

    Configure like nbconvert's ``SanitizeHTML`` (``tags``, ``attributes``); the defaults
    here add tables and basic formatting to bleach's list.
    """

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled").tag(config=True)
    tags = List(Unicode(), default_value=HTML_TAGS,
                help="HTML tags kept in text/html outputs and raw cells").tag(config=True)
    attributes = Any(default_value=HTML_ATTRIBUTES,
                     help="HTML attributes kept, by tag").tag(config=True)

    def preprocess(self, nb, resources):
        """Clean the notebook's metadata, then every cell."""
        nb.metadata.pop("widgets", None)
        self.removed: list[str] = []
        nb, resources = super().preprocess(nb, resources)
        if self.removed:
            resources.setdefault("sanitized", []).extend(self.removed)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        """Clean one cell: outputs of code cells, student markdown, raw cells, attachments."""
        if "attachments" in cell:
            cell["attachments"] = self._attachments(cell.get("attachments") or {}, index)
            if not cell["attachments"]:
                del cell["attachments"]
        if cell.cell_type == "code":
            cell.outputs = self._outputs(cell.get("outputs", []), index)
        elif cell.cell_type == "markdown" and not cell.metadata.get("nbgrader", {}).get("locked"):
            cell.source = self._markdown(cell.source, cell.get("attachments") or {}, index)
        elif cell.cell_type == "raw":
            clean = self.sanitize_html_tags(cell.source)
            if clean != cell.source and self.sanitize_html_tags(clean) != clean:
                clean = self.sanitize_html_tags(clean)
            cell.source = clean
        return cell, resources

    # -- pieces -------------------------------------------------------------------------

    def _attachments(self, attachments: dict, index: int) -> dict:
        kept = {}
        for name, bundle in attachments.items():
            good = {m: d for m, d in (bundle or {}).items() if m in IMAGE_TYPES}
            if len(good) != len(bundle or {}):
                self.removed.append(f"cell {index}: attachment {name!r} (not a PNG, JPEG or GIF image)")
            if good:
                kept[name] = good
        return kept

    def _markdown(self, source: str, attachments: dict, index: int) -> str:
        why = markdown_problem(source, attachments)
        if why is None:
            return source
        cleaned = self.sanitize_html_tags(source)
        if markdown_problem(cleaned, attachments) is None:
            self.removed.append(f"cell {index}: HTML in markdown cleaned ({why})")
            return cleaned
        self.removed.append(f"cell {index}: markdown shown as text ({why})")
        text = _as_text(source, why)
        if markdown_problem(text) is not None:
            return "*This cell was removed: it could run code in a browser.*"
        return text

    def _outputs(self, outputs, index: int) -> list:
        import nbformat

        kept = []
        for out in outputs:
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") not in ("stdout", "stderr"):
                    out["name"] = "stdout"
                if not isinstance(out.get("text"), str | list):
                    out["text"] = str(out.get("text"))
                kept.append(out)
            elif kind == "error":
                out["ename"], out["evalue"] = str(out.get("ename", "")), str(out.get("evalue", ""))
                out["traceback"] = [str(t) for t in (out.get("traceback") or [])]
                kept.append(out)
            elif kind in ("display_data", "execute_result"):
                kept.append(self._bundle(out, index))
            else:
                self.removed.append(f"cell {index}: an output of unknown type {str(kind)[:30]!r}")
        return [nbformat.from_dict(o) for o in kept]

    def _bundle(self, out, index: int):
        data, dropped = {}, []
        for mime, value in (out.get("data") or {}).items():
            if mime in TEXT_TYPES:
                data[mime] = value if isinstance(value, str | list) else str(value)
            elif mime in IMAGE_TYPES:
                data[mime] = value
            elif mime == "text/html":
                html = "".join(value) if isinstance(value, list) else str(value)
                data[mime] = self.sanitize_html_tags(html)
                if data[mime] != html:
                    self.removed.append(f"cell {index}: text/html output cleaned")
            else:
                dropped.append(mime)
        if dropped:
            self.removed.append(f"cell {index}: {', '.join(dropped)} output removed")
            if "text/plain" not in data:
                data["text/plain"] = (f"[{', '.join(dropped)} output removed: only text and images "
                                      "are shown here]")
        if not data:
            data["text/plain"] = "[an empty output]"
        metadata = {}
        for mime, meta in (out.get("metadata") or {}).items():
            if mime in IMAGE_TYPES and mime in data and isinstance(meta, dict):
                sizes = {k: v for k, v in meta.items() if k in ("width", "height")
                         and isinstance(v, int | float) and not isinstance(v, bool) and v > 0}
                if sizes:
                    metadata[mime] = sizes
        if metadata != (out.get("metadata") or {}):
            self.removed.append(f"cell {index}: output metadata other than image sizes removed")
        out["data"], out["metadata"] = data, metadata
        return out


def sanitize_notebook(nb):
    """Clean a notebook in place with :class:`SanitizeNotebook`; returns ``(nb, removed)``."""
    resources: dict = {}
    nb, resources = SanitizeNotebook().preprocess(nb, resources)
    return nb, resources.get("sanitized", [])


def _is_execute(pp) -> bool:
    """Whether a preprocessor (class or dotted name) runs the notebook (an Execute step)."""
    name = pp if isinstance(pp, str) else getattr(pp, "__name__", "")
    return name.rsplit(".", 1)[-1].endswith("Execute")


def add_to_autograde(c) -> None:
    """Put :class:`SanitizeNotebook` into an nbgrader config's Autograde chains.

    Right after the step that runs the notebook (nbgrader's ``Execute`` or the course's
    own executing step), so everything after it, the gradebook and the autograded
    notebook on disk included, sees clean outputs; and at the end of the sanitize chain
    (before running), so that student markdown is the same before and after grading.
    Whatever chain the config already has is kept. Calling it twice changes nothing.
    """
    from nbgrader.converters import Autograde

    traits = Autograde.class_traits()
    for name in ("sanitize_preprocessors", "autograde_preprocessors"):
        chain = list(c.Autograde[name]) if name in c.Autograde else list(traits[name].default())
        if any(pp is SanitizeNotebook or pp == __name__ + ".SanitizeNotebook" for pp in chain):
            continue
        if name == "sanitize_preprocessors":
            chain.append(SanitizeNotebook)
        else:
            at = next((i + 1 for i, pp in enumerate(chain) if _is_execute(pp)), 0)
            chain.insert(at, SanitizeNotebook)
        c.Autograde[name] = chain
