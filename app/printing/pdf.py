"""A small PDF writer: text in Helvetica and filled squares, nothing else (pure).

Why our own 100 lines rather than Qt's QPdfWriter or reportlab: the page is
made off the UI thread, in an executor, and Qt stays under app/ui (house rule);
reportlab is not a dependency and a page of text plus a datamatrix needs only
the PDF operators below. The standard Helvetica font with WinAnsiEncoding
covers French (accents, œ, €); a character outside it is printed as "?" — the
document's QR link stays on the end screen for the exact text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

A4 = (595.0, 842.0)  # points


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    size: float
    text: str = field(repr=False)
    bold: bool = False


@dataclass(frozen=True)
class Square:
    x: float
    y: float
    side: float


@dataclass(frozen=True)
class Page:
    texts: tuple[Text, ...] = field(repr=False)
    squares: tuple[Square, ...] = ()


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(page: Page) -> bytes:
    ops: list[bytes] = []
    for t in page.texts:
        font = b"/F2" if t.bold else b"/F1"
        ops.append(
            b"BT %s %.2f Tf %.2f %.2f Td (%s) Tj ET" % (font, t.size, t.x, t.y, _escape(t.text))
        )
    if page.squares:
        ops.append(b"0 g")
        ops.extend(b"%.3f %.3f %.3f %.3f re" % (s.x, s.y, s.side, s.side) for s in page.squares)
        ops.append(b"f")
    return b"\n".join(ops)


def write_pdf(pages: tuple[Page, ...], *, title: str = "Document") -> bytes:
    """The PDF file for these pages (A4, portrait)."""
    if not pages:
        raise ValueError("A PDF needs at least one page.")
    objects: list[bytes] = []
    font1, font2, pages_id = 3, 4, 2
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")  # 1
    kids_at = len(objects)
    objects.append(b"")  # 2: the page tree, filled below
    for name in (b"Helvetica", b"Helvetica-Bold"):  # 3, 4
        objects.append(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % name
        )
    objects.append(b"<< /Title (%s) /Producer (Telecabine) >>" % _escape(title))  # 5
    kids: list[int] = []
    for page in pages:
        stream = _content(page)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.0f %.0f] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
            % (pages_id, A4[0], A4[1], content_id, font1, font2)
        )
        kids.append(len(objects))
    objects[kids_at] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
