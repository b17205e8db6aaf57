/*
 * pdf.c - inspection of PDF documents: a bounded scan of the objects for
 * keys that run code or carry files (THREATS.md row 21), and for the
 * encryption that hides them.  Nothing is rebuilt: a PDF that passes is
 * the caller's own bytes.
 *
 * Anchor: Didier Stevens' pdfid and the keys it counts.  Active keys, after
 * name escapes are decoded (/J#61vaScript is /JavaScript): /JavaScript,
 * /JS, /Launch, /EmbeddedFile(s), /EF, /RichMedia, /XFA, /SubmitForm,
 * /ImportData, /GoToR, /GoToE; and /OpenAction or /AA when the action they
 * run on their own is anything but a /GoTo within the document (a plain
 * /OpenAction [3 0 R /Fit] destination is ordinary).  An /Encrypt entry in
 * a trailer or in an object's dictionary (cross-reference streams) means
 * strings and streams cannot be read: refused unless pdf_encrypted = pass,
 * when the dictionaries, which are never encrypted, are still scanned.
 *
 * What readers do decides what we read (a reader that finds a broken
 * cross-reference table rebuilds it by scanning for "N G obj"):
 *   - no valid xref is required: every "obj" keyword in the file starts an
 *     object, parsed on its own, so incremental updates, linearization,
 *     junk before the header or after %%EOF, and an object hidden by a
 *     bogus /Length or an unbalanced "(" in junk are all seen; a trailer is
 *     every dictionary after a "trailer" keyword;
 *   - stream data ends at a direct /Length when "endstream" follows it,
 *     otherwise at the next "endstream";
 *   - object streams (/Type /ObjStm, or any stream with /First, as readers
 *     do not check /Type) are decoded and each object is parsed at
 *     the offset its header gives, plus one linear pass for names;
 *   - other streams are decoded through FlateDecode, LZWDecode,
 *     ASCIIHexDecode, ASCII85Decode and RunLengthDecode (chains included,
 *     PNG and TIFF predictors undone, /Crypt /Identity passed through) and
 *     their names checked.  Not decoded: image filters (DCT, JPX, JBIG2,
 *     CCITT fax) and unknown filters, which readers cannot decode either,
 *     images, fonts, sampled functions and ICC profiles (binary data where
 *     a name is chance), cross-reference streams.  What readers would
 *     decode and we will not is malformed.pdf: a chain of more than
 *     MAX_CHAIN filters, an object stream whose /Filter, /DecodeParms, /N
 *     or /First is a reference.
 *
 * Limits: each decoded stream at most max_archive_entry_bytes, all of them
 * max_archive_bytes (limit.decompressed_bytes); every decoded byte and
 * every byte the object parser reads is charged to max_work (limit.work),
 * which also bounds overlapping objects; memory through the budget.
 * malformed.pdf: a stream we decode is unterminated or its data is corrupt
 * (a Flate or RunLength stream that stops early is read as far as it goes,
 * as readers do), an object stream's header is invalid, nesting beyond
 * MAX_DEPTH.
 *
 * Findings are collected over the whole file and judged at the end, in
 * this order: encryption (whose streams fail to decode as a matter of
 * course), active content, limits, malformed data.
 *
 * Allowlist: kept - the payload unchanged (pass); rebuilt - nothing;
 * dropped - nothing.
 */
#include <stdarg.h>
#include <string.h>

#include "imsafe_private.h"

#define NAME_MAX_BYTES 127 /* PDF 32000-1 annex C: the longest name */
#define MAX_DEPTH 500      /* qpdf's limit too; real files stay below 20 */
#define MAX_CHAIN 8        /* filters per stream; real files use 1 or 2 */
#define NUM_UNKNOWN 0xffffffffu
/* Bytes the object parser may read, as a multiple of the bytes there are
 * to read (the file and its decoded object streams), plus LEX_SLACK: every
 * object is parsed once in a sane file; overlapping objects (an unclosed
 * string or dictionary before each "obj", object stream offsets into one)
 * would be quadratic. */
#define LEX_FACTOR 4
#define LEX_SLACK 262144

/* ------------------------------------------------------------ findings */

struct pdf {
    struct imsafe__job *job;
    int decode; /* 0 in the second pass over an encrypted file */
    int dead;   /* the job was rejected by the budget or the allocator failed */
    uint64_t max_stream, max_total, max_work;
    uint64_t work, decoded, lexed;
    /* first finding of each kind */
    int encrypted;
    const char *active; /* a constant key name */
    uint64_t active_obj;
    imsafe_reason limit;
    char limit_detail[128];
    const char *bad;
    uint64_t bad_obj;
    /* objects, for /OpenAction and /AA that point at their action */
    struct objrec *obj;
    size_t nobj, capobj;
    uint32_t *ref;
    size_t nref, capref;
    struct pend *pend;
    size_t npend, cappend;
    uint32_t cur; /* index of the object being parsed */
};

/* An object's summary: does its value run an action (a dictionary whose
 * /S is not /GoTo), does a dictionary directly inside it, and which
 * objects its dictionary refers to directly. */
#define O_TOP_RUNS 1u
#define O_CHILD_RUNS 2u
struct objrec {
    uint32_t num;
    uint32_t flags;
    size_t ref0, nref;
};
/* A reference to resolve at the end. */
enum { P_OPEN = 1, P_AAREF, P_AA };
struct pend {
    uint32_t num;
    int kind;
};

static int alive(struct pdf *s)
{
    if (!s->dead && (imsafe__rejected(s->job) || s->job->alloc_failed))
        s->dead = 1;
    return !s->dead;
}

static void found_active(struct pdf *s, const char *key, uint64_t obj)
{
    if (s->active == NULL) {
        s->active = key;
        s->active_obj = obj;
    }
}

static void found_bad(struct pdf *s, const char *what, uint64_t obj)
{
    if (s->bad == NULL) {
        s->bad = what;
        s->bad_obj = obj;
    }
}

static void format(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void format(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    imsafe__vformat(dst, size, fmt, ap);
    va_end(ap);
}

/* A limit stops all further decoding; the verdict comes at the end. */
static int found_limit(struct pdf *s, imsafe_reason r, const char *what, uint64_t v, uint64_t max)
{
    if (s->limit == IMSAFE_R_NONE) {
        s->limit = r;
        format(s->limit_detail, sizeof s->limit_detail, "%s %llu, limit %llu", what,
               (unsigned long long)v, (unsigned long long)max);
    }
    s->decode = 0;
    return -1;
}

static int charge_work(struct pdf *s, uint64_t n)
{
    if (imsafe__add_ovf(s->work, n, &s->work) || s->work > s->max_work)
        return found_limit(s, IMSAFE_R_LIMIT_WORK, "PDF decoding and parsing: work", s->work,
                           s->max_work);
    return 0;
}

/* Grow an array of elements of size sz to hold one more; budget-charged. */
static int grow(struct pdf *s, void **arr, size_t *cap, size_t used, size_t sz)
{
    if (used < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64, bytes;
    if (imsafe__mul_ovf(ncap, sz, &bytes))
        return -1;
    void *n = imsafe__alloc(s->job, bytes);
    if (n == NULL) {
        s->dead = 1;
        return -1;
    }
    if (used > 0)
        memcpy(n, *arr, used * sz);
    imsafe__free(s->job, *arr);
    *arr = n;
    *cap = ncap;
    return 0;
}

static void add_pend(struct pdf *s, int kind, int64_t num)
{
    if (num < 0 || num >= NUM_UNKNOWN ||
        grow(s, (void **)&s->pend, &s->cappend, s->npend, sizeof *s->pend) != 0)
        return;
    s->pend[s->npend].num = (uint32_t)num;
    s->pend[s->npend++].kind = kind;
}

static void add_ref(struct pdf *s, int64_t num)
{
    if (num < 0 || num >= NUM_UNKNOWN || s->nobj == 0 ||
        grow(s, (void **)&s->ref, &s->capref, s->nref, sizeof *s->ref) != 0)
        return;
    s->ref[s->nref++] = (uint32_t)num;
    s->obj[s->cur].nref++;
}

static int new_obj(struct pdf *s, uint32_t num)
{
    if (grow(s, (void **)&s->obj, &s->capobj, s->nobj, sizeof *s->obj) != 0)
        return -1;
    s->cur = (uint32_t)s->nobj;
    s->obj[s->nobj].num = num;
    s->obj[s->nobj].flags = 0;
    s->obj[s->nobj].ref0 = s->nref;
    s->obj[s->nobj++].nref = 0;
    return 0;
}

/* --------------------------------------------------------------- lexer */

static int is_ws(uint8_t c)
{
    return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static int is_delim(uint8_t c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

static int is_regular(uint8_t c)
{
    return !is_ws(c) && !is_delim(c);
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum tk { T_EOF, T_NAME, T_INT, T_NUM, T_STR, T_DOPEN, T_DCLOSE, T_AOPEN, T_ACLOSE, T_KW, T_JUNK };

struct lex {
    const uint8_t *p;
    size_t n, pos;
};

struct tok {
    enum tk t;
    int64_t ival;
    size_t len;                       /* decoded length (names, keywords) */
    char s[NAME_MAX_BYTES + 1];       /* decoded name or keyword, NUL-terminated */
};

static int tok_is(const struct tok *t, enum tk kind, const char *s)
{
    return t->t == kind && t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static void skip_ws(struct lex *lx)
{
    while (lx->pos < lx->n) {
        uint8_t c = lx->p[lx->pos];
        if (is_ws(c)) {
            lx->pos++;
        } else if (c == '%') {
            while (lx->pos < lx->n && lx->p[lx->pos] != '\n' && lx->p[lx->pos] != '\r')
                lx->pos++;
        } else {
            return;
        }
    }
}

/* A name after '/': regular characters, "#xx" decoded (a '#' without two
 * hex digits stays itself, as readers keep it).  Longer than the PDF limit:
 * kept as a length that matches no key. */
static void lex_name(struct lex *lx, struct tok *t)
{
    t->t = T_NAME;
    t->len = 0;
    while (lx->pos < lx->n && is_regular(lx->p[lx->pos])) {
        uint8_t c = lx->p[lx->pos++];
        if (c == '#' && lx->pos + 1 < lx->n && hexval(lx->p[lx->pos]) >= 0 &&
            hexval(lx->p[lx->pos + 1]) >= 0) {
            c = (uint8_t)(hexval(lx->p[lx->pos]) << 4 | hexval(lx->p[lx->pos + 1]));
            lx->pos += 2;
        }
        if (t->len < NAME_MAX_BYTES)
            t->s[t->len] = (char)c;
        t->len++;
    }
    t->s[t->len < NAME_MAX_BYTES ? t->len : NAME_MAX_BYTES] = '\0';
}

/* A literal string: balanced parentheses, backslash escapes.  One that
 * runs to the end of the data ends there. */
static void lex_string(struct lex *lx)
{
    unsigned long depth = 1;
    while (lx->pos < lx->n && depth > 0) {
        uint8_t c = lx->p[lx->pos++];
        if (c == '\\')
            lx->pos += lx->pos < lx->n;
        else if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
    }
}

/* A run of regular characters: an integer, a real number or a keyword. */
static void lex_word(struct lex *lx, struct tok *t)
{
    size_t start = lx->pos;
    while (lx->pos < lx->n && is_regular(lx->p[lx->pos]))
        lx->pos++;
    const uint8_t *w = lx->p + start;
    size_t n = lx->pos - start, i = (w[0] == '+' || w[0] == '-'), digits = 0, dots = 0;
    int64_t v = 0;
    for (; i < n; i++) {
        if (w[i] >= '0' && w[i] <= '9') {
            digits++;
            if (dots == 0 && digits <= 18)
                v = v * 10 + (w[i] - '0');
        } else if (w[i] == '.') {
            dots++;
        } else {
            break;
        }
    }
    if (i == n && digits > 0 && dots <= 1) {
        t->t = (dots == 0 && digits <= 18) ? T_INT : T_NUM;
        t->ival = w[0] == '-' ? -v : v;
        return;
    }
    t->t = T_KW;
    t->len = n < NAME_MAX_BYTES ? n : NAME_MAX_BYTES;
    memcpy(t->s, w, t->len);
    t->s[t->len] = '\0';
    t->len = n;
}

static void next_token(struct lex *lx, struct tok *t)
{
    skip_ws(lx);
    t->len = 0;
    if (lx->pos >= lx->n) {
        t->t = T_EOF;
        return;
    }
    uint8_t c = lx->p[lx->pos++];
    int two = lx->pos < lx->n && lx->p[lx->pos] == c;
    switch (c) {
    case '/': lex_name(lx, t); return;
    case '(': lex_string(lx); t->t = T_STR; return;
    case '[': t->t = T_AOPEN; return;
    case ']': t->t = T_ACLOSE; return;
    case '<':
        if (two) {
            lx->pos++;
            t->t = T_DOPEN;
            return;
        }
        while (lx->pos < lx->n && lx->p[lx->pos] != '>')
            lx->pos++;
        lx->pos += lx->pos < lx->n;
        t->t = T_STR;
        return;
    case '>':
        lx->pos += two;
        t->t = two ? T_DCLOSE : T_JUNK;
        return;
    case ')': case '{': case '}':
        t->t = T_JUNK;
        return;
    default:
        lx->pos--;
        lex_word(lx, t);
        return;
    }
}

/* ---------------------------------------------------------- active keys */

static const char *active_key(const struct tok *t)
{
    static const char *const keys[] = {
        "JavaScript", "JS",        "Launch",     "EmbeddedFile", "EmbeddedFiles", "EF",
        "RichMedia",  "XFA",       "SubmitForm", "ImportData",   "GoToR",         "GoToE",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (tok_is(t, T_NAME, keys[i]))
            return keys[i];
    return NULL;
}

/* Names anywhere in decoded data (a content stream, an object stream read
 * front to back as some readers do): structure does not matter here. */
static int scan_names(struct pdf *s, const uint8_t *p, size_t n, uint64_t obj)
{
    struct lex lx = {p, n, 0};
    struct tok t;
    if (charge_work(s, n) != 0)
        return -1;
    for (next_token(&lx, &t); t.t != T_EOF; next_token(&lx, &t)) {
        const char *k = t.t == T_NAME ? active_key(&t) : NULL;
        if (k != NULL)
            found_active(s, k, obj);
    }
    return 0;
}

/* --------------------------------------------------------------- parser */

/* Keys the parser acts on. */
enum key {
    K_OTHER, K_TYPE, K_SUBTYPE, K_S, K_FILTER, K_PARMS, K_LENGTH, K_N, K_FIRST, K_ENCRYPT,
    K_OPENACTION, K_AA, K_BINARY, K_PREDICTOR, K_COLORS, K_BPC, K_COLUMNS, K_EARLY
};

static enum key classify_key(const struct tok *t)
{
    static const struct { const char *name; enum key k; } keys[] = {
        {"Type", K_TYPE},       {"Subtype", K_SUBTYPE},     {"S", K_S},
        {"Filter", K_FILTER},   {"DecodeParms", K_PARMS},   {"Length", K_LENGTH},
        {"N", K_N},             {"First", K_FIRST},         {"Encrypt", K_ENCRYPT},
        {"OpenAction", K_OPENACTION}, {"AA", K_AA},
        /* keys only binary streams have: fonts, sampled functions, images */
        {"Length1", K_BINARY},  {"Length2", K_BINARY},      {"Length3", K_BINARY},
        {"FunctionType", K_BINARY}, {"Width", K_BINARY},    {"Predictor", K_PREDICTOR},
        {"Colors", K_COLORS},   {"BitsPerComponent", K_BPC}, {"Columns", K_COLUMNS},
        {"EarlyChange", K_EARLY},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (tok_is(t, T_NAME, keys[i].name))
            return keys[i].k;
    return K_OTHER;
}

enum filt { F_FLATE, F_LZW, F_AHX, F_A85, F_RL, F_CRYPT, F_SKIP };

static enum filt classify_filter(const struct tok *t)
{
    static const struct { const char *name; enum filt f; } f[] = {
        {"FlateDecode", F_FLATE},    {"Fl", F_FLATE},  {"LZWDecode", F_LZW}, {"LZW", F_LZW},
        {"ASCIIHexDecode", F_AHX},   {"AHx", F_AHX},   {"ASCII85Decode", F_A85},
        {"A85", F_A85},              {"RunLengthDecode", F_RL}, {"RL", F_RL},
        /* without /Encrypt the only crypt filter is /Identity, which
         * readers apply (an encrypted file's streams are not decoded) */
        {"Crypt", F_CRYPT},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (tok_is(t, T_NAME, f[i].name))
            return f[i].f;
    return F_SKIP; /* image filters, unknown: not decoded */
}

struct parms {
    int64_t predictor, colors, bpc, columns, early;
    int has_early; /* absent means 1 */
};

/* What the top-level dictionary of an object says about its stream. */
struct sinfo {
    int is_dict, objstm, xref, binary, has_length, has_n, has_first;
    int first_key; /* a /First entry of any kind: readers take it for an object stream */
    int indirect;  /* /Filter, /DecodeParms, /N or /First is a reference */
    int64_t length, n, first;
    enum filt filter[MAX_CHAIN];
    struct parms parms[MAX_CHAIN];
    int nfilter, too_many;
};

enum role {
    R_NONE, R_TOP, R_TRAILER, R_TOPCHILD, R_OPENACTION, R_AA, R_AA_ENTRY, R_FILTERS,
    R_PARMS_ARR, R_PARMS
};

struct frame {
    uint8_t dict, role, want_key, s_state, key, nint;
    unsigned elems; /* array elements so far (a DecodeParms array) */
    int64_t i1;
};

struct parse {
    struct pdf *s;
    struct lex *lx;
    struct sinfo *info;
    uint64_t objnum;
    struct frame st[MAX_DEPTH];
    int depth;
};

static void set_parm(struct parse *ps, const struct frame *f, int64_t v)
{
    struct parms *pm = &ps->info->parms[f->elems < MAX_CHAIN ? f->elems : MAX_CHAIN - 1];
    switch (f->key) {
    case K_PREDICTOR: pm->predictor = v; break;
    case K_COLORS: pm->colors = v; break;
    case K_BPC: pm->bpc = v; break;
    case K_COLUMNS: pm->columns = v; break;
    case K_EARLY: pm->early = v, pm->has_early = 1; break;
    default: break;
    }
}

static void add_filter(struct sinfo *in, const struct tok *t)
{
    if (in->nfilter == MAX_CHAIN)
        in->too_many = 1;
    else
        in->filter[in->nfilter++] = classify_filter(t);
}

/* A name in value position of a dictionary. */
static void dict_name_value(struct parse *ps, struct frame *f, const struct tok *t)
{
    int top = f == &ps->st[0];
    if (f->key == K_S)
        f->s_state = tok_is(t, T_NAME, "GoTo") ? 1 : 2;
    if (top && f->key == K_TYPE) {
        ps->info->objstm |= tok_is(t, T_NAME, "ObjStm");
        ps->info->xref |= tok_is(t, T_NAME, "XRef");
    }
    if (top && f->key == K_SUBTYPE)
        ps->info->binary |= tok_is(t, T_NAME, "Image") || tok_is(t, T_NAME, "Type1C") ||
                            tok_is(t, T_NAME, "CIDFontType0C") || tok_is(t, T_NAME, "OpenType");
    if (top && f->key == K_FILTER)
        add_filter(ps->info, t);
}

/* An integer value of a dictionary (a reference's first number too, which
 * unset_ref takes back). */
static void dict_int_value(struct parse *ps, struct frame *f, int64_t v)
{
    if (f->role == R_PARMS) {
        set_parm(ps, f, v);
        return;
    }
    if (f != &ps->st[0])
        return;
    if (f->key == K_LENGTH)
        ps->info->has_length = 1, ps->info->length = v;
    else if (f->key == K_N)
        ps->info->has_n = 1, ps->info->n = v;
    else if (f->key == K_FIRST)
        ps->info->has_first = 1, ps->info->first = v;
}

static void dict_ref_value(struct parse *ps, struct frame *f, int64_t num)
{
    int top = f == &ps->st[0];
    if (top && f->key == K_LENGTH)
        ps->info->has_length = 0; /* indirect: the next "endstream" ends it */
    if (top && (f->key == K_N || f->key == K_FIRST))
        ps->info->has_n = ps->info->has_first = 0;
    if (top && (f->key == K_N || f->key == K_FIRST || f->key == K_FILTER || f->key == K_PARMS))
        ps->info->indirect = 1;
    if (f->key == K_OPENACTION)
        add_pend(ps->s, P_OPEN, num);
    else if (f->key == K_AA)
        add_pend(ps->s, P_AA, num);
    else if (f->role == R_AA)
        add_pend(ps->s, P_AAREF, num);
    if (top && f->role == R_TOP)
        add_ref(ps->s, num);
}

/* The role of a container opened inside frame f. */
static enum role child_role(const struct parse *ps, const struct frame *f, int dict)
{
    if (f->dict) {
        if (f->key == K_OPENACTION)
            return R_OPENACTION;
        if (f->key == K_AA)
            return R_AA;
        if (f->role == R_AA)
            return R_AA_ENTRY;
        if (f == &ps->st[0] && f->key == K_FILTER && !dict)
            return R_FILTERS;
        if (f == &ps->st[0] && f->key == K_PARMS)
            return dict ? R_PARMS : R_PARMS_ARR;
        return f == &ps->st[0] && f->role == R_TOP ? R_TOPCHILD : R_NONE;
    }
    return f->role == R_PARMS_ARR && dict ? R_PARMS : R_NONE;
}

static int push(struct parse *ps, int dict, enum role role0)
{
    if (ps->depth == MAX_DEPTH) {
        found_bad(ps->s, "objects nested deeper than 500 levels", ps->objnum);
        return -1;
    }
    struct frame *up = ps->depth > 0 ? &ps->st[ps->depth - 1] : NULL;
    struct frame *f = &ps->st[ps->depth];
    memset(f, 0, sizeof *f);
    f->dict = (uint8_t)dict;
    f->want_key = 1;
    f->role = (uint8_t)(up ? child_role(ps, up, dict) : role0);
    /* a parameter dictionary takes its place in the filter chain */
    if (up != NULL && f->role == R_PARMS)
        f->elems = up->dict ? 0 : up->elems;
    if (up == NULL && dict)
        ps->info->is_dict = 1;
    ps->depth++;
    return 0;
}

/* A dictionary closed: an action that runs on its own? */
static void dict_closed(struct parse *ps, const struct frame *f)
{
    struct pdf *s = ps->s;
    if (f->s_state != 2)
        return;
    if (f->role == R_OPENACTION)
        found_active(s, "OpenAction", ps->objnum);
    else if (f->role == R_AA_ENTRY || f->role == R_AA)
        found_active(s, "AA", ps->objnum);
    else if (f->role == R_TOP && s->nobj > 0)
        s->obj[s->cur].flags |= O_TOP_RUNS;
    else if (f->role == R_TOPCHILD && s->nobj > 0)
        s->obj[s->cur].flags |= O_CHILD_RUNS;
}

/* A value finished inside the innermost container. */
static void value_done(struct parse *ps)
{
    if (ps->depth == 0)
        return;
    struct frame *f = &ps->st[ps->depth - 1];
    if (f->dict)
        f->want_key = 1, f->nint = 0;
    else
        f->elems++;
}

/* One token inside a dictionary (not a container delimiter). */
static void in_dict(struct parse *ps, struct frame *f, const struct tok *t)
{
    if (t->t == T_INT && !f->want_key) {
        if (f->nint == 0)
            dict_int_value(ps, f, t->ival), f->i1 = t->ival;
        f->nint = f->nint < 2 ? f->nint + 1 : 2;
        return;
    }
    if (tok_is(t, T_KW, "R") && f->nint == 2) {
        dict_ref_value(ps, f, f->i1);
        value_done(ps);
        return;
    }
    if (t->t == T_NAME && (f->want_key || f->nint > 0)) {
        f->key = (uint8_t)classify_key(t);
        f->want_key = 0, f->nint = 0;
        if (f == &ps->st[0] && f->key == K_BINARY)
            ps->info->binary = 1;
        if (f == &ps->st[0] && f->key == K_FIRST)
            ps->info->first_key = 1;
        if (f == &ps->st[0] && f->key == K_ENCRYPT &&
            (f->role == R_TOP || f->role == R_TRAILER))
            ps->s->encrypted = 1;
        return;
    }
    if (t->t == T_NAME)
        dict_name_value(ps, f, t);
    if (!f->want_key)
        value_done(ps);
}

static void in_array(struct parse *ps, struct frame *f, const struct tok *t)
{
    if (f->role == R_FILTERS && t->t == T_NAME)
        add_filter(ps->info, t);
    f->elems++;
}

enum pend_end { END_DONE, END_STREAM };

/*
 * Parse one value at the lexer's position: an object's body (role R_TOP)
 * or a trailer's dictionary (R_TRAILER).  Ends when the value is complete
 * (END_STREAM when a stream keyword follows a dictionary), at an "obj" or
 * "endobj" keyword (the next object starts: this one was never closed),
 * or at the end of the data.  Every name is checked on the way.
 */
static enum pend_end parse_value(struct parse *ps, enum role role0)
{
    struct tok t;
    int started = 0;
    for (;;) {
        next_token(ps->lx, &t);
        if (t.t == T_EOF || tok_is(&t, T_KW, "obj") || tok_is(&t, T_KW, "endobj"))
            return END_DONE;
        if (started && ps->depth == 0)
            return tok_is(&t, T_KW, "stream") && ps->info->is_dict ? END_STREAM : END_DONE;
        started = 1;
        const char *k = t.t == T_NAME ? active_key(&t) : NULL;
        if (k != NULL)
            found_active(ps->s, k, ps->objnum);
        if (t.t == T_DOPEN || t.t == T_AOPEN) {
            if (push(ps, t.t == T_DOPEN, role0) != 0)
                return END_DONE;
            continue;
        }
        struct frame *f = ps->depth > 0 ? &ps->st[ps->depth - 1] : NULL;
        if (f != NULL && ((t.t == T_DCLOSE && f->dict) || (t.t == T_ACLOSE && !f->dict))) {
            if (f->dict)
                dict_closed(ps, f);
            ps->depth--;
            value_done(ps);
            continue;
        }
        if (f == NULL)
            continue; /* a plain value at the top: complete */
        if (f->dict)
            in_dict(ps, f, &t);
        else
            in_array(ps, f, &t);
    }
}

/* ---------------------------------------------------------------- filters */

struct dbuf {
    uint8_t *p;
    size_t len, cap;
};

static void dbuf_free(struct pdf *s, struct dbuf *b)
{
    imsafe__free(s->job, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Make room for k more bytes: the per-stream and total decoded limits and
 * the work limit are checked here, before the allocation. */
static int dbuf_room(struct pdf *s, struct dbuf *b, size_t k)
{
    uint64_t next, total;
    if (imsafe__add_ovf((uint64_t)b->len, (uint64_t)k, &next) || next > s->max_stream)
        return found_limit(s, IMSAFE_R_LIMIT_DECOMPRESSED_BYTES,
                           "a PDF stream decodes to at least", next, s->max_stream);
    if (imsafe__add_ovf(s->decoded, (uint64_t)k, &total) || total > s->max_total)
        return found_limit(s, IMSAFE_R_LIMIT_DECOMPRESSED_BYTES,
                           "the PDF's streams decode to at least", total, s->max_total);
    if (next <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < next)
        ncap = ncap > SIZE_MAX / 2 ? (size_t)next : ncap * 2;
    if (ncap > s->max_stream)
        ncap = (size_t)s->max_stream;
    uint8_t *n = imsafe__alloc(s->job, ncap);
    if (n == NULL) {
        s->dead = 1;
        return -1;
    }
    if (b->len > 0)
        memcpy(n, b->p, b->len);
    imsafe__free(s->job, b->p);
    b->p = n;
    b->cap = ncap;
    return 0;
}

/* Account k bytes just written at b->p + b->len. */
static int dbuf_commit(struct pdf *s, struct dbuf *b, size_t k)
{
    b->len += k;
    s->decoded += k;
    return charge_work(s, k);
}

static int dbuf_put(struct pdf *s, struct dbuf *b, const uint8_t *d, size_t k)
{
    if (k == 0)
        return 0; /* an empty stream: b->p may still be NULL */
    if (dbuf_room(s, b, k) != 0)
        return -1;
    memcpy(b->p + b->len, d, k);
    return dbuf_commit(s, b, k);
}

/* Decoder results: 0 decoded, 1 the data is corrupt (found_bad called),
 * -1 stopped (a limit, or the budget). */
#define CORRUPT 1

/* FlateDecode: a zlib stream.  The two-byte header is checked by hand and
 * the deflate data inflated raw, so a missing or wrong Adler-32 (common,
 * and ignored by readers) is not an error; data that stops early is read
 * as far as it goes, as readers do. */
static int f_flate(struct pdf *s, const uint8_t *in, size_t n, struct dbuf *out, uint64_t obj)
{
    if (n < 2 || (in[0] & 0x0f) != 8 || (in[0] >> 4) > 7 || ((in[0] << 8) | in[1]) % 31 != 0 ||
        (in[1] & 0x20) != 0)
        return found_bad(s, "a Flate stream without a valid zlib header", obj), CORRUPT;
    z_stream zs;
    if (imsafe__inflate_init(s->job, &zs, -15) != 0) {
        s->dead = 1;
        return -1;
    }
    int rc = 0, zr = Z_OK;
    size_t used = 2;
    while (rc == 0 && zr != Z_STREAM_END) {
        if ((rc = dbuf_room(s, out, 16384)) != 0)
            break;
        size_t take = n - used > (1u << 30) ? (1u << 30) : n - used;
        zs.next_in = (Bytef *)(in + used);
        zs.avail_in = (uInt)take;
        zs.next_out = out->p + out->len;
        zs.avail_out = 16384;
        zr = inflate(&zs, Z_NO_FLUSH);
        used += take - zs.avail_in;
        rc = dbuf_commit(s, out, 16384 - zs.avail_out);
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT)
            rc = (found_bad(s, "corrupt Flate data", obj), CORRUPT);
        else if (zr == Z_MEM_ERROR)
            rc = (s->dead = 1, -1);
        else if (zr == Z_BUF_ERROR || (used == n && zs.avail_out != 0 && zr != Z_STREAM_END))
            break; /* the data stops early: as far as it goes */
    }
    inflateEnd(&zs);
    return rc;
}

/* The LZW string table: each entry is a prefix entry plus one byte. */
struct lzw {
    uint16_t prefix[4096];
    uint8_t suffix[4096], first[4096];
    uint16_t len[4096];
    uint8_t str[4096];
};

static int lzw_emit(struct pdf *s, struct lzw *z, unsigned code, struct dbuf *out)
{
    unsigned l = z->len[code];
    for (unsigned i = l, c = code; i > 0; i--, c = z->prefix[c])
        z->str[i - 1] = z->suffix[c];
    return dbuf_put(s, out, z->str, l);
}

/* One reading of LZW data; CORRUPT without a finding (the caller decides).
 * shift 0 widens codes as pdf.js, pdfminer and MuPDF do (when the decoder's
 * next entry plus EarlyChange reaches a power of two), shift 1 one code
 * sooner, as qpdf does. */
static int lzw_run(struct pdf *s, struct lzw *z, const uint8_t *in, size_t n, unsigned early,
                   unsigned shift, struct dbuf *out)
{
    unsigned width = 9, next = 258, prev = 4096, bits = 0;
    uint32_t acc = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0;) {
        while (bits < width && i < n)
            acc = acc << 8 | in[i++], bits += 8;
        if (bits < width)
            break; /* the data stops without an end code */
        unsigned code = (acc >> (bits - width)) & ((1u << width) - 1);
        bits -= width;
        if (code == 257)
            break;
        if (code == 256) {
            width = 9, next = 258, prev = 4096;
            continue;
        }
        /* the first code after a clear is a byte; later ones name an entry
         * or the one about to be made (KwKwK) */
        if (prev == 4096 ? code > 255 : code > next || code == 4096)
            return CORRUPT;
        if (prev != 4096 && next < 4096) {
            z->prefix[next] = (uint16_t)prev;
            z->suffix[next] = code < next ? z->first[code] : z->first[prev];
            z->first[next] = z->first[prev];
            z->len[next] = (uint16_t)(z->len[prev] + 1);
            next++;
            if (next + early + shift >= (1u << width) && width < 12)
                width++;
        }
        rc = lzw_emit(s, z, code, out);
        prev = code;
    }
    return rc;
}

/* LZWDecode: 9- to 12-bit codes, 256 clears, 257 ends; EarlyChange 1 (the
 * default) widens the code one entry early.  Readers disagree on the entry
 * at which a code widens: data valid under either reading is read. */
static int f_lzw(struct pdf *s, const uint8_t *in, size_t n, const struct parms *pm,
                 struct dbuf *out, uint64_t obj)
{
    struct lzw *z = imsafe__alloc(s->job, sizeof *z);
    if (z == NULL)
        return s->dead = 1, -1;
    for (unsigned i = 0; i < 256; i++)
        z->suffix[i] = z->first[i] = (uint8_t)i, z->len[i] = 1, z->prefix[i] = 0;
    unsigned early = pm->has_early && pm->early == 0 ? 0 : 1;
    int rc = lzw_run(s, z, in, n, early, 0, out);
    if (rc == CORRUPT) {
        out->len = 0;
        rc = lzw_run(s, z, in, n, early, 1, out);
    }
    if (rc == CORRUPT)
        found_bad(s, "an invalid LZW code", obj);
    imsafe__free(s->job, z);
    return rc;
}

/* ASCIIHexDecode: hex digit pairs, white space ignored, '>' ends; an odd
 * last digit is followed by 0. */
static int f_ahx(struct pdf *s, const uint8_t *in, size_t n, struct dbuf *out, uint64_t obj)
{
    uint8_t buf[512];
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < n && in[i] != '>'; i++) {
        int v = hexval(in[i]);
        if (v < 0 && is_ws(in[i]))
            continue;
        if (v < 0)
            return found_bad(s, "a character outside ASCIIHex data", obj), CORRUPT;
        if (hi < 0) {
            hi = v;
            continue;
        }
        buf[k++] = (uint8_t)(hi << 4 | v), hi = -1;
        if (k == sizeof buf && dbuf_put(s, out, buf, k) != 0)
            return -1;
        k = k == sizeof buf ? 0 : k;
    }
    if (hi >= 0)
        buf[k++] = (uint8_t)(hi << 4);
    return dbuf_put(s, out, buf, k);
}

/* ASCII85Decode: groups of five characters '!'..'u' for four bytes, 'z'
 * for four zeros, "~>" ends; a last group of k > 1 characters gives k - 1
 * bytes, a last single character nothing; a group above 2^32 - 1 wraps
 * (qpdf and pdf.js read both so). */
static int f_a85(struct pdf *s, const uint8_t *in, size_t n, struct dbuf *out, uint64_t obj)
{
    uint32_t g = 0;
    unsigned k = 0;
    for (size_t i = 0; i < n && in[i] != '~'; i++) {
        uint8_t c = in[i], b[4];
        if (is_ws(c))
            continue;
        if (c == 'z' && k == 0) {
            memset(b, 0, 4);
            if (dbuf_put(s, out, b, 4) != 0)
                return -1;
            continue;
        }
        if (c < '!' || c > 'u')
            return found_bad(s, "a character outside ASCII85 data", obj), CORRUPT;
        g = g * 85u + (uint32_t)(c - '!'); /* wraps, as readers do */
        if (++k == 5) {
            b[0] = (uint8_t)(g >> 24), b[1] = (uint8_t)(g >> 16), b[2] = (uint8_t)(g >> 8),
            b[3] = (uint8_t)g;
            if (dbuf_put(s, out, b, 4) != 0)
                return -1;
            g = 0, k = 0;
        }
    }
    if (k > 1) {
        uint8_t b[4];
        uint32_t v = g;
        for (unsigned j = k; j < 5; j++)
            v = v * 85u + 84u;
        b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
        return dbuf_put(s, out, b, k - 1);
    }
    return 0;
}

/* RunLengthDecode: a length byte 0..127 copies that plus one bytes, 129..255
 * repeats the next byte 257 - length times, 128 ends.  A run cut by the end
 * of the data gives what is there, as readers (qpdf, pdf.js) do; nothing
 * in RunLength data is invalid otherwise. */
static int f_rl(struct pdf *s, const uint8_t *in, size_t n, struct dbuf *out)
{
    uint8_t run[128];
    for (size_t i = 0; i < n && in[i] != 128;) {
        unsigned l = in[i++];
        if (l < 128) {
            size_t k = l + 1u < n - i ? l + 1u : n - i;
            if (dbuf_put(s, out, in + i, k) != 0)
                return -1;
            i += k;
        } else if (i < n) {
            memset(run, in[i++], 257 - l);
            if (dbuf_put(s, out, run, 257 - l) != 0)
                return -1;
        }
    }
    return 0;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int p = a + b - c, pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p;
    int pc = p > c ? p - c : c - p;
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undo a PNG predictor (10..15) in place: each row is a filter byte and
 * rowbytes bytes; the output drops the filter bytes. */
static int unpredict_png(struct pdf *s, struct dbuf *b, size_t bpp, size_t rowbytes, uint64_t obj)
{
    size_t rows = b->len / (rowbytes + 1), o = 0;
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *src = b->p + r * (rowbytes + 1);
        uint8_t ft = src[0], *dst = b->p + o, *up = r > 0 ? dst - rowbytes : NULL;
        if (ft > 4)
            return found_bad(s, "a PNG predictor row with an unknown filter", obj), CORRUPT;
        for (size_t i = 0; i < rowbytes; i++) {
            uint8_t x = src[1 + i], a = i >= bpp ? dst[i - bpp] : 0, u = up ? up[i] : 0;
            uint8_t c = i >= bpp && up ? up[i - bpp] : 0;
            dst[i] = (uint8_t)(ft == 0 ? x : ft == 1 ? x + a : ft == 2 ? x + u
                               : ft == 3 ? x + ((a + u) >> 1) : x + paeth(a, u, c));
        }
        o += rowbytes;
    }
    b->len = o;
    return 0;
}

/* /DecodeParms predictors, as far as reading the text needs: PNG (10..15)
 * for any sample size, TIFF 2 for 8-bit samples. */
static int unpredict(struct pdf *s, struct dbuf *b, const struct parms *pm, uint64_t obj)
{
    int64_t colors = pm->colors ? pm->colors : 1, bpc = pm->bpc ? pm->bpc : 8;
    int64_t cols = pm->columns ? pm->columns : 1;
    if (pm->predictor <= 1)
        return 0;
    if (colors < 1 || colors > 32 || cols < 1 || cols > (1 << 24) ||
        (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) ||
        (pm->predictor != 2 && (pm->predictor < 10 || pm->predictor > 15)))
        return found_bad(s, "invalid predictor parameters", obj), CORRUPT;
    size_t bpp = (size_t)((colors * bpc + 7) / 8), rowbytes = (size_t)((cols * colors * bpc + 7) / 8);
    if (pm->predictor >= 10)
        return unpredict_png(s, b, bpp, rowbytes, obj);
    if (bpc == 8)
        for (size_t r = 0; r + rowbytes <= b->len; r += rowbytes)
            for (size_t i = (size_t)colors; i < rowbytes; i++)
                b->p[r + i] = (uint8_t)(b->p[r + i] + b->p[r + i - (size_t)colors]);
    return 0;
}

/* Run the filter chain over in[0..n) into out.  0, CORRUPT or -1. */
static int decode_chain(struct pdf *s, const struct sinfo *info, const uint8_t *in, size_t n,
                        struct dbuf *out, uint64_t obj)
{
    struct dbuf cur = {NULL, 0, 0};
    int rc = 0;
    for (int i = 0; i < info->nfilter && rc == 0; i++) {
        struct dbuf next = {NULL, 0, 0};
        const uint8_t *src = i == 0 ? in : cur.p;
        size_t len = i == 0 ? n : cur.len;
        switch (info->filter[i]) {
        case F_FLATE: rc = f_flate(s, src, len, &next, obj); break;
        case F_LZW: rc = f_lzw(s, src, len, &info->parms[i], &next, obj); break;
        case F_AHX: rc = f_ahx(s, src, len, &next, obj); break;
        case F_A85: rc = f_a85(s, src, len, &next, obj); break;
        case F_RL: rc = f_rl(s, src, len, &next); break;
        case F_CRYPT: rc = dbuf_put(s, &next, src, len); break;
        case F_SKIP: rc = -1; break;
        }
        if (rc == 0 && (info->filter[i] == F_FLATE || info->filter[i] == F_LZW))
            rc = unpredict(s, &next, &info->parms[i], obj);
        dbuf_free(s, &cur);
        cur = next;
    }
    if (rc != 0)
        dbuf_free(s, &cur);
    *out = cur;
    return rc;
}

/* ---------------------------------------------------------------- streams */

/* An object stream, as readers take one: /Type /ObjStm, or a /First
 * entry (an ICC profile has /N without /First). */
static int is_objstm(const struct sinfo *info)
{
    return info->objstm || info->first_key;
}

static int will_decode(const struct pdf *s, const struct sinfo *info)
{
    if (!s->decode || info->xref)
        return 0;
    for (int i = 0; i < info->nfilter; i++)
        if (info->filter[i] == F_SKIP)
            return 0;
    return is_objstm(info) || (!info->binary && !info->has_n);
}

static void parse_at(struct pdf *s, const uint8_t *p, size_t n, size_t pos, uint32_t num,
                     enum role role, int streams);
static int over_lex_cap(struct pdf *s);

/* An object stream: N pairs "number offset" before /First, each object
 * parsed at its offset, and the whole read once for names. */
static void objstm(struct pdf *s, const struct sinfo *info, const uint8_t *p, size_t n,
                   uint64_t obj)
{
    if (!info->has_n || !info->has_first || info->n < 0 || info->first < 0 ||
        (uint64_t)info->first > n) {
        found_bad(s, "an object stream without a valid /N and /First", obj);
        return;
    }
    struct lex lx = {p, (size_t)info->first, 0};
    struct tok a, b;
    for (int64_t i = 0; i < info->n && alive(s) && !over_lex_cap(s); i++) {
        next_token(&lx, &a);
        next_token(&lx, &b);
        if (a.t != T_INT || b.t != T_INT || a.ival < 0 || b.ival < 0) {
            found_bad(s, "an object stream header that is not N pairs of numbers", obj);
            break;
        }
        if ((uint64_t)b.ival < n - (size_t)info->first)
            parse_at(s, p, n, (size_t)info->first + (size_t)b.ival,
                     a.ival < NUM_UNKNOWN ? (uint32_t)a.ival : NUM_UNKNOWN, R_TOP, 0);
    }
    (void)scan_names(s, p, n, obj);
}

/* Where the stream's data ends: at a direct /Length followed by
 * "endstream", else before the next "endstream".  0 when it has none. */
static int stream_end(const uint8_t *p, size_t n, size_t d, const struct sinfo *info, size_t *end)
{
    if (info->has_length && info->length >= 0 && (uint64_t)info->length <= n - d) {
        size_t e = d + (size_t)info->length;
        while (e < n && is_ws(p[e]))
            e++;
        if (n - e >= 9 && memcmp(p + e, "endstream", 9) == 0) {
            *end = d + (size_t)info->length;
            return 1;
        }
    }
    for (size_t e = d; n >= 9 && e <= n - 9; e++) {
        const uint8_t *q = memchr(p + e, 'e', n - 9 - e + 1);
        if (q == NULL)
            break;
        e = (size_t)(q - p);
        if (memcmp(q, "endstream", 9) == 0) {
            *end = e > d && p[e - 1] == '\n' ? e - 1 : e;
            *end = *end > d && p[*end - 1] == '\r' ? *end - 1 : *end;
            return 1;
        }
    }
    return 0;
}

static void stream(struct pdf *s, const struct sinfo *info, const uint8_t *p, size_t n,
                   size_t pos, uint64_t obj)
{
    size_t d = pos, end;
    d += d < n && p[d] == '\r';
    d += d < n && p[d] == '\n';
    int decode = will_decode(s, info);
    if (!stream_end(p, n, d, info, &end)) {
        if (decode)
            found_bad(s, "a stream without endstream", obj);
        return;
    }
    if (!decode)
        return;
    /* what readers decode and we would not: refused rather than skipped */
    if (info->too_many) {
        found_bad(s, "a filter chain longer than 8", obj);
        return;
    }
    if (is_objstm(info) && info->indirect) {
        found_bad(s, "an object stream whose /Filter, /DecodeParms, /N or /First is a reference",
                  obj);
        return;
    }
    struct dbuf out = {NULL, 0, 0};
    const uint8_t *data = p + d;
    size_t len = end - d;
    if (info->nfilter > 0) {
        if (decode_chain(s, info, p + d, end - d, &out, obj) != 0)
            return;
        data = out.p, len = out.len;
    }
    if (is_objstm(info))
        objstm(s, info, data, len, obj);
    else
        (void)scan_names(s, data, len, obj);
    dbuf_free(s, &out);
}

/* Parse the value at pos (an object's body, a trailer's dictionary) and its
 * stream when streams is set (the file itself; object streams hold none). */
static void parse_at(struct pdf *s, const uint8_t *p, size_t n, size_t pos, uint32_t num,
                     enum role role, int streams)
{
    struct lex lx = {p, n, pos};
    struct sinfo info;
    struct parse ps;
    memset(&info, 0, sizeof info);
    ps.s = s, ps.lx = &lx, ps.info = &info, ps.objnum = num, ps.depth = 0;
    if (role == R_TOP && new_obj(s, num) != 0)
        return;
    enum pend_end e = parse_value(&ps, role);
    s->lexed += lx.pos - pos;
    if (charge_work(s, lx.pos - pos) != 0)
        return;
    if (e == END_STREAM && streams && role == R_TOP)
        stream(s, &info, p, n, lx.pos, num);
}

/* ------------------------------------------------------------ the file */

/* "obj" or "trailer" at i as a keyword: a token boundary on both sides (a
 * digit may touch "obj": "1 0obj" lexes as 1, 0, obj). */
static int keyword_at(const uint8_t *p, size_t n, size_t i, const char *kw, size_t kl)
{
    if (n - i < kl || memcmp(p + i, kw, kl) != 0)
        return 0;
    if (i + kl < n && is_regular(p[i + kl]))
        return 0;
    return i == 0 || !is_regular(p[i - 1]) || (kw[0] == 'o' && p[i - 1] >= '0' && p[i - 1] <= '9');
}

/* The object number before "obj" at i: "N G obj" with white space between;
 * NUM_UNKNOWN when it is not there (comments between, say). */
static uint32_t number_before(const uint8_t *p, size_t i)
{
    uint64_t v[2] = {0, 0};
    for (int k = 1; k >= 0; k--) {
        while (i > 0 && is_ws(p[i - 1]))
            i--;
        size_t end = i;
        while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9' && end - i < 10)
            i--;
        if (i == end || (i > 0 && is_regular(p[i - 1]) && !is_ws(p[i - 1])))
            return NUM_UNKNOWN;
        for (size_t j = i; j < end; j++)
            v[k] = v[k] * 10 + (p[j] - '0');
    }
    return v[0] < NUM_UNKNOWN ? (uint32_t)v[0] : NUM_UNKNOWN;
}

/* Bytes the object parser may still read (object streams add theirs). */
static int over_lex_cap(struct pdf *s)
{
    uint64_t cap = (s->job->in_len + s->decoded) * LEX_FACTOR + LEX_SLACK;
    if (s->lexed <= cap)
        return 0;
    found_limit(s, IMSAFE_R_LIMIT_WORK, "PDF objects overlap: bytes parsed", s->lexed, cap);
    return 1;
}

/* Every "obj" and "trailer" in the file, stream data included (a reader
 * repairing a file finds objects anywhere). */
static const uint8_t keyword_first[256] = {['o'] = 1, ['t'] = 1};

static void scan_file(struct pdf *s, const uint8_t *p, size_t n)
{
    struct imsafe__seek k;
    imsafe__seek_init(&k, p, n, keyword_first);
    for (size_t i = imsafe__seek_next(&k, 0); i < n && alive(s); i = imsafe__seek_next(&k, i + 1)) {
        if (keyword_at(p, n, i, "obj", 3)) {
            if (over_lex_cap(s))
                return;
            parse_at(s, p, n, i + 3, number_before(p, i), R_TOP, 1);
        } else if (keyword_at(p, n, i, "trailer", 7)) {
            if (over_lex_cap(s))
                return;
            parse_at(s, p, n, i + 7, NUM_UNKNOWN, R_TRAILER, 0);
        }
    }
}

/* ------------------------------------------------------------ actions */

static int cmp_obj(const void *a, const void *b)
{
    uint32_t x = ((const struct objrec *)a)->num, y = ((const struct objrec *)b)->num;
    return x < y ? -1 : x > y;
}

static int cmp_pend(const void *a, const void *b)
{
    const struct pend *x = a, *y = b;
    if (x->num != y->num)
        return x->num < y->num ? -1 : 1;
    return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Every definition of object num (a file may define it more than once, in
 * updates): the first in the sorted table and how many; their flags ORed
 * with those of the objects whose number we could not read (unknown). */
static uint32_t flags_of(const struct pdf *s, uint32_t num, uint32_t unknown, size_t *first,
                         size_t *count)
{
    size_t lo = 0, hi = s->nobj;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->obj[mid].num < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t f = unknown;
    *first = lo;
    for (*count = 0; lo + *count < s->nobj && s->obj[lo + *count].num == num; (*count)++)
        f |= s->obj[lo + *count].flags;
    return f;
}

/* /OpenAction 5 0 R and /AA 7 0 R: the object they name runs an action,
 * or for /AA an action its dictionary holds or names.  Pending references
 * are sorted and deduplicated first, so each object's references are
 * followed once at most. */
static void resolve(struct pdf *s)
{
    uint32_t unknown = 0;
    if (s->nobj > 1)
        qsort(s->obj, s->nobj, sizeof *s->obj, cmp_obj);
    if (s->npend > 1)
        qsort(s->pend, s->npend, sizeof *s->pend, cmp_pend);
    for (size_t u = s->nobj; u > 0 && s->obj[u - 1].num == NUM_UNKNOWN; u--)
        unknown |= s->obj[u - 1].flags;
    for (size_t i = 0; i < s->npend && s->active == NULL; i++) {
        const struct pend *pd = &s->pend[i];
        if (i > 0 && pd->num == pd[-1].num && pd->kind == pd[-1].kind)
            continue;
        size_t at, cnt, a2, c2;
        uint32_t f = flags_of(s, pd->num, unknown, &at, &cnt);
        const char *key = pd->kind == P_OPEN ? "OpenAction" : "AA";
        if ((f & O_TOP_RUNS) || (pd->kind == P_AA && (f & O_CHILD_RUNS)))
            found_active(s, key, pd->num);
        for (size_t k = at; pd->kind == P_AA && k < at + cnt; k++)
            for (size_t r = 0; r < s->obj[k].nref; r++)
                if (flags_of(s, s->ref[s->obj[k].ref0 + r], unknown, &a2, &c2) & O_TOP_RUNS)
                    found_active(s, "AA", pd->num);
    }
}

/* ------------------------------------------------------------ verdict */

static void pass_init(struct pdf *s, struct imsafe__job *job, int decode)
{
    const struct imsafe_policy *pol = job->policy;
    memset(s, 0, sizeof *s);
    s->job = job;
    s->decode = decode;
    s->max_stream = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES);
    s->max_total = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_ARCHIVE_BYTES);
    s->max_work = (uint64_t)imsafe__opt(pol, IMSAFE_OPT_MAX_WORK);
}

static void pass_free(struct pdf *s)
{
    imsafe__free(s->job, s->obj);
    imsafe__free(s->job, s->ref);
    imsafe__free(s->job, s->pend);
    s->obj = NULL, s->ref = NULL, s->pend = NULL;
}

static void run_pass(struct pdf *s, struct imsafe__job *job, int decode)
{
    pass_init(s, job, decode);
    scan_file(s, job->in, job->in_len);
    /* object streams add to the byte count the parser may read */
    if (alive(s))
        resolve(s);
    pass_free(s);
}

static void judge(struct imsafe__job *job, const struct pdf *s)
{
    int pass_active = imsafe__opt(job->policy, IMSAFE_OPT_PDF_ACTIVE) == IMSAFE_PDF_ACTIVE_PASS;
    if (s->active != NULL && !pass_active) {
        if (s->active_obj < NUM_UNKNOWN)
            imsafe__reject(job, IMSAFE_R_TYPE_ACTIVE_CONTENT, "the PDF has /%s (object %llu)",
                           s->active, (unsigned long long)s->active_obj);
        else
            imsafe__reject(job, IMSAFE_R_TYPE_ACTIVE_CONTENT, "the PDF has /%s", s->active);
        return;
    }
    if (s->limit != IMSAFE_R_NONE) {
        imsafe__reject(job, s->limit, "%s", s->limit_detail);
        return;
    }
    if (s->bad != NULL) {
        if (s->bad_obj < NUM_UNKNOWN)
            imsafe__reject(job, IMSAFE_R_MALFORMED_PDF, "%s (object %llu)", s->bad,
                           (unsigned long long)s->bad_obj);
        else
            imsafe__reject(job, IMSAFE_R_MALFORMED_PDF, "%s", s->bad);
        return;
    }
    if (s->active != NULL)
        imsafe__detail(job, "active content /%s passed by policy", s->active);
    imsafe__accept(job, IMSAFE_PASSED);
}

imsafe_status imsafe__pdf_inspect(struct imsafe__job *job)
{
    struct pdf s;
    run_pass(&s, job, 1);
    if (!s.dead && s.encrypted) {
        if (imsafe__opt(job->policy, IMSAFE_OPT_PDF_ENCRYPTED) != IMSAFE_PDF_ENCRYPTED_PASS)
            return imsafe__reject(job, IMSAFE_R_TYPE_ENCRYPTED,
                                  "the PDF is encrypted (/Encrypt): its strings and streams "
                                  "cannot be read");
        /* its streams are ciphertext: read the dictionaries only */
        run_pass(&s, job, 0);
        imsafe__detail(job, "encrypted: streams not inspected");
    }
    if (!s.dead)
        judge(job, &s);
    return IMSAFE_OK;
}
