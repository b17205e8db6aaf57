/*
 * imsafe.h - libimsafe, instant-messaging attachment sanitizer.
 *
 * The only public header of libimsafe.  It includes no header of libpng,
 * libjpeg or giflib and exposes opaque handles only.
 *
 * Life cycle
 *   1. imsafe_policy_new() gives a policy with strict defaults; adjust it with
 *      imsafe_policy_set(), imsafe_policy_set_action(), imsafe_policy_kill(),
 *      imsafe_policy_set_label() or imsafe_policy_parse(), then
 *      imsafe_policy_freeze() it.  Policies are allocated with malloc(), not
 *      the caller's allocator: they live outside any one call.
 *   2. imsafe_ctx_new() gives a context per worker thread (allocator, state).
 *   3. imsafe_sanitize() judges one payload held in memory and returns a
 *      result: verdict, detected type, reason, notes, detail and, for a
 *      sanitized payload, a newly built output buffer.
 *   4. imsafe_result_free(), imsafe_ctx_free(), imsafe_policy_unref().
 *
 * Threads
 *   - A frozen policy is read-only: any number of threads may pass it to
 *     imsafe_sanitize() at once.  Policies are reference-counted (atomically),
 *     so a host may build a new policy, freeze it and swap its pointer in while
 *     calls still hold the old one (imsafe_policy_ref()/_unref()).
 *   - A context serves one thread at a time; use one context per thread.
 *   - A result belongs to whoever holds it; it does not refer to the context.
 *   - imsafe_reason_name(), _meaning(), _from_name(), imsafe_type_name(),
 *     _from_name(), imsafe_feature_name(), imsafe_verdict_name(),
 *     imsafe_strerror() and the version functions are safe from any thread.
 *   - The library has no global mutable state and no init function.
 *
 * Ownership
 *   Input bytes, claimed name and claimed MIME type are borrowed for the
 *   duration of the call only.  A result owns its output buffer, its strings
 *   and a copy of the allocator: free it with imsafe_result_free(), never with
 *   free().  Every free function accepts NULL.
 *
 * The library never opens a file, prints, or reads the environment.
 */
#ifndef IMSAFE_H
#define IMSAFE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMSAFE_VERSION_MAJOR 0
#define IMSAFE_VERSION_MINOR 2
#define IMSAFE_VERSION_PATCH 0
#define IMSAFE_VERSION_STRING "0.2.0"
/* major * 1000000 + minor * 1000 + patch */
#define IMSAFE_VERSION_NUMBER 2000

#if defined(_WIN32) && !defined(IMSAFE_STATIC)
#ifdef IMSAFE_BUILDING
#define IMSAFE_API __declspec(dllexport)
#else
#define IMSAFE_API __declspec(dllimport)
#endif
#elif defined(IMSAFE_BUILDING) && defined(__GNUC__) && !defined(IMSAFE_STATIC)
#define IMSAFE_API __attribute__((visibility("default")))
#else
#define IMSAFE_API
#endif

/* ---------------------------------------------------------------- handles */

typedef struct imsafe_policy imsafe_policy; /* frozen after setup, shared */
typedef struct imsafe_ctx imsafe_ctx;       /* one per worker thread */
typedef struct imsafe_result imsafe_result; /* one call's outcome */

/*
 * A caller-supplied allocator.  This struct never changes.  alloc returns
 * memory aligned for any type, or NULL; free accepts what alloc returned.
 * Both may be called from any thread that uses a context built with it.
 */
typedef struct imsafe_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} imsafe_allocator;

/* ------------------------------------------------------- status (did it work) */

typedef enum imsafe_status {
    IMSAFE_OK = 0,        /* the call did its work (the verdict is in the result) */
    IMSAFE_EINVAL = 1,    /* a bad argument, option or value; nothing changed */
    IMSAFE_EBUSY = 2,     /* the policy is frozen: setters refuse */
    IMSAFE_ENOMEM = 3,    /* the allocator failed while the call was under budget */
    IMSAFE_EINTERNAL = 4, /* a bug in libimsafe; the context refuses more work */
    IMSAFE_ESYNTAX = 5,   /* imsafe_policy_parse(): the text has an error */
    IMSAFE_ESINK = 6,      /* imsafe_sanitize_to(): the output sink's write failed */
    IMSAFE_EUNSUPPORTED = 7, /* isolation = process cannot run here: the worker helper is
                             * missing or the kernel refuses its lock-down (never run
                             * unconfined instead); the context stays usable (0.2.0) */
} imsafe_status;

IMSAFE_API const char *imsafe_strerror(imsafe_status status);

/* ----------------------------------------------------------------- verdicts */

typedef enum imsafe_verdict {
    IMSAFE_SANITIZED = 1, /* rebuilt: the result carries new output bytes */
    IMSAFE_PASSED = 2,    /* allowed as it is: the caller keeps its input */
    IMSAFE_REJECTED = 3   /* refused: one reason, never any output */
} imsafe_verdict;

/* "sanitized", "passed", "rejected"; "unknown" for a value out of range. */
IMSAFE_API const char *imsafe_verdict_name(imsafe_verdict verdict);

/* -------------------------------------------------------------------- types */

/* Types named by content sniffing.  Values never change; new ones are added
 * at the end. */
typedef enum imsafe_type {
    IMSAFE_TYPE_UNKNOWN = 0,
    IMSAFE_TYPE_PNG = 1,
    IMSAFE_TYPE_JPEG = 2,
    IMSAFE_TYPE_GIF = 3,
    IMSAFE_TYPE_WEBP = 4,
    IMSAFE_TYPE_BMP = 5,
    IMSAFE_TYPE_TIFF = 6,
    IMSAFE_TYPE_ICO = 7,
    IMSAFE_TYPE_HEIC = 8,
    IMSAFE_TYPE_HEIF = 9,
    IMSAFE_TYPE_AVIF = 10,
    IMSAFE_TYPE_MP4 = 11,
    IMSAFE_TYPE_MOV = 12,
    IMSAFE_TYPE_WEBM = 13, /* and Matroska */
    IMSAFE_TYPE_OGG = 14,
    IMSAFE_TYPE_MP3 = 15,
    IMSAFE_TYPE_WAV = 16,
    IMSAFE_TYPE_SVG = 17,
    IMSAFE_TYPE_XML = 18,
    IMSAFE_TYPE_HTML = 19,
    IMSAFE_TYPE_PDF = 20,
    IMSAFE_TYPE_RTF = 21,
    IMSAFE_TYPE_OLE2 = 22, /* doc, xls, ppt, msi */
    IMSAFE_TYPE_ZIP = 23,
    IMSAFE_TYPE_DOCX = 24,
    IMSAFE_TYPE_XLSX = 25,
    IMSAFE_TYPE_PPTX = 26,
    IMSAFE_TYPE_ODF = 27, /* odt, ods, odp */
    IMSAFE_TYPE_EPUB = 28,
    IMSAFE_TYPE_JAR = 29,
    IMSAFE_TYPE_APK = 30,
    IMSAFE_TYPE_GZIP = 31,
    IMSAFE_TYPE_7Z = 32,
    IMSAFE_TYPE_RAR = 33,
    IMSAFE_TYPE_PE = 34,
    IMSAFE_TYPE_ELF = 35,
    IMSAFE_TYPE_MACHO = 36,
    IMSAFE_TYPE_SCRIPT = 37, /* shebang, or a Windows script by content */
    IMSAFE_TYPE_TEXT = 38,   /* plain UTF-8 / ASCII text */
    IMSAFE_TYPE_MNG = 39,
    IMSAFE_TYPE_MVG = 40,    /* ImageMagick vector graphics (runs commands) */
    IMSAFE_TYPE_LNK = 41,    /* Windows shortcut */
    IMSAFE_TYPE_JAVA_CLASS = 42,
    IMSAFE_TYPE_DEX = 43,    /* Android Dalvik executable */
    IMSAFE_TYPE_TAR = 44,    /* ustar, pax and GNU tar */
    IMSAFE_TYPE_POSTSCRIPT = 45 /* PostScript / EPS: a program Ghostscript runs (0.2.0) */
} imsafe_type;

/* Number of type values (for loops over every type; grows with new types). */
#define IMSAFE_TYPE_COUNT 46

/* "png", "jpeg", ... ; "unknown" for a value out of range. */
IMSAFE_API const char *imsafe_type_name(imsafe_type type);
/* Inverse of imsafe_type_name(); returns -1 for a name it does not know. */
IMSAFE_API int imsafe_type_from_name(const char *name);
/* The usual file extension (without the dot: "jpg") and MIME type
 * ("image/jpeg") of a type; "bin" and "application/octet-stream" for
 * IMSAFE_TYPE_UNKNOWN, out-of-range values and types with no registered
 * MIME type.  Never NULL; static strings.  Added in 0.2.0. */
IMSAFE_API const char *imsafe_type_ext(imsafe_type type);
IMSAFE_API const char *imsafe_type_mime(imsafe_type type);

/* ------------------------------------------------------------------ reasons */

/*
 * Why a payload was rejected (one per rejection) or what was changed in an
 * accepted one (notes).  The dotted names are stable and are what logs and
 * JSON carry; see imsafe_reason_name() and libimsafe-reasons(3).  Values are
 * never renumbered; new ones are added at the end.
 */
typedef enum imsafe_reason {
    IMSAFE_R_NONE = 0,
    IMSAFE_R_LIMIT_INPUT_BYTES = 1,
    IMSAFE_R_LIMIT_WIDTH = 2,
    IMSAFE_R_LIMIT_HEIGHT = 3,
    IMSAFE_R_LIMIT_PIXELS = 4,
    IMSAFE_R_LIMIT_FRAMES = 5,
    IMSAFE_R_LIMIT_FRAME_PIXELS = 6,
    IMSAFE_R_LIMIT_MEMORY = 7,
    IMSAFE_R_LIMIT_CHUNK_BYTES = 8,
    IMSAFE_R_LIMIT_DECOMPRESSED_BYTES = 9,
    IMSAFE_R_LIMIT_SCANS = 10,
    IMSAFE_R_LIMIT_ICC_BYTES = 11,
    IMSAFE_R_LIMIT_ARCHIVE_ENTRIES = 12,
    IMSAFE_R_LIMIT_ARCHIVE_BYTES = 13,
    IMSAFE_R_LIMIT_ARCHIVE_RATIO = 14,
    IMSAFE_R_LIMIT_ARCHIVE_DEPTH = 15,
    IMSAFE_R_MALFORMED_EMPTY = 16,
    IMSAFE_R_MALFORMED_TRUNCATED = 17,
    IMSAFE_R_MALFORMED_CRC = 18,
    IMSAFE_R_MALFORMED_SIGNATURE = 19,
    IMSAFE_R_MALFORMED_PNG = 20,
    IMSAFE_R_MALFORMED_PNG_IHDR = 21,
    IMSAFE_R_MALFORMED_PNG_CHUNK_ORDER = 22,
    IMSAFE_R_MALFORMED_PNG_CRITICAL_CHUNK = 23,
    IMSAFE_R_MALFORMED_PNG_PALETTE = 24,
    IMSAFE_R_MALFORMED_PNG_TRNS = 25,
    IMSAFE_R_MALFORMED_PNG_PALETTE_INDEX = 26,
    IMSAFE_R_MALFORMED_PNG_IMAGE_DATA = 27,
    IMSAFE_R_MALFORMED_PNG_CHUNK = 28,
    IMSAFE_R_MALFORMED_APNG = 29,
    IMSAFE_R_MALFORMED_JPEG = 30,
    IMSAFE_R_MALFORMED_JPEG_MARKER = 31,
    IMSAFE_R_MALFORMED_JPEG_SOF = 32,
    IMSAFE_R_MALFORMED_JPEG_TABLES = 33,
    IMSAFE_R_MALFORMED_JPEG_DATA = 34,
    IMSAFE_R_MALFORMED_GIF = 35,
    IMSAFE_R_MALFORMED_GIF_FRAME_EMPTY = 36,
    IMSAFE_R_MALFORMED_GIF_FRAME_OUTSIDE = 37,
    IMSAFE_R_MALFORMED_GIF_LZW = 38,
    IMSAFE_R_MALFORMED_GIF_COLORMAP = 39,
    IMSAFE_R_MALFORMED_GIF_PIXEL_DATA = 40,
    IMSAFE_R_MALFORMED_ZIP = 41,
    IMSAFE_R_MALFORMED_ZIP_HEADER_MISMATCH = 42,
    IMSAFE_R_MALFORMED_GZIP = 43,
    IMSAFE_R_UNSUPPORTED_PNG_CGBI = 44,
    IMSAFE_R_UNSUPPORTED_JPEG_LOSSLESS = 45,
    IMSAFE_R_UNSUPPORTED_JPEG_PRECISION = 46,
    IMSAFE_R_UNSUPPORTED_JPEG_HIERARCHICAL = 47,
    IMSAFE_R_UNSUPPORTED_JPEG_PROCESS = 48,
    IMSAFE_R_UNSUPPORTED_ARCHIVE_METHOD = 49,
    IMSAFE_R_TYPE_MISMATCH = 50,
    IMSAFE_R_TYPE_UNKNOWN = 51,
    IMSAFE_R_TYPE_EXECUTABLE = 52,
    IMSAFE_R_TYPE_SCRIPT = 53,
    IMSAFE_R_TYPE_ACTIVE_CONTENT = 54,
    IMSAFE_R_FILENAME_INVALID_UTF8 = 55,
    IMSAFE_R_FILENAME_CONTROL = 56,
    IMSAFE_R_FILENAME_BIDI = 57,
    IMSAFE_R_FILENAME_SEPARATOR = 58,
    IMSAFE_R_FILENAME_TRAVERSAL = 59,
    IMSAFE_R_FILENAME_ABSOLUTE = 60,
    IMSAFE_R_FILENAME_RESERVED = 61,
    IMSAFE_R_FILENAME_TRAILING = 62,
    IMSAFE_R_FILENAME_HIDDEN_EXTENSION = 63,
    IMSAFE_R_FILENAME_PADDING = 64,
    IMSAFE_R_FILENAME_PERCENT_ENCODED = 65,
    IMSAFE_R_FILENAME_TOO_LONG = 66,
    IMSAFE_R_ARCHIVE_TRAVERSAL = 67,
    IMSAFE_R_ARCHIVE_ABSOLUTE = 68,
    IMSAFE_R_ARCHIVE_DUPLICATE = 69,
    IMSAFE_R_ARCHIVE_DANGEROUS_ENTRY = 70,
    IMSAFE_R_ARCHIVE_ENCRYPTED = 71,
    IMSAFE_R_ARCHIVE_PREFIX = 72,
    IMSAFE_R_ARCHIVE_OVERLAP = 73,
    IMSAFE_R_POLYGLOT_ARCHIVE = 74,
    IMSAFE_R_POLYGLOT_EXECUTABLE = 75,
    IMSAFE_R_POLYGLOT_SCRIPT = 76,
    IMSAFE_R_POLYGLOT_HTML = 77,
    IMSAFE_R_POLYGLOT_XML = 78,
    IMSAFE_R_POLYGLOT_PDF = 79,
    IMSAFE_R_POLICY_TYPE_REJECTED = 80,
    IMSAFE_R_POLICY_KILLED_TYPE = 81,
    IMSAFE_R_POLICY_KILLED_FEATURE = 82,
    IMSAFE_R_NOTE_TRAILING_DROPPED = 83,
    IMSAFE_R_NOTE_METADATA_DROPPED = 84,
    IMSAFE_R_NOTE_ANIMATION_DROPPED = 85,
    IMSAFE_R_NOTE_INTERLACE_DROPPED = 86,
    IMSAFE_R_NOTE_ICC_DROPPED = 87,
    IMSAFE_R_NOTE_COLORSPACE_DROPPED = 88,
    IMSAFE_R_NOTE_EXIF_IGNORED = 89,
    IMSAFE_R_NOTE_ORIENTATION_KEPT = 90,
    IMSAFE_R_NOTE_TYPE_MISMATCH = 91,
    IMSAFE_R_NOTE_FRAME_CLIPPED = 92,
    IMSAFE_R_NOTE_ANIMATION_FLATTENED = 93,
    IMSAFE_R_NOTE_CONVERTED = 94,
    IMSAFE_R_NOTE_FILENAME = 95,
    IMSAFE_R_NOTE_WARNINGS_TOLERATED = 96,
    IMSAFE_R_NOTE_EXTENSIONS_DROPPED = 97,
    IMSAFE_R_NOTE_REPAIRED = 98,
    IMSAFE_R_MALFORMED_GIF_NO_IMAGE = 99,
    IMSAFE_R_POLYGLOT_OUTPUT = 100,
    IMSAFE_R_NOTE_REENCODED = 101,
    IMSAFE_R_ARCHIVE_AMBIGUOUS = 102,
    IMSAFE_R_ARCHIVE_LINK = 103,
    IMSAFE_R_UNSUPPORTED_ARCHIVE_FORMAT = 104,
    IMSAFE_R_FILENAME_INVISIBLE = 105,
    IMSAFE_R_UNSUPPORTED_JPEG_SAMPLING = 106,
    IMSAFE_R_UNSUPPORTED_JPEG_ARITHMETIC = 107,
    IMSAFE_R_LIMIT_RATIO = 108,
    IMSAFE_R_LIMIT_WORK = 109,
    IMSAFE_R_TYPE_ENCRYPTED = 110, /* an encrypted PDF: its objects cannot be read (0.2.0) */
    IMSAFE_R_MALFORMED_PDF = 111,   /* a PDF stream or object stream cannot be read (0.2.0) */
    IMSAFE_R_TYPE_MACRO = 113,       /* an Office document with macros (0.2.0) */
    IMSAFE_R_MALFORMED_OFFICE = 114,  /* an Office package part is not well-formed (0.2.0) */
    IMSAFE_R_LIMIT_TIME = 115, /* the call ran past its CPU or wall-clock deadline (0.2.0) */
    IMSAFE_R_ISOLATION_CRASH = 116,    /* the isolated worker died of a signal (0.2.0) */
    IMSAFE_R_ISOLATION_SYSCALL = 117,  /* the worker made a system call its filter forbids (0.2.0) */
    IMSAFE_R_ISOLATION_PROTOCOL = 118, /* the worker's answer broke the result framing (0.2.0) */
    IMSAFE_R_ISOLATION_OUTPUT = 119,    /* the worker's image failed the host's structural walk (0.2.0) */
    IMSAFE_R_MALFORMED_APNG_FRAME_DATA = 120, /* an APNG frame's data is not exactly the frame (0.2.0) */
    IMSAFE_R_MALFORMED_WEBP_RIFF = 122,    /* the RIFF container is malformed (0.2.0) */
    IMSAFE_R_MALFORMED_WEBP_HUFFMAN = 123,
    IMSAFE_R_MALFORMED_WEBP_VP8L = 124,
    IMSAFE_R_MALFORMED_WEBP_FRAME = 125,   /* an animation frame is malformed (0.2.0) */
    IMSAFE_R_MALFORMED_WEBP_VP8 = 126,     /* a VP8 (lossy) bitstream is malformed (0.2.0) */
    IMSAFE_R_MALFORMED_WEBP_ALPHA = 127,   /* an ALPH chunk is malformed (0.2.0) */
    IMSAFE_R_MALFORMED_WEBP_CHUNK = 128,    /* WebP chunks in a wrong order, repeated, or against the VP8X flags (0.2.0) */
} imsafe_reason;

/* Number of reason values (grows with new reasons). */
#define IMSAFE_REASON_COUNT 129

/* "limit.pixels", ...; NULL for a value out of range. */
IMSAFE_API const char *imsafe_reason_name(imsafe_reason reason);
/* One-line meaning in English; NULL for a value out of range. */
IMSAFE_API const char *imsafe_reason_meaning(imsafe_reason reason);
/* Inverse of imsafe_reason_name(); returns -1 for a name it does not know. */
IMSAFE_API int imsafe_reason_from_name(const char *name);

/* ------------------------------------------------------------------ policy */

/*
 * Numeric options, set one at a time.  Units are in the names; each comment
 * gives the range and the default.  A value out of range gives IMSAFE_EINVAL
 * and changes nothing.  Values never change; new options are added at the end.
 */
typedef enum imsafe_opt {
    IMSAFE_OPT_MAX_INPUT_BYTES = 1,    /* 1..2^40, default 104857600 (100 MiB) */
    IMSAFE_OPT_MAX_WIDTH_PX = 2,       /* 1..1000000, default 32768 */
    IMSAFE_OPT_MAX_HEIGHT_PX = 3,      /* 1..1000000, default 32768 */
    IMSAFE_OPT_MAX_PIXELS = 4,         /* 1..2^40, default 60000000 (60 MP) */
    IMSAFE_OPT_MAX_FRAMES = 5,         /* 1..1000000, default 1000 */
    IMSAFE_OPT_MAX_TOTAL_FRAME_PIXELS = 6, /* 1..2^40, default 200000000 */
    IMSAFE_OPT_MAX_MEMORY_BYTES = 7,   /* 1 MiB..2^40, default 536870912 (512 MiB) */
    IMSAFE_OPT_MAX_CHUNK_BYTES = 8,    /* 1024..2^31-1, default 8388608 (8 MiB) */
    IMSAFE_OPT_MAX_ICC_BYTES = 9,      /* 132..2^30, default 4194304 (4 MiB) */
    IMSAFE_OPT_MAX_JPEG_SCANS = 10,    /* 1..100000, default 150 */
    IMSAFE_OPT_TOLERATE_WARNINGS = 11, /* 0/1, default 0: a decoder warning rejects */
    IMSAFE_OPT_KEEP_ICC = 12,          /* 0/1, default 1 (only a validated profile) */
    IMSAFE_OPT_KEEP_COLORSPACE = 13,   /* 0/1, default 1: PNG sRGB/gAMA/cHRM */
    IMSAFE_OPT_KEEP_ORIENTATION = 14,  /* 0/1, default 1: rebuilt EXIF Orientation */
    IMSAFE_OPT_JPEG_MODE = 15,         /* IMSAFE_JPEG_LOSSLESS (default) | _PIXELS */
    IMSAFE_OPT_JPEG_QUALITY = 16,      /* 1..100, default 90 (pixel mode) */
    IMSAFE_OPT_PNG_ZLIB_LEVEL = 17,    /* 0..9, default 5 */
    IMSAFE_OPT_PNG_FILTERS = 18,       /* IMSAFE_PNG_FILTERS_*, default _ADAPTIVE */
    IMSAFE_OPT_GIF_FLATTEN = 19,       /* 0/1, default 0: keep the animation */
    IMSAFE_OPT_GIF_TO_PNG = 20,        /* 0/1, default 0 */
    IMSAFE_OPT_MAX_ARCHIVE_ENTRIES = 21,   /* 1..10000000, default 10000 */
    IMSAFE_OPT_MAX_ARCHIVE_BYTES = 22,     /* 1..2^40, default 1073741824 (1 GiB total) */
    IMSAFE_OPT_MAX_ARCHIVE_ENTRY_BYTES = 23, /* 1..2^40, default 268435456 (256 MiB) */
    IMSAFE_OPT_MAX_ARCHIVE_RATIO = 24,     /* 1..100000, default 100 */
    IMSAFE_OPT_MAX_ARCHIVE_DEPTH = 25,     /* 0..32, default 2 */
    IMSAFE_OPT_ALLOW_ENCRYPTED = 26,       /* 0/1, default 0 */
    IMSAFE_OPT_FILENAME_FINDINGS = 27,     /* IMSAFE_FINDINGS_REJECT (default) | _NOTE */
    IMSAFE_OPT_MAX_FILENAME_BYTES = 28,    /* 16..4096, default 255 */
    IMSAFE_OPT_JPEG_PROGRESSIVE = 29,      /* IMSAFE_JPEG_PROGRESSIVE_KEEP (default) | _BASELINE */
    IMSAFE_OPT_JPEG_ARITHMETIC = 30,       /* IMSAFE_JPEG_ARITHMETIC_REJECT (default) | _ALLOW */
    IMSAFE_OPT_MAX_WORK = 31,              /* 1..2^50, default 4000000000 (work units,
                                            * about 1 s of CPU; see libimsafe(3)) */
    IMSAFE_OPT_PDF_ACTIVE = 32,            /* IMSAFE_PDF_ACTIVE_REJECT (default) | _PASS (0.2.0) */
    IMSAFE_OPT_PDF_ENCRYPTED = 33,          /* IMSAFE_PDF_ENCRYPTED_REJECT (default) | _PASS (0.2.0) */
    IMSAFE_OPT_OFFICE_MACROS = 34,         /* IMSAFE_OFFICE_REJECT (default) | _PASS (0.2.0) */
    IMSAFE_OPT_OFFICE_ACTIVE = 35,          /* IMSAFE_OFFICE_REJECT (default) | _PASS (0.2.0) */
    IMSAFE_OPT_MAX_CPU_MS = 36,            /* 0..86400000, default 0 (no CPU deadline) */
    IMSAFE_OPT_ISOLATION = 37,             /* IMSAFE_ISOLATION_NONE (default) | _PROCESS */
    IMSAFE_OPT_ISOLATION_REUSE = 38,       /* 1..100000 payloads per worker, default 1 */
    IMSAFE_OPT_APNG = 39,                   /* IMSAFE_APNG_KEEP (default) | _FLATTEN (0.2.0) */
    IMSAFE_OPT_WEBP_QUALITY = 40,          /* 1..100, default 90: lossy WebP re-encoding (0.2.0) */
    IMSAFE_OPT_WEBP_TO = 41                /* IMSAFE_WEBP_TO_WEBP (default) | _PNG (0.2.0) */
} imsafe_opt;

/* Office documents (OOXML and ODF, at any depth of an archive):
 * OFFICE_MACROS judges VBA projects, macro-enabled content types, Excel 4.0
 * macro sheets and ODF Basic/Scripts; OFFICE_ACTIVE judges ActiveX
 * controls, embedded OLE objects and external relationships that load on
 * open (remote templates, frames, OLE links; hyperlinks always pass). */
#define IMSAFE_OFFICE_REJECT 0
#define IMSAFE_OFFICE_PASS 1

/* Where a call judges its payload (0.2.0).  NONE: in the caller's process.
 * PROCESS: in a worker process that can only compute (seccomp filter,
 * rlimits, no files, no network); see imsafe_pool_new(). */
#define IMSAFE_ISOLATION_NONE 0
#define IMSAFE_ISOLATION_PROCESS 1

/* What a sanitized still WebP becomes: WebP again (lossless stays
 * lossless, lossy is re-encoded at webp_quality), or a lossless PNG for
 * hosts that prefer it.  Animated WebP always stays WebP.  (0.2.0) */
#define IMSAFE_WEBP_TO_WEBP 0
#define IMSAFE_WEBP_TO_PNG 1

#define IMSAFE_JPEG_LOSSLESS 0 /* coefficients kept, entropy coding rebuilt */
#define IMSAFE_JPEG_PIXELS 1   /* decoded and re-encoded at JPEG_QUALITY */

/* Lossless mode's output for a progressive input: progressive again, with
 * libjpeg's standard scan script (never the sender's), or sequential. */
#define IMSAFE_JPEG_PROGRESSIVE_KEEP 0
#define IMSAFE_JPEG_PROGRESSIVE_BASELINE 1

/* Arithmetic-coded JPEG (SOF9/SOF10): refused by default, because libjpeg
 * pads a cut arithmetic scan with zeros without a warning (a truncated file
 * cannot be told from a whole one) and the coding has no floor of bits per
 * block (limit.ratio cannot bound what a small file declares). */
#define IMSAFE_JPEG_ARITHMETIC_REJECT 0
#define IMSAFE_JPEG_ARITHMETIC_ALLOW 1

/* An animated PNG: kept animated (every frame validated and rebuilt), or
 * flattened to its default image (note.animation_dropped). */
#define IMSAFE_APNG_KEEP 0
#define IMSAFE_APNG_FLATTEN 1
/* A PDF with keys that run code or carry files (/JavaScript, /Launch,
 * /EmbeddedFile, an /OpenAction that runs an action, ...): refused with
 * type.active_content, or passed (the detail names the key). */
#define IMSAFE_PDF_ACTIVE_REJECT 0
#define IMSAFE_PDF_ACTIVE_PASS 1

/* An encrypted PDF (/Encrypt): refused with type.encrypted, or passed
 * after a scan of its dictionaries (its streams are not read). */
#define IMSAFE_PDF_ENCRYPTED_REJECT 0
#define IMSAFE_PDF_ENCRYPTED_PASS 1

#define IMSAFE_PNG_FILTERS_NONE 0     /* no row filter: fastest, larger */
#define IMSAFE_PNG_FILTERS_ADAPTIVE 1 /* libpng's heuristic over all five */
#define IMSAFE_PNG_FILTERS_FAST 2     /* None/Sub/Up only */

#define IMSAFE_FINDINGS_REJECT 0 /* a filename finding that deceives rejects; reserved,
                                  * trailing and too_long are repaired (note.filename) */
#define IMSAFE_FINDINGS_NOTE 1   /* a filename finding becomes note.filename */

/* What the policy does with a detected type. */
typedef enum imsafe_action {
    IMSAFE_ACTION_REJECT = 0,
    IMSAFE_ACTION_PASS = 1,     /* allowed as is, after its checks */
    IMSAFE_ACTION_SANITIZE = 2  /* rebuilt (PNG, JPEG, GIF, and WebP from 0.2.0) */
} imsafe_action;

/* Features the kill switch can turn off (besides whole types). */
typedef enum imsafe_feature {
    IMSAFE_FEATURE_ALL_IMAGES = 1,       /* every image type */
    IMSAFE_FEATURE_JPEG_PROGRESSIVE = 2,
    IMSAFE_FEATURE_GIF_ANIMATED = 3,
    IMSAFE_FEATURE_ICC_PROFILE = 4,      /* any image carrying an ICC profile */
    IMSAFE_FEATURE_PNG_INTERLACED = 5,
    IMSAFE_FEATURE_APNG = 6,
    IMSAFE_FEATURE_ARCHIVES = 7,          /* zip, zip-based types and gzip */
    IMSAFE_FEATURE_WEBP_ANIMATED = 8,     /* animated WebP (0.2.0) */
} imsafe_feature;
#define IMSAFE_FEATURE_COUNT 9

/* "all_images", "jpeg_progressive", ...; NULL out of range. */
IMSAFE_API const char *imsafe_feature_name(imsafe_feature feature);

/*
 * A new policy with strict defaults.  header_version is the header's
 * IMSAFE_VERSION_NUMBER: defaults made stricter in a later release apply
 * only to programs built with the newer header, and so do defaults that
 * accept more: WebP is sanitized by default only for header_version >=
 * 2000 (0.2.0); a program built against 0.1.0 keeps rejecting it.  Returns
 * NULL when out of memory.  The caller holds one reference.
 */
IMSAFE_API imsafe_policy *imsafe_policy_new_v(long header_version);
#define imsafe_policy_new() imsafe_policy_new_v(IMSAFE_VERSION_NUMBER)

/* Set or read a numeric option.  EINVAL: unknown option or value out of
 * range (nothing changed).  EBUSY: the policy is frozen.  _get takes any
 * policy, frozen or not; it returns EINVAL for an unknown option or NULL. */
IMSAFE_API imsafe_status imsafe_policy_set(imsafe_policy *policy, imsafe_opt opt,
                                           int64_t value);
IMSAFE_API imsafe_status imsafe_policy_get(const imsafe_policy *policy,
                                           imsafe_opt opt, int64_t *value);

/* The action for one detected type.  EINVAL: NULL policy, a type or action
 * out of range, SANITIZE for a type that has no sanitizer, or PASS for one
 * that has (PNG, JPEG and GIF are never passed unrebuilt; WebP, which had
 * no sanitizer before 0.2.0, may still be set to PASS).  EBUSY: frozen.
 * imsafe_policy_action() returns REJECT for a NULL policy or a bad type. */
IMSAFE_API imsafe_status imsafe_policy_set_action(imsafe_policy *policy,
                                                  imsafe_type type,
                                                  imsafe_action action);
IMSAFE_API imsafe_action imsafe_policy_action(const imsafe_policy *policy,
                                              imsafe_type type);

/*
 * Kill switch: reject a type (feature 0) or a feature (type IMSAFE_TYPE_UNKNOWN)
 * with an operator message (printable ASCII, at most 200 bytes; copied; NULL
 * for none) until expires_unix (seconds since the epoch, UTC; 0 = no expiry).
 * Such rejections carry policy.killed_type or policy.killed_feature and the
 * message in the detail.  Exactly one of type / feature must be given.
 * EINVAL: NULL policy, neither or both given, a message that is not
 * printable ASCII or too long, a negative expiry.  EBUSY: frozen.
 */
IMSAFE_API imsafe_status imsafe_policy_kill(imsafe_policy *policy, imsafe_type type,
                                            imsafe_feature feature,
                                            const char *message,
                                            int64_t expires_unix);

/* A label (printable ASCII, at most 63 bytes, copied) that every result made
 * under this policy reports, so a host can tell which policy judged it. */
IMSAFE_API imsafe_status imsafe_policy_set_label(imsafe_policy *policy,
                                                 const char *label);
IMSAFE_API const char *imsafe_policy_label(const imsafe_policy *policy);

/*
 * Parse policy text (see imsafe-policy(5)) into policy, on top of what it
 * already holds.  The library never reads files: the caller passes the text
 * and an origin name (a file name, used in errors only).  On a syntax or
 * value error returns IMSAFE_ESYNTAX, writes "origin:line: message" into
 * err (at most err_size bytes, NUL-terminated; err may be NULL) and leaves
 * the policy unchanged.  EBUSY: frozen.  EINVAL: NULL policy or text.
 * ENOMEM: out of memory.  A NULL origin is reported as "policy".
 */
IMSAFE_API imsafe_status imsafe_policy_parse(imsafe_policy *policy, const char *text,
                                             size_t len, const char *origin,
                                             char *err, size_t err_size);

/* Write the effective policy as text that imsafe_policy_parse() reads back to
 * the same policy.  Returns a NUL-terminated string allocated with malloc()
 * (the caller frees it with free()), or NULL for a NULL policy or when out
 * of memory. */
IMSAFE_API char *imsafe_policy_print(const imsafe_policy *policy);

/* Freeze: afterwards the policy is read-only and may be shared by threads;
 * setters return EBUSY.  Freezing twice is fine.  EINVAL: NULL. */
IMSAFE_API imsafe_status imsafe_policy_freeze(imsafe_policy *policy);
IMSAFE_API int imsafe_policy_is_frozen(const imsafe_policy *policy);

/* Reference counting (atomic).  _ref returns its argument; _unref frees the
 * policy when the last reference goes.  Both accept NULL. */
IMSAFE_API imsafe_policy *imsafe_policy_ref(imsafe_policy *policy);
IMSAFE_API void imsafe_policy_unref(imsafe_policy *policy);

/* ------------------------------------------------------------------ context */

/* A context for one worker thread.  allocator is copied; NULL means malloc
 * and free.  Returns NULL when out of memory, or when the allocator lacks
 * its alloc or free function. */
IMSAFE_API imsafe_ctx *imsafe_ctx_new(const imsafe_allocator *allocator);
IMSAFE_API void imsafe_ctx_free(imsafe_ctx *ctx);

/* ---------------------------------------------------------------- isolation */

/*
 * Isolation (policy isolation = process, 0.2.0): the whole judging of a
 * call runs in a worker process that can only compute.  A worker is a
 * fork of a small helper program (installed as LIBEXECDIR/imsafe-worker),
 * which each pool starts once with exec from a clean image, with no
 * environment and no descriptor but its channel; it loads the codecs, then
 * locks itself down (no new
 * privileges, a seccomp filter that kills the process on any system call
 * besides reading its channel, memory management and exit; no core files;
 * an address-space limit of the call's max_memory_bytes plus slack) before
 * it reads a payload.  The host sends the input through a sealed memfd,
 * reads a framed answer back, validates every field, walks the returned
 * image's structure and runs the output gate again before the result (or
 * a sink) sees a byte.  A worker that crashes, makes a forbidden call,
 * runs out of memory or time, or answers garbage gives a rejection
 * (isolation.crash, isolation.syscall, limit.memory, limit.time,
 * isolation.protocol, isolation.output): never a host failure.
 *
 * With the default isolation_reuse = 1 a worker judges one payload and
 * exits; a replacement is started while the call runs.  isolation_reuse = N
 * lets one worker judge up to N payloads: only for hosts whose payloads all
 * come from one trust domain (a worker an exploit took over could carry one
 * payload into another's output).
 */
#define IMSAFE_HAVE_ISOLATION 1

typedef struct imsafe_pool imsafe_pool; /* pre-started workers, thread-safe */

/*
 * A pool of workers.  helper_path: the worker program (copied), NULL for
 * the installed one.  workers: how many idle workers the pool keeps started
 * ahead of calls (0..256; 0 starts each on demand); a host usually passes
 * its number of threads that call imsafe_sanitize().  Starts them before
 * it returns.  IMSAFE_OK and *out; EINVAL: out NULL or workers > 256;
 * ENOMEM; EUNSUPPORTED: the helper cannot be started or cannot lock itself
 * down on this kernel (*out NULL).
 *
 * Threads: a pool may be shared by any number of contexts and threads at
 * once (it has its own lock).  Free it after the last call that uses it has
 * returned and after the contexts attached to it are freed or detached.
 * The pool waits for its own workers only (waitpid on their process ids):
 * a host must not reap children it did not start (waitpid(-1), or SIGCHLD
 * set to SIG_IGN), or the pool loses its workers' exit statuses (a fault is
 * then reported as isolation.crash).  The pool never changes signal
 * dispositions; it writes to its channels with MSG_NOSIGNAL, so a dead
 * worker never raises SIGPIPE in the host.  A worker exits when its host
 * does (its channel closes).  Hosts that fork should create pools after
 * fork.
 */
IMSAFE_API imsafe_status imsafe_pool_new(const char *helper_path, unsigned workers,
                                         imsafe_pool **out);
/* Stops every idle worker and waits for it.  NULL is fine. */
IMSAFE_API void imsafe_pool_free(imsafe_pool *pool);

/*
 * Attach a pool to a context (NULL detaches); calls of this context whose
 * policy says isolation = process take their worker from it.  The pool is
 * borrowed: it must outlive the attachment.  A context whose policy asks
 * for isolation without an attached pool starts its own pool of one
 * worker from the installed helper on first use, and stops it in
 * imsafe_ctx_free().  EINVAL: ctx NULL.
 *
 * With isolation = process, imsafe_sanitize() and imsafe_sanitize_to()
 * return IMSAFE_EUNSUPPORTED (and *res NULL) when no worker can be started
 * or locked down; the context stays usable.
 */
IMSAFE_API imsafe_status imsafe_ctx_set_pool(imsafe_ctx *ctx, imsafe_pool *pool);

/* ----------------------------------------------------------------- sanitize */

/*
 * Judge one payload.  in/in_len: the bytes (borrowed; in may be NULL only
 * when in_len is 0).  claimed_name and claimed_mime: what the sender said
 * (borrowed, NUL-terminated, may be NULL); they never decide the type but
 * are checked against it.  policy must be frozen.
 *
 * On IMSAFE_OK *res is a new result (verdict, type, reason, notes, detail,
 * output); free it with imsafe_result_free().  On any other status *res is
 * NULL: EINVAL (NULL ctx, policy or res, a policy not frozen, in NULL with
 * in_len > 0), ENOMEM (the allocator failed under budget), EINTERNAL (a bug;
 * the context then refuses further calls with EINTERNAL).
 */
IMSAFE_API imsafe_status imsafe_sanitize(imsafe_ctx *ctx, const imsafe_policy *policy,
                                         const void *in, size_t in_len,
                                         const char *claimed_name,
                                         const char *claimed_mime,
                                         imsafe_result **res);

/*
 * An output sink, for hosts that would rather not hold a whole rebuilt image
 * in memory (a gateway writing to a spool file or a socket buffer).
 * imsafe_sanitize_to() hands write() the rebuilt bytes in order, in pieces of
 * at most chunk_bytes, while the image is being encoded; the call then holds
 * one chunk of output instead of all of it.
 *
 * What the sink received is an image only when the call returns IMSAFE_OK
 * with the verdict IMSAFE_SANITIZED.  For any other verdict or status the
 * bytes are the start of an output the library refused to finish: the host
 * must discard them (write to a temporary file, rename it only on
 * IMSAFE_SANITIZED; imsafe-check does this).  A payload that is passed or
 * rejected before any rebuild starts never reaches the sink.
 *
 * write() returns 0 when it took all len bytes, anything else on failure;
 * the call then stops and returns IMSAFE_ESINK.  It is called on the
 * caller's thread, never after the call returns.  chunk_bytes: 0 means
 * 65536; otherwise 512..16777216 (else IMSAFE_EINVAL).  The chunk buffer is
 * charged to the call's budget like any other allocation.
 *
 * Every output passes the output gate before it counts: a scan for a
 * foreign format (a ZIP, PDF, HTML or server-side script) that some input
 * could steer into the rebuilt bytes.  When the first encoding is hit, the
 * image is encoded once more in another way (note.reencoded), or rejected
 * (polyglot.output).  rewind() lets the host take back a first encoding:
 * it discards every byte write() received so far, and the next write()
 * starts the output again at offset 0 (imsafe-check truncates its
 * temporary file); it returns 0, anything else fails the call with
 * IMSAFE_ESINK.  It is called at most twice per call, always between
 * writes.  With rewind NULL the library holds the whole output (charged to
 * the budget, as imsafe_sanitize() does) until the gate has passed it,
 * then writes it in chunk_bytes pieces: the sink never sees a refused
 * encoding, but the memory saving is lost.  Initialise the whole struct
 * (designated initialisers, or = {0}) so members a host does not use are
 * NULL.  The layout is final from 0.1.0 on, like imsafe_allocator.
 */
typedef struct imsafe_sink {
    int (*write)(void *opaque, const void *data, size_t len);
    void *opaque;
    size_t chunk_bytes;
    int (*rewind)(void *opaque); /* optional: see above */
} imsafe_sink;

/*
 * imsafe_sanitize() with the output sent to sink instead of kept in the
 * result: the verdict, type, reason, notes and detail are the same, and the
 * bytes the sink received for IMSAFE_SANITIZED are exactly the bytes
 * imsafe_sanitize() would have returned.  imsafe_result_output() of such a
 * result is NULL; imsafe_result_output_size() gives the size delivered.
 * Statuses as imsafe_sanitize(), plus EINVAL for a NULL sink, a NULL write
 * or a chunk_bytes out of range, and ESINK (*res NULL) when write() failed.
 */
IMSAFE_API imsafe_status imsafe_sanitize_to(imsafe_ctx *ctx, const imsafe_policy *policy,
                                            const void *in, size_t in_len,
                                            const char *claimed_name,
                                            const char *claimed_mime,
                                            const imsafe_sink *sink, imsafe_result **res);

/* ------------------------------------------------------------------- result */

IMSAFE_API imsafe_verdict imsafe_result_verdict(const imsafe_result *res);
/* The type the content was identified as. */
IMSAFE_API imsafe_type imsafe_result_type(const imsafe_result *res);
/* For a rejection its one reason; IMSAFE_R_NONE when accepted. */
IMSAFE_API imsafe_reason imsafe_result_reason(const imsafe_result *res);
/* Notes of an accepted payload (what was dropped or changed), in order of
 * first occurrence, without repeats.  Index 0..count-1. */
IMSAFE_API size_t imsafe_result_note_count(const imsafe_result *res);
IMSAFE_API imsafe_reason imsafe_result_note(const imsafe_result *res, size_t index);
/* Printable ASCII text about the verdict; never echoes input bytes; never
 * NULL for a non-NULL result ("" when there is nothing to say). */
IMSAFE_API const char *imsafe_result_detail(const imsafe_result *res);
/* For IMSAFE_SANITIZED the rebuilt bytes (owned by the result, valid until
 * imsafe_result_free()); NULL and *len = 0 otherwise.  len may be NULL. */
IMSAFE_API const void *imsafe_result_output(const imsafe_result *res, size_t *len);
/* The size of the rebuilt output for IMSAFE_SANITIZED, whether it is held in
 * the result (imsafe_sanitize) or was sent to a sink (imsafe_sanitize_to);
 * 0 otherwise. */
IMSAFE_API uint64_t imsafe_result_output_size(const imsafe_result *res);
/* The format of the bytes to forward: for IMSAFE_SANITIZED the output's
 * format (a GIF converted by policy is a PNG), otherwise the identified
 * type.  Also its usual extension and MIME type (see imsafe_type_ext()),
 * for hosts that name or label what they forward: a rebuilt "sticker.webp"
 * that is a JPEG is served as image/jpeg.  Added in 0.2.0. */
IMSAFE_API imsafe_type imsafe_result_output_type(const imsafe_result *res);
IMSAFE_API const char *imsafe_result_ext(const imsafe_result *res);
IMSAFE_API const char *imsafe_result_mime(const imsafe_result *res);
/* The claimed name made safe to display and save under: printable, no
 * controls, no bidi overrides, no separators, no trailing dots or spaces,
 * no Windows device name (con.jpg: con_.jpg), within max_filename_bytes
 * keeping the extension, and for a sanitized image whose claimed extension
 * names another type the output's extension (sticker.webp that is a JPEG:
 * sticker.jpg).  Never a name the library would object to; never NULL (""
 * if no name was claimed). */
IMSAFE_API const char *imsafe_result_display_name(const imsafe_result *res);
/* The peak number of bytes charged to the call's budget (allocations made
 * through the allocator plus reservations for libjpeg and giflib). */
IMSAFE_API uint64_t imsafe_result_peak_bytes(const imsafe_result *res);
/* The label of the policy that judged the payload ("" if none was set). */
IMSAFE_API const char *imsafe_result_policy_label(const imsafe_result *res);
IMSAFE_API void imsafe_result_free(imsafe_result *res);

/* ------------------------------------------------------------------ version */

IMSAFE_API long imsafe_version_number(void);
IMSAFE_API const char *imsafe_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* IMSAFE_H */
