/*
 * test_sniff.c - content sniffing through the public API.
 *
 * For every type libimsafe names, a small payload built here is run through
 * imsafe_sanitize() and the reported type is checked: with the default
 * policy (the type is reported on rejections too), under a policy that lets
 * every parser-less type pass (so the verdict is not a rejection hiding a
 * wrong type), and under many claimed names and MIME types, which must never
 * change the type.  Then the disguise rules (FORCEDENTRY: a PDF named .gif;
 * ImageTragick: MVG named .jpg) and the type-name table.
 */
#include <stdint.h>

#include "testutil.h"

#define BLOB_MAX 1024

struct blob {
    unsigned char b[BLOB_MAX];
    size_t n;
};

struct sample {
    const char *label;
    imsafe_type type;
    struct blob data;
};

#define MAX_SAMPLES 160

struct samples {
    struct sample s[MAX_SAMPLES];
    size_t n;
};

/* ------------------------------------------------------------- building */

static void put(struct blob *x, const void *p, size_t n)
{
    if (n > BLOB_MAX - x->n)
        tu_die("sample larger than BLOB_MAX");
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

/* String literals may hold NULs: the length comes from sizeof, not strlen. */
#define PUTS(x, s) put((x), (s), sizeof(s) - 1)

static void put_zeros(struct blob *x, size_t n)
{
    static const unsigned char z[256];
    while (n > 0) {
        size_t k = n < sizeof z ? n : sizeof z;
        put(x, z, k);
        n -= k;
    }
}

static void put_le16(struct blob *x, uint32_t v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(x, b, 2);
}

static void put_le32(struct blob *x, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(x, b, 4);
}

static void set_le32(struct blob *x, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x->b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

/* CRC-32 (ISO-HDLC, the one ZIP uses), bit by bit: the samples are tiny. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* A real stored ZIP: local headers, central directory and end record, so
 * zip.c's inspection sees a well-formed archive.  names/datas: count
 * entries. */
static void make_zip(struct blob *x, const char *const *names, const char *const *datas,
                     int count)
{
    uint32_t offs[8];
    if (count > 8)
        tu_die("make_zip: too many entries");
    for (int i = 0; i < count; i++) {
        size_t nl = strlen(names[i]), dl = strlen(datas[i]);
        offs[i] = (uint32_t)x->n;
        PUTS(x, "PK\3\4");
        put_le16(x, 20);
        put_le16(x, 0); /* flags */
        put_le16(x, 0); /* stored */
        put_le32(x, 0); /* time, date */
        put_le32(x, crc32_of((const unsigned char *)datas[i], dl));
        put_le32(x, (uint32_t)dl);
        put_le32(x, (uint32_t)dl);
        put_le16(x, (uint32_t)nl);
        put_le16(x, 0);
        put(x, names[i], nl);
        put(x, datas[i], dl);
    }
    uint32_t cd = (uint32_t)x->n;
    for (int i = 0; i < count; i++) {
        size_t nl = strlen(names[i]), dl = strlen(datas[i]);
        PUTS(x, "PK\1\2");
        put_le16(x, 20);
        put_le16(x, 20);
        put_le16(x, 0);
        put_le16(x, 0);
        put_le32(x, 0);
        put_le32(x, crc32_of((const unsigned char *)datas[i], dl));
        put_le32(x, (uint32_t)dl);
        put_le32(x, (uint32_t)dl);
        put_le16(x, (uint32_t)nl);
        put_le16(x, 0); /* extra */
        put_le16(x, 0); /* comment */
        put_le16(x, 0); /* disk */
        put_le16(x, 0); /* internal attributes */
        put_le32(x, 0); /* external attributes */
        put_le32(x, offs[i]);
        put(x, names[i], nl);
    }
    uint32_t cdlen = (uint32_t)x->n - cd;
    PUTS(x, "PK\5\6");
    put_le16(x, 0);
    put_le16(x, 0);
    put_le16(x, (uint32_t)count);
    put_le16(x, (uint32_t)count);
    put_le32(x, cdlen);
    put_le32(x, cd);
    put_le16(x, 0);
}

/* A one-member POSIX tar: "a.txt", empty (readers accept the end blocks
 * missing). */
static void put_tar(struct blob *b)
{
    unsigned char h[512] = "a.txt";
    unsigned sum = 0;
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 124, "00000000000", 11);
    memcpy(h + 136, "00000000000", 11);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar\0" "00", 8);
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    put(b, h, sizeof h);
}

static struct blob *add(struct samples *ss, const char *label, imsafe_type t)
{
    if (ss->n == MAX_SAMPLES)
        tu_die("too many samples");
    struct sample *s = &ss->s[ss->n++];
    s->label = label;
    s->type = t;
    s->data.n = 0;
    return &s->data;
}

/* ------------------------------------------------------------- payloads */

/* Valid images, small enough to write out: 1x1 grey PNG, 8x8 grey JPEG
 * (baseline, Huffman-optimised), 1x1 GIF89a with a transparent pixel.
 * Valid so the disguise tests see a real sanitize, not a parse error. */
static const unsigned char png_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x38, 0x01, 0x00, 0x00, 0xca, 0x00, 0xc9, 0x99, 0xca, 0x5d, 0x7e, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static const unsigned char jpeg_8x8[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c,
    0x0e, 0x0c, 0x0a, 0x10, 0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a,
    0x18, 0x16, 0x16, 0x18, 0x31, 0x23, 0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39,
    0x33, 0x38, 0x37, 0x40, 0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57, 0x45, 0x37, 0x38, 0x50,
    0x6d, 0x51, 0x57, 0x5f, 0x62, 0x67, 0x68, 0x67, 0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64,
    0x78, 0x5c, 0x65, 0x67, 0x63, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08,
    0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4,
    0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00,
    0x3f, 0x00, 0x3f, 0xff, 0xd9};

static const unsigned char gif_1x1[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static const char pdf_text[] = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                               "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
                               "trailer << /Root 1 0 R >>\n%%EOF\n";

static const char mvg_text[] = "push graphic-context\nviewbox 0 0 640 480\n"
                               "fill 'url(https://example.com/x.jpg\"|ls \"-la)'\n"
                               "pop graphic-context\n";

static void add_images(struct samples *ss)
{
    put(add(ss, "png", IMSAFE_TYPE_PNG), png_1x1, sizeof png_1x1);
    put(add(ss, "jpeg", IMSAFE_TYPE_JPEG), jpeg_8x8, sizeof jpeg_8x8);
    put(add(ss, "gif89a", IMSAFE_TYPE_GIF), gif_1x1, sizeof gif_1x1);
    struct blob *b = add(ss, "gif87a", IMSAFE_TYPE_GIF);
    put(b, gif_1x1, sizeof gif_1x1);
    b->b[4] = '7';
    b = add(ss, "webp", IMSAFE_TYPE_WEBP);
    PUTS(b, "RIFF\0\0\0\0WEBPVP8L\x05\0\0\0\x2f\0\0\0\0\0");
    set_le32(b, 4, (uint32_t)b->n - 8);
    b = add(ss, "bmp", IMSAFE_TYPE_BMP);
    PUTS(b, "BM");
    put_le32(b, 58);
    put_le32(b, 0);
    put_le32(b, 54);
    put_le32(b, 40);
    put_le32(b, 1);
    put_le32(b, 1);
    put_le16(b, 1);
    put_le16(b, 24);
    put_zeros(b, 24 + 4);
    b = add(ss, "tiff-le", IMSAFE_TYPE_TIFF);
    PUTS(b, "II*\0\x08\0\0\0\0\0");
    put_zeros(b, 16);
    b = add(ss, "tiff-be", IMSAFE_TYPE_TIFF);
    PUTS(b, "MM\0*\0\0\0\x08\0\0");
    put_zeros(b, 16);
    b = add(ss, "ico", IMSAFE_TYPE_ICO);
    PUTS(b, "\0\0\1\0\1\0\x10\x10\0\0\1\0\x20\0\x68\x04\0\0\x16\0\0\0");
    put_zeros(b, 40);
    PUTS(add(ss, "heic", IMSAFE_TYPE_HEIC), "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic\0\0\0\0");
    PUTS(add(ss, "heif", IMSAFE_TYPE_HEIF), "\0\0\0\x14" "ftypmif1\0\0\0\0mif1\0\0\0\0");
    PUTS(add(ss, "avif", IMSAFE_TYPE_AVIF), "\0\0\0\x1c" "ftypavif\0\0\0\0avifmif1miaf");
    b = add(ss, "mng", IMSAFE_TYPE_MNG);
    PUTS(b, "\x8aMNG\r\n\x1a\n\0\0\0\x1cMHDR");
    put_zeros(b, 32);
}

static void add_media(struct samples *ss)
{
    PUTS(add(ss, "mp4", IMSAFE_TYPE_MP4), "\0\0\0\x20" "ftypisom\0\0\x02\0isomiso2avc1mp41");
    PUTS(add(ss, "mov", IMSAFE_TYPE_MOV), "\0\0\0\x14" "ftypqt  \0\0\0\0qt  \0\0\0\x08wide");
    struct blob *b = add(ss, "webm", IMSAFE_TYPE_WEBM);
    PUTS(b, "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm");
    b = add(ss, "ogg", IMSAFE_TYPE_OGG);
    PUTS(b, "OggS\0\x02\0\0\0\0\0\0\0\0\x01\x02\x03\x04\0\0\0\0");
    put_zeros(b, 16);
    b = add(ss, "mp3-id3", IMSAFE_TYPE_MP3);
    PUTS(b, "ID3\x03\0\0\0\0\0\x0a");
    put_zeros(b, 10);
    b = add(ss, "mp3-frame", IMSAFE_TYPE_MP3);
    PUTS(b, "\xff\xfb\x90\x64");
    put_zeros(b, 60);
    b = add(ss, "wav", IMSAFE_TYPE_WAV);
    PUTS(b, "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0\x88\x58\x01\0\x02\0\x10\0"
            "data\0\0\0\0");
}

/* ASCII text as UTF-16 or UTF-32 code units (unit 2 or 4, big-endian or
 * not), after an optional byte order mark. */
static void put_wide(struct blob *x, const char *text, unsigned unit, int be, int bom)
{
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++) {
        uint32_t c = i == 0 ? 0xfeff : (unsigned char)text[i - 1];
        if (i == 0 && !bom)
            continue;
        unsigned char u[4];
        for (unsigned k = 0; k < unit; k++)
            u[be ? unit - 1 - k : k] = (unsigned char)(c >> (8 * k));
        put(x, u, unit);
    }
}

/* Programs a web server runs, in text under any name (PHP, ASP, JSP, SSI,
 * .htaccess) and PostScript, which Ghostscript runs. */
static void add_server_side(struct samples *ss)
{
    static const struct { const char *label, *text; imsafe_type t; } v[] = {
        {"php", "Hello\n<?php system($_GET['c']); ?>\n", IMSAFE_TYPE_SCRIPT},
        {"php-upper", "hello;\n<?PHP eval($_POST[1]);", IMSAFE_TYPE_SCRIPT},
        {"php-echo", "x <?= `id` ?>\n", IMSAFE_TYPE_SCRIPT},
        {"asp-directive", "<%@ Language=VBScript %>\n<% Response.Write(1) %>\n",
         IMSAFE_TYPE_SCRIPT},
        {"asp-block", "Report\n<% eval request(\"x\") %>\n", IMSAFE_TYPE_SCRIPT},
        {"asp-expr", "total: <%= 1+1 %>\n", IMSAFE_TYPE_SCRIPT},
        {"aspnet-runat", "<asp:Label id=\"a\" RunAt = 'Server' />\n", IMSAFE_TYPE_SCRIPT},
        {"jsp", "<%@ page import=\"java.io.*\" %>\n", IMSAFE_TYPE_SCRIPT},
        {"jsp-xml", "<jsp:scriptlet>Runtime.getRuntime().exec(x);</jsp:scriptlet>\n",
         IMSAFE_TYPE_SCRIPT},
        {"ssi-exec", "hello <!--#exec cmd=\"id\" -->\n", IMSAFE_TYPE_SCRIPT},
        {"ssi-include", "<!--#include virtual=\"/etc/passwd\" -->\n", IMSAFE_TYPE_SCRIPT},
        {"coldfusion", "<cfexecute name=\"cmd.exe\">\n", IMSAFE_TYPE_SCRIPT},
        {"htaccess", "# uploads\nAddType application/x-httpd-php .jpg\n", IMSAFE_TYPE_SCRIPT},
        {"htaccess-handler", "<FilesMatch x>\n  SetHandler application/x-httpd-php\n",
         IMSAFE_TYPE_SCRIPT},
        {"htaccess-php-flag", "php_flag engine on\n", IMSAFE_TYPE_SCRIPT},
        {"web-config", "<configuration>\n <system.webServer>\n  <handlers>\n",
         IMSAFE_TYPE_SCRIPT},
        {"postscript", "%!PS-Adobe-3.0\n/Times findfont 12 scalefont setfont\n"
                       "72 72 moveto (hi) show showpage\n", IMSAFE_TYPE_POSTSCRIPT},
        {"postscript-bare", "%!\n/x 1 def\n(%pipe%id) (w) file\n", IMSAFE_TYPE_POSTSCRIPT},
        {"postscript-lead", "\n  %!PS\nquit\n", IMSAFE_TYPE_POSTSCRIPT},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        put(add(ss, v[i].label, v[i].t), v[i].text, strlen(v[i].text));
    PUTS(add(ss, "eps-dos-binary", IMSAFE_TYPE_POSTSCRIPT),
         "\xc5\xd0\xd3\xc6\x20\0\0\0\x10\0\0\0\0\0\0\0");
    PUTS(add(ss, "postscript-ctrl-d", IMSAFE_TYPE_POSTSCRIPT), "\x04%!PS-Adobe-2.0\nshowpage\n");
}

/* Markup that runs or loads when the text is opened as HTML or SVG,
 * wherever it stands, in any case, behind white space, BOMs, comments and
 * DOCTYPEs, and in UTF-16/32. */
static void add_active_text(struct samples *ss)
{
    static const struct { const char *label, *text; imsafe_type t; } v[] = {
        {"late-script", "Dear all,\nthe agenda is below.\n\n<ScRiPt>alert(1)</script>\n",
         IMSAFE_TYPE_HTML},
        {"late-svg", "Some text\n<svg onload=alert(1)>\n", IMSAFE_TYPE_SVG},
        {"iframe", "see <iframe src=//x/>", IMSAFE_TYPE_HTML},
        {"object", "<p>x</p><OBJECT data=x.swf>", IMSAFE_TYPE_HTML},
        {"embed", "a\n<embed src=x>", IMSAFE_TYPE_HTML},
        {"frame", "<frame src=x>", IMSAFE_TYPE_HTML},
        {"meta-refresh", "<meta http-equiv=\"Refresh\" content=\"0;url=https://x/\">",
         IMSAFE_TYPE_HTML},
        {"base", "text <base href=//x/>\n", IMSAFE_TYPE_HTML},
        {"form-action", "<form method=post action=https://x/><input name=p></form>",
         IMSAFE_TYPE_HTML},
        {"link-import", "<link rel=import href=x.html>", IMSAFE_TYPE_HTML},
        {"event-handler", "Look: <img src=x OnError=alert(1)>\n", IMSAFE_TYPE_HTML},
        {"event-handler-slash", "<b/onmouseover=alert(1)>hi</b>", IMSAFE_TYPE_HTML},
        {"js-url", "click <a href=\" java\tscript:alert(1)\">here</a>\n", IMSAFE_TYPE_HTML},
        {"vbs-url", "<a href='VBScript:msgbox(1)'>x</a>", IMSAFE_TYPE_HTML},
        {"data-html-url", "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
         IMSAFE_TYPE_HTML},
        {"markdown-js-link", "Read [the notes](javascript:alert(1)).\n", IMSAFE_TYPE_HTML},
        {"asp-tab-block", "Report\n<%\tResponse.Write(1) %>\n", IMSAFE_TYPE_SCRIPT},
        {"jsp-comment", "Report\n<%-- a JSP comment --%>\n", IMSAFE_TYPE_SCRIPT},
        {"handler-after-comment", "<!-- a -- > b --> <b onclick=x>", IMSAFE_TYPE_HTML},
        {"formfeed-lead", "\f\f \r\n<script>x()</script>", IMSAFE_TYPE_HTML},
        {"double-bom-lead", "\xef\xbb\xbf\xef\xbb\xbf <iframe src=x>", IMSAFE_TYPE_HTML},
        {"doctype-html", "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
                         "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n<p>hi</p>",
         IMSAFE_TYPE_HTML},
        {"xml-with-script", "<?xml version=\"1.0\"?>\n<doc><x:script xmlns:x="
                            "\"http://www.w3.org/1999/xhtml\">alert(1)</x:script>"
                            "<a onclick=\"x\"/></doc>", IMSAFE_TYPE_HTML},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        put(add(ss, v[i].label, v[i].t), v[i].text, strlen(v[i].text));
    struct blob *b = add(ss, "comment-lead", IMSAFE_TYPE_HTML);
    PUTS(b, "<!-- ");
    for (int i = 0; i < 90; i++)
        PUTS(b, "long note ");
    PUTS(b, "-->\n<html><body>hi</body></html>\n");
    put_wide(add(ss, "html-utf16le", IMSAFE_TYPE_HTML), "<html><body>hi</body></html>", 2, 0, 1);
    put_wide(add(ss, "html-utf16be", IMSAFE_TYPE_HTML), "<p>x</p><script>alert(1)</script>", 2,
             1, 1);
    put_wide(add(ss, "html-utf16le-nobom", IMSAFE_TYPE_HTML), "  <img src=x onerror=y>", 2, 0,
             0);
    put_wide(add(ss, "svg-utf32le", IMSAFE_TYPE_SVG), "hello <svg onload=x>", 4, 0, 1);
    put_wide(add(ss, "php-utf32be", IMSAFE_TYPE_SCRIPT), "<?php id();", 4, 1, 1);
    put_wide(add(ss, "text-utf16le", IMSAFE_TYPE_TEXT), "Hello world\r\nsecond line\r\n", 2, 0, 1);
    /* a comment is skipped whole by the attribute pass, in every view */
    put_wide(add(ss, "comment-utf16le", IMSAFE_TYPE_TEXT), "Notes <!-- <b onclick=x> --> end\r\n",
             2, 0, 1);
    put_wide(add(ss, "comment-unclosed-utf16le", IMSAFE_TYPE_TEXT), "Notes <!-- no end\r\n", 2, 0,
             1);
    put_wide(add(ss, "handler-after-comment-utf16be", IMSAFE_TYPE_HTML),
             "Notes <!-- x --> <b onclick=x>", 2, 1, 1);
}

/* Ordinary text that mentions markup, percent signs or URL schemes: it
 * stays text (a false rejection is as bad as a bypass). */
static void add_plain_text(struct samples *ss)
{
    static const struct { const char *label, *text; } v[] = {
        {"readme-div", "# Widget\n\nUse it like this:\n\n    <div class=\"widget\">Hello</div>\n"
                       "    <span>x</span> <p>y</p> <b>z</b>\n\nThat's all: a < b and c > d.\n"},
        {"csv", "name,age,city,note\n\"Smith, J\",42,Paris,<unknown>\nDoe,7,\"Rome\",50%\n"},
        {"log-date-format", "2026-01-01 12:00:01 format=<%Y-%m-%d %H:%M> ok\n"
                            "rate <%5 of requests; 100%> expected\n"},
        {"email-ps-midline", "Hi Bob,\nthe price is 50%! Really.\n%!PS is how PostScript "
                             "files start, and def is a word.\nCheers\n"},
        {"percent-bang-start", "%! important: read me\nthe meeting moved.\n"},
        {"prose-schemes", "JavaScript: the good parts. vbscript: old. onion=2, onload=3\n"
                          "Use data:text/html URLs with care.\n"},
        {"html-mention-entities", "Write &lt;script&gt; to show a tag; on=1 <br> <hr/>\n"},
        {"mail-quote", "> On Monday, Ann <ann@example.org> wrote:\n> <see attachment>\n"},
        {"code-compare", "if (a<b && c>d) { x = y<z; } // template <typename T>\n"},
        {"action-word", "Action items:\naction: call Bob\n  Options: +3\n"},
        {"comment-with-handler", "Notes <!-- <b onclick=x> --> end\n"},
        {"comment-unclosed", "Notes <!-- <b onclick=x> and no end\n"},
        {"opener-lookalikes", "Tags <cfzzz> and <!--#zzz --> and <cf> are none\n"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        put(add(ss, v[i].label, IMSAFE_TYPE_TEXT), v[i].text, strlen(v[i].text));
}

static void add_markup(struct samples *ss)
{
    PUTS(add(ss, "svg", IMSAFE_TYPE_SVG),
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\">"
         "<script>alert(1)</script></svg>\n");
    PUTS(add(ss, "svg-bom-xml-decl", IMSAFE_TYPE_SVG),
         "\xef\xbb\xbf \n<?xml version=\"1.0\"?>\n"
         "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg/>\n");
    PUTS(add(ss, "xml", IMSAFE_TYPE_XML),
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<note><to>a</to></note>\n");
    PUTS(add(ss, "html", IMSAFE_TYPE_HTML),
         "<!DOCTYPE html>\n<html><head><title>t</title></head><body>hi</body></html>\n");
    PUTS(add(ss, "html-fragment", IMSAFE_TYPE_HTML), "  <script>document.location='x'</script>\n");
    PUTS(add(ss, "hta", IMSAFE_TYPE_HTML), "<HTA:APPLICATION ID=\"x\"/>\n");
    PUTS(add(ss, "mvg", IMSAFE_TYPE_MVG), mvg_text);
    PUTS(add(ss, "script-shebang", IMSAFE_TYPE_SCRIPT), "#!/bin/sh\necho hello\n");
    PUTS(add(ss, "script-batch", IMSAFE_TYPE_SCRIPT), "@echo off\r\ndel /q C:\\x\r\n");
    PUTS(add(ss, "script-vbs", IMSAFE_TYPE_SCRIPT),
         "Set o = CreateObject(\"WScript.Shell\")\no.Run \"calc\"\n");
    PUTS(add(ss, "script-powershell", IMSAFE_TYPE_SCRIPT),
         "IEX (New-Object Net.WebClient); Invoke-Expression $x\n");
    PUTS(add(ss, "text", IMSAFE_TYPE_TEXT), "Meeting notes\n- bring the slides\n\tand coffee\n");
    PUTS(add(ss, "text-utf8", IMSAFE_TYPE_TEXT), "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x82\xac\n");
    add_server_side(ss);
    add_active_text(ss);
    add_plain_text(ss);
}

static void add_documents(struct samples *ss)
{
    PUTS(add(ss, "pdf", IMSAFE_TYPE_PDF), pdf_text);
    PUTS(add(ss, "rtf", IMSAFE_TYPE_RTF), "{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} hello}");
    struct blob *b = add(ss, "ole2", IMSAFE_TYPE_OLE2);
    PUTS(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1");
    put_zeros(b, 504);
}

static void add_archives(struct samples *ss)
{
    static const char *const plain[] = {"hello.txt", "data/numbers.csv"};
    static const char *const plain_d[] = {"hello\n", "1,2,3\n"};
    static const char *const docx[] = {"[Content_Types].xml", "word/document.xml"};
    static const char *const xlsx[] = {"[Content_Types].xml", "xl/workbook.xml"};
    static const char *const pptx[] = {"[Content_Types].xml", "ppt/presentation.xml"};
    static const char *const ooxml_d[] = {"<Types/>", "<doc/>"};
    static const char *const odt[] = {"mimetype", "content.xml"};
    static const char *const odt_d[] = {"application/vnd.oasis.opendocument.text", "<c/>"};
    static const char *const epub[] = {"mimetype", "META-INF/container.xml"};
    static const char *const epub_d[] = {"application/epub+zip", "<container/>"};
    static const char *const jar[] = {"META-INF/MANIFEST.MF", "Main.class"};
    static const char *const jar_d[] = {"Manifest-Version: 1.0\n", "\xca\xfe\xba\xbe"};
    static const char *const apk[] = {"AndroidManifest.xml", "classes.dex"};
    static const char *const apk_d[] = {"<manifest/>", "dex\n035"};
    make_zip(add(ss, "zip", IMSAFE_TYPE_ZIP), plain, plain_d, 2);
    PUTS(add(ss, "zip-empty", IMSAFE_TYPE_ZIP), "PK\5\6\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    make_zip(add(ss, "docx", IMSAFE_TYPE_DOCX), docx, ooxml_d, 2);
    make_zip(add(ss, "xlsx", IMSAFE_TYPE_XLSX), xlsx, ooxml_d, 2);
    make_zip(add(ss, "pptx", IMSAFE_TYPE_PPTX), pptx, ooxml_d, 2);
    make_zip(add(ss, "odt", IMSAFE_TYPE_ODF), odt, odt_d, 2);
    make_zip(add(ss, "epub", IMSAFE_TYPE_EPUB), epub, epub_d, 2);
    make_zip(add(ss, "jar", IMSAFE_TYPE_JAR), jar, jar_d, 2);
    make_zip(add(ss, "apk", IMSAFE_TYPE_APK), apk, apk_d, 2);
    struct blob *b = add(ss, "gzip", IMSAFE_TYPE_GZIP);
    PUTS(b, "\x1f\x8b\x08\0\0\0\0\0\0\x03\x03\0\0\0\0\0\0\0\0\0");
    PUTS(add(ss, "7z", IMSAFE_TYPE_7Z), "7z\xbc\xaf\x27\x1c\0\x04\0\0\0\0\0\0\0\0\0\0\0\0");
    PUTS(add(ss, "rar4", IMSAFE_TYPE_RAR), "Rar!\x1a\x07\0\xcf\x90\x73\0\0\x0d\0\0\0\0\0\0\0");
    PUTS(add(ss, "rar5", IMSAFE_TYPE_RAR), "Rar!\x1a\x07\x01\0\x33\x92\xb5\xe5\x0a\x01\x05\x06\0");
}

static void add_executables(struct samples *ss)
{
    struct blob *b = add(ss, "pe", IMSAFE_TYPE_PE);
    PUTS(b, "MZ\x90\0");
    put_zeros(b, 56);
    put_le32(b, 64); /* e_lfanew */
    PUTS(b, "PE\0\0\x4c\x01\x01\0");
    put_zeros(b, 24);
    b = add(ss, "elf", IMSAFE_TYPE_ELF);
    PUTS(b, "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0");
    put_zeros(b, 40);
    b = add(ss, "macho-64", IMSAFE_TYPE_MACHO);
    PUTS(b, "\xcf\xfa\xed\xfe\x07\0\0\x01\x03\0\0\0\x02\0\0\0");
    put_zeros(b, 16);
    b = add(ss, "macho-fat", IMSAFE_TYPE_MACHO);
    PUTS(b, "\xca\xfe\xba\xbe\0\0\0\x02\x01\0\0\x07\0\0\0\x03");
    put_zeros(b, 32);
    b = add(ss, "java-class", IMSAFE_TYPE_JAVA_CLASS);
    PUTS(b, "\xca\xfe\xba\xbe\0\0\0\x34\0\x10\x0a\0\x03\0\x0d\x07");
    put_zeros(b, 16);
    b = add(ss, "lnk", IMSAFE_TYPE_LNK);
    PUTS(b, "L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46");
    put_zeros(b, 56);
    b = add(ss, "dex", IMSAFE_TYPE_DEX);
    PUTS(b, "dex\n035\0");
    put_zeros(b, 104);
    put_tar(add(ss, "tar-ustar", IMSAFE_TYPE_TAR));
}

/* Look-alikes that must NOT be taken for the type their first bytes hint
 * at, and bytes nothing claims. */
static void add_unknown(struct samples *ss)
{
    PUTS(add(ss, "binary-noise", IMSAFE_TYPE_UNKNOWN), "\0\x13\x37\xfe\x80\x81\0\x99\x01\x02");
    PUTS(add(ss, "text-with-nul", IMSAFE_TYPE_UNKNOWN), "hello\0world\n");
    PUTS(add(ss, "invalid-utf8", IMSAFE_TYPE_UNKNOWN), "caf\xe9 cr\xe8me\n");
    /* "BM" whose size field does not match the payload */
    struct blob *b = add(ss, "bm-wrong-size", IMSAFE_TYPE_UNKNOWN);
    PUTS(b, "BM\xff\xff\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0");
    put_zeros(b, 20);
    /* "MZ" without a PE header is not a PE */
    b = add(ss, "mz-only", IMSAFE_TYPE_UNKNOWN);
    PUTS(b, "MZ\x90\0\x03\0");
    put_zeros(b, 80);
    /* ID3 with a version that does not exist */
    b = add(ss, "id3-bad-version", IMSAFE_TYPE_UNKNOWN);
    PUTS(b, "ID3\x07\0\0\0\0\0\x0a\x80");
    put_zeros(b, 10);
    /* an ICO header with no images */
    b = add(ss, "ico-zero-images", IMSAFE_TYPE_UNKNOWN);
    PUTS(b, "\0\0\1\0\0\0\x80");
    put_zeros(b, 20);
}

static void build(struct samples *ss)
{
    ss->n = 0;
    add_images(ss);
    add_media(ss);
    add_markup(ss);
    add_documents(ss);
    add_archives(ss);
    add_executables(ss);
    add_unknown(ss);
}

/* ---------------------------------------------------------------- checks */

static imsafe_result *run(imsafe_ctx *ctx, const imsafe_policy *p, const struct blob *b,
                          const char *name, const char *mime)
{
    return tu_sanitize(ctx, p, b->b, b->n, name, mime);
}

static int has_module(imsafe_type t)
{
    switch (t) {
    case IMSAFE_TYPE_PNG: case IMSAFE_TYPE_JPEG: case IMSAFE_TYPE_GIF:
    case IMSAFE_TYPE_ZIP: case IMSAFE_TYPE_DOCX: case IMSAFE_TYPE_XLSX:
    case IMSAFE_TYPE_PPTX: case IMSAFE_TYPE_ODF: case IMSAFE_TYPE_EPUB:
    case IMSAFE_TYPE_JAR: case IMSAFE_TYPE_APK: case IMSAFE_TYPE_GZIP:
    case IMSAFE_TYPE_TAR: case IMSAFE_TYPE_WEBP:
        return 1;
    default:
        return 0;
    }
}

/* Every parser-less type passes: the verdict must be "passed" and the type
 * right, so no rejection can mask a wrong sniff. */
static imsafe_policy *permissive_policy(void)
{
    imsafe_policy *p = imsafe_policy_new();
    if (p == NULL)
        tu_die("imsafe_policy_new");
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++)
        if (!has_module((imsafe_type)t) &&
            imsafe_policy_set_action(p, (imsafe_type)t, IMSAFE_ACTION_PASS) != IMSAFE_OK)
            tu_die("set_action pass");
    imsafe_policy_freeze(p);
    return p;
}

static void check_types(imsafe_ctx *ctx, const struct samples *ss)
{
    imsafe_policy *def = tu_policy(NULL), *open = permissive_policy();
    for (size_t i = 0; i < ss->n; i++) {
        const struct sample *s = &ss->s[i];
        imsafe_result *r = run(ctx, def, &s->data, NULL, NULL);
        TU_CHECK(imsafe_result_type(r) == s->type, "%s: default policy: type %s, expected %s",
                 s->label, imsafe_type_name(imsafe_result_type(r)), imsafe_type_name(s->type));
        imsafe_result_free(r);
        r = run(ctx, open, &s->data, NULL, NULL);
        TU_CHECK(imsafe_result_type(r) == s->type, "%s: permissive policy: type %s, expected %s",
                 s->label, imsafe_type_name(imsafe_result_type(r)), imsafe_type_name(s->type));
        if (!has_module(s->type))
            TU_CHECK(imsafe_result_verdict(r) == IMSAFE_PASSED, "%s: not passed (%s: %s)",
                     s->label, imsafe_reason_name(imsafe_result_reason(r)),
                     imsafe_result_detail(r));
        imsafe_result_free(r);
    }
    imsafe_policy_unref(def);
    imsafe_policy_unref(open);
}

/* Each type in the header has a sample: a new type needs one here. */
static void check_coverage(const struct samples *ss)
{
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++) {
        int found = 0;
        for (size_t i = 0; i < ss->n; i++)
            found |= ss->s[i].type == (imsafe_type)t;
        TU_CHECK(found, "no sniffing sample for type %s", imsafe_type_name((imsafe_type)t));
    }
}

/* The claim is checked against the content, never used to decide it. */
static void check_claims_ignored(imsafe_ctx *ctx, const struct samples *ss)
{
    static const char *const names[] = {"photo.png", "photo.jpg", "anim.gif", "doc.pdf",
                                        "notes.txt", "setup.exe", "archive.zip", "page.html",
                                        "run.sh",    "image.svg", "noextension", ""};
    static const char *const mimes[] = {"image/png", "image/jpeg", "application/pdf",
                                        "text/plain", "application/x-msdownload", "text/html",
                                        "application/zip", "application/octet-stream"};
    imsafe_policy *p = tu_policy(NULL);
    for (size_t i = 0; i < ss->n; i++) {
        const struct sample *s = &ss->s[i];
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            imsafe_result *r = run(ctx, p, &s->data, names[k], NULL);
            TU_CHECK(imsafe_result_type(r) == s->type, "%s named \"%s\": type %s", s->label,
                     names[k], imsafe_type_name(imsafe_result_type(r)));
            imsafe_result_free(r);
        }
        for (size_t k = 0; k < sizeof mimes / sizeof mimes[0]; k++) {
            imsafe_result *r = run(ctx, p, &s->data, "file", mimes[k]);
            TU_CHECK(imsafe_result_type(r) == s->type, "%s as %s: type %s", s->label, mimes[k],
                     imsafe_type_name(imsafe_result_type(r)));
            imsafe_result_free(r);
        }
    }
    imsafe_policy_unref(p);
}

static const struct sample *find(const struct samples *ss, const char *label)
{
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->s[i].label, label) == 0)
            return &ss->s[i];
    tu_die("no such sample");
    return NULL;
}

/* One disguise case: sample `label` claimed as name/mime; expected verdict,
 * reason (IMSAFE_R_NONE: accepted) and a note an acceptance must carry. */
static void disguise(imsafe_ctx *ctx, const imsafe_policy *p, const struct samples *ss,
                     const char *label, const char *name, const char *mime, imsafe_verdict v,
                     imsafe_reason reason, imsafe_reason note)
{
    const struct sample *s = find(ss, label);
    imsafe_result *r = run(ctx, p, &s->data, name, mime);
    const char *claim = name ? name : mime;
    TU_CHECK(imsafe_result_type(r) == s->type, "%s as %s: type %s", label, claim,
             imsafe_type_name(imsafe_result_type(r)));
    TU_CHECK(imsafe_result_verdict(r) == v, "%s as %s: verdict %s (%s: %s)", label, claim,
             imsafe_verdict_name(imsafe_result_verdict(r)),
             imsafe_reason_name(imsafe_result_reason(r)), imsafe_result_detail(r));
    TU_CHECK(imsafe_result_reason(r) == reason, "%s as %s: reason %s, expected %s", label, claim,
             imsafe_reason_name(imsafe_result_reason(r)), imsafe_reason_name(reason));
    if (note != IMSAFE_R_NONE)
        TU_CHECK(tu_has_note(r, note), "%s as %s: note %s missing", label, claim,
                 imsafe_reason_name(note));
    imsafe_result_free(r);
}

static void check_disguises(imsafe_ctx *ctx, const struct samples *ss)
{
    imsafe_policy *p = tu_policy(NULL);
    const imsafe_verdict REJ = IMSAFE_REJECTED, SAN = IMSAFE_SANITIZED, PAS = IMSAFE_PASSED;
    const imsafe_reason NONE = IMSAFE_R_NONE, MISMATCH = IMSAFE_R_TYPE_MISMATCH;
    /* FORCEDENTRY: a PDF named .gif, or sent as image/gif */
    disguise(ctx, p, ss, "pdf", "x.gif", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "pdf", NULL, "image/gif", REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "pdf", "x.pdf", "application/pdf", PAS, NONE, NONE);
    /* ImageTragick: MVG or SVG named as a photo */
    disguise(ctx, p, ss, "mvg", "x.jpg", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "svg", "x.png", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "html", NULL, "image/png", REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "elf", "cat.jpg", NULL, REJ, MISMATCH, NONE);
    /* one image format claimed as another is harmless once rebuilt */
    disguise(ctx, p, ss, "jpeg", "x.png", NULL, SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "jpeg", NULL, "image/png", SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "png", "x.gif", NULL, SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "gif89a", "x.jpeg", NULL, SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "png", "x.png", "image/png", SAN, NONE, NONE);
    /* ... whatever image type is claimed: favicons, stickers, phone photos */
    disguise(ctx, p, ss, "png", "favicon.ico", NULL, SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "jpeg", "sticker.webp", "image/webp", SAN, NONE,
             IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "jpeg", "IMG_0001.HEIC", NULL, SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "gif89a", NULL, "image/avif", SAN, NONE, IMSAFE_R_NOTE_TYPE_MISMATCH);
    disguise(ctx, p, ss, "png", "scan.tiff", "image/bmp", SAN, NONE,
             IMSAFE_R_NOTE_TYPE_MISMATCH);
    /* ... but no claim that names something other than an image */
    disguise(ctx, p, ss, "png", "x.svg", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "png", NULL, "image/svg+xml", REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "jpeg", NULL, "text/html", REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "jpeg", "clip.mp4", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "pdf", "favicon.ico", NULL, REJ, MISMATCH, NONE);
    /* plain text named as a script is a script */
    disguise(ctx, p, ss, "text", "run.bat", NULL, REJ, IMSAFE_R_TYPE_SCRIPT, NONE);
    /* the same family under another name is no disguise */
    disguise(ctx, p, ss, "mp4", "clip.mov", NULL, PAS, NONE, NONE);
    disguise(ctx, p, ss, "docx", "report.zip", NULL, PAS, NONE, NONE);
    /* HEIF, HEIC and AVIF are one family: the default policy rejects them
     * as types, never as a disguise of one another */
    disguise(ctx, p, ss, "heic", "nokia.heif", NULL, REJ, IMSAFE_R_POLICY_TYPE_REJECTED, NONE);
    imsafe_policy_unref(p);
    p = tu_policy("action heic = pass\naction heif = pass\naction avif = pass\n"
                  "action webp = pass\n");
    disguise(ctx, p, ss, "heic", "nokia.heif", "image/heif", PAS, NONE, NONE);
    disguise(ctx, p, ss, "heif", "IMG_0001.HEIC", "image/heic", PAS, NONE, NONE);
    disguise(ctx, p, ss, "avif", "x.heif", NULL, PAS, NONE, NONE);
    disguise(ctx, p, ss, "heif", "x.avif", NULL, PAS, NONE, NONE);
    disguise(ctx, p, ss, "heic", "x.mp4", NULL, REJ, MISMATCH, NONE);
    disguise(ctx, p, ss, "heic", "x.jpg", NULL, REJ, MISMATCH, NONE);
    /* an image passed as it is (not rebuilt) keeps the strict rule */
    disguise(ctx, p, ss, "webp", "x.png", NULL, REJ, MISMATCH, NONE);
    imsafe_policy_unref(p);
}

/* A PNG whose signature lost its CR (text-mode transfer) is not a PNG by
 * magic, but its IHDR gives it away: a damaged signature, not "unknown",
 * and a name or MIME type saying PNG changes nothing. */
static void check_damaged(imsafe_ctx *ctx)
{
    static const char *const names[] = {NULL, "x.png", "x.bin", "x.txt"};
    imsafe_policy *p = tu_policy(NULL);
    struct blob b = {.n = 0};
    put(&b, png_1x1, 5);
    put(&b, png_1x1 + 6, sizeof png_1x1 - 6);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        imsafe_result *r = run(ctx, p, &b, names[k], k == 1 ? "image/png" : NULL);
        TU_CHECK(imsafe_result_verdict(r) == IMSAFE_REJECTED &&
                     imsafe_result_reason(r) == IMSAFE_R_MALFORMED_SIGNATURE,
                 "damaged PNG named %s: %s %s", names[k] ? names[k] : "(none)",
                 imsafe_verdict_name(imsafe_result_verdict(r)),
                 imsafe_reason_name(imsafe_result_reason(r)));
        TU_CHECK(imsafe_result_type(r) != IMSAFE_TYPE_PNG, "damaged PNG reported as png");
        imsafe_result_free(r);
    }
    imsafe_policy_unref(p);
}

/* Floods of an opener's prefix (the input the scanner's shortcuts are
 * for), alone and with the real construct after them, well past the
 * first-bytes windows: the shortcuts must skip the flood and still see
 * what follows it, in UTF-8 and in UTF-16. */
static unsigned char *flood_text(const char *lead, const char *flood, const char *tail,
                                 unsigned unit, size_t *n)
{
    size_t fl = strlen(flood), reps = 20000;
    size_t chars = strlen(lead) + reps * fl + strlen(tail) + (unit > 1);
    unsigned char *b = calloc(chars, unit);
    if (b == NULL)
        tu_die("out of memory");
    size_t k = 0;
    const char *parts[] = {unit > 1 ? "\xff" : "", lead, flood, tail};
    for (size_t p = 0; p < 4; p++)
        for (size_t r = 0; r < (p == 2 ? reps : 1); r++)
            for (const char *c = parts[p]; *c != '\0'; c++, k++)
                b[k * unit] = (unsigned char)*c; /* little-endian code units */
    if (unit > 1)
        b[1] = 0xfe; /* the byte order mark FF FE */
    *n = k * unit;
    return b;
}

static void check_floods(imsafe_ctx *ctx)
{
    static const struct { const char *label, *lead, *flood, *tail; imsafe_type t; } v[] = {
        {"cf", "", "<c", "<cfquery name=x>", IMSAFE_TYPE_SCRIPT},
        {"asp", "", "<%", "<% x %>", IMSAFE_TYPE_SCRIPT},
        {"ssi", "", "<!--", "<!--#exec cmd=\"id\" -->", IMSAFE_TYPE_SCRIPT},
        {"php", "", "<?", "<?php x", IMSAFE_TYPE_SCRIPT},
        {"tag", "", "<sc", "<script>", IMSAFE_TYPE_HTML},
        {"svg", "", "<sv", "<svg>", IMSAFE_TYPE_SVG},
        {"md-link", "", "](", "[a](javascript:x)", IMSAFE_TYPE_HTML},
        {"attr", "", "<a href=", "<a href=javascript:x>", IMSAFE_TYPE_HTML},
        {"lines", "", "\n ", "\n AddHandler php .jpg\n", IMSAFE_TYPE_SCRIPT},
        {"ps", "%!\n", "s", " showpage", IMSAFE_TYPE_POSTSCRIPT},
        {"cf-only", "", "<c", "", IMSAFE_TYPE_TEXT},
        {"asp-only", "", "<%", "", IMSAFE_TYPE_TEXT},
        {"md-only", "", "](", "", IMSAFE_TYPE_TEXT},
        {"ps-only", "%!\n", "sh ", "", IMSAFE_TYPE_TEXT},
        {"text", "", "plain words, ", "\n", IMSAFE_TYPE_TEXT},
    };
    imsafe_policy *def = tu_policy(NULL);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        for (unsigned unit = 1; unit <= 2; unit++) {
            size_t n;
            unsigned char *b = flood_text(v[i].lead, v[i].flood, v[i].tail, unit, &n);
            imsafe_result *r = tu_sanitize(ctx, def, b, n, NULL, NULL);
            TU_CHECK(imsafe_result_type(r) == v[i].t, "flood %s (%u-byte units): type %s, "
                     "expected %s", v[i].label, unit, imsafe_type_name(imsafe_result_type(r)),
                     imsafe_type_name(v[i].t));
            imsafe_result_free(r);
            free(b);
        }
    imsafe_policy_unref(def);
}

static void check_type_names(void)
{
    for (int t = 0; t < IMSAFE_TYPE_COUNT; t++) {
        const char *n = imsafe_type_name((imsafe_type)t);
        TU_CHECK(n != NULL && n[0] != '\0', "type %d has no name", t);
        if (n == NULL)
            continue;
        TU_CHECK(imsafe_type_from_name(n) == t, "type %d (%s) does not round-trip: %d", t, n,
                 imsafe_type_from_name(n));
        for (int u = 0; u < t; u++)
            TU_CHECK(strcmp(n, imsafe_type_name((imsafe_type)u)) != 0,
                     "types %d and %d share the name %s", u, t, n);
        for (const char *c = n; *c; c++)
            TU_CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_',
                     "type name %s: character outside [a-z0-9_]", n);
    }
    TU_CHECK(strcmp(imsafe_type_name(IMSAFE_TYPE_UNKNOWN), "unknown") == 0, "type 0 is not unknown");
    TU_CHECK(strcmp(imsafe_type_name((imsafe_type)IMSAFE_TYPE_COUNT), "unknown") == 0,
             "out-of-range type not named unknown");
    TU_CHECK(strcmp(imsafe_type_name((imsafe_type)-1), "unknown") == 0,
             "negative type not named unknown");
    TU_CHECK(imsafe_type_from_name("no-such-type") == -1, "unknown name accepted");
    TU_CHECK(imsafe_type_from_name("") == -1, "empty name accepted");
    TU_CHECK(imsafe_type_from_name(NULL) == -1, "NULL name accepted");
}

int main(void)
{
    /* static: the table is large for a stack frame */
    static struct samples ss;
    imsafe_ctx *ctx = imsafe_ctx_new(NULL);
    if (ctx == NULL)
        tu_die("imsafe_ctx_new");
    build(&ss);
    check_coverage(&ss);
    check_types(ctx, &ss);
    check_claims_ignored(ctx, &ss);
    check_disguises(ctx, &ss);
    check_damaged(ctx);
    check_floods(ctx);
    check_type_names();
    imsafe_ctx_free(ctx);
    return tu_finish();
}
