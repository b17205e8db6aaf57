#!/usr/bin/python3
"""PDF fixtures for libimsafe's PDF scan (libimsafe/pdf.c), checked by
tests/test_fixtures.c through tests/expect/pdf.tsv and by
tests/pdf_oracle.py against qpdf, an independent reader.

Every file is a whole, readable PDF (catalog, page tree, one page with a
content stream, cross-reference table or stream, trailer) written here
object by object, so each fixture changes one thing:
  - benign: destinations as /OpenAction, a /GoTo action, a form without
    actions, link annotations, linearization, an incremental update,
    comment lines before the header, junk after %%EOF, a wrong xref,
    object streams with every filter we decode;
  - active: each pdfid key plain, #xx-escaped, inside an object stream
    under Flate, LZW, ASCIIHex, ASCII85, RunLength, a filter chain and a
    PNG predictor, in an object stream without /Type, behind a bogus
    /Length or an unbalanced "(" in junk; /OpenAction and /AA that run an
    action, directly and through references;
  - encrypted: qpdf's own encryption ($IMSAFE_QPDF), with a classic
    trailer and with a cross-reference stream;
  - malformed: unterminated and corrupt streams, bad object stream headers,
    nesting beyond the limit; limits: a deflate bomb, overlapping objects.

Usage: gen_pdf.py OUTDIR    (writes OUTDIR/pdf/*)
"""
import base64
import os
import subprocess
import sys
import zlib

CONTENT = b"BT /F1 12 Tf 72 720 Td (Minutes of the meeting.) Tj ET\n"


# ---------------------------------------------------------------- filters

def lzw(data, early=1, late=0):
    """PDF LZWDecode (EarlyChange 1 by default): 9..12-bit codes, MSB first.
    Codes widen when the next entry plus EarlyChange reaches a power of two,
    as the specification and qpdf read it; late=1 widens one code later, as
    pdf.js, pdfminer and MuPDF read it."""
    table = {bytes([i]): i for i in range(256)}
    nxt, width, out, acc, bits = 258, 9, [], 0, 0

    def put(code):
        nonlocal acc, bits
        acc = (acc << width) | code
        bits += width
        while bits >= 8:
            out.append((acc >> (bits - 8)) & 0xFF)
            bits -= 8
    put(256)
    w = b""
    for c in data:
        wc = w + bytes([c])
        if wc in table:
            w = wc
            continue
        put(table[w])
        table[wc] = nxt
        nxt += 1
        if nxt + early >= (1 << width) + late and width < 12:
            width += 1
        if nxt >= 4094:
            put(256)
            table = {bytes([i]): i for i in range(256)}
            nxt, width = 258, 9
        w = bytes([c])
    if w:
        put(table[w])
    put(257)
    if bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


def rle(data):
    out = bytearray()
    for i in range(0, len(data), 128):
        chunk = data[i:i + 128]
        out.append(len(chunk) - 1)
        out += chunk
    out.append(128)
    return bytes(out)


def png_up(data, columns):
    """The PNG Up predictor (Predictor 12) over rows of `columns` bytes."""
    data += bytes(-len(data) % columns)
    out, prev = bytearray(), bytes(columns)
    for i in range(0, len(data), columns):
        row = data[i:i + columns]
        out.append(2)
        out += bytes((a - b) & 0xFF for a, b in zip(row, prev))
        prev = row
    return bytes(out)


def png_mixed(data, columns):
    """PNG predictor rows cycling through filter types 0..4 (None, Sub,
    Up, Average, Paeth), one byte per pixel."""
    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c
    data += bytes(-len(data) % columns)
    out, prev = bytearray(), bytes(columns)
    for r, i in enumerate(range(0, len(data), columns)):
        row, ft = data[i:i + columns], r % 5
        out.append(ft)
        for j, x in enumerate(row):
            a = row[j - 1] if j else 0
            b, c = prev[j], prev[j - 1] if j else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][ft]
            out.append((x - pred) & 0xFF)
        prev = row
    return bytes(out)


def tiff2(data, columns):
    """The TIFF predictor (Predictor 2), one 8-bit colour, rows of columns."""
    data += bytes(-len(data) % columns)
    out = bytearray()
    for i in range(0, len(data), columns):
        row = data[i:i + columns]
        out += bytes([row[0]]) + bytes((row[j] - row[j - 1]) & 0xFF for j in range(1, len(row)))
    return bytes(out)


ENCODERS = {
    "FlateDecode": zlib.compress,
    "LZWDecode": lzw,
    "ASCIIHexDecode": lambda d: d.hex().encode() + b">",
    "ASCII85Decode": lambda d: base64.a85encode(d) + b"~>",
    "RunLengthDecode": rle,
    "Crypt": lambda d: d,  # /Identity
}


def encode(data, filters):
    """Apply filters so that a reader decoding them in order gets data."""
    for f in reversed(filters):
        data = ENCODERS[f](data)
    return data


def filter_entry(filters):
    if not filters:
        return b""
    if len(filters) == 1:
        return b"/Filter /" + filters[0].encode()
    return b"/Filter [" + b" ".join(b"/" + f.encode() for f in filters) + b"]"


# ---------------------------------------------------------------- writer

def stream(dict_body, data):
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def base_objects(catalog_extra=b"", page_extra=b"", content=CONTENT):
    """Objects 1..5 of a one-page document, by number."""
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>"),
        4: stream(b"/Filter /FlateDecode", zlib.compress(content)),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }


def write(objs, head=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", trailer_extra=b"", xref_fix=0):
    """A classic file: objects, one xref table, trailer.  xref_fix shifts
    every offset (a broken table that readers rebuild)."""
    out = bytearray(head)
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    size = max(objs) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % (offsets[num] + xref_fix)
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R " % size + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_objstm(objs, packed, filters=("FlateDecode",), parms=b"", objstm_type=True,
                 head=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", encoded=None, predict=None):
    """PDF 1.5: the objects numbered in `packed` go into one object stream,
    the rest stay in the file; a cross-reference stream indexes both."""
    stm_num = max(objs) + 1
    xref_num = stm_num + 1
    header, body = [], bytearray()
    for num in packed:
        header.append(b"%d %d" % (num, len(body)))
        body += objs[num] + b"\n"
    first = b" ".join(header) + b"\n"
    data = first + bytes(body)
    if predict is not None:
        data = predict(data)
    elif parms:
        data = png_up(data, 8)
    typ = b"/Type /ObjStm " if objstm_type else b""
    sdict = typ + b"/N %d /First %d " % (len(packed), len(first)) + filter_entry(list(filters))
    if parms:
        sdict += b" " + parms
    direct = {n: o for n, o in objs.items() if n not in packed}
    direct[stm_num] = stream(sdict, encoded(data) if encoded else encode(data, list(filters)))
    out = bytearray(head)
    where = {}
    for num in sorted(direct):
        where[num] = (1, len(out), 0)
        out += b"%d 0 obj\n" % num + direct[num] + b"\nendobj\n"
    for i, num in enumerate(packed):
        where[num] = (2, stm_num, i)
    where[xref_num] = (1, len(out), 0)
    rows = bytearray(b"\x00\x00\x00\x00\xff\xff")
    for num in range(1, xref_num + 1):
        t, a, b = where.get(num, (0, 0, 0))
        rows += bytes([t]) + a.to_bytes(4, "big") + b.to_bytes(1, "big")
    rows = bytes(rows)
    xdict = (b"/Type /XRef /Size %d /W [1 4 1] /Root 1 0 R /Filter /FlateDecode"
             % (xref_num + 1))
    xref_at = len(out)
    out += b"%d 0 obj\n" % xref_num + stream(xdict, zlib.compress(rows)) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


# ---------------------------------------------------------------- fixtures

JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"


def active_catalogs():
    """Each pdfid key in a place where a reader acts on it."""
    return {
        "js": b"/OpenAction " + JS_ACTION,
        "js_names": b"/Names << /JavaScript << /Names [(a) 6 0 R] >> >>",
        "launch": b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        "embedded": b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
        "richmedia": b"/RichMedia true",
        "xfa": b"/AcroForm << /Fields [] /XFA 6 0 R >>",
        "submitform": b"/OpenAction << /S /SubmitForm /F (http://example.com/) >>",
        "importdata": b"/OpenAction << /S /ImportData /F (data.fdf) >>",
        "gotor": b"/OpenAction << /S /GoToR /F (\\\\\\\\host\\\\share\\\\a.pdf) /D [0 /Fit] >>",
        "gotoe": b"/OpenAction << /S /GoToE /T << /R /C /N (a) >> >>",
    }


def extra_obj6(key):
    if key == "js_names":
        return JS_ACTION
    if key == "embedded":
        return b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>"
    if key == "xfa":
        return stream(b"", b"<xdp:xdp xmlns:xdp=\"http://ns.adobe.com/xdp/\"/>")
    return None


def with_key(key):
    objs = base_objects(active_catalogs()[key])
    six = extra_obj6(key)
    if six is not None:
        objs[6] = six
    if key == "embedded":
        objs[7] = stream(b"/Type /EmbeddedFile", b"MZ")
    return objs


def escape_name(b):
    """/JavaScript as /J#61vaScript: every 'a' escaped."""
    return b.replace(b"/JavaScript", b"/J#61v#61Script").replace(b"/JS ", b"/J#53 ")


def benign(f):
    dest = base_objects(b"/OpenAction [3 0 R /Fit] /PageMode /UseOutlines")
    f["benign_dest.pdf"] = write(dest)
    f["benign_goto.pdf"] = write(base_objects(b"/OpenAction << /S /GoTo /D [3 0 R /XYZ 0 792 0] >>"))
    f["benign_plain.pdf"] = write(base_objects())
    form = base_objects(b"/AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) >>",
                        b"/Annots [6 0 R]")
    form[6] = (b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Alice) "
               b"/Rect [72 600 300 620] /P 3 0 R >>")
    f["benign_form.pdf"] = write(form)
    link = base_objects(b"", b"/Annots [6 0 R 7 0 R]")
    link[6] = (b"<< /Type /Annot /Subtype /Link /Rect [72 700 200 712] "
               b"/A << /S /URI /URI (https://example.com/) >> >>")
    link[7] = b"<< /Type /Annot /Subtype /Link /Rect [72 680 200 692] /Dest [3 0 R /Fit] >>"
    f["benign_links.pdf"] = write(link)
    f["benign_comments_before.pdf"] = (b"% written by a mail gateway\n% another comment\n"
                                       + write(base_objects()))
    f["benign_junk_after_eof.pdf"] = write(base_objects()) + b"\x00garbage (unbalanced\n" * 3
    f["benign_broken_xref.pdf"] = write(base_objects(), xref_fix=7)
    f["benign_incremental.pdf"] = incremental(write(base_objects()), b"(Second revision)")
    f["benign_linearized.pdf"] = linearized()
    f["benign_objstm.pdf"] = write_objstm(base_objects(), [1, 2, 3, 5])
    for name, flt in (("lzw", ["LZWDecode"]), ("ahx", ["ASCIIHexDecode"]),
                      ("a85", ["ASCII85Decode"]), ("rl", ["RunLengthDecode"]),
                      ("chain", ["ASCII85Decode", "FlateDecode"])):
        f["benign_objstm_%s.pdf" % name] = write_objstm(base_objects(), [1, 2, 3, 5], flt)
    f["benign_objstm_predictor.pdf"] = write_objstm(
        base_objects(), [1, 2, 3, 5], parms=b"/DecodeParms << /Predictor 12 /Columns 8 >>")
    # a Flate stream without its Adler-32 (readers ignore the checksum)
    objs = base_objects()
    objs[4] = stream(b"/Filter /FlateDecode", zlib.compress(CONTENT)[:-4])
    f["benign_flate_no_adler.pdf"] = write(objs)
    # content streams under each text filter
    objs = base_objects()
    objs[4] = stream(filter_entry(["ASCIIHexDecode", "LZWDecode"]),
                     encode(CONTENT, ["ASCIIHexDecode", "LZWDecode"]))
    f["benign_content_chain.pdf"] = write(objs)
    # a RunLength run cut by the end of the data: readers take what is there
    objs[4] = stream(b"/Filter /RunLengthDecode", b"\x30" + CONTENT[:20])
    f["benign_rl_short.pdf"] = write(objs)
    # a RunLength repeat, an odd last ASCIIHex digit
    objs[4] = stream(b"/Filter /RunLengthDecode", b"\xfb " + rle(CONTENT))
    f["benign_rl_repeat.pdf"] = write(objs)
    objs[4] = stream(b"/Filter /ASCIIHexDecode", CONTENT.hex().encode() + b"2>")
    f["benign_ahx_odd.pdf"] = write(objs)
    # ASCII85 groups above 2^32 - 1: readers wrap them
    objs[4] = stream(b"/Filter /ASCII85Decode", base64.a85encode(CONTENT) + b"uuuuu!!!!!uu~>")
    f["benign_a85_wrap.pdf"] = write(objs)
    # a last ASCII85 group of one character: readers drop it
    objs[4] = stream(b"/Filter /ASCII85Decode", base64.a85encode(CONTENT) + b"B~>")
    f["benign_a85_short.pdf"] = write(objs)
    # streams the scan does not decode: an image, an ICC profile, a font, an
    # unknown filter; and a cross-reference stream
    objs = base_objects(b"", b"")
    objs[6] = stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 1 /BitsPerComponent 8 "
                     b"/ColorSpace /DeviceGray /Filter /FlateDecode",
                     zlib.compress(b"/JS /EF ."))
    objs[7] = stream(b"/N 3 /Filter /FlateDecode", zlib.compress(b"/EF " * 4))
    objs[8] = stream(b"/Length1 8 /Filter /FlateDecode", zlib.compress(b"/JS /EF "))
    objs[9] = stream(b"/Filter /JBIG2Decode", b"/JavaScript ")
    f["benign_binary_streams.pdf"] = write(objs)


def incremental(base, text):
    """An update appended: a new content stream replaces object 4."""
    prev = int(base.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    out = bytearray(base)
    at = len(out)
    content = b"BT /F1 12 Tf 72 700 Td " + text + b" Tj ET\n"
    out += b"4 0 obj\n" + stream(b"/Filter /FlateDecode", zlib.compress(content)) + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n4 1\n%010d 00000 n \n" % at
    out += b"trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (prev, xref)
    return bytes(out)


def linearized():
    """A linearization dictionary first, a first-page xref section after it
    and the main one at the end (the shape of a web-optimised file; the
    hint numbers are not exact, as readers tolerate)."""
    objs = base_objects()
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    lin = b"6 0 obj\n<< /Linearized 1 /L 0 /H [0 0] /O 3 /E 0 /N 1 /T 0 >>\nendobj\n"
    first_xref = b"xref\n6 1\n%010d 00000 n \n" % len(head)
    first_xref += b"trailer\n<< /Size 7 /Root 1 0 R >>\n"
    body = write(objs, head=head + lin + first_xref)
    return body


def active(f):
    for key in active_catalogs():
        objs = with_key(key)
        f["active_%s.pdf" % key] = write(objs)
    f["active_js_escaped.pdf"] = escape_name(write(with_key("js")))
    f["active_js_names_escaped.pdf"] = escape_name(write(with_key("js_names")))
    # inside object streams under every filter, alone and chained
    for name, flt in (("fl", ["FlateDecode"]), ("lzw", ["LZWDecode"]),
                      ("ahx", ["ASCIIHexDecode"]), ("a85", ["ASCII85Decode"]),
                      ("rl", ["RunLengthDecode"]), ("chain", ["ASCIIHexDecode", "FlateDecode"]),
                      ("chain3", ["ASCII85Decode", "LZWDecode", "RunLengthDecode"])):
        objs = with_key("js")
        f["active_objstm_%s.pdf" % name] = write_objstm(objs, [1, 2, 3, 5], flt)
    f["active_objstm_escaped.pdf"] = write_objstm(
        {n: escape_name(o) for n, o in with_key("js").items()}, [1, 2, 3, 5])
    f["active_objstm_predictor.pdf"] = write_objstm(
        with_key("js"), [1, 2, 3, 5], parms=b"/DecodeParms << /Predictor 12 /Columns 8 >>")
    f["active_objstm_untyped.pdf"] = write_objstm(with_key("js"), [1, 2, 3, 5],
                                                  objstm_type=False)
    f["active_objstm_launch.pdf"] = write_objstm(with_key("launch"), [1, 2, 3, 5], ["LZWDecode"])
    f["active_objstm_embedded.pdf"] = write_objstm(with_key("embedded"), [1, 2, 3, 5, 6])
    # actions that run on their own, other than JavaScript
    uri = base_objects(b"/OpenAction << /S /URI /URI (https://example.com/track) >>")
    f["active_openaction_uri.pdf"] = write(uri)
    ref = base_objects(b"/OpenAction 6 0 R")
    ref[6] = b"<< /Type /Action /S /Named /N /Print >>"
    f["active_openaction_ref.pdf"] = write(ref)
    f["active_openaction_ref_objstm.pdf"] = write_objstm(ref, [1, 2, 3, 5, 6])
    aa = base_objects(b"", b"/AA << /O << /S /URI /URI (https://example.com/) >> >>")
    f["active_aa.pdf"] = write(aa)
    aa_ref = base_objects(b"", b"/AA 6 0 R")
    aa_ref[6] = b"<< /O 7 0 R >>"
    aa_ref[7] = b"<< /S /Named /N /Print >>"
    f["active_aa_ref.pdf"] = write(aa_ref)
    # a key a linear reader misses: after an unbalanced "(" in junk, and in
    # an object a bogus /Length swallows
    plain = write(base_objects())
    hidden = b"6 0 obj\n" + JS_ACTION + b"\nendobj\n"
    f["active_after_paren.pdf"] = plain.replace(b"xref\n", b"(junk\n" + hidden + b"xref\n", 1)
    objs = base_objects(b"/OpenAction 6 0 R")
    objs[6] = JS_ACTION
    swallow = write(objs).replace(b"/Length %d" % len(zlib.compress(CONTENT)), b"/Length 4000")
    f["active_length_swallows.pdf"] = swallow
    # a key in a content stream (decoded and read for names)
    objs = base_objects()
    objs[4] = stream(b"/Filter /FlateDecode",
                     zlib.compress(CONTENT + b"/JavaScript BMC EMC\n"))
    f["active_in_content.pdf"] = write(objs)
    more_active(f)


def more_active(f):
    """Object streams under every parameter the decoders take, and objects
    a reader finds where a strict parser would not."""
    js = with_key("js")
    f["active_objstm_tiff.pdf"] = write_objstm(
        js, [1, 2, 3, 5], parms=b"/DecodeParms << /Predictor 2 /Columns 8 >>",
        predict=lambda d: tiff2(d, 8))
    f["active_objstm_early0.pdf"] = write_objstm(
        js, [1, 2, 3, 5], ["LZWDecode"], parms=b"/DecodeParms << /EarlyChange 0 >>",
        predict=lambda d: d, encoded=lambda d: lzw(d, 0))
    f["active_objstm_parms_array.pdf"] = write_objstm(
        js, [1, 2, 3, 5], ["ASCIIHexDecode", "FlateDecode"],
        parms=b"/DecodeParms [null << /Predictor 12 /Columns 8 >>]",
        encoded=lambda d: encode(png_up(d, 8), ["ASCIIHexDecode", "FlateDecode"]),
        predict=lambda d: d)
    f["active_objstm_a85_zeros.pdf"] = write_objstm(
        {n: o + (b"\n%" + bytes(9) if n == 2 else b"") for n, o in js.items()},
        [1, 2, 3, 5], ["ASCII85Decode"])
    # /Crypt /Identity: readers pass the data through
    f["active_objstm_crypt_identity.pdf"] = write_objstm(
        js, [1, 2, 3, 5], ["Crypt", "FlateDecode"],
        parms=b"/DecodeParms [<< /Name /Identity >> null]", predict=lambda d: d)
    # an object stream without /Type: /N and /First are enough for readers
    f["active_objstm_first_only.pdf"] = write_objstm(js, [1, 2, 3, 5], objstm_type=False)
    # the stream's /Length is a reference: the data ends at "endstream"
    objs = base_objects()
    data = zlib.compress(CONTENT + b"/JavaScript BMC EMC\n")
    objs[4] = (b"<< /Filter /FlateDecode /Length 6 0 R >>\nstream\n" + data +
               b"\nendstream")
    objs[6] = b"%d" % len(data)
    f["active_length_ref.pdf"] = write(objs)
    # the action's object number split by a comment: readers skip comments
    objs = base_objects(b"/OpenAction 6 0 R")
    objs[6] = b"<< /S /Named /N /Print >>"
    f["active_openaction_comment.pdf"] = write(objs).replace(b"6 0 obj", b"6 %x\n0 obj", 1)
    # a large LZW object stream: codes widen to 12 bits and the table clears
    pad = b"".join(b"%% line %d of a long comment %x\n" % (i, i * 7919) for i in range(400))
    big = {n: (o + b"\n" + pad if n == 2 else o) for n, o in js.items()}
    f["active_objstm_lzw_big.pdf"] = write_objstm(big, [1, 2, 3, 5], ["LZWDecode"])
    f["active_objstm_lzw_late.pdf"] = write_objstm(big, [1, 2, 3, 5], ["LZWDecode"],
                                                   encoded=lambda d: lzw(d, 1, 1))
    # every PNG row filter, with the sample size spelled out
    f["active_objstm_png_mixed.pdf"] = write_objstm(
        js, [1, 2, 3, 5],
        parms=b"/DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 8 /Columns 8 >>",
        predict=lambda d: png_mixed(d, 8))
    # a key in a trailer dictionary
    f["active_trailer.pdf"] = write(base_objects(), trailer_extra=b"/JavaScript 1 0 R ")
    # /AA entries that are references; two pending references
    objs = base_objects(b"/OpenAction 7 0 R", b"/AA << /O 6 0 R >>")
    objs[6] = b"<< /S /Named /N /Print >>"
    objs[7] = b"<< /S /GoTo /D [3 0 R /Fit] >>"
    f["active_aa_entry_ref.pdf"] = write(objs)
    # /AA through a reference to a dictionary holding the action directly
    objs = base_objects(b"", b"/AA 6 0 R")
    objs[6] = b"<< /O << /S /URI /URI (https://example.com/) >> >>"
    f["active_aa_ref_direct.pdf"] = write(objs)


def malformed(f):
    objs = base_objects()
    good = write(objs)
    data = zlib.compress(CONTENT)
    cut = good.index(b"stream\n") + 7 + len(data) // 2
    f["bad_unterminated.pdf"] = good[:cut]
    objs = base_objects()
    objs[4] = stream(b"/Filter /FlateDecode", b"\x78\x9c" + bytes(range(200, 256)) * 4)
    f["bad_corrupt_flate.pdf"] = write(objs)
    objs[4] = stream(b"/Filter /FlateDecode", b"\x12\x34" + zlib.compress(CONTENT)[2:])
    f["bad_flate_header.pdf"] = write(objs)
    objs[4] = stream(b"/Filter /ASCIIHexDecode", b"4142zz>")
    f["bad_ahx.pdf"] = write(objs)
    f["active_objstm_pairs.pdf"] = write_objstm(
        with_key("js"), [1, 2, 3, 5], predict=lambda d: d.replace(b"2 ", b"x ", 1),
        parms=b" ")
    objs[4] = stream(b"/Filter /ASCII85Decode", b"abc\x7f~>")
    f["bad_a85.pdf"] = write(objs)
    objs[4] = stream(b"/Filter /LZWDecode", bytes([0x80, 0x7f, 0xff, 0xff]))
    f["bad_lzw.pdf"] = write(objs)
    stm = write_objstm(base_objects(), [1, 2, 3, 5])
    f["bad_objstm_header.pdf"] = stm.replace(b"/First ", b"/First 9999", 1)
    objs = base_objects()
    objs[6] = b"[" * 600 + b"]" * 600
    f["bad_nesting.pdf"] = write(objs)
    js = with_key("js")
    f["bad_chain_too_long.pdf"] = write_objstm(js, [1, 2, 3, 5], ["ASCIIHexDecode"] * 9)
    f["bad_objstm_indirect.pdf"] = write_objstm(js, [1, 2, 3, 5]).replace(
        b"/N 4 ", b"/N 9 0 R ", 1)
    f["bad_predictor.pdf"] = write_objstm(
        js, [1, 2, 3, 5], parms=b"/DecodeParms << /Predictor 12 /Colors 99 /Columns 8 >>",
        predict=lambda d: d)
    f["bad_png_row.pdf"] = write_objstm(
        js, [1, 2, 3, 5], parms=b"/DecodeParms << /Predictor 12 /Columns 8 >>",
        predict=lambda d: bytes([7]) + d)


def limits(f):
    """Built just over the limits that tests/expect/pdf.tsv sets."""
    objs = base_objects()
    objs[6] = stream(b"/Filter /FlateDecode", zlib.compress(bytes(2 * 1024 * 1024), 9))
    f["bomb.pdf"] = write(objs)
    # an object after each "(": every parse reads to the end of the file
    f["overlap.pdf"] = b"%PDF-1.7\n" + b"1 0 obj (" * 20000 + b"\n%%EOF\n"


def encrypted(out):
    qpdf = os.environ.get("IMSAFE_QPDF")
    if not qpdf:
        sys.exit("gen_pdf.py: IMSAFE_QPDF is not set (configure finds qpdf)")
    plain = os.path.join(out, "benign_plain.pdf")
    js = os.path.join(out, "active_js_names.pdf")
    for name, src, extra in (("encrypted.pdf", plain, []),
                             ("encrypted_xref_stream.pdf", plain,
                              ["--object-streams=generate"]),
                             ("encrypted_active.pdf", js, [])):
        subprocess.run([qpdf, "--encrypt", "", "owner", "256", "--"] + extra +
                       [src, os.path.join(out, name)], check=True)
    subprocess.run([qpdf, "--encrypt", "user", "owner", "128", "--use-aes=y", "--", plain,
                    os.path.join(out, "encrypted_aes128.pdf")], check=True)


def main():
    out = os.path.join(sys.argv[1], "pdf")
    os.makedirs(out, exist_ok=True)
    f = {}
    benign(f)
    active(f)
    malformed(f)
    limits(f)
    for name, data in f.items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    encrypted(out)


if __name__ == "__main__":
    main()
