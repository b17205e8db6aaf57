#!/usr/bin/python3
"""Checks of tests/icap-e2e.sh, with Pillow as the independent decoder.

  verify.py photo OUT ORIG        OUT decodes to ORIG's size, carries no GPS
                                  (nor any EXIF but the orientation), and
                                  keeps ORIG's orientation
  verify.py upload BODY TYPE ORIG the multipart body an origin received: its
                                  file part passes `photo` against ORIG and
                                  its text field "comment" is "hello"
"""
import email.parser
import email.policy
import io
import sys

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def fail(msg):
    print("verify.py: " + msg, file=sys.stderr)
    sys.exit(1)


def photo(data, orig_path):
    with Image.open(orig_path) as o:
        want_size = o.size
        want_orient = o.getexif().get(ORIENTATION)
    if want_orient is None or GPS_IFD not in Image.open(orig_path).getexif():
        fail("%s is not a photo with GPS and orientation" % orig_path)
    im = Image.open(io.BytesIO(data))
    im.load()
    if im.format != "JPEG" or im.size != want_size:
        fail("output is %s %s, want JPEG %s" % (im.format, im.size, want_size))
    exif = im.getexif()
    if GPS_IFD in exif or exif.get_ifd(GPS_IFD):
        fail("output still has GPS data")
    if exif.get(ORIENTATION) != want_orient:
        fail("orientation %r, want %r" % (exif.get(ORIENTATION), want_orient))
    extra = sorted(k for k in exif if k != ORIENTATION)
    if extra:
        fail("output keeps EXIF tags %r" % extra)
    if b"GPS" in data:
        fail("output bytes contain GPS")


def upload(body_path, ctype, orig_path):
    with open(body_path, "rb") as f:
        body = f.read()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    files, fields = [], {}
    for part in msg.iter_parts():
        if part.get_filename() is not None:
            files.append(part)
        else:
            fields[part.get_param("name", header="content-disposition")] = part.get_content()
    if len(files) != 1:
        fail("%d file parts, want 1" % len(files))
    if fields.get("comment") != "hello":
        fail("field comment is %r" % fields.get("comment"))
    if files[0].get_content_type() != "image/jpeg":
        fail("file part type %s" % files[0].get_content_type())
    photo(files[0].get_payload(decode=True), orig_path)


def main():
    if sys.argv[1] == "photo":
        with open(sys.argv[2], "rb") as f:
            photo(f.read(), sys.argv[3])
    elif sys.argv[1] == "upload":
        upload(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("unknown check " + sys.argv[1])


if __name__ == "__main__":
    main()
