#!/usr/bin/python3
"""Text fixtures for libimsafe/sniff.c and the claim check in imsafe.c,
checked through tests/expect/types.tsv.

Hostile: active markup and server-side code past any first window (a long
letter, a long comment, a long DOCTYPE, UTF-16/32), web shells (PHP, ASP,
JSP, SSI, .htaccess directives), PostScript that Ghostscript would run, and
text under names that run or render it (.url, .reg, .htm).
Ordinary, which must stay text: a README with HTML snippets, a CSV, a
server log with "<%Y" date formats, a mail with "%!" mid-line, UTF-16 text,
and names in Persian, Hindi, Thai and emoji.

Usage: gen_text.py OUTDIR    (writes OUTDIR/text/*)
"""
import os
import random
import sys

PARA = ("The committee met on Tuesday and reviewed the budget for the next "
        "quarter. Nothing unusual was found; the minutes follow.\n")


def letter(n_bytes):
    """An ordinary letter of about n_bytes."""
    out = []
    while sum(map(len, out)) < n_bytes:
        out.append(PARA)
    return "".join(out)


def readme(rng):
    """A long README that quotes HTML the way documentation does."""
    parts = ["# widget\n\nA small library.  Use it like this:\n\n"]
    for i in range(300):
        parts.append("## Section %d\n\nIf a < b and c > d, call `draw(%d)`.\n\n"
                     "    <div class=\"widget\" data-n=\"%d\">\n"
                     "      <span>hello</span> <p>text</p> <b>bold</b> <em>x</em>\n"
                     "    </div>\n\nJavaScript: see the examples. onion=%d\n\n"
                     % (i, i, rng.randrange(1000), i))
    return "".join(parts)


def csv(rng):
    rows = ["id,name,city,score,note"]
    for i in range(5000):
        rows.append('%d,"Name %d",City%d,%d%%,<n/a>' % (i, i, rng.randrange(50),
                                                      rng.randrange(100)))
    return "\n".join(rows) + "\n"


def server_log(rng):
    lines = []
    for i in range(3000):
        lines.append("2026-03-%02d 12:%02d:%02d worker=%d fmt=<%%Y-%%m-%%d> load<%%5 ok "
                     "ratio 100%%> done" % (i % 28 + 1, i % 60, rng.randrange(60), i % 7))
    return "\n".join(lines) + "\n"


MAIL = ("From: Ann <ann@example.org>\nSubject: prices\n\nHi Bob,\n\n"
        "the price went up 50%! Really.  Printers read files that start with %!PS,\n"
        "and \"def\" is a PostScript word.\n> <quoted reply>\n\nCheers, Ann\n")


def utf16le(text):
    return b"\xff\xfe" + text.encode("utf-16-le")


def utf32be(text):
    return b"\0\0\xfe\xff" + text.encode("utf-32-be")


def main():
    d = os.path.join(sys.argv[1], "text")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(13)
    long_text = letter(40000)
    files = {
        # active markup past any first window
        "late_script.txt": long_text + "<script>location='https://x/'</script>\n",
        "late_onerror.txt": long_text + "<img src=x oNeRrOr=alert(1)>\n",
        "late_js_url.txt": long_text + "<a href=\"&#10;java\tscript:alert(1)\">a</a>\n",
        "long_comment.txt": "<!--" + long_text + "-->\n<html><body>hi</body></html>\n",
        "long_doctype.txt": '<!DOCTYPE html PUBLIC "' + "x" * 20000 + '">\n<p>hi</p>\n',
        "utf16_html.txt": utf16le("\ufeff  <html><body><script>x()</script></body></html>"),
        "utf32_svg.txt": utf32be(long_text + "<svg onload=alert(1)>"),
        # server-side code and PostScript
        "webshell.txt": long_text + "<?php system($_GET['c']); ?>\n",
        "asp_shell.txt": "Report\n<%@ Page Language=\"C#\" %>\n<% Response.Write(1); %>\n",
        "jsp_shell.txt": "<%@ page import=\"java.io.*\" %>\n<%= Runtime.getRuntime() %>\n",
        "ssi_exec.txt": long_text + "<!--#exec cmd=\"id\" -->\n",
        "htaccess.txt": "# cache\nAddType application/x-httpd-php .jpg\n",
        "exploit.ps": "%!PS\n(%pipe%id) (w) file\nshowpage\n",
        "bare.txt": "%!\n/a 1 def\n(%pipe%id) (r) file\n",
        "shortcut.txt": "[InternetShortcut]\nURL=file://192.0.2.1/share/run.exe\n",
        # ordinary text that stays text
        "readme.md": readme(rng),
        "data.csv": csv(rng),
        "server.log": server_log(rng),
        "mail.txt": MAIL,
        "letter.txt": long_text,
        "utf16_letter.txt": utf16le("Grüße aus Köln\r\n" + long_text[:2000]),
    }
    for name, data in files.items():
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
