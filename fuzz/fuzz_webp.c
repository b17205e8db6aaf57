/*
 * fuzz_webp.c - the WebP module through imsafe_sanitize(), under the fuzz
 * policy (4 MP, 256 MiB; one of three variants picked by the input's hash)
 * with the claimed name "fuzz.webp".  Properties: see fuzz_common.h; for
 * WebP an output decodes with libwebp's demuxer and animation decoder
 * (every frame), a lossless rebuild sanitized again is byte-identical and
 * a lossy one is accepted again with the same canvas and frame count.
 * The real heap peak against the budget checks the reservation webp.c
 * makes for libwebp, which takes no allocator.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_harness(data, size, IMSAFE_TYPE_WEBP, "fuzz.webp");
}
