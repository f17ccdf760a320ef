"""Colour for terminal output, with no dependency: renderers paint through a Painter made with `color` on or off,
so no engine module imports the CLI framework, and text for a file, a pipe or CI logs carries no escape codes."""

# SGR codes (ECMA-48): the few styles ovhkube uses.
CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33"}


class Painter:
    """`paint(text, fg="red", bold=True)`: the text in that style when colour is on, the text as is otherwise."""

    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
        codes = [CODES[name] for name, wanted in (("bold", bold), ("dim", dim)) if wanted]
        codes += [CODES[fg]] if fg else []
        if not self.color or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"
