/*
 * fuzz_jpeg.c - the JPEG module through imsafe_sanitize(), under the fuzz
 * policy (4 MP, 256 MiB; one of three variants picked by the input's hash)
 * with the claimed name "fuzz.jpg".  Properties: see fuzz_common.h.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_harness(data, size, IMSAFE_TYPE_JPEG, "fuzz.jpg");
}
