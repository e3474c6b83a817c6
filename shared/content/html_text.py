"""The text a reader sees in an HTML fragment: what a document's word count is made of."""

from __future__ import annotations

from html.parser import HTMLParser


class _TextOfHtml(HTMLParser):
    """The text a reader sees: character data outside script, style and template elements."""

    _HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        else:
            self.parts.append(" ")  # <p>a</p><p>b</p> is two words

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def text_of_html(html: str) -> str:
    """The visible text of an HTML fragment."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
