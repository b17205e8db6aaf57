/*
 * reason.c - the one table of reason codes: value, stable dotted name,
 * one-line meaning.  Names never change once released; values are never
 * renumbered.  doc/libimsafe-reasons.3 lists the same names (a test keeps
 * the two equal).
 */
#include <string.h>

#include "imsafe_private.h"

struct reason_def {
    imsafe_reason value;
    const char *name;
    const char *meaning;
};

#define R(v, n, m) [IMSAFE_R_##v] = {IMSAFE_R_##v, n, m}

static const struct reason_def reasons[IMSAFE_REASON_COUNT] = {
    R(NONE, "none", "no reason: the payload was accepted"),
    R(LIMIT_INPUT_BYTES, "limit.input_bytes", "the payload is larger than the policy allows"),
    R(LIMIT_WIDTH, "limit.width", "the image is wider than the policy allows"),
    R(LIMIT_HEIGHT, "limit.height", "the image is taller than the policy allows"),
    R(LIMIT_PIXELS, "limit.pixels", "the image has more pixels than the policy allows"),
    R(LIMIT_FRAMES, "limit.frames", "the animation has more frames than the policy allows"),
    R(LIMIT_FRAME_PIXELS, "limit.frame_pixels",
      "the frames of an animation add up to more pixels than the policy allows"),
    R(LIMIT_MEMORY, "limit.memory", "handling the payload would exceed the call's memory budget"),
    R(LIMIT_CHUNK_BYTES, "limit.chunk_bytes", "a chunk or segment is larger than the policy allows"),
    R(LIMIT_DECOMPRESSED_BYTES, "limit.decompressed_bytes",
      "compressed data inflates to more than the policy allows"),
    R(LIMIT_SCANS, "limit.scans", "the JPEG has more scans than the policy allows"),
    R(LIMIT_ICC_BYTES, "limit.icc_bytes", "the ICC profile is larger than the policy allows"),
    R(LIMIT_ARCHIVE_ENTRIES, "limit.archive_entries",
      "the archive has more entries than the policy allows"),
    R(LIMIT_ARCHIVE_BYTES, "limit.archive_bytes",
      "an archive entry or the whole archive inflates to more than the policy allows"),
    R(LIMIT_ARCHIVE_RATIO, "limit.archive_ratio",
      "an archive entry's compression ratio is above the policy's limit (zip bomb)"),
    R(LIMIT_ARCHIVE_DEPTH, "limit.archive_depth", "archives are nested deeper than the policy allows"),
    R(MALFORMED_EMPTY, "malformed.empty", "the payload is empty"),
    R(MALFORMED_TRUNCATED, "malformed.truncated", "the data ends before the format says it should"),
    R(MALFORMED_CRC, "malformed.crc", "a checksum does not match the data"),
    R(MALFORMED_SIGNATURE, "malformed.signature", "the file signature is damaged"),
    R(MALFORMED_PNG, "malformed.png", "the PNG decoder found the data invalid"),
    R(MALFORMED_PNG_IHDR, "malformed.png.ihdr", "the PNG header (IHDR) is missing or invalid"),
    R(MALFORMED_PNG_CHUNK_ORDER, "malformed.png.chunk_order",
      "PNG chunks are missing, repeated or out of order"),
    R(MALFORMED_PNG_CRITICAL_CHUNK, "malformed.png.critical_chunk",
      "the PNG has a critical chunk this decoder does not know"),
    R(MALFORMED_PNG_PALETTE, "malformed.png.palette", "the PNG palette (PLTE) is invalid"),
    R(MALFORMED_PNG_TRNS, "malformed.png.trns",
      "the PNG transparency chunk (tRNS) does not fit the image (CVE-2004-0597)"),
    R(MALFORMED_PNG_PALETTE_INDEX, "malformed.png.palette_index",
      "a PNG pixel uses a palette index beyond the palette"),
    R(MALFORMED_PNG_IMAGE_DATA, "malformed.png.image_data",
      "the PNG image data is truncated, too long or corrupt"),
    R(MALFORMED_PNG_CHUNK, "malformed.png.chunk", "a PNG chunk has an invalid length or content"),
    R(MALFORMED_APNG, "malformed.apng", "the APNG animation chunks are malformed"),
    R(MALFORMED_JPEG, "malformed.jpeg", "the JPEG decoder found the data invalid"),
    R(MALFORMED_JPEG_MARKER, "malformed.jpeg.marker",
      "a JPEG marker segment is invalid, misplaced or runs past the end"),
    R(MALFORMED_JPEG_SOF, "malformed.jpeg.sof", "the JPEG frame header (SOF) is invalid"),
    R(MALFORMED_JPEG_TABLES, "malformed.jpeg.tables", "a JPEG Huffman or quantisation table is invalid"),
    R(MALFORMED_JPEG_DATA, "malformed.jpeg.data",
      "the JPEG entropy-coded data is corrupt (decoder warning)"),
    R(MALFORMED_GIF, "malformed.gif", "the GIF decoder found the data invalid"),
    R(MALFORMED_GIF_FRAME_EMPTY, "malformed.gif.frame_empty",
      "a GIF frame has zero width or height (CVE-2019-11932)"),
    R(MALFORMED_GIF_FRAME_OUTSIDE, "malformed.gif.frame_outside",
      "a GIF frame lies wholly outside the logical screen"),
    R(MALFORMED_GIF_LZW, "malformed.gif.lzw", "the GIF LZW data is invalid"),
    R(MALFORMED_GIF_COLORMAP, "malformed.gif.colormap", "a GIF colour table is missing or invalid"),
    R(MALFORMED_GIF_PIXEL_DATA, "malformed.gif.pixel_data",
      "a GIF frame has too much or too little pixel data"),
    R(MALFORMED_ZIP, "malformed.zip", "the ZIP structure is invalid"),
    R(MALFORMED_ZIP_HEADER_MISMATCH, "malformed.zip.header_mismatch",
      "a ZIP local header disagrees with the central directory"),
    R(MALFORMED_GZIP, "malformed.gzip", "the gzip stream is invalid"),
    R(UNSUPPORTED_PNG_CGBI, "unsupported.png.cgbi", "Apple CgBI 'iPhone-optimised' PNG"),
    R(UNSUPPORTED_JPEG_LOSSLESS, "unsupported.jpeg.lossless", "lossless JPEG (SOF3)"),
    R(UNSUPPORTED_JPEG_PRECISION, "unsupported.jpeg.precision", "JPEG with other than 8-bit samples"),
    R(UNSUPPORTED_JPEG_HIERARCHICAL, "unsupported.jpeg.hierarchical", "hierarchical JPEG"),
    R(UNSUPPORTED_JPEG_PROCESS, "unsupported.jpeg.process",
      "a JPEG coding process libimsafe does not rebuild"),
    R(UNSUPPORTED_ARCHIVE_METHOD, "unsupported.archive.method",
      "an archive entry uses a compression method other than stored or deflate"),
    R(TYPE_MISMATCH, "type.mismatch", "the content is not what the claimed name or MIME type says"),
    R(TYPE_UNKNOWN, "type.unknown", "the content's type is not recognised"),
    R(TYPE_EXECUTABLE, "type.executable", "the content is an executable program"),
    R(TYPE_SCRIPT, "type.script", "the content is a script"),
    R(TYPE_ACTIVE_CONTENT, "type.active_content",
      "active content: HTML, SVG, XML or MVG, or an Office document or PDF that runs or loads "
      "something when opened"),
    R(FILENAME_INVALID_UTF8, "filename.invalid_utf8", "the claimed name is not valid UTF-8"),
    R(FILENAME_CONTROL, "filename.control", "the claimed name holds control characters"),
    R(FILENAME_BIDI, "filename.bidi",
      "the claimed name holds Unicode bidirectional overrides or isolates"),
    R(FILENAME_SEPARATOR, "filename.separator", "the claimed name holds a path separator"),
    R(FILENAME_TRAVERSAL, "filename.traversal", "the claimed name holds a '..' path component"),
    R(FILENAME_ABSOLUTE, "filename.absolute", "the claimed name is an absolute path"),
    R(FILENAME_RESERVED, "filename.reserved", "the claimed name is a Windows reserved device name"),
    R(FILENAME_TRAILING, "filename.trailing", "the claimed name ends in a dot or a space"),
    R(FILENAME_HIDDEN_EXTENSION, "filename.hidden_extension",
      "an executable extension hides behind a harmless one"),
    R(FILENAME_PADDING, "filename.padding", "the claimed name pads spaces or dots before its extension"),
    R(FILENAME_PERCENT_ENCODED, "filename.percent_encoded",
      "the claimed name holds a percent-encoded NUL, control or separator"),
    R(FILENAME_TOO_LONG, "filename.too_long", "the claimed name is longer than the policy allows"),
    R(ARCHIVE_TRAVERSAL, "archive.traversal", "an archive entry name climbs out with '..'"),
    R(ARCHIVE_ABSOLUTE, "archive.absolute", "an archive entry name is an absolute path"),
    R(ARCHIVE_DUPLICATE, "archive.duplicate", "two archive entries have the same name"),
    R(ARCHIVE_DANGEROUS_ENTRY, "archive.dangerous_entry",
      "an archive entry is an executable, script or shortcut"),
    R(ARCHIVE_ENCRYPTED, "archive.encrypted", "an archive entry is encrypted"),
    R(ARCHIVE_PREFIX, "archive.prefix",
      "bytes precede the archive (a self-extracting executable)"),
    R(ARCHIVE_OVERLAP, "archive.overlap",
      "archive entries overlap or share compressed data (zip bomb)"),
    R(POLYGLOT_ARCHIVE, "polyglot.archive", "an archive is hidden after the image's end"),
    R(POLYGLOT_EXECUTABLE, "polyglot.executable", "an executable is hidden after the image's end"),
    R(POLYGLOT_SCRIPT, "polyglot.script", "a script is hidden after the image's end"),
    R(POLYGLOT_HTML, "polyglot.html", "HTML is hidden after the image's end"),
    R(POLYGLOT_XML, "polyglot.xml", "SVG or XML is hidden after the image's end"),
    R(POLYGLOT_PDF, "polyglot.pdf", "a PDF is hidden after the image's end"),
    R(POLICY_TYPE_REJECTED, "policy.type_rejected", "the policy does not allow this type"),
    R(POLICY_KILLED_TYPE, "policy.killed_type",
      "the operator switched this type off (kill switch)"),
    R(POLICY_KILLED_FEATURE, "policy.killed_feature",
      "the operator switched a feature of this payload off (kill switch)"),
    R(NOTE_TRAILING_DROPPED, "note.trailing_dropped", "bytes after the image's end were dropped"),
    R(NOTE_METADATA_DROPPED, "note.metadata_dropped",
      "metadata (text, time, EXIF, XMP, comments) was dropped"),
    R(NOTE_ANIMATION_DROPPED, "note.animation_dropped",
      "the animation was dropped; the default image was kept"),
    R(NOTE_INTERLACE_DROPPED, "note.interlace_dropped", "interlacing was dropped"),
    R(NOTE_ICC_DROPPED, "note.icc_dropped",
      "the ICC profile was dropped (invalid, not matrix/TRC, not for this image, or by policy)"),
    R(NOTE_COLORSPACE_DROPPED, "note.colorspace_dropped",
      "colour-space chunks (sRGB, gAMA, cHRM) were dropped by policy"),
    R(NOTE_EXIF_IGNORED, "note.exif_ignored",
      "the EXIF block was malformed and ignored (orientation not kept)"),
    R(NOTE_ORIENTATION_KEPT, "note.orientation_kept",
      "the EXIF orientation was kept in a rebuilt EXIF block"),
    R(NOTE_TYPE_MISMATCH, "note.type_mismatch",
      "the claimed name or MIME type names another image type; the true type was used"),
    R(NOTE_FRAME_CLIPPED, "note.frame_clipped", "a frame partly outside the screen was clipped"),
    R(NOTE_ANIMATION_FLATTENED, "note.animation_flattened",
      "the animation was flattened to its first frame by policy"),
    R(NOTE_CONVERTED, "note.converted", "the image was converted to another format by policy"),
    R(NOTE_FILENAME, "note.filename", "the claimed name had a finding the policy downgraded to a note"),
    R(NOTE_WARNINGS_TOLERATED, "note.warnings_tolerated",
      "decoder warnings were tolerated by policy"),
    R(NOTE_EXTENSIONS_DROPPED, "note.extensions_dropped",
      "GIF comment, plain-text and application extensions were dropped"),
    R(NOTE_REPAIRED, "note.repaired",
      "a defect browsers repair without loss was repaired (a missing end marker, "
      "a conflicting colour chunk, an empty logical screen)"),
    R(MALFORMED_GIF_NO_IMAGE, "malformed.gif.no_image", "the GIF holds no image at all"),
    R(POLYGLOT_OUTPUT, "polyglot.output",
      "the rebuilt output still holds a foreign format after a second encoding"),
    R(NOTE_REENCODED, "note.reencoded",
      "the first rebuild held a foreign format: the image was encoded again another way"),
    R(ARCHIVE_AMBIGUOUS, "archive.ambiguous",
      "the archive reads differently in another reader or file system (stray record, "
      "headers that disagree, an entry name Windows reads differently)"),
    R(ARCHIVE_LINK, "archive.link",
      "an archive entry is a link, device or other non-regular file"),
    R(UNSUPPORTED_ARCHIVE_FORMAT, "unsupported.archive.format",
      "an archive holds a compressed stream or archive libimsafe cannot inspect "
      "(xz, bzip2, zstd, cab, 7z, rar, a tar entry type)"),
    R(FILENAME_INVISIBLE, "filename.invisible",
      "the claimed name holds an invisible or format character where it can hide an "
      "extension"),
    R(UNSUPPORTED_JPEG_SAMPLING, "unsupported.jpeg.sampling",
      "JPEG sampling factors libjpeg cannot upsample or interleave (no decoder opens the image)"),
    R(UNSUPPORTED_JPEG_ARITHMETIC, "unsupported.jpeg.arithmetic",
      "arithmetic-coded JPEG, refused by the policy (jpeg_arithmetic)"),
    R(LIMIT_RATIO, "limit.ratio",
      "the declared image is larger than its compressed data can describe at all"),
    R(LIMIT_WORK, "limit.work",
      "decoding the image would take more work than the policy allows (max_work)"),
    R(LIMIT_TIME, "limit.time", "the call ran past its CPU or wall-clock deadline"),
    R(MALFORMED_APNG_FRAME_DATA, "malformed.apng.frame_data",
      "an APNG frame's image data does not decode to exactly that frame"),
    R(MALFORMED_WEBP_RIFF, "malformed.webp.riff",
      "the WebP RIFF container is malformed: its size, a chunk size or padding"),
    R(MALFORMED_WEBP_HUFFMAN, "malformed.webp.huffman",
      "a VP8L prefix code is incomplete, over-subscribed or out of range"),
    R(MALFORMED_WEBP_VP8L, "malformed.webp.vp8l",
      "a VP8L bitstream header or transform is malformed"),
    R(TYPE_MACRO, "type.macro",
      "an Office document holds macros: a VBA project, a macro sheet or ODF scripts (office_macros)"),
    R(MALFORMED_OFFICE, "malformed.office",
      "an Office package part that must be read (content types, relationships) is not "
      "well-formed XML"),
    R(TYPE_ENCRYPTED, "type.encrypted",
      "the document is encrypted (a PDF /Encrypt dictionary): its objects cannot be inspected"),
    R(MALFORMED_PDF, "malformed.pdf",
      "a PDF stream or object stream cannot be read (unterminated, corrupt or invalid)"),
    R(ISOLATION_CRASH, "isolation.crash",
      "the isolated worker judging the payload died of a signal (a decoder crashed)"),
    R(ISOLATION_SYSCALL, "isolation.syscall",
      "the isolated worker made a system call its seccomp filter forbids (an exploit attempt)"),
    R(ISOLATION_PROTOCOL, "isolation.protocol",
      "the isolated worker's answer broke the result framing (lengths, values or text)"),
    R(ISOLATION_OUTPUT, "isolation.output",
      "the image the isolated worker returned failed the host's structural walk"),
    R(MALFORMED_WEBP_FRAME, "malformed.webp.frame",
      "a WebP animation frame is malformed or lies outside the canvas"),
    R(MALFORMED_WEBP_VP8, "malformed.webp.vp8",
      "a VP8 (lossy WebP) bitstream is malformed"),
    R(MALFORMED_WEBP_ALPHA, "malformed.webp.alpha",
      "a WebP ALPH chunk is malformed"),
    R(MALFORMED_WEBP_CHUNK, "malformed.webp.chunk",
      "WebP chunks out of order, repeated, or disagreeing with the VP8X flags"),
};

const char *imsafe_reason_name(imsafe_reason reason)
{
    if ((unsigned)reason >= IMSAFE_REASON_COUNT)
        return NULL;
    return reasons[reason].name;
}

const char *imsafe_reason_meaning(imsafe_reason reason)
{
    if ((unsigned)reason >= IMSAFE_REASON_COUNT)
        return NULL;
    return reasons[reason].meaning;
}

int imsafe_reason_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < IMSAFE_REASON_COUNT; i++)
        if (reasons[i].name != NULL && strcmp(reasons[i].name, name) == 0)
            return (int)i;
    return -1;
}
