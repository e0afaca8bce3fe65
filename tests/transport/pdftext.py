"""Reading back what WeasyPrint wrote, without a PDF library (none is a dependency): its
objects are in compressed streams, its text is glyph ids mapped to Unicode by the fonts'
ToUnicode CMaps."""

from __future__ import annotations

import re
import zlib


def pdf_objects(content: bytes) -> bytes:
    """The PDF with every compressed stream inflated."""
    parts = [content]
    for match in re.finditer(rb"stream\r?\n", content):
        try:
            parts.append(zlib.decompressobj().decompress(content[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_pages(content: bytes) -> int:
    found = re.search(rb"/Type /Pages/Kids \[[^\]]*\]/Count (\d+)", pdf_objects(content))
    assert found, "no page tree"
    return int(found.group(1))


def _hex_text(code: bytes) -> str:
    return bytes.fromhex(code.decode()).decode("utf-16-be", errors="replace")


def pdf_text(content: bytes) -> str:
    """The text shown on the pages (one TJ operation per space-separated piece)."""
    inside = pdf_objects(content)
    glyphs: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", inside, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            glyphs[src.lower()] = _hex_text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", inside, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            width, start = len(lo), int(dst, 16)
            for i in range(int(lo, 16), int(hi, 16) + 1):
                key = f"{i:0{width}x}".encode()
                glyphs[key] = chr(start + i - int(lo, 16))
    pieces = []
    for array in re.findall(rb"\[([^\]\[]*)\]\s*TJ", inside):
        text = []
        for code in re.findall(rb"<([0-9a-fA-F]+)>", array):
            code = code.lower()
            text.extend(glyphs.get(code[i : i + 4], "?") for i in range(0, len(code), 4))
        pieces.append("".join(text))
    return " ".join(pieces)
