#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test/consumers/mkpdf.py OUT.pdf [TEXT]: writes a one-page PDF 1.7 (ISO 32000-1)
with TEXT in Helvetica — a stand-in for a referral letter, for the signing tests.
Standard library only; the cross-reference table is computed (§7.5.4), so the file
needs no repair and poppler can add an incremental-update signature to it."""
import sys


def escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build(text):
    content = "BT /F1 14 Tf 72 760 Td ({}) Tj ET\n".format(escape(text)).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset  # 20 bytes per entry, §7.5.4
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: mkpdf.py OUT.pdf [TEXT]")
    text = sys.argv[2] if len(sys.argv) == 3 else "TEST referral letter (fictional)"
    with open(sys.argv[1], "wb") as f:
        f.write(build(text))


if __name__ == "__main__":
    main()
