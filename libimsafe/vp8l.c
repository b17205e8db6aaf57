/*
 * vp8l.c - VP8L (lossless WebP) bitstream check before libwebp sees it.
 *
 * This file holds only the header part of the check: the signature byte,
 * the version bits and the image size against the size the container
 * declares (RIFF/VP8X canvas or ANMF frame).  The prefix-code validation
 * (every transform, colour-cache and meta-prefix sub-image decoded by a
 * bounded VP8L entropy decoder, every prefix-code group checked for
 * completeness: CVE-2023-4863) replaces this file.
 *
 * VP8L header (WebP lossless bitstream specification, section 3.2):
 *   byte 0        0x2f signature
 *   bits 0..13    width - 1
 *   bits 14..27   height - 1
 *   bit  28       alpha_is_used (a hint)
 *   bits 29..31   version, must be 0
 */
#include "imsafe_private.h"

#define VP8L_SIGNATURE 0x2f
#define VP8L_HEADER_BYTES 5

imsafe_reason imsafe__vp8l_check(struct imsafe__job *job, const uint8_t *bits, size_t n,
                                 uint32_t width, uint32_t height, int is_alpha)
{
    if (is_alpha) /* a headerless stream: its size is the frame's */
        return n > 0 ? IMSAFE_R_NONE
                     : (imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_VP8L, "empty ALPH stream"),
                        IMSAFE_R_MALFORMED_WEBP_VP8L);
    if (n < VP8L_HEADER_BYTES || bits[0] != VP8L_SIGNATURE) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_VP8L, "VP8L signature or header missing");
        return IMSAFE_R_MALFORMED_WEBP_VP8L;
    }
    uint32_t v = (uint32_t)bits[1] | (uint32_t)bits[2] << 8 | (uint32_t)bits[3] << 16 |
                 (uint32_t)bits[4] << 24;
    uint32_t w = (v & 0x3fff) + 1, h = ((v >> 14) & 0x3fff) + 1;
    if ((v >> 29) != 0) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_VP8L, "VP8L version %u, only 0 exists",
                       (unsigned)(v >> 29));
        return IMSAFE_R_MALFORMED_WEBP_VP8L;
    }
    if (w != width || h != height) {
        imsafe__reject(job, IMSAFE_R_MALFORMED_WEBP_VP8L,
                       "VP8L image %ux%u, the container says %ux%u", (unsigned)w, (unsigned)h,
                       (unsigned)width, (unsigned)height);
        return IMSAFE_R_MALFORMED_WEBP_VP8L;
    }
    return IMSAFE_R_NONE;
}
