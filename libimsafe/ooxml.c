/*
 * ooxml.c - Office documents met in a ZIP walk: OOXML (docx, xlsx, pptx
 * and their macro-enabled twins, OPC packages) and ODF (odt, ods, odp).
 * zip.c stays the container: it hands this file each entry name of an
 * archive level, holds the inflated bytes of the few small XML parts asked
 * for, and passes every entry's first bytes.  Nothing is rebuilt: a
 * document that passes is accepted unchanged with the archive.
 *
 * OOXML (ECMA-376 Part 2, Open Packaging Conventions) is told by its
 * "[Content_Types].xml" entry, ODF by "META-INF/manifest.xml":
 *
 *   [Content_Types].xml  <Types><Default Extension=".." ContentType=".."/>
 *                        <Override PartName=".." ContentType=".."/></Types>
 *   _rels/.rels, word/_rels/document.xml.rels, ... (any "*.rels" part)
 *                        <Relationships><Relationship Id=".." Type="URI"
 *                        Target=".." [TargetMode="External"]/></Relationships>
 *   ODF                  mimetype, content.xml, ..., Basic/<lib>/<module>.xml
 *                        (StarBasic), Scripts/<language>/... (Python,
 *                        BeanShell, JavaScript), "Object N" (embedded objects)
 *
 * Findings (THREATS.md row 20), each with a policy switch:
 *   macro (type.macro, office_macros): a VBA project (vbaProject.bin, the
 *     vbaProject relationship, macro-enabled content types: docm, xlsm,
 *     pptm, dotm, xltm, potm, ppsm, xlam, ppam), Word VBA data, Excel 4.0
 *     macro sheets (xl/macrosheets/, the xlMacrosheet relationship), ODF
 *     Basic modules and Scripts/;
 *   active (type.active_content, office_active): ActiveX controls
 *     (activeX/ parts, control relationships), embedded OLE objects
 *     (oleObject*.bin, embeddings/ *.bin, the oleObject relationship, any
 *     OLE2 compound file inside the package: Equation Editor, CVE-2017-11882),
 *     and external relationships that load something on open: a remote
 *     template (attachedTemplate off the reader's own drives: template
 *     injection; Word records a local template as file:///C:/...), an external
 *     oleObject (CVE-2017-0199; Follina's "mhtml:" target, CVE-2022-30190),
 *     frame, subDocument, external workbook links, or any other type not
 *     listed as harmless.  A hyperlink is followed only on a click and
 *     passes wherever it points; a linked picture, video or sound passes
 *     when it is fetched over http(s).
 * The XML parts are read with a small bounded scanner, not a parser: start
 * tags, attributes (quoted values, the five named entities and character
 * references decoded, so "&#x45;xternal" reads "External"), namespace
 * prefixes on element and attribute names; comments, CDATA, processing
 * instructions and end tags are skipped.  A DOCTYPE (OPC forbids DTDs, and
 * an entity of its own could spell a value), an unknown entity, a '<'
 * inside a value or a tag that never ends is malformed.office: Office
 * refuses such a part too.
 */
#include <stdio.h>
#include <string.h>

#include "imsafe_private.h"

#define STOP IMSAFE__ARC_STOP
/* Largest XML part held and read.  Relationship and content-type parts
 * are a few KiB in real documents (a 5,000-hyperlink workbook's sheet
 * relationships are about 700 KiB); a larger one is refused, not skipped. */
#define PART_MAX (16u << 20)
/* Attribute value bytes kept after decoding: the longest relationship
 * type URI is under 100 bytes; a Target is read for its scheme only. */
#define VALUE_MAX 512
/* Characters of a part name shown in a detail. */
#define SHOWN_MAX 60

enum finding { F_NONE, F_MACRO, F_ACTIVE };

/* -------------------------------------------------------------- helpers */

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* s[0..n) equals the lower-case ASCII string w, folding case. */
static int eq_fold(const uint8_t *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != (uint8_t)w[i])
            return 0;
    return 1;
}

static int starts_fold(const uint8_t *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    return n >= m && eq_fold(s, m, w);
}

static int ends_fold(const uint8_t *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    return n >= m && eq_fold(s + n - m, m, w);
}

/* The lower-case ASCII string w somewhere in s[0..n). */
static int has_fold(const uint8_t *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (eq_fold(s + i, m, w))
            return 1;
    return 0;
}

static int is_sep(uint8_t c)
{
    return c == '/' || c == '\\';
}

/* The last path component of a part name. */
static const uint8_t *base_name(const uint8_t *s, size_t n, size_t *bl)
{
    size_t i = n;
    while (i > 0 && !is_sep(s[i - 1]))
        i--;
    *bl = n - i;
    return s + i;
}

/* A path component (folded) anywhere in the name but the last. */
static int has_dir(const uint8_t *s, size_t n, const char *dir)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_sep(s[i]))
            continue;
        if (eq_fold(s + start, i - start, dir))
            return 1;
        start = i + 1;
    }
    return 0;
}

/* The first path component (folded), and the name goes on after it. */
static int first_dir(const uint8_t *s, size_t n, const char *dir)
{
    size_t m = strlen(dir);
    return n > m + 1 && is_sep(s[m]) && eq_fold(s, m, dir);
}

/* A part name for a detail: letters, digits and "._-/[]" kept, any other
 * byte shown as '?', cut at SHOWN_MAX.  Never more of the input. */
static void shown(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap && k < SHOWN_MAX; i++) {
        uint8_t c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-' || c == '/' || c == '[' || c == ']';
        out[k++] = ok ? (char)c : '?';
    }
    if (n > SHOWN_MAX && k + 4 <= cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* Reject for a finding, unless the policy passes that kind.  what is a
 * constant string. */
static int finding(struct imsafe__arc *zc, enum finding f, unsigned long index, const uint8_t *name,
                   size_t n, const char *what)
{
    char part[SHOWN_MAX + 8];
    imsafe_opt opt = f == F_MACRO ? IMSAFE_OPT_OFFICE_MACROS : IMSAFE_OPT_OFFICE_ACTIVE;
    if (f == F_NONE || imsafe__opt(zc->job->policy, opt) == IMSAFE_OFFICE_PASS)
        return 0;
    shown(part, sizeof part, name, n);
    imsafe__reject(zc->job, f == F_MACRO ? IMSAFE_R_TYPE_MACRO : IMSAFE_R_TYPE_ACTIVE_CONTENT,
                   "entry %lu (%s): %s", index, part, what);
    return STOP;
}

static int malformed(struct imsafe__arc *zc, unsigned long index, const uint8_t *name, size_t n,
                     const char *what)
{
    char part[SHOWN_MAX + 8];
    shown(part, sizeof part, name, n);
    imsafe__reject(zc->job, IMSAFE_R_MALFORMED_OFFICE, "entry %lu (%s): %s", index, part, what);
    return STOP;
}

/* ------------------------------------------------------------ the kind */

void imsafe__doc_see(struct imsafe__doc *d, const uint8_t *name, size_t n)
{
    /* OPC part names compare without case; ODF's are exact, but a reader
     * on a case-folding file system finds either */
    if (eq_fold(name, n, "[content_types].xml"))
        d->kind |= IMSAFE__DOC_OOXML;
    if (eq_fold(name, n, "meta-inf/manifest.xml"))
        d->kind |= IMSAFE__DOC_ODF;
}

/* ----------------------------------------------------------- part names */

static enum finding ooxml_name(const uint8_t *s, size_t n, const char **what)
{
    size_t bl;
    const uint8_t *b = base_name(s, n, &bl);
    if (eq_fold(b, bl, "vbaproject.bin") || starts_fold(b, bl, "vbaprojectsignature")) {
        *what = "a VBA macro project";
        return F_MACRO;
    }
    if (eq_fold(b, bl, "vbadata.xml")) {
        *what = "Word VBA macro data";
        return F_MACRO;
    }
    if (has_dir(s, n, "macrosheets")) {
        *what = "an Excel 4.0 macro sheet";
        return F_MACRO;
    }
    if (has_dir(s, n, "activex")) {
        *what = "an ActiveX control";
        return F_ACTIVE;
    }
    if (starts_fold(b, bl, "oleobject") || (has_dir(s, n, "embeddings") && ends_fold(b, bl, ".bin"))) {
        *what = "an embedded OLE object";
        return F_ACTIVE;
    }
    return F_NONE;
}

/* StarBasic library files that hold no code: the container and library
 * indexes LibreOffice writes beside the modules. */
static int basic_index(const uint8_t *b, size_t bl)
{
    return eq_fold(b, bl, "script-lc.xml") || eq_fold(b, bl, "script-lb.xml") ||
           eq_fold(b, bl, "dialog-lc.xml") || eq_fold(b, bl, "dialog-lb.xml");
}

static enum finding odf_name(const uint8_t *s, size_t n, const char **what)
{
    size_t bl;
    const uint8_t *b = base_name(s, n, &bl);
    if (bl == 0)
        return F_NONE; /* a directory entry holds nothing */
    if (first_dir(s, n, "basic") && !basic_index(b, bl)) {
        *what = "a StarBasic macro module";
        return F_MACRO;
    }
    if (first_dir(s, n, "scripts")) {
        *what = "a macro script";
        return F_MACRO;
    }
    return F_NONE;
}

int imsafe__doc_name(struct imsafe__arc *zc, const struct imsafe__doc *d, unsigned long index,
                     const uint8_t *name, size_t n)
{
    const char *what = NULL;
    enum finding f = F_NONE;
    if (d->kind & IMSAFE__DOC_OOXML)
        f = ooxml_name(name, n, &what);
    if (f == F_NONE && (d->kind & IMSAFE__DOC_ODF))
        f = odf_name(name, n, &what);
    return finding(zc, f, index, name, n, what);
}

/* ------------------------------------------------------------ XML scan */

struct xml {
    const uint8_t *p;
    size_t n, i;
};

/* A decoded attribute value: the first VALUE_MAX bytes, and whether more
 * followed. */
struct val {
    uint8_t b[VALUE_MAX];
    size_t len;
    int cut, seen;
};

/* The attributes one start tag gives us. */
enum tag_kind { TAG_OTHER, TAG_REL, TAG_CTYPE };
struct tag {
    enum tag_kind kind;
    struct val type, target, mode, ctype;
    struct val scratch; /* attributes we do not read are still decoded */
};

static int at(const struct xml *x, size_t i, const char *s)
{
    size_t m = strlen(s);
    return i <= x->n && x->n - i >= m && memcmp(x->p + i, s, m) == 0;
}

static int space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Past the next occurrence of s from x->i: 0, or -1 if it never comes. */
static int past(struct xml *x, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = x->i; i < x->n && x->n - i >= m; i++)
        if (memcmp(x->p + i, s, m) == 0) {
            x->i = i + m;
            return 0;
        }
    return -1;
}

static void skip_space(struct xml *x)
{
    while (x->i < x->n && space(x->p[x->i]))
        x->i++;
}

/* An XML name at x->i: its local part (after the last ':') in *s, *len. */
static int xname(struct xml *x, const uint8_t **s, size_t *len)
{
    size_t start = x->i, local = x->i;
    while (x->i < x->n) {
        uint8_t c = x->p[x->i];
        if (space(c) || c == '/' || c == '>' || c == '=' || c == '<' || c == '"' || c == '\'')
            break;
        if (c == ':')
            local = x->i + 1;
        x->i++;
    }
    *s = x->p + local;
    *len = x->i - local;
    return x->i > start && *len > 0 ? 0 : -1;
}

static void put(struct val *v, uint8_t c)
{
    if (v->len < VALUE_MAX)
        v->b[v->len++] = c;
    else
        v->cut = 1;
}

/* A code point as UTF-8 into v. */
static void put_cp(struct val *v, uint32_t cp)
{
    if (cp < 0x80) {
        put(v, (uint8_t)cp);
    } else if (cp < 0x800) {
        put(v, (uint8_t)(0xc0 | cp >> 6));
        put(v, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        put(v, (uint8_t)(0xe0 | cp >> 12));
        put(v, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        put(v, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        put(v, (uint8_t)(0xf0 | cp >> 18));
        put(v, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        put(v, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        put(v, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* A character reference after "&#": decimal or "x" hex, then ';'.  The
 * value is bounded as it is read, so no digit run overflows. */
static int char_ref(struct xml *x, struct val *v)
{
    int hex = x->i < x->n && x->p[x->i] == 'x';
    uint32_t cp = 0;
    size_t digits = 0;
    x->i += (size_t)hex;
    for (; x->i < x->n && x->p[x->i] != ';'; x->i++, digits++) {
        uint8_t c = lower(x->p[x->i]);
        uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0')
                     : hex && c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                                                   : 99;
        if (d == 99)
            return -1;
        cp = cp * (hex ? 16u : 10u) + d;
        if (cp > 0x10ffff)
            return -1;
    }
    if (x->i >= x->n || digits == 0 || cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    x->i++; /* ';' */
    put_cp(v, cp);
    return 0;
}

/* An entity reference after '&': the five XML defines, or a character
 * reference.  Anything else would need a DTD, which OPC forbids. */
static int entity(struct xml *x, struct val *v)
{
    static const struct {
        const char *name;
        uint8_t c;
    } named[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
    if (at(x, x->i, "#")) {
        x->i++;
        return char_ref(x, v);
    }
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
        if (at(x, x->i, named[k].name)) {
            x->i += strlen(named[k].name);
            put(v, named[k].c);
            return 0;
        }
    return -1;
}

/* A quoted attribute value, decoded into v.  White space characters read
 * as spaces (XML 1.0 section 3.3.3 attribute-value normalization). */
static int value(struct xml *x, struct val *v)
{
    if (x->i >= x->n || (x->p[x->i] != '"' && x->p[x->i] != '\''))
        return -1;
    uint8_t q = x->p[x->i++];
    v->len = 0;
    v->cut = 0;
    v->seen = 1;
    while (x->i < x->n && x->p[x->i] != q) {
        uint8_t c = x->p[x->i++];
        if (c == '<' || c == 0)
            return -1;
        if (c == '&') {
            if (entity(x, v) != 0)
                return -1;
            continue;
        }
        put(v, space(c) ? ' ' : c);
    }
    if (x->i >= x->n)
        return -1;
    x->i++;
    return 0;
}

/* The value slot an attribute of this tag goes to. */
static struct val *slot(struct tag *t, const uint8_t *s, size_t n)
{
    if (t->kind == TAG_REL && eq_fold(s, n, "type"))
        return &t->type;
    if (t->kind == TAG_REL && eq_fold(s, n, "target"))
        return &t->target;
    if (t->kind == TAG_REL && eq_fold(s, n, "targetmode"))
        return &t->mode;
    if (t->kind == TAG_CTYPE && eq_fold(s, n, "contenttype"))
        return &t->ctype;
    return &t->scratch;
}

/* A start tag from its name to its '>' (x->i just past '<'). */
static int start_tag(struct xml *x, struct tag *t)
{
    const uint8_t *s;
    size_t n;
    if (xname(x, &s, &n) != 0)
        return -1;
    memset(t, 0, sizeof *t);
    t->kind = eq_fold(s, n, "relationship")                              ? TAG_REL
              : eq_fold(s, n, "default") || eq_fold(s, n, "override") ? TAG_CTYPE
                                                                        : TAG_OTHER;
    for (;;) {
        skip_space(x);
        if (at(x, x->i, "/>") || at(x, x->i, ">")) {
            x->i += x->p[x->i] == '/' ? 2 : 1;
            return 0;
        }
        if (xname(x, &s, &n) != 0)
            return -1;
        skip_space(x);
        if (!at(x, x->i, "="))
            return -1;
        x->i++;
        skip_space(x);
        if (value(x, slot(t, s, n)) != 0)
            return -1;
    }
}

/* ---------------------------------------------------- what a tag means */

/* Where an external relationship's target is fetched by a web client. */
static int web_target(const struct val *v)
{
    size_t i = 0;
    while (i < v->len && v->b[i] == ' ')
        i++;
    return starts_fold(v->b + i, v->len - i, "https://") ||
           starts_fold(v->b + i, v->len - i, "http://");
}

/*
 * A path on one of the reader's own drives ("C:\...", "file:///C:/..."):
 * Word records the template a document was made from that way, and a
 * sender cannot place a file there.  A UNC or host path ("\\host\",
 * "file://host/", WebDAV's "\\host@SSL\") is remote.
 */
static int local_drive(const struct val *v)
{
    size_t i = 0;
    while (i < v->len && v->b[i] == ' ')
        i++;
    if (starts_fold(v->b + i, v->len - i, "file:///"))
        i += 8;
    if (v->len - i < 3)
        return 0;
    uint8_t d = lower(v->b[i]);
    return d >= 'a' && d <= 'z' && v->b[i + 1] == ':' && is_sep(v->b[i + 2]);
}

#define EXT_NO 0    /* external: rejects */
#define EXT_WEB 1   /* external over http(s): passes */
#define EXT_ANY 2   /* external anywhere: passes (followed only on a click) */
#define EXT_LOCAL 3 /* external on a local drive: passes */

/* Relationship types by the last segment of their URI (the transitional,
 * strict and Microsoft namespaces share them).  Names are the constant
 * strings a detail shows. */
static const struct reltype {
    const char *key; /* lower case */
    const char *name;
    enum finding f;
    int ext;
} reltypes[] = {
    {"hyperlink", "hyperlink", F_NONE, EXT_ANY},
    {"image", "image", F_NONE, EXT_WEB},
    {"video", "video", F_NONE, EXT_WEB},
    {"audio", "audio", F_NONE, EXT_WEB},
    {"media", "media", F_NONE, EXT_WEB},
    {"attachedtemplate", "attachedTemplate", F_NONE, EXT_LOCAL},
    {"frame", "frame", F_NONE, EXT_NO},
    {"subdocument", "subDocument", F_NONE, EXT_NO},
    {"externallinkpath", "externalLinkPath", F_NONE, EXT_NO},
    {"oleobject", "oleObject", F_ACTIVE, EXT_NO},
    {"activexcontrol", "activeXControl", F_ACTIVE, EXT_NO},
    {"activexcontrolbinary", "activeXControlBinary", F_ACTIVE, EXT_NO},
    {"control", "control", F_ACTIVE, EXT_NO},
    {"vbaproject", "vbaProject", F_MACRO, EXT_NO},
    {"vbaprojectsignature", "vbaProjectSignature", F_MACRO, EXT_NO},
    {"wordvbadata", "wordVbaData", F_MACRO, EXT_NO},
    {"xlmacrosheet", "xlMacrosheet", F_MACRO, EXT_NO},
    {"xlintlmacrosheet", "xlIntlMacrosheet", F_MACRO, EXT_NO},
};

static const struct reltype *reltype(const struct val *v)
{
    size_t i = v->len;
    while (i > 0 && v->b[i - 1] == ' ')
        i--;
    size_t end = i;
    while (i > 0 && v->b[i - 1] != '/')
        i--;
    if (v->cut)
        return NULL; /* a type URI this long is no type Office knows */
    for (size_t k = 0; k < sizeof reltypes / sizeof reltypes[0]; k++)
        if (eq_fold(v->b + i, end - i, reltypes[k].key))
            return &reltypes[k];
    return NULL;
}

static int external(const struct val *mode)
{
    size_t i = 0, n = mode->len;
    while (i < n && mode->b[i] == ' ')
        i++;
    while (n > i && mode->b[n - 1] == ' ')
        n--;
    return mode->seen && eq_fold(mode->b + i, n - i, "external");
}

/* A Relationship: the finding, and in buf its description, built from
 * the table's constant names only. */
static enum finding relationship(const struct tag *t, char *buf, size_t cap)
{
    const struct reltype *r = reltype(&t->type);
    if (r != NULL && r->f != F_NONE) {
        snprintf(buf, cap, "relationship type %s (%s)", r->name,
                 r->f == F_MACRO ? "macros" : "ActiveX or OLE");
        return r->f;
    }
    if (!external(&t->mode))
        return F_NONE;
    if (r == NULL) {
        snprintf(buf, cap, "external relationship of an unlisted type");
        return F_ACTIVE;
    }
    if (r->ext == EXT_ANY || (r->ext == EXT_WEB && web_target(&t->target)) ||
        (r->ext == EXT_LOCAL && local_drive(&t->target)))
        return F_NONE;
    snprintf(buf, cap, "external relationship type %s (%s)", r->name,
             r->ext == EXT_WEB     ? "a target other than http(s)"
             : r->ext == EXT_LOCAL ? "a target off the local drives"
                                   : "loads on open");
    return F_ACTIVE;
}

/* A content type: macro-enabled main parts and the VBA, macro sheet,
 * ActiveX and OLE part types. */
static enum finding content_type(const struct val *v, const char **what)
{
    if (has_fold(v->b, v->len, "macroenabled") || has_fold(v->b, v->len, "vbaproject") ||
        has_fold(v->b, v->len, "macrosheet") || has_fold(v->b, v->len, "vbadata")) {
        *what = "a macro-enabled content type";
        return F_MACRO;
    }
    if (has_fold(v->b, v->len, "activex") || has_fold(v->b, v->len, "oleobject")) {
        *what = "an ActiveX or OLE content type";
        return F_ACTIVE;
    }
    return F_NONE;
}

/*
 * Walk the XML of one part; the first finding the policy rejects stops
 * it.  Markup other than start tags is skipped whole; text between tags
 * is skipped byte by byte.
 */
static int scan_part(struct imsafe__arc *zc, unsigned long index, const uint8_t *name, size_t nlen,
                     const uint8_t *p, size_t n, struct tag *t)
{
    struct xml x = {p, n, 0};
    while (x.i < x.n) {
        if (x.p[x.i] != '<') {
            x.i++;
            continue;
        }
        int rc = 0;
        const char *what = NULL;
        char buf[96];
        if (at(&x, x.i, "<!--")) {
            x.i += 4;
            rc = past(&x, "-->");
        } else if (at(&x, x.i, "<![CDATA[")) {
            x.i += 9;
            rc = past(&x, "]]>");
        } else if (at(&x, x.i, "<!")) {
            return malformed(zc, index, name, nlen, "a DOCTYPE or declaration in a package part");
        } else if (at(&x, x.i, "<?")) {
            x.i += 2;
            rc = past(&x, "?>");
        } else if (at(&x, x.i, "</")) {
            x.i += 2;
            rc = past(&x, ">");
        } else {
            x.i++;
            rc = start_tag(&x, t);
            enum finding f = F_NONE;
            if (rc == 0 && t->kind == TAG_REL) {
                f = relationship(t, buf, sizeof buf);
                what = buf;
            }
            else if (rc == 0 && t->kind == TAG_CTYPE)
                f = content_type(&t->ctype, &what);
            if (finding(zc, f, index, name, nlen, what) != 0)
                return STOP;
        }
        if (rc != 0)
            return malformed(zc, index, name, nlen, "not well-formed XML");
    }
    return 0;
}

/* ------------------------------------------------------ entries' bytes */

/* The parts whose XML is read: content types and relationships. */
static int read_part(const struct imsafe__doc *d, const uint8_t *name, size_t n)
{
    return (d->kind & IMSAFE__DOC_OOXML) &&
           (eq_fold(name, n, "[content_types].xml") || ends_fold(name, n, ".rels"));
}

uint8_t *imsafe__doc_hold(struct imsafe__arc *zc, struct imsafe__doc *d, unsigned long index,
                          const uint8_t *name, size_t n, uint64_t usize, int *stop)
{
    *stop = 0;
    if (!read_part(d, name, n))
        return NULL;
    if (usize > PART_MAX) {
        imsafe__reject(zc->job, IMSAFE_R_LIMIT_ARCHIVE_BYTES,
                       "entry %lu: package part of %llu bytes, limit %u", index,
                       (unsigned long long)usize, PART_MAX);
        *stop = 1;
        return NULL;
    }
    size_t want = usize > 0 ? (size_t)usize : 1;
    if (want > d->part_cap) {
        imsafe__free(zc->job, d->part);
        d->part_cap = 0;
        if ((d->part = imsafe__alloc(zc->job, want)) == NULL) {
            *stop = 1;
            return NULL;
        }
        d->part_cap = want;
    }
    return d->part;
}

/* The OLE2 / Compound File Binary signature (MS-CFB 2.2). */
static int ole2(const uint8_t *head, size_t hl)
{
    return hl >= 8 && memcmp(head, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0;
}

int imsafe__doc_content(struct imsafe__arc *zc, struct imsafe__doc *d, unsigned long index,
                        const uint8_t *name, size_t n, const uint8_t *head, size_t hl,
                        const uint8_t *held, size_t heldn)
{
    const char *what = NULL;
    if (d->kind == 0)
        return 0;
    /* a compound file inside a package is an OLE object whatever its
     * name; a VBA project (a compound file too) is judged as a macro by
     * its name, so office_macros = pass passes it */
    if (ole2(head, hl) && !((d->kind & IMSAFE__DOC_OOXML) && ooxml_name(name, n, &what) == F_MACRO) &&
        finding(zc, F_ACTIVE, index, name, n, "an embedded OLE compound file") != 0)
        return STOP;
    if (held == NULL || !read_part(d, name, n))
        return 0;
    struct tag *t = imsafe__alloc(zc->job, sizeof *t);
    if (t == NULL)
        return STOP;
    int rc = scan_part(zc, index, name, n, held, heldn, t);
    imsafe__free(zc->job, t);
    return rc;
}

void imsafe__doc_end(struct imsafe__arc *zc, struct imsafe__doc *d)
{
    imsafe__free(zc->job, d->part);
    d->part = NULL;
    d->part_cap = 0;
}
