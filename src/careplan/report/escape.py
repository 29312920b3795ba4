"""Encode text from data or profiles for the exact context it lands in.

Ids, names, candidate ids, area ids and profile labels come from people who did
not write careplan; a report, a workbook or a terminal opened by someone else must
never run or render them as code.  Every writer of careplan passes such text
through one of these functions, chosen by the context it lands in:

=====================  ==================================================  ==========================
context                encoder                                             reference
=====================  ==================================================  ==========================
HTML text / attribute  :func:`html_text` (also safe inside a JS template)  OWASP XSS cheat sheet, rule 1-2
JavaScript string      :func:`js_string` (a complete JSON string literal)  OWASP XSS cheat sheet, rule 3
JSON in ``<script>``   :func:`json_script`                                 HTML spec, script data state
CSS string/identifier  :func:`css_string`                                  CSS Syntax Level 3, 4.3.7
Excel / CSV cell       :func:`spreadsheet_text`                            OWASP "CSV Injection"
matplotlib text        :func:`figure_text` (+ ``text.parse_math`` off)     matplotlib ``Text.parse_math``
terminal               :func:`terminal_text`                               ECMA-48 (C0/C1 controls)
=====================  ==================================================  ==========================
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

__all__ = [
    "FIGURE_MAX_CHARS",
    "css_string",
    "figure_text",
    "html_attr",
    "html_attr_single",
    "html_text",
    "js_string",
    "json_script",
    "spreadsheet_text",
    "terminal_text",
]

# Characters that end or change an HTML text/attribute context, a JS template
# literal (`` ` ``, ``\``, ``${``) or a Jinja template ({ }); all become numeric
# character references, which a browser shows as the character itself.
_HTML_MAP = {c: f"&#{ord(c)};" for c in "`\\${}="} | {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
_HTML_RE = re.compile("[" + re.escape("".join(_HTML_MAP)) + "]")

# In a JSON literal inside <script>, '<' ('</script>', '<!--'), '>' and '&' are
# escaped, and U+2028/U+2029 (line terminators for older JS engines).
_JS_MAP = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
           "\u2028": "\\u2028", "\u2029": "\\u2029", "`": "\\u0060"}
_JS_RE = re.compile("[" + "".join(_JS_MAP) + "]")

# C0 and C1 controls, DEL; plus Unicode line/paragraph separators and bidi overrides
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: Longest label drawn in a figure (characters); longer ones end with "…".
FIGURE_MAX_CHARS = 40

#: Most characters Excel keeps in one cell.
EXCEL_MAX_CHARS = 32767


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _visible(ch: str) -> str:
    """A control character as a visible escape (``\\x1b``, ``\\u202e``)."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def html_text(value: Any) -> str:
    """Text for HTML element content or a quoted attribute value.

    ``& < > " ' ` \\ $ { } =`` become numeric character references, so the
    result is also inert inside a JavaScript template literal and inside a
    Jinja template (folium renders some HTML as a template).  Control
    characters are made visible (``\\x1b``).

    Parameters
    ----------
    value : object
        Converted with ``str`` first.

    Returns
    -------
    str
    """
    s = _CONTROL_RE.sub(lambda m: _visible(m.group()), _text(value))
    return _HTML_RE.sub(lambda m: _HTML_MAP[m.group()], s)


def html_attr(value: Any) -> str:
    """A double- or single-quoted HTML attribute value (``& < > " '`` as entities).

    Minimal and exact for attributes that hold a whole document (``srcdoc``);
    for text from data prefer :func:`html_text`.
    """
    return html.escape(_text(value), quote=True)


def html_attr_single(value: Any) -> str:
    """An HTML attribute value for *single* quotes: only ``&`` and ``'`` as entities.

    Inside ``'...'`` nothing else can end the value or start a character reference
    (HTML Living Standard, "attribute value (single-quoted) state"), so the double
    quotes of a JSON-heavy document stay as they are: a map page embedded in
    ``srcdoc='...'`` grows by a few per cent instead of about half (``&quot;`` for
    every JSON quote).
    """
    return _text(value).replace("&", "&amp;").replace("'", "&#39;")


def js_string(value: Any) -> str:
    """A complete JavaScript string literal (with its quotes) holding *value*.

    JSON-encoded, with ``< > & ' `` `` ` `` and U+2028/U+2029 as ``\\uXXXX``
    escapes: safe anywhere an expression may stand inside ``<script>``.
    """
    return _JS_RE.sub(lambda m: _JS_MAP[m.group()], json.dumps(_text(value), ensure_ascii=False))


def json_script(obj: Any) -> str:
    """JSON text of *obj* that is safe to inline in a ``<script>`` element."""
    return _JS_RE.sub(lambda m: _JS_MAP[m.group()],
                      json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str))


def css_string(value: Any) -> str:
    """A quoted CSS string holding *value*: every character but ``[A-Za-z0-9 _-]``
    as a CSS hex escape (``\\3c `` for ``<``)."""
    out = []
    for ch in _text(value):
        if ch.isascii() and (ch.isalnum() or ch in " _-"):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def spreadsheet_text(value: str) -> str:
    """A text cell that Excel/LibreOffice never evaluates.

    Following OWASP's CSV-injection guidance, text starting with ``= + - @``,
    a tab or a carriage return gets a leading apostrophe (shown, never run);
    control characters Excel refuses are made visible (``\\x01``), so ids that
    differ only by one never collide; text longer than Excel's 32,767
    characters is cut with a note (the full value is in ``plan.gpkg``).

    Parameters
    ----------
    value : str

    Returns
    -------
    str
    """
    s = _text(value)
    if s[:1] in ("=", "+", "-", "@", "\t", "\r"):
        s = "'" + s
    s = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: _visible(m.group()), s)
    if len(s) > EXCEL_MAX_CHARS:
        tail = " … [truncated; see plan.gpkg]"
        s = s[: EXCEL_MAX_CHARS - len(tail)] + tail
    return s


def figure_text(value: Any, max_chars: int = FIGURE_MAX_CHARS) -> str:
    """A label for a matplotlib figure: one line, controls visible, at most
    *max_chars* characters (longer ones end with ``…``; tables keep the full value).

    Draw it with ``text.parse_math`` off (see ``figures.rc``) so ``$`` is plain text.
    """
    s = _CONTROL_RE.sub(lambda m: _visible(m.group()), _text(value))
    if len(s) > max_chars:
        s = s[: max(max_chars - 1, 1)] + "…"
    return s


def terminal_text(value: Any) -> str:
    """Text safe to print to a terminal: escape sequences and other controls
    (C0, C1, DEL, bidi overrides) shown as ``\\x1b`` / ``\\u202e``; tabs and
    newlines too, so one value stays on one line."""
    return _CONTROL_RE.sub(lambda m: _visible(m.group()), _text(value))
